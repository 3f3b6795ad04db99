"""池化层：采样操作 / Max pooling with nn.MaxPool2d.

The notes' 【搭建模型】2.2: max pooling keeps the largest value of each window, a smaller image that keeps its
strongest features. 2.2.2 lists nn.MaxPool2d's parameters; 2.2.3's MyModel pools the course's 5x5 example,
then, in the notes' 【搭建模型】1.1 loop, the CIFAR-10 test images into TensorBoard.

    python 06_pool.py --fake-data           # random images in place of CIFAR-10, no download
    python 06_pool.py                       # downloads CIFAR-10 (170 MB) into ./dataset, once
    tensorboard --logdir=logs --port=6007   # then http://localhost:6007, the IMAGES tab
"""

import argparse
import sys

import torch
import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--fake-data', action='store_true', help='random images in place of CIFAR-10: no download')
args = parser.parse_args()

# 2.2.1 最大池化操作: the notes show it in a picture; the course's video pools this 5x5 input. Its first line,
# input = torch.tensor([[1, 2, 0, 3, 1], ...]), holds int64, and MaxPool2d on int64 fails on a GPU (and on the
# CPU in the PyTorch of the course's time): "max_pool2d..." not implemented for 'Long'. float32 runs everywhere:
# fmt: off
input = torch.tensor([[1, 2, 0, 3, 1],
                      [0, 1, 2, 3, 1],
                      [1, 2, 1, 0, 0],
                      [5, 2, 3, 1, 1],
                      [2, 1, 0, 1, 1]], dtype=torch.float32)
# fmt: on
input = torch.reshape(input, (-1, 1, 5, 5))  # (batch_size, channel, H, W)


# 2.2.3 使用示例
class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        # 2.2.2 nn.MaxPool2d: kernel_size 池化核大小, stride=kernel_size 步长, padding=0 填充, dilation=1 池化核每个位
        # 之间的距离, return_indices=False, ceil_mode=False 是否为ceil模式(保留边界: keep the windows past the edge)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, ceil_mode=True)

    def forward(self, x):
        x = self.maxpool1(x)
        return x


model = MyModel()
print(model(input))  # ceil_mode=True: [[2., 3.], [5., 1.]]: four windows, three of them past the edge
print(nn.MaxPool2d(kernel_size=3, ceil_mode=False)(input))  # ceil_mode=False: only the full 3x3 window, [[2.]]

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

    # the notes: './logs'. 05, 06 and 07 all write 'input' and 'output': a folder each keeps them apart
    writer = SummaryWriter('./logs/06_pool')
    step = 0
    for data in dataloader:
        img, target = data
        output = model(img)
        print(img.shape, output.shape)  # torch.Size([64, 3, 32, 32]) torch.Size([64, 3, 11, 11]): a mosaic
        writer.add_images('input', img, step)
        writer.add_images('output', output, step)
        step += 1
    writer.close()
