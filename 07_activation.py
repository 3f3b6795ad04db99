"""神经网络-非线性激活, 正则化层 / ReLU, Sigmoid and nn.BatchNorm2d.

Without a non-linear activation between them, stacked layers are just one big linear function.

  1. ReLU (negatives -> 0) and Sigmoid (1 / (1 + e^-x), into 0..1) on the notes' [[1, -0.5], [-1, 3]]
  2. ReLU(inplace=True) writes its result into the input tensor itself; inplace=False leaves it alone
  3. Sigmoid on CIFAR-10 test images, "input" and "output" in TensorBoard (paler, greyer)
  4. nn.BatchNorm2d(3) on one batch: in train mode each channel comes out with mean 0 and std 1, and
     running_mean/running_var move 10% of the way to the batch's; eval mode uses those running ones

    python 07_activation.py              # downloads CIFAR-10 into ./dataset
    python 07_activation.py --fake-data  # no download: random images made in memory
    tensorboard --logdir logs/07_activation
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


def rounded(tensor, digits=4):
    """A tensor as a flat list of rounded numbers, for printing (+ 0.0 turns -0.0 into 0.0)."""
    return [round(value, digits) + 0.0 for value in tensor.flatten().tolist()]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default="./dataset", help="CIFAR-10 download folder (default: %(default)s)")
    parser.add_argument("--image-folder", metavar="DIR", help="read DIR/test/<class>/*.png instead of CIFAR-10")
    parser.add_argument("--fake-data", action="store_true", help="random CIFAR-shaped images: no files, no network")
    parser.add_argument("--logdir", default="logs/07_activation", help="TensorBoard log folder (default: %(default)s)")
    parser.add_argument("--max-steps", type=positive_int, default=5, help="batches to log to TensorBoard (default: 5)")
    args = parser.parse_args()

    input = torch.tensor([[1, -0.5], [-1, 3]])
    input = torch.reshape(input, (-1, 1, 2, 2))  # (batch, channels, height, width)
    relu1 = nn.ReLU()
    sigmoid1 = nn.Sigmoid()  # the notes write nn.Sigmoid(inplace=False); Sigmoid takes no inplace (a TypeError)
    print(f"input:   {rounded(input)}")
    print(f"ReLU:    {rounded(relu1(input))}")
    print(f"Sigmoid: {rounded(sigmoid1(input))}")

    output = nn.ReLU(inplace=False)(input)  # a new tensor; input is untouched
    print(f"ReLU(inplace=False): output {rounded(output)}, input afterwards {rounded(input)}")
    overwritten = input.clone()
    output = nn.ReLU(inplace=True)(overwritten)  # writes into `overwritten` (saves memory; the old values are gone)
    print(f"ReLU(inplace=True):  output {rounded(output)}, input afterwards {rounded(overwritten)}")
    print(f"ReLU(inplace=True) returned its input tensor itself: {output is overwritten}")

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
            writer.add_images("input", imgs, step)
            writer.add_images("output", sigmoid1(imgs), step)  # pixels 0..1 -> 0.5..0.73
            step = step + 1
        imgs, targets = next(iter(dataloader))
    except OSError as error:  # a broken file in --image-folder (PIL: cannot identify image file ...)
        parser.exit(2, f"error: cannot read image ({error}); remove or replace that file\n")
    writer.close()
    print(f"Sigmoid on CIFAR-10: logged {step} batches as 'input' and 'output' in {args.logdir}")

    bn = nn.BatchNorm2d(3)  # 3 channels; momentum=0.1, running_mean starts at 0 and running_var at 1
    with torch.no_grad():
        output = bn(imgs)  # train mode: normalise with this batch's mean and var, and update the running ones
        print(f"nn.BatchNorm2d(3) on one batch {list(imgs.shape)}, per channel (R, G, B):")
        print(f"  batch mean:              {rounded(imgs.mean(dim=(0, 2, 3)))}")
        print(f"  batch var:               {rounded(imgs.var(dim=(0, 2, 3)))}")  # unbiased, as running_var uses
        print(f"  train mode output mean:  {rounded(output.mean(dim=(0, 2, 3)))}")
        print(f"  train mode output std:   {rounded(output.std(dim=(0, 2, 3), unbiased=False))}")
        print(f"  running_mean:            {rounded(bn.running_mean)}  = 0.9 * 0 + 0.1 * batch mean")
        print(f"  running_var:             {rounded(bn.running_var)}  = 0.9 * 1 + 0.1 * batch var")
        bn.eval()  # eval mode: normalise with running_mean/var, so one test image gets the same result in any batch
        print(f"  eval mode output mean:   {rounded(bn(imgs).mean(dim=(0, 2, 3)))}")


if __name__ == "__main__":
    main()
