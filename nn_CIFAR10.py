"""CIFAR10数据集, nn.Module：神经网络的模板, nn.Sequential：合并多个操作 / The notes' CIFAR-10 model (MyModel),
nn.Module and nn.Sequential.

The notes' 【数据准备】4.1 model (09, 11, 12 and the training tool: `from nn_CIFAR10 import MyModel`), then
【搭建模型】1.1 (the nn.Module template; its CIFAR-10 loop runs in 05-07) and 1.2 (nn.Sequential).

    python nn_CIFAR10.py
    tensorboard --logdir=logs --port=6007   # then http://localhost:6007, the GRAPHS tab: MyModel
"""

from collections import OrderedDict

import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        # input: 3 @ 32 x 32
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=32, kernel_size=5, padding=2)
        # feature map: 32 @ 32 x 32
        self.maxpool1 = nn.MaxPool2d(kernel_size=2)
        # feature map: 32 @ 16 x 16
        self.conv2 = nn.Conv2d(in_channels=32, out_channels=32, kernel_size=5, padding=2)
        # feature map: 32 @ 16 x 16
        self.maxpool2 = nn.MaxPool2d(kernel_size=2)
        # feature map: 32 @ 8 x 8
        self.conv3 = nn.Conv2d(in_channels=32, out_channels=64, kernel_size=5, padding=2)
        # feature map: 64 @ 8 x 8
        self.maxpool3 = nn.MaxPool2d(kernel_size=2)
        # feature map: 64 @ 4 x 4
        self.flatten = nn.Flatten()
        # hidden units: 1024
        self.linear1 = nn.Linear(in_features=1024, out_features=64)
        # hidden units: 64
        self.linear2 = nn.Linear(in_features=64, out_features=10)
        # output: 10

    def forward(self, x):
        x = self.conv1(x)
        x = self.maxpool1(x)
        x = self.conv2(x)
        x = self.maxpool2(x)
        x = self.conv3(x)
        x = self.maxpool3(x)
        x = self.flatten(x)
        x = self.linear1(x)
        x = self.linear2(x)
        return x


# 【搭建模型】1.1 nn.Module：神经网络的模板. The notes call this one MyModel too: here AddOne, so that
# `from nn_CIFAR10 import MyModel` still gets the model above.
class AddOne(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, input):
        output = input + 1
        return output


# The course's code writes MyModel's layers in one nn.Sequential, as class Tudui (its model.py): the same
# network, its weights named model.0.weight ... model.8.bias instead of conv1.weight ... linear2.bias.
class Tudui(nn.Module):
    def __init__(self):
        super(Tudui, self).__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 32, 5, 1, 2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 5, 1, 2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, 1, 2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, 64),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        x = self.model(x)
        return x


if __name__ == '__main__':
    model = MyModel()
    print(model)

    # 检验模型是否合法, 输入为: (batch_size, 3, 32, 32)
    input = torch.ones((64, 3, 32, 32))
    output = model(input)
    # 输出应为: (batch_size, 10)
    print(output.shape)  # torch.Size([64, 10])

    # 输出模型 (add_graph traces the model with torch.jit.trace, which warns that it is deprecated: harmless)
    writer = SummaryWriter('./logs')
    writer.add_graph(model=model, input_to_model=input)
    writer.close()

    print(AddOne()(torch.tensor(1.0)))  # 1.1: model(input) runs forward(): tensor(2.)

    # 1.2 nn.Sequential：合并多个操作 (the notes' example takes 1-channel images: 32 x 32 -> 28 x 28 -> 24 x 24)
    # fmt: off
    model = nn.Sequential(
        nn.Conv2d(1,20,5),
        nn.ReLU(),
        nn.Conv2d(20,64,5),
        nn.ReLU()
    )
    print(model(torch.ones((1, 1, 32, 32))).shape)  # torch.Size([1, 64, 24, 24])

    model = nn.Sequential(OrderedDict([
        ('conv1', nn.Conv2d(1,20,5)),
        ('relu1', nn.ReLU()),
        ('conv2', nn.Conv2d(20,64,5)),
        ('relu2', nn.ReLU())
    ]))
    # fmt: on
    print(model)  # the same layers, named: (conv1): Conv2d(1, 20, kernel_size=(5, 5), stride=(1, 1)) ...

    # MyModel and the course's Tudui hold the same number of weights: 145578
    print(sum(p.numel() for p in MyModel().parameters()), sum(p.numel() for p in Tudui().parameters()))
