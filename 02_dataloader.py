"""Dataloader：将数据打包，提供给网络使用 / DataLoader: packs the data into batches for the network.

The notes' 【数据准备】1.2: the CIFAR-10 test set (10000 images of 3x32x32) in batches of 64, shuffled, the short
last batch dropped: 156 batches an epoch. Two epochs of batches go to TensorBoard as image grids, 'Epoch: 0' and
'Epoch: 1'; with shuffle=True the same step holds other images in each epoch.

    python 02_dataloader.py --fake-data     # 200 random images in place of CIFAR-10, no download: 3 batches
    python 02_dataloader.py                 # downloads CIFAR-10 (170 MB) into ./dataset, once
    tensorboard --logdir=logs --port=6007   # then http://localhost:6007, the IMAGES tab
"""

import argparse
import sys

import torchvision
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--fake-data', action='store_true', help='random images in place of CIFAR-10: no download')
args = parser.parse_args()

# 测试数据集
if args.fake_data:  # 没有网络时 / offline: random 3x32x32 images with random labels
    test_data = torchvision.datasets.FakeData(
        size=200, image_size=(3, 32, 32), num_classes=10, transform=torchvision.transforms.ToTensor()
    )
else:
    try:  # the notes' line, with download=True: it fetches CIFAR-10 into ./dataset the first time
        test_data = torchvision.datasets.CIFAR10(
            root='./dataset', train=False, transform=torchvision.transforms.ToTensor(), download=True
        )
    except (OSError, RuntimeError) as error:  # 下载失败 / no internet, a firewall, an SSL error
        sys.exit(
            f'error: cannot download CIFAR-10 ({str(error).splitlines()[0]}); offline: put cifar-10-python.tar.gz '
            '(https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) in ./dataset, or run with --fake-data'
        )
if __name__ == '__main__':
    img, target = test_data[0]
    print(img.shape)  # torch.Size([3, 32, 32])

# 测试数据集的加载器
test_loader = DataLoader(
    dataset=test_data,  # 数据集
    batch_size=64,  # 每个batch取多少个样本
    shuffle=True,  # 是否打乱
    num_workers=0,  # 读取的线程个数
    drop_last=True,  # 是否丢弃最后一个batch
)
if __name__ == '__main__':
    print(len(test_loader), 'batches')  # 10000 // 64 = 156, the last 16 images dropped (--fake-data: 200 // 64 = 3)
    writer = SummaryWriter('./logs')
    for epoch in range(2):
        step = 0
        for data in test_loader:
            imgs, targets = data
            # print(imgs.shape)   # torch.Size([batch_size, 3, 32, 32])
            writer.add_images('Epoch: {}'.format(epoch), imgs, step)
            step += 1
        print(f'epoch: {epoch}, {step} batches of imgs.shape {imgs.shape}')  # torch.Size([64, 3, 32, 32])
    writer.close()
