"""The models beyond the notes' MyModel (nn_CIFAR10.py), for --model: the pieces the notes teach
(ReLU, BatchNorm2d) added one at a time, then FastNet, built only from them."""

from __future__ import annotations

import torch
from torch import nn

from nn_CIFAR10 import MyModel


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
    """Two 3x3 convolutions with BatchNorm2d + ReLU; max pooling right after the first one halves the
    image early, so the second convolution costs a quarter (no bias: BatchNorm adds its own)."""
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

    The stem is a 2x2 convolution whose weights are not learned: whiten_stem() sets them from the
    training images so that its outputs are decorrelated (whitened) 2x2 patches, which lets the layers
    above learn faster (the trick of Keller Jordan's airbench). Until then they are random.
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
        # 3 -> 1: the strongest response of each channel (over any size: --resize-epochs trains on smaller images)
        self.pool = nn.AdaptiveMaxPool2d(1)
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

        The patch covariance's eigenvectors, scaled by 1/sqrt(eigenvalue), map patches to uncorrelated
        unit-variance features; each comes twice, as f and -f, so that the ReLU keeps both signs.
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


class FastNetWide(FastNet):
    """FastNet with twice the channels in its first two blocks (64, 128, 128): the first --recipe fast's model.
    Wide where the images are large and the CPU's matrix units are busy, not in the last 7x7 and 3x3
    block, whose backward pass ran far below the peak of an Intel Xeon with AMX (bench/profile_step.py);
    on an AMD EPYC without AMX the last block is cheap, hence fastnet-cpu."""

    def __init__(self):
        super().__init__(widths=(24, 64, 128, 128))


class FastNetCPU(FastNet):
    """FastNet shaped for a CPU's time rather than its arithmetic (48, 128, 256 channels): narrow where the
    images are large (the first block's 31x31 maps cost the most per channel), wide in the last block, whose
    7x7 and 3x3 maps are cheap. On a 2-core AMD EPYC (Zen 4, bf16) it trains ~10% faster than fastnet-wide
    with twice its parameters (bench/README.md, "A network shaped for the CPU")."""

    def __init__(self):
        super().__init__(widths=(24, 48, 128, 256))


class FastNetGPU(FastNet):
    """airbench94's widths (64, 256, 256) on FastNet's layout: for a GPU (--recipe gpu)."""

    def __init__(self):
        super().__init__(widths=(24, 64, 256, 256))


@torch.no_grad()
def dirac_init(model: nn.Module) -> None:
    """--dirac-init: start each trained convolution as an identity on its inputs. Of every Conv2d whose
    weights learn, the first in_channels filters pass their own input channel straight through (the
    others keep their random start), so a deep stack begins close to a shallow one (airbench)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d) and module.weight.requires_grad:
            weight = module.weight
            if weight.shape[0] >= weight.shape[1] and module.groups == 1:
                nn.init.dirac_(weight[: weight.shape[1]])


def set_batchnorm_momentum(model: nn.Module, momentum: float) -> None:
    """--bn-momentum: how fast every BatchNorm2d's running statistics follow the batches (PyTorch's momentum:
    new = (1 - m) old + m batch; 0.1 is PyTorch's default, airbench uses 0.4)."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = momentum


MODELS = {
    "mymodel": MyModel,
    "mymodel-relu": MyModelReLU,
    "mymodel-bn": MyModelBN,
    "fastnet": FastNet,
    "fastnet-wide": FastNetWide,
    "fastnet-cpu": FastNetCPU,
    "fastnet-gpu": FastNetGPU,
}
# What the flags that act on a part of a model ask of it (tests/tool/test_recipe_switches.py holds these
# against the models themselves): --bn-bias-lr acts on BatchNorm2d layers, --stem-bias-epochs on FastNet's stem.
BATCHNORM_MODELS = {"mymodel-bn", "fastnet", "fastnet-wide", "fastnet-cpu", "fastnet-gpu"}
STEM_MODELS = {"fastnet", "fastnet-wide", "fastnet-cpu", "fastnet-gpu"}
