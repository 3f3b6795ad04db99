"""神经网络的基本骨架 / nn.Module, Sequential 的使用 / Sequential, 完整的模型 / The CIFAR-10 model.

The notes' model for CIFAR-10, written three ways, plus the smallest nn.Module:

  MyModel              3 x (Conv2d 5x5, padding 2 + MaxPool2d 2), Flatten, Linear(1024, 64), Linear(64, 10)
  MyModelSequential    the same layers in one nn.Sequential
  make_ordered_model() the same with named layers (OrderedDict)
  AddOne               the nn.Module template: forward returns input + 1

and, beyond the notes (10_train_cifar10.py --model ..., README "Beyond the notes' model"):

  MyModelReLU          MyModel with ReLU between the layers
  MyModelBN            MyModelReLU with BatchNorm2d after every convolution
  FastNet              whitened 2x2 stem + 3 x (conv, max-pool, BatchNorm, ReLU, conv, BatchNorm, ReLU),
                       max-pool, Linear: 85% in 9 epochs with --recipe fast

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


def conv_pool_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 convolutions with BatchNorm2d + ReLU; max pooling right after the first one halves
    the image early, so the second convolution costs a quarter (no bias: BatchNorm adds its own)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.MaxPool2d(2),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class FastNet(nn.Module):
    """A small network of Conv2d, BatchNorm2d, ReLU, MaxPool2d and Linear, sized for a CPU.

    The stem is a 2x2 convolution whose weights are not learned: whiten_stem() sets them
    from the training images so that its outputs are decorrelated (whitened) 2x2 patches,
    which lets the layers above learn faster. Until then they are random.
    """

    def __init__(self, widths=(24, 32, 64, 128)):
        super().__init__()
        stem, w1, w2, w3 = widths
        if stem % 2 or stem > 2 * 3 * 2 * 2:
            # whiten_stem() fills it with pairs f, -f of the 3 x 2 x 2 = 12 patch directions.
            raise ValueError(f"the stem width must be even and at most 24 (it was {stem})")
        self.stem = nn.Conv2d(3, stem, kernel_size=2)  # 32x32 -> 31x31
        self.stem.weight.requires_grad_(False)
        self.block1 = conv_pool_block(stem, w1)  # 31 -> 15
        self.block2 = conv_pool_block(w1, w2)  # 15 -> 7
        self.block3 = conv_pool_block(w2, w3)  # 7 -> 3
        self.pool = nn.MaxPool2d(3)  # 3 -> 1: the strongest response of each channel
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(w3, 10, bias=False)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = self.block3(self.block2(self.block1(x)))
        # The small fixed scale keeps the logits from exploding early in training.
        return self.linear(self.flatten(self.pool(x))) * 0.125

    @torch.no_grad()
    def whiten_stem(self, images: torch.Tensor, eps: float = 5e-4) -> None:
        """Set the stem to whiten 2x2 patches of `images` (N, 3, H, W floats, as the model sees them).

        The patch covariance's eigenvectors, scaled by 1/sqrt(eigenvalue), map patches to
        uncorrelated unit-variance features; each comes twice, as f and -f, so that the ReLU
        after the stem keeps both signs.
        """
        weight = self.stem.weight
        size = weight.shape[-1]
        patches = images.unfold(2, size, 1).unfold(3, size, 1)  # N, 3, H', W', size, size
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, 3 * size * size).double()
        covariance = patches.T @ patches / len(patches)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending
        order = eigenvalues.argsort(descending=True)[: weight.shape[0] // 2]
        filters = eigenvectors[:, order].T / torch.sqrt(eigenvalues[order] + eps)[:, None]
        filters = filters.reshape(-1, 3, size, size).to(weight.dtype)
        weight.copy_(torch.cat([filters, -filters]))


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

    for other in (MyModelSequential(), make_ordered_model(), MyModelReLU(), MyModelBN(), FastNet()):
        shape = tuple(other(batch).shape)
        print(f"{type(other).__name__}: output shape {shape}, parameters {count_parameters(other):,}")

    writer = make_writer(args.logdir)
    add_graph_quietly(writer, model, batch)
    writer.close()
    print(f"wrote the model graph; {tensorboard_hint(args.logdir)} (GRAPHS tab)")


if __name__ == "__main__":
    run_main(main)
