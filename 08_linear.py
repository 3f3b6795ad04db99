"""神经网络-线性层及其他层介绍 / nn.Linear and flattening.

A linear (fully connected) layer multiplies a 1-D vector of features by a
weight matrix: nn.Linear(in_features, out_features). Images must be flattened
first. The notes flatten a whole batch of 64 CIFAR-10 images with
torch.flatten(imgs):

    [64, 3, 32, 32] -> torch.flatten -> [196608] -> nn.Linear(196608, 10) -> [10]

torch.flatten squashes everything, the batch too, into one long vector, so the
64 images give one output of 10 numbers. nn.Flatten() keeps the batch dimension,
[64, 3, 32, 32] -> [64, 3072], so each image gets its own 10 outputs: that is
the one to use in a model (nn_CIFAR10.py does). The loader uses drop_last=True
because Linear(196608, 10) needs exactly 64 images in every batch.

    python 08_linear.py              # downloads CIFAR-10 into ./dataset
    python 08_linear.py --fake-data  # no download: synthetic images
"""

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from common import UserError, add_data_args, cifar10_dataset, positive_int, run_main

BATCH_SIZE = 64
FEATURES_PER_IMAGE = 3 * 32 * 32  # 3072


class LinearNet(nn.Module):
    """The notes' model: one linear layer from a whole flattened batch to 10 outputs."""

    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(BATCH_SIZE * FEATURES_PER_IMAGE, 10)  # 196608 -> 10

    def forward(self, input):
        return self.linear1(input)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_args(parser)
    parser.add_argument("--max-steps", type=positive_int, default=3, help="batches to run (default: 3)")
    args = parser.parse_args()

    dataset = cifar10_dataset(args, train=False, transform=transforms.ToTensor())
    if len(dataset) < BATCH_SIZE:
        raise UserError(f"the test split has {len(dataset)} images; this script needs at least {BATCH_SIZE}")
    # drop_last=True: a smaller final batch would flatten to fewer than 196608 numbers.
    dataloader = DataLoader(dataset, batch_size=BATCH_SIZE, drop_last=True, num_workers=0)
    model = LinearNet()
    print(model)

    for step, (imgs, _targets) in enumerate(dataloader):
        if step == args.max_steps:
            break
        flat = torch.flatten(imgs)
        output = model(flat)
        print(f"batch {step + 1}: {imgs.shape} -> torch.flatten -> {flat.shape} -> Linear -> {output.shape}")

    per_image = nn.Flatten()(imgs)
    print(f"\nnn.Flatten() keeps the batch dimension: {imgs.shape} -> {per_image.shape}")
    per_image_output = nn.Linear(FEATURES_PER_IMAGE, 10)(per_image)
    print(f"then nn.Linear({FEATURES_PER_IMAGE}, 10) gives 10 outputs per image: {per_image_output.shape}")


if __name__ == "__main__":
    run_main(main)
