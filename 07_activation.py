"""非线性激活层：引入非线性特征, 正则化层：加快网络训练 / Activations (ReLU, Sigmoid) and BatchNorm2d.

The notes' 【搭建模型】2.3 and 2.4: 2.3.1 nn.ReLU and 2.3.2 nn.Sigmoid on torch.randn(2); 2.3.3's MyModel runs
Sigmoid on the CIFAR-10 test images in their 【搭建模型】1.1 loop, into TensorBoard; 2.4 nn.BatchNorm2d(100) on
torch.randn(20, 100, 35, 45).

    python 07_activation.py --fake-data     # random images in place of CIFAR-10, no download
    python 07_activation.py                 # downloads CIFAR-10 (170 MB) into ./dataset, once
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
torch.manual_seed(0)  # not in the notes: the same torch.randn numbers every run, so the comments below hold

# 2.3.1 ReLU：nn.ReLU(inplace=False)
m = nn.ReLU()
input = torch.randn(2)
output = m(input)
print(input, output)  # tensor([ 1.5410, -0.2934]) tensor([1.5410, 0.0000]): negatives become 0
# inplace=False：是否修改input的值. inplace=True writes the output into input itself:
nn.ReLU(inplace=True)(input)
print(input)  # tensor([1.5410, 0.0000])

# 2.3.2 Sigmoid: the notes' heading writes nn.Sigmoid(inplace=False), but Sigmoid has no inplace (a TypeError)
m = nn.Sigmoid()
input = torch.randn(2)
output = m(input)
print(input, output)  # tensor([-2.1788,  0.5684]) tensor([0.1017, 0.6384]): 1 / (1 + e^-x), between 0 and 1


# 2.3.3 使用示例
class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(x)
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

    # the notes: './logs'. 05, 06 and 07 all write 'input' and 'output': a folder each keeps them apart
    writer = SummaryWriter('./logs/07_activation')
    step = 0
    for data in dataloader:
        img, target = data
        output = model(img)  # pixels 0..1 become 0.5..0.73: paler, greyer images
        writer.add_images('input', img, step)
        writer.add_images('output', output, step)
        step += 1
    writer.close()
    print(f"wrote {step} batches as 'input' and 'output' to ./logs/07_activation")  # 157 (--fake-data: 4)

# 2.4 正则化层：nn.BatchNorm2d(num_features)   num_features：特征数量，也就是通道数
m = nn.BatchNorm2d(100)
input = torch.randn(20, 100, 35, 45)
output = m(input)
print(output.shape)  # torch.Size([20, 100, 35, 45]): the same shape
print(f'channel 0: mean {output[:, 0].mean():.1e}, std {output[:, 0].std():.4f}')  # mean ~0, std 1.0000
