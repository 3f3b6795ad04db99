"""神经网络的基本骨架, Sequential 的使用 / nn.Module, nn.Sequential and the notes' CIFAR-10 model.

The notes' model for CIFAR-10, written three ways, plus the smallest nn.Module:

  MyModel              3 x (Conv2d 5x5, padding 2 + MaxPool2d 2), Flatten, Linear(1024, 64), Linear(64, 10)
  MyModelSequential    the same layers in one nn.Sequential
  make_ordered_model() the same layers in an nn.Sequential built from an OrderedDict, each with a name
  AddOne               the nn.Module template: build layers in __init__, compute in forward

09_loss.py and later scripts import it: `from nn_CIFAR10 import MyModel`. Run this file to print it, check that
a (64, 3, 32, 32) batch becomes (64, 10), count its parameters and write its graph to TensorBoard:

    python nn_CIFAR10.py
    tensorboard --logdir logs/nn_CIFAR10
"""

import argparse
import warnings
from collections import OrderedDict

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter


class AddOne(nn.Module):
    """The nn.Module template: subclass, call super().__init__(), then compute in forward."""

    def __init__(self):
        super().__init__()

    def forward(self, input):
        output = input + 1
        return output


class MyModel(nn.Module):
    """The notes' CIFAR-10 model (the shapes in the comments are for one 3x32x32 image)."""

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


def make_ordered_model():
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logdir", default="logs/nn_CIFAR10", help="TensorBoard log folder (default: %(default)s)")
    args = parser.parse_args()

    add_one = AddOne()
    print(f"AddOne()(torch.tensor(1.0)) = {add_one(torch.tensor(1.0))!r}")

    model = MyModel()
    print(model)
    input = torch.ones((64, 3, 32, 32))
    output = model(input)
    print(f"input shape:  {tuple(input.shape)}")
    print(f"output shape: {tuple(output.shape)}")
    assert output.shape == (64, 10), "one row of 10 class scores per image"
    for form in (model, MyModelSequential(), make_ordered_model()):
        parameters = sum(p.numel() for p in form.parameters())  # weights and biases of every layer
        print(f"{type(form).__name__}: output shape {tuple(form(input).shape)}, parameters {parameters:,}")

    try:
        writer = SummaryWriter(args.logdir)
    except OSError as error:  # --logdir names a file, or a folder you may not write to
        parser.exit(2, f"error: cannot write TensorBoard logs to --logdir {args.logdir} ({error.strerror or error})\n")
    with warnings.catch_warnings():  # add_graph traces with torch.jit.trace, which warns that it is deprecated
        warnings.simplefilter("ignore", FutureWarning)
        writer.add_graph(model, input)
    writer.close()
    print(f"wrote the graph of MyModel; see it with: tensorboard --logdir {args.logdir} (GRAPHS tab)")


if __name__ == "__main__":
    main()
