"""卷积操作 / Convolution, 神经网络-卷积层 / nn.Conv2d.

Part 1 is the notes' example: F.conv2d slides a 3x3 kernel over a 5x5 input; stride is how
far the kernel moves each step, padding adds a border of zeros so the output can keep the
input's size. Output size = (input + 2 * padding - kernel) / stride + 1:

    stride=1              3x3: [[10, 12, 12], [18, 16, 16], [13, 9, 3]]
    stride=2              2x2: [[10, 12], [13, 3]]
    stride=1, padding=1   5x5: [[1, 3, 4, 10, 8], [5, 10, 12, 12, 6], ..., [14, 13, 9, 7, 4]]

Part 2 puts nn.Conv2d(3, 6, 3) in a small nn.Module and runs CIFAR-10 test batches through
it: [64, 3, 32, 32] -> [64, 6, 30, 30]. TensorBoard shows the batch as "input" and the six
output channels, reshaped to 3-channel images (torch.reshape(output, (-1, 3, 30, 30))), as "output".

    python 05_conv.py --fake-data  # no download: random images made in memory
    python 05_conv.py              # downloads CIFAR-10 into ./dataset
    tensorboard --logdir logs/05_conv
"""

import argparse
import os

import torch
import torch.nn.functional as F
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


class ConvNet(nn.Module):  # the notes call it Tudui
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=6, kernel_size=3, stride=1, padding=0)

    def forward(self, x):
        x = self.conv1(x)
        return x


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default="./dataset", help="where CIFAR-10 is downloaded (default: ./dataset)")
    parser.add_argument("--image-folder", metavar="DIR", help="read DIR/test/<class>/*.png instead of CIFAR-10")
    parser.add_argument("--fake-data", action="store_true", help="random CIFAR-shaped images: no files, no network")
    parser.add_argument("--logdir", default="logs/05_conv", help="TensorBoard log folder (default: logs/05_conv)")
    parser.add_argument("--max-steps", type=positive_int, default=5, help="batches to run and log (default: 5)")
    args = parser.parse_args()

    # fmt: off
    input = torch.tensor([[1, 2, 0, 3, 1],
                          [0, 1, 2, 3, 1],
                          [1, 2, 1, 0, 0],
                          [5, 2, 3, 1, 1],
                          [2, 1, 0, 1, 1]])
    kernel = torch.tensor([[1, 2, 1],
                           [0, 1, 0],
                           [2, 1, 0]])
    # fmt: on
    # F.conv2d wants (batch, channels, height, width), and the kernel (out_channels, in_channels, height, width)
    input = torch.reshape(input, (1, 1, 5, 5))
    kernel = torch.reshape(kernel, (1, 1, 3, 3))
    print("input.shape", input.shape, "kernel.shape", kernel.shape)
    output = F.conv2d(input, kernel, stride=1)
    print("F.conv2d(input, kernel, stride=1):", output, sep="\n")
    output2 = F.conv2d(input, kernel, stride=2)
    print("F.conv2d(input, kernel, stride=2):", output2, sep="\n")
    output3 = F.conv2d(input, kernel, stride=1, padding=1)
    print("F.conv2d(input, kernel, stride=1, padding=1):", output3, sep="\n")

    transform = torchvision.transforms.ToTensor()
    try:
        if args.fake_data:  # random CIFAR-shaped images made in memory: no files, no network
            dataset = torchvision.datasets.FakeData(
                size=200, image_size=(3, 32, 32), num_classes=10, transform=transform
            )
        elif args.image_folder:  # your own copy: DIR/test/<class>/*.png (class folders sorted = CIFAR-10's labels)
            dataset = torchvision.datasets.ImageFolder(os.path.join(args.image_folder, "test"), transform=transform)
        else:
            dataset = torchvision.datasets.CIFAR10(root=args.data_root, train=False, transform=transform, download=True)
    except (OSError, RuntimeError) as error:  # no internet, a firewall, an SSL error, a missing folder
        reason = str(error).partition("\n")[0]  # one line: the message may go on over several
        parser.exit(
            2,
            f"error: no CIFAR-10 in {args.image_folder or args.data_root} ({reason}); offline: put "
            "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz in "
            f"{args.data_root}/, or use --image-folder DIR or --fake-data\n",
        )
    dataloader = DataLoader(dataset, batch_size=64)

    model = ConvNet()  # the notes: tudui = Tudui()
    print(model)
    try:
        writer = SummaryWriter(args.logdir)  # the notes: SummaryWriter("../logs")
    except OSError as error:  # --logdir names a file, or a folder you may not write to
        parser.exit(2, f"error: cannot write TensorBoard logs to --logdir {args.logdir} ({error.strerror or error})\n")
    step = 0
    try:
        for data in dataloader:
            if step == args.max_steps:
                break
            imgs, targets = data
            output = model(imgs)  # [64, 3, 32, 32] -> [64, 6, 30, 30]
            writer.add_images("input", imgs, step)
            # TensorBoard shows images of 1 or 3 channels, so the 6 channels become 2 images of 3: [128, 3, 30, 30]
            output_images = torch.reshape(output, (-1, 3, 30, 30))
            writer.add_images("output", output_images, step)
            if step == 0:
                print(f"imgs.shape {imgs.shape} -> output.shape {output.shape} -> reshaped {output_images.shape}")
            step = step + 1
    except OSError as error:  # a broken file in --image-folder (PIL: cannot identify image file ...)
        reason = str(error).partition("\n")[0]
        parser.exit(2, f"error: cannot read image ({reason}); remove or replace that file\n")
    writer.close()
    print(f"logged {step} batches as 'input' and 'output'; see them with: tensorboard --logdir {args.logdir}")


if __name__ == "__main__":
    main()
