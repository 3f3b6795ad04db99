"""神经网络-线性层及其他层介绍 / nn.Linear and flattening.

A linear (fully connected) layer multiplies a 1-D vector of features by a weight matrix:
nn.Linear(in_features, out_features). Images must be flattened first. The notes flatten a
whole batch of 64 CIFAR-10 images with torch.flatten(imgs):

    [64, 3, 32, 32] -> torch.flatten -> [196608] -> nn.Linear(196608, 10) -> [10]

torch.flatten squashes everything, the batch too, so the 64 images give ONE output of 10
numbers, and every batch must hold exactly 64 images: hence drop_last=True. nn.Flatten() keeps
the batch dimension, [64, 3, 32, 32] -> [64, 3072], so each image gets its own 10 outputs:
that is the one a model uses (nn_CIFAR10.py does).

    python 08_linear.py              # downloads CIFAR-10 into ./dataset
    python 08_linear.py --fake-data  # no download: random images made in memory
"""

import argparse
import os

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader


def positive_int(text):
    """argparse type: a whole number >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default="./dataset", help="CIFAR-10 download folder (default: %(default)s)")
    parser.add_argument("--image-folder", metavar="DIR", help="read DIR/test/<class>/*.png instead of CIFAR-10")
    parser.add_argument("--fake-data", action="store_true", help="random CIFAR-shaped images: no files, no network")
    parser.add_argument("--max-steps", type=positive_int, default=3, help="batches to run (default: %(default)s)")
    args = parser.parse_args()

    transform = torchvision.transforms.ToTensor()
    try:
        if args.fake_data:  # random CIFAR-shaped images made in memory: no files, no network
            test_data = torchvision.datasets.FakeData(
                size=200, image_size=(3, 32, 32), num_classes=10, transform=transform
            )
        elif args.image_folder:  # your own copy: DIR/test/<class>/*.png (class folders sorted = CIFAR-10's labels)
            test_data = torchvision.datasets.ImageFolder(os.path.join(args.image_folder, "test"), transform=transform)
        else:
            test_data = torchvision.datasets.CIFAR10(
                root=args.data_root, train=False, transform=transform, download=True
            )
    except (OSError, RuntimeError) as error:  # no internet, a firewall, an SSL error, a missing folder
        reason = str(error).partition("\n")[0]  # one line: the message may go on over several
        parser.exit(
            2,
            f"error: no CIFAR-10 in {args.image_folder or args.data_root} ({reason}); offline: put "
            f"cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz in "
            f"{args.data_root}/, or use --image-folder DIR or --fake-data\n",
        )
    # drop_last=True: a smaller last batch would flatten to fewer than the 196608 numbers linear1 takes.
    dataloader = DataLoader(dataset=test_data, batch_size=64, shuffle=True, num_workers=0, drop_last=True)
    if len(dataloader) == 0:
        parser.exit(
            2, f"error: {len(test_data)} images are fewer than one batch of 64; add images or use --fake-data\n"
        )

    linear1 = nn.Linear(196608, 10)  # 64 images x 3 x 32 x 32 = 196608 features in, 10 out
    print(linear1)
    step = 0
    try:
        for data in dataloader:
            imgs, targets = data
            if step == args.max_steps:
                break
            output = torch.flatten(imgs)
            print(f"batch {step + 1}: {list(imgs.shape)} -> torch.flatten -> {list(output.shape)}", end="")
            output = linear1(output)
            print(f" -> linear1 -> {list(output.shape)}")
            step = step + 1
    except OSError as error:  # a broken file in --image-folder (PIL: cannot identify image file ...)
        parser.exit(2, f"error: cannot read image ({error}); remove or replace that file\n")

    flatten = nn.Flatten()  # keeps dim 0, the batch: one row of 3 * 32 * 32 = 3072 numbers per image
    output = flatten(imgs)
    print(f"nn.Flatten() keeps the batch: {list(imgs.shape)} -> {list(output.shape)}", end="")
    output = nn.Linear(3072, 10)(output)
    print(f" -> nn.Linear(3072, 10) -> {list(output.shape)}: 10 outputs for each image")


if __name__ == "__main__":
    main()
