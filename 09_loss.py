"""损失函数&反向传播, 优化器 / Loss functions, backward() and the optimizer.

The notes' 【训练】一 and 二: L1Loss, MSELoss and CrossEntropyLoss with backward(), then their training loop
(【数据准备】4.1): nn_CIFAR10.py's MyModel, CrossEntropyLoss and SGD for 20 epochs.

    python 09_loss.py --fake-data   # 64 random images in place of CIFAR-10, no download: seconds
    python 09_loss.py               # downloads CIFAR-10 (170 MB) into ./dataset, once; 20 epochs: long on a CPU
"""

import argparse
import sys

import torch
import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

from nn_CIFAR10 import MyModel

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--fake-data', action='store_true', help='random images in place of CIFAR-10: no download')
args = parser.parse_args()
torch.manual_seed(0)  # not in the notes: the same torch.randn numbers every run, so the comments below hold

# 1.1 L1Loss平均损失：nn.L1Loss(...) (the notes' heading writes nn.L1Liss, a typo)
loss = nn.L1Loss()
input = torch.randn(3, 5, requires_grad=True)
target = torch.randn(3, 5)
result_loss = loss(input, target)
result_loss.backward()
print(result_loss)  # tensor(1.0676, grad_fn=<MeanBackward0>): the mean of |input - target| over 15 numbers
# 1.4 反向传播: backward() filled input.grad, how the loss moves with each input: +-1/15 for L1Loss
print(input.grad[0])  # tensor([ 0.0667,  0.0667, -0.0667,  0.0667,  0.0667])

# 1.2 MSE平方差损失：nn.MSELoss(...)
loss = nn.MSELoss()
input = torch.randn(3, 5, requires_grad=True)
target = torch.randn(3, 5)
result_loss = loss(input, target)
result_loss.backward()
print(result_loss)  # tensor(2.0563, grad_fn=<MseLossBackward0>): the mean of (input - target)^2

# The course's code (nn_loss.py): [1, 2, 3] against [1, 2, 5], differences 0, 0, 2 (its L1Loss(reduction='sum'): 2)
inputs = torch.tensor([1, 2, 3], dtype=torch.float32)
targets = torch.tensor([1, 2, 5], dtype=torch.float32)
print(nn.L1Loss()(inputs, targets), nn.MSELoss()(inputs, targets))  # tensor(0.6667) = 2 / 3, tensor(1.3333) = 4 / 3

# 1.3 CrossEntropyLoss交叉熵损失：nn.CrossEntropyLoss(...)
# The notes: input = torch.tensor([0.1, 0.2, 0.3]).view(1, 3): then backward() fails, "element 0 of tensors does
# not require grad", as nothing asked for a gradient. requires_grad=True asks for one:
input = torch.tensor([0.1, 0.2, 0.3], requires_grad=True).view(1, 3)
target = torch.tensor([1])
result_loss = nn.CrossEntropyLoss()(input, target)
result_loss.backward()
print(result_loss)  # -0.2 + log(e^0.1 + e^0.2 + e^0.3) = tensor(1.1019, grad_fn=<NllLossBackward0>)

if __name__ == '__main__':
    # The notes train on the 10,000 test images (train=False); here on the 50,000 training images (train=True),
    # so that the test images stay unseen, to measure the model with (as 10_train_cifar10.py does):
    # dataset = torchvision.datasets.CIFAR10(root='./dataset', train=False, transform=transforms.ToTensor(), download=True)
    if args.fake_data:  # 没有网络时 / offline: 64 random images (one batch), so 20 epochs take seconds
        dataset = torchvision.datasets.FakeData(
            size=64, image_size=(3, 32, 32), num_classes=10, transform=transforms.ToTensor()
        )
    else:
        try:
            dataset = torchvision.datasets.CIFAR10(
                root='./dataset', train=True, transform=transforms.ToTensor(), download=True
            )
        except (OSError, RuntimeError) as error:  # 下载失败 / no internet, a firewall, an SSL error
            sys.exit(
                f'error: cannot download CIFAR-10 ({str(error).splitlines()[0]}); offline: put cifar-10-python.tar.gz '
                '(https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) in ./dataset, or run with --fake-data'
            )
    dataloader = DataLoader(dataset, batch_size=64)
    model = MyModel()
    loss = nn.CrossEntropyLoss()
    optim = torch.optim.SGD(model.parameters(), lr=0.01)

    for epoch in range(20):
        sum_loss = 0  # adds one loss per batch: ln(10) = 2.30 each at first (a guess among 10 classes), then less
        for data in dataloader:
            img, target = data
            # 模型推理
            output = model(img)
            # 计算损失
            result_loss = loss(output, target)
            sum_loss += result_loss.item()
            # 反向传播
            optim.zero_grad()
            result_loss.backward()
            optim.step()
        print('epoch: {}, sum_loss: {}'.format(epoch, sum_loss))
