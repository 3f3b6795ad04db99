"""神经网络-最大池化的使用 / Max pooling with nn.MaxPool2d.

Max pooling keeps the largest value in each window: the image gets smaller but keeps its
strongest features. nn.MaxPool2d(kernel_size=3) moves a 3x3 window 3 steps at a time (stride
defaults to kernel_size). ceil_mode=True keeps the windows that hang over the border,
ceil_mode=False drops them.

  1. the notes' 5x5 input: ceil_mode=True gives [[2, 3], [5, 1]], ceil_mode=False gives [[2]]
  2. CIFAR-10 test images pooled with ceil_mode=False (32x32 -> 10x10), written to TensorBoard
     as "input" and "output": the output looks like a mosaic

    python 06_pool.py              # downloads CIFAR-10 into ./dataset
    python 06_pool.py --fake-data  # no download: random images made in memory
    tensorboard --logdir logs/06_pool
"""

import argparse
import os

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter


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
    parser.add_argument("--logdir", default="logs/06_pool", help="TensorBoard log folder (default: %(default)s)")
    parser.add_argument("--max-steps", type=positive_int, default=5, help="batches to pool and log (default: 5)")
    args = parser.parse_args()

    # dtype=torch.float32 as in the notes: MaxPool2d on int64 fails on the GPU and in older PyTorch
    # ("max_pool2d" not implemented for 'Long'); today's CPU happens to accept it.
    input = torch.tensor(
        [
            [1, 2, 0, 3, 1],
            [0, 1, 2, 3, 1],
            [1, 2, 1, 0, 0],
            [5, 2, 3, 1, 1],
            [2, 1, 0, 1, 1],
        ],
        dtype=torch.float32,
    )
    input = torch.reshape(input, (-1, 1, 5, 5))  # (batch, channels, height, width)
    for ceil_mode in (True, False):
        maxpool1 = nn.MaxPool2d(kernel_size=3, ceil_mode=ceil_mode)
        output = maxpool1(input)
        print(f"MaxPool2d(kernel_size=3, ceil_mode={ceil_mode}): {output[0, 0].int().tolist()}")

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
    dataloader = DataLoader(dataset=test_data, batch_size=64, num_workers=0)

    maxpool1 = nn.MaxPool2d(kernel_size=3, ceil_mode=False)
    try:
        writer = SummaryWriter(args.logdir)
    except OSError as error:  # --logdir names a file, or a folder you may not write to
        parser.exit(2, f"error: cannot write TensorBoard logs to --logdir {args.logdir} ({error.strerror or error})\n")
    step = 0
    try:
        for data in dataloader:
            imgs, targets = data
            if step == args.max_steps:
                break
            output = maxpool1(imgs)
            if step == 0:
                print(f"CIFAR-10 batch {list(imgs.shape)} -> maxpool1 -> {list(output.shape)}")
            writer.add_images("input", imgs, step)
            writer.add_images("output", output, step)
            step = step + 1
    except OSError as error:  # a broken file in --image-folder (PIL: cannot identify image file ...)
        parser.exit(2, f"error: cannot read image ({error}); remove or replace that file\n")
    writer.close()
    print(f"logged {step} batches as 'input' and 'output'; see them with: tensorboard --logdir {args.logdir}")


if __name__ == "__main__":
    main()
