"""线性层：全连接层 / nn.Linear and flattening.

The notes' 【搭建模型】2.7: nn.Linear(in_features, out_features) takes a row of numbers. Their MyModel has
nn.Linear(196608, 10), and 196608 = 64 x 3 x 32 x 32: a whole batch of 64 CIFAR-10 images, which their
torch.flatten(img) makes one row. nn.Flatten() keeps one row per image.

    python 08_linear.py --fake-data   # random images in place of CIFAR-10, no download
    python 08_linear.py               # downloads CIFAR-10 (170 MB) into ./dataset, once
"""

import argparse
import sys

import torch
import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--fake-data', action='store_true', help='random images in place of CIFAR-10: no download')
args = parser.parse_args()


# 2.3.2 使用示例 (the notes number 2.7's parts 2.3.1 and 2.3.2)
class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        # 2.3.1 nn.Linear: in_features 每个样本输入的特征数量, out_features 每个样本输出的特征数量, bias=True 是否有偏置
        self.linear = nn.Linear(196608, 10)

    def forward(self, x):
        x = self.linear(x)
        return x


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
    # drop_last=True, as the course's code: a smaller last batch would flatten to fewer than 196608 numbers,
    # and nn.Linear(196608, 10) fails on it ("mat1 and mat2 shapes cannot be multiplied")
    dataloader = DataLoader(dataset, batch_size=64, drop_last=True)
    model = MyModel()
    for data in dataloader:
        img, target = data
        # 将多维数组展开为一维
        img = torch.flatten(img)
        output = model(img)
        print(img.shape, output.shape)  # torch.Size([196608]) torch.Size([10])

    # torch.flatten(img) flattens the batch too: the 64 images get 10 outputs between them. nn.Flatten() keeps
    # the batch, one row of 3 x 32 x 32 = 3072 numbers per image, as nn_CIFAR10.py's MyModel does:
    img, target = next(iter(dataloader))
    img = nn.Flatten()(img)
    output = nn.Linear(3072, 10)(img)
    print(img.shape, output.shape)  # torch.Size([64, 3072]) torch.Size([64, 10]): 10 outputs for each image
