"""神经网络的基本骨架 / nn.Module, Sequential 的使用 / Sequential, 完整的模型 / The CIFAR-10 model.

The notes' model for CIFAR-10, written three ways, plus the smallest nn.Module:

  MyModel              3 x (Conv2d 5x5, padding 2 + MaxPool2d 2), Flatten, Linear(1024, 64), Linear(64, 10)
  MyModelSequential    the same layers in one nn.Sequential
  make_ordered_model() the same with named layers (OrderedDict)
  AddOne               the nn.Module template: forward returns input + 1

10_train_cifar10.py imports MyModel from here. Run this file to print the model,
check that a (64, 3, 32, 32) batch becomes (64, 10), and write its graph to
TensorBoard:

    python nn_CIFAR10.py
    tensorboard --logdir logs/nn_CIFAR10
"""

import argparse
from collections import OrderedDict

import torch
from torch import nn

from common import add_graph_quietly, add_logdir_arg, make_writer, run_main, tensorboard_hint


class AddOne(nn.Module):
    """The nn.Module template: subclass, build layers in __init__, compute in forward."""

    def __init__(self):
        super().__init__()

    def forward(self, input):
        return input + 1


class MyModel(nn.Module):
    """The notes' CIFAR-10 model (shapes in comments are for a 3x32x32 input)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 5, padding=2)  # 3x32x32 -> 32x32x32
        self.maxpool1 = nn.MaxPool2d(2)  # -> 32x16x16
        self.conv2 = nn.Conv2d(32, 32, 5, padding=2)  # -> 32x16x16
        self.maxpool2 = nn.MaxPool2d(2)  # -> 32x8x8
        self.conv3 = nn.Conv2d(32, 64, 5, padding=2)  # -> 64x8x8
        self.maxpool3 = nn.MaxPool2d(2)  # -> 64x4x4
        self.flatten = nn.Flatten()  # -> 1024
        self.linear1 = nn.Linear(1024, 64)
        self.linear2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv2(x))
        x = self.maxpool3(self.conv3(x))
        x = self.flatten(x)
        x = self.linear1(x)
        return self.linear2(x)


class MyModelSequential(nn.Module):
    """The same network, its layers listed once in nn.Sequential."""

    def __init__(self):
        super().__init__()
        self.model1 = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(1024, 64),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.model1(x)


def make_ordered_model() -> nn.Sequential:
    """nn.Sequential with an OrderedDict: the same layers, each with a readable name."""
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(3, 32, 5, padding=2)),
                ("maxpool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(32, 32, 5, padding=2)),
                ("maxpool2", nn.MaxPool2d(2)),
                ("conv3", nn.Conv2d(32, 64, 5, padding=2)),
                ("maxpool3", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("linear1", nn.Linear(1024, 64)),
                ("linear2", nn.Linear(64, 10)),
            ]
        )
    )


# --------------------------------------------------------------------------- beyond the notes' model
# The same pieces the notes teach (ReLU, BatchNorm2d), added one at a time, then a
# wider network built only from them. 10_train_cifar10.py picks one with --model.


class MyModelReLU(MyModel):
    """MyModel with a ReLU after every convolution and after the first Linear layer."""

    def forward(self, x):
        x = self.maxpool1(torch.relu(self.conv1(x)))
        x = self.maxpool2(torch.relu(self.conv2(x)))
        x = self.maxpool3(torch.relu(self.conv3(x)))
        x = torch.relu(self.linear1(self.flatten(x)))
        return self.linear2(x)


class MyModelBN(MyModel):
    """MyModelReLU plus BatchNorm2d after every convolution (normalise, then ReLU)."""

    def __init__(self):
        super().__init__()
        self.bn1, self.bn2, self.bn3 = nn.BatchNorm2d(32), nn.BatchNorm2d(32), nn.BatchNorm2d(64)

    def forward(self, x):
        x = self.maxpool1(torch.relu(self.bn1(self.conv1(x))))
        x = self.maxpool2(torch.relu(self.bn2(self.conv2(x))))
        x = self.maxpool3(torch.relu(self.bn3(self.conv3(x))))
        x = torch.relu(self.linear1(self.flatten(x)))
        return self.linear2(x)


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution (no bias: BatchNorm adds its own), BatchNorm2d, ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class FastNet(nn.Module):
    """A small VGG-style network of Conv2d + BatchNorm2d + ReLU + MaxPool2d: fast on a CPU."""

    def __init__(self, widths=(32, 64, 128, 256)):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.features = nn.Sequential(
            conv_bn_relu(3, w0),
            conv_bn_relu(w0, w1),
            nn.MaxPool2d(2),  # 32 -> 16
            conv_bn_relu(w1, w2),
            nn.MaxPool2d(2),  # 16 -> 8
            conv_bn_relu(w2, w3),
            nn.MaxPool2d(2),  # 8 -> 4
            nn.MaxPool2d(4),  # 4 -> 1: the strongest response of each channel
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(w3, 10, bias=False))

    def forward(self, x):
        # The small fixed scale keeps the logits from exploding early in training.
        return self.classifier(self.features(x)) * 0.125


MODELS = {
    "mymodel": MyModel,
    "mymodel-relu": MyModelReLU,
    "mymodel-bn": MyModelBN,
    "fastnet": FastNet,
}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_logdir_arg(parser, "nn_CIFAR10")
    args = parser.parse_args()

    template = AddOne()
    print("AddOne()(torch.tensor(1.0)) =", template(torch.tensor(1.0)))

    model = MyModel()
    print(model)
    print(f"parameters: {count_parameters(model):,}")
    batch = torch.ones((64, 3, 32, 32))
    output = model(batch)
    print("input shape: ", tuple(batch.shape))
    print("output shape:", tuple(output.shape))
    if output.shape != (64, 10):
        raise SystemExit(f"unexpected output shape {tuple(output.shape)}")

    for other in (MyModelSequential(), make_ordered_model()):
        shape = tuple(other(batch).shape)
        print(f"{type(other).__name__}: output shape {shape}, parameters {count_parameters(other):,}")

    writer = make_writer(args.logdir)
    add_graph_quietly(writer, model, batch)
    writer.close()
    print(f"wrote the model graph; {tensorboard_hint(args.logdir)} (GRAPHS tab)")


if __name__ == "__main__":
    run_main(main)
