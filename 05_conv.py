"""卷积层：卷积操作 / Convolution: F.conv2d and nn.Conv2d.

The notes' 【搭建模型】2.1: 2.1.1 slides their 3x3 kernel over their 5x5 input; 2.1.2 lists nn.Conv2d's
parameters; 2.1.3 puts one nn.Conv2d in MyModel, and their 【搭建模型】1.1 loop runs the CIFAR-10 test images
through it into TensorBoard.

    python 05_conv.py --fake-data           # random images in place of CIFAR-10, no download
    python 05_conv.py                       # downloads CIFAR-10 (170 MB) into ./dataset, once
    tensorboard --logdir=logs --port=6007   # then http://localhost:6007, the IMAGES tab
"""

import argparse
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--fake-data', action='store_true', help='random images in place of CIFAR-10: no download')
args = parser.parse_args()

# 2.1.1 卷积操作：F.conv2d(...)
# fmt: off
input = torch.tensor(
    [[1, 2, 0, 3, 1],
    [0, 1, 2, 3, 1],
    [1, 2, 1, 0, 0],
    [5, 2, 3, 1, 1],
    [2, 1, 0, 1, 1]])

kernel = torch.tensor(
    [[1, 2, 1],
    [0, 1, 0],
    [2, 1, 0]])
# fmt: on

input = input.view(1, 1, 5, 5)  # 输入 (batch_size, in_channel, input_H, input_W)

kernel = kernel.view(1, 1, 3, 3)  # 卷积核 (out_channel, in_channel/groups, kernel_H, kernel_W)

output = F.conv2d(input, kernel, stride=1, padding=1)
print(output)  # 5x5: [[1, 3, 4, 10, 8], [5, 10, 12, 12, 6], [7, 18, 16, 16, 8], [11, 13, 9, 3, 4], [14, 13, 9, 7, 4]]
# Without padding, and with stride=2 (output size = (5 + 2 * padding - 3) // stride + 1):
print(F.conv2d(input, kernel, stride=1))  # 3x3: [[10, 12, 12], [18, 16, 16], [13, 9, 3]]
print(F.conv2d(input, kernel, stride=2))  # 2x2: [[10, 12], [13, 3]]


# 2.1.3 使用示例
class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        # 2.1.2 nn.Conv2d: in_channels 输入图像的通道数 (RGB: 3), out_channels 输出图像的通道数, kernel_size 卷积核大小
        # (its weights start random; training changes them), stride=1 步长, padding=0 填充, dilation=1 卷积核每个位之间
        # 的距离, groups=1 分组卷积的分组数, bias=True 是否有偏置, padding_mode='zeros' 填充的默认值
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=6, kernel_size=3, stride=1, padding=0)

    def forward(self, x):
        x = self.conv1(x)
        return x


# The notes' 【搭建模型】1.1 code, with this MyModel
if __name__ == '__main__':
    if args.fake_data:  # 没有网络时 / offline: random 3x32x32 images with random labels
        dataset = torchvision.datasets.FakeData(
            size=200, image_size=(3, 32, 32), num_classes=10, transform=torchvision.transforms.ToTensor()
        )
    else:
        try:
            dataset = torchvision.datasets.CIFAR10(
                root='./dataset', train=False, transform=torchvision.transforms.ToTensor(), download=True
            )
        except (OSError, RuntimeError) as error:  # 下载失败 / no internet, a firewall, an SSL error
            sys.exit(
                f'error: cannot download CIFAR-10 ({str(error).splitlines()[0]}); offline: put cifar-10-python.tar.gz '
                '(https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) in ./dataset, or run with --fake-data'
            )
    dataloader = DataLoader(dataset, batch_size=64)
    model = MyModel()
    print(model)

    # the notes: './logs'. 05, 06 and 07 all write 'input' and 'output': a folder each keeps them apart
    writer = SummaryWriter('./logs/05_conv')
    step = 0
    for data in dataloader:
        # input:  [batch_size, in_feature_num,  in_H,  in_W ]
        img, target = data
        # output: [batch_size, out_feature_num, out_H, out_W]
        output = model(img)
        print(img.shape, output.shape)  # torch.Size([64, 3, 32, 32]) torch.Size([64, 6, 30, 30])

        writer.add_images('input', img, step)
        # add_images shows 1 or 3 channels, not 6: the course's code makes each output two 3-channel images
        output = torch.reshape(output, (-1, 3, 30, 30))
        writer.add_images('output', output, step)
        step += 1
    writer.close()
