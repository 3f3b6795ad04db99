"""卷积操作 / Convolution, 神经网络-卷积层 / nn.Conv2d.

Part 1 works the notes' example by hand-checkable numbers: F.conv2d slides a 3x3
kernel over a 5x5 input; stride is how far the kernel moves each step, padding
adds a border of zeros so the output can keep the input's size.

Part 2 puts nn.Conv2d(3, 6, 3) in a small nn.Module and runs CIFAR-10 test
batches through it: [64, 3, 32, 32] -> [64, 6, 30, 30]. TensorBoard shows the
batch as "input" and the 6 output channels, reshaped to 3-channel images
(torch.reshape(output, (-1, 3, 30, 30))), as "output".

    python 05_conv.py              # downloads CIFAR-10 into ./dataset
    python 05_conv.py --fake-data  # no download: synthetic images
    tensorboard --logdir logs/05_conv
"""

import argparse

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from common import add_data_args, add_logdir_arg, cifar10_dataset, make_writer, positive_int, run_main, tensorboard_hint

# The notes' example: a 5x5 "image" and a 3x3 kernel.
INPUT = torch.tensor(
    [
        [1, 2, 0, 3, 1],
        [0, 1, 2, 3, 1],
        [1, 2, 1, 0, 0],
        [5, 2, 3, 1, 1],
        [2, 1, 0, 1, 1],
    ]
)
KERNEL = torch.tensor(
    [
        [1, 2, 1],
        [0, 1, 0],
        [2, 1, 0],
    ]
)


def conv2d_examples() -> dict[str, torch.Tensor]:
    """F.conv2d on the notes' example with three settings; each result as (1, 1, H, W)."""
    # conv2d wants (batch, channels, height, width) for the input and
    # (out_channels, in_channels, height, width) for the kernel.
    input = torch.reshape(INPUT, (1, 1, 5, 5))
    kernel = torch.reshape(KERNEL, (1, 1, 3, 3))
    return {
        "stride=1": F.conv2d(input, kernel, stride=1),  # (5 - 3) / 1 + 1 = 3 -> 3x3
        "stride=2": F.conv2d(input, kernel, stride=2),  # (5 - 3) / 2 + 1 = 2 -> 2x2
        "padding=1": F.conv2d(input, kernel, stride=1, padding=1),  # (5 + 2 - 3) / 1 + 1 = 5 -> 5x5
    }


class ConvNet(nn.Module):
    """One convolution layer: 3 input channels (RGB) -> 6 output channels."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=6, kernel_size=3, stride=1, padding=0)

    def forward(self, x):
        return self.conv1(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_args(parser)
    add_logdir_arg(parser, "05_conv")
    parser.add_argument(
        "--max-steps", type=positive_int, default=5, help="batches to run and log to TensorBoard (default: 5)"
    )
    args = parser.parse_args()

    print("F.conv2d on the notes' 5x5 input with the 3x3 kernel:")
    for setting, output in conv2d_examples().items():
        print(f"  {setting:<9} shape {tuple(output.shape)}: {output[0, 0].tolist()}")

    dataset = cifar10_dataset(args, train=False, transform=transforms.ToTensor())
    dataloader = DataLoader(dataset, batch_size=64, num_workers=0)
    model = ConvNet()
    print(f"\n{model}")

    writer = make_writer(args.logdir)
    logged = 0
    for step, (imgs, _targets) in enumerate(dataloader):
        if step == args.max_steps:
            break
        output = model(imgs)
        # TensorBoard shows images with 1 or 3 channels, so 6 channels become 2 images of 3.
        output_images = torch.reshape(output, (-1, 3, 30, 30))
        if step == 0:
            print(f"input shape:  {imgs.shape}")
            print(f"output shape: {output.shape}")
            print(f"output reshaped for TensorBoard: {output_images.shape}")
        writer.add_images("input", imgs, step)
        writer.add_images("output", output_images, step)
        logged += 1
    writer.close()
    print(f"logged {logged} batches as 'input' and 'output'; {tensorboard_hint(args.logdir)}")


if __name__ == "__main__":
    run_main(main)
