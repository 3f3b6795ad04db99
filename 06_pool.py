"""神经网络-最大池化的使用 / Max pooling with nn.MaxPool2d.

Max pooling keeps the largest value in each window: the image gets smaller but
keeps its strongest features. nn.MaxPool2d(kernel_size=3) moves the 3x3 window
3 steps at a time (stride defaults to kernel_size). At the border a window can
hang over the edge: ceil_mode=True keeps those partial windows, ceil_mode=False
drops them.

Part 1 uses the notes' 5x5 input (as float32, see below): ceil_mode=True gives
[[2, 3], [5, 1]], ceil_mode=False gives [[2]].
Part 2 pools CIFAR-10 test images with ceil_mode=False, 32x32 -> 10x10, and
writes "input" and "output" to TensorBoard: the output looks like a mosaic.

    python 06_pool.py              # downloads CIFAR-10 into ./dataset
    python 06_pool.py --fake-data  # no download: synthetic images
    tensorboard --logdir logs/06_pool
"""

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from common import add_data_args, add_logdir_arg, cifar10_dataset, make_writer, positive_int, run_main, tensorboard_hint

# The notes' 5x5 input. dtype=float32: layers compute in floating point (images
# from ToTensor are float too), and older PyTorch versions refuse to max-pool a
# whole-number (long) tensor with "max_pool2d" not implemented for 'Long'.
INPUT = torch.tensor(
    [
        [1, 2, 0, 3, 1],
        [0, 1, 2, 3, 1],
        [1, 2, 1, 0, 0],
        [5, 2, 3, 1, 1],
        [2, 1, 0, 1, 1],
    ],
    dtype=torch.float32,
)


def max_pool(input: torch.Tensor, ceil_mode: bool) -> torch.Tensor:
    """nn.MaxPool2d(kernel_size=3) on a 2-D tensor, returned as 2-D."""
    pool = nn.MaxPool2d(kernel_size=3, ceil_mode=ceil_mode)
    # Layers want (batch, channels, height, width); -1 lets torch work out the batch size (1).
    return pool(torch.reshape(input, (-1, 1, *input.shape)))[0, 0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_args(parser)
    add_logdir_arg(parser, "06_pool")
    parser.add_argument(
        "--max-steps", type=positive_int, default=5, help="batches to run and log to TensorBoard (default: 5)"
    )
    args = parser.parse_args()

    print("nn.MaxPool2d(kernel_size=3) on the notes' 5x5 input:")
    print(f"  ceil_mode=True:  {max_pool(INPUT, ceil_mode=True).tolist()}  (partial border windows kept)")
    print(f"  ceil_mode=False: {max_pool(INPUT, ceil_mode=False).tolist()}  (only the one full 3x3 window)")
    try:
        result = max_pool(INPUT.long(), ceil_mode=True).tolist()
        print(f"  with a long (integer) tensor: {result} (this PyTorch accepts it; the notes' older one did not)")
    except RuntimeError as error:
        print(f"  with a long (integer) tensor: RuntimeError: {error}")

    dataset = cifar10_dataset(args, train=False, transform=transforms.ToTensor())
    dataloader = DataLoader(dataset, batch_size=64, num_workers=0)
    pool = nn.MaxPool2d(kernel_size=3, ceil_mode=False)
    print(f"\n{pool}")

    writer = make_writer(args.logdir)
    logged = 0
    for step, (imgs, _targets) in enumerate(dataloader):
        if step == args.max_steps:
            break
        output = pool(imgs)
        if step == 0:
            print(f"input shape:  {imgs.shape}")
            print(f"output shape: {output.shape}  (32x32 -> 10x10: ceil_mode=False drops the last 2 pixels)")
        writer.add_images("input", imgs, step)
        writer.add_images("output", output, step)
        logged += 1
    writer.close()
    print(f"logged {logged} batches as 'input' and 'output'; {tensorboard_hint(args.logdir)}")


if __name__ == "__main__":
    run_main(main)
