"""现有网络模型的微调 / Fine-tuning ResNet-18 on CIFAR-10: a new fc layer for 10 classes, the rest frozen.

Not in the notes: 13_pretrained.py edits a torchvision model (the notes' 3.3 torchvision.models); this one
trains such an edited model with the notes' loop (【训练】 二、优化器), on CIFAR-10's train set, and tests it
on the test set. resnet18(weights=None) starts from random weights: no download. Frozen random layers give
features nobody trained, so the new fc learns little (test accuracy 0.10 after 100 steps on 6,400 CIFAR-10
images, measured); freezing pays off with the ImageNet weights: weights=torchvision.models.ResNet18_Weights.DEFAULT
(a 45 MB download, once), or train everything (方法二 below).

    python 15_finetune_resnet18.py --fake-data   # random images in place of CIFAR-10, no download: seconds
    python 15_finetune_resnet18.py               # downloads CIFAR-10 (170 MB) into ./dataset, once
    tensorboard --logdir=logs --port=6007        # then http://localhost:6007, the SCALARS tab
"""

import argparse
import sys

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--fake-data', action='store_true', help='random images in place of CIFAR-10: no download')
args = parser.parse_args()

if args.fake_data:  # 没有网络时 / offline: random 3x32x32 images with random labels
    train_data = torchvision.datasets.FakeData(
        size=128, image_size=(3, 32, 32), num_classes=10, transform=torchvision.transforms.ToTensor(), random_offset=64
    )  # few images: 2 steps, a few seconds on a CPU; random_offset=64: other images than test_data's
    test_data = torchvision.datasets.FakeData(
        size=64, image_size=(3, 32, 32), num_classes=10, transform=torchvision.transforms.ToTensor()
    )
else:
    try:
        train_data = torchvision.datasets.CIFAR10(
            root='./dataset', train=True, transform=torchvision.transforms.ToTensor(), download=True
        )
        test_data = torchvision.datasets.CIFAR10(
            root='./dataset', train=False, transform=torchvision.transforms.ToTensor(), download=True
        )
    except (OSError, RuntimeError) as error:  # 下载失败 / no internet, a firewall, an SSL error
        sys.exit(
            f'error: cannot download CIFAR-10 ({str(error).splitlines()[0]}); offline: put cifar-10-python.tar.gz '
            '(https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) in ./dataset, or run with --fake-data'
        )
train_loader = DataLoader(dataset=train_data, batch_size=64, shuffle=True)
test_loader = DataLoader(dataset=test_data, batch_size=64)

# 随机参数, 不下载 / random weights. ImageNet's (a 45 MB download): weights=torchvision.models.ResNet18_Weights.DEFAULT
model = torchvision.models.resnet18(weights=None)
print('model.fc:', model.fc)  # Linear(in_features=512, out_features=1000, bias=True): 1000 ImageNet classes
# 方法一: 冻结 / freeze: no gradients for the layers we keep, so only the new fc learns
for parameter in model.parameters():
    parameter.requires_grad = False
model.fc = nn.Linear(512, 10)  # 新的最后一层: 10 类 (a new layer has requires_grad=True)
# 方法二: 全部微调 / fine-tune everything: leave out the for loop, pass model.parameters() to SGD, use model.train()
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f'trainable parameters: {trainable:,} of {sum(p.numel() for p in model.parameters()):,}')  # 5,130 of 11,181,642
loss = nn.CrossEntropyLoss()
optim = torch.optim.SGD(model.fc.parameters(), lr=0.01)

writer = SummaryWriter('./logs')
step = 0
for epoch in range(1):
    model.eval()  # 方法一: keeps the frozen layers as they are (in train() BatchNorm updates running_mean/var)
    sum_loss = 0
    for data in train_loader:
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
        writer.add_scalar('train_loss', result_loss.item(), step)
        if step % 100 == 0:
            print(f'step: {step}, result_loss: {result_loss.item():.4f}')  # about ln(10) = 2.30 at the start
        step += 1
    print(f'epoch: {epoch}, sum_loss: {sum_loss:.4f}')

    total_accuracy = 0
    with torch.no_grad():  # 测试: no gradients needed
        for img, target in test_loader:
            output = model(img)
            total_accuracy += (output.argmax(1) == target).sum().item()
    print(f'test accuracy: {total_accuracy / len(test_data):.4f}')  # random labels (--fake-data): about 0.1
    writer.add_scalar('test_accuracy', total_accuracy / len(test_data), epoch)
writer.close()
