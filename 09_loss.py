"""损失函数与反向传播, 优化器 / Loss functions, backward() and the optimizer.

A loss function measures how far the outputs are from the targets; backward() computes each
parameter's gradient (in .grad): which way, and how strongly, it pushes the loss; an optimizer
then moves every parameter a little against its gradient.

  1. L1Loss, MSELoss and CrossEntropyLoss on the notes' small examples (cross-entropy: 1.1019)
  2. backward(): .grad is None before and filled in after, on x and on MyModel (nn_CIFAR10.py)
  3. the notes' loop with torch.optim.SGD(lr=0.01): per batch zero_grad, backward, step; the
     summed loss of each epoch (running_loss) falls

    python 09_loss.py              # downloads CIFAR-10 into ./dataset (then minutes per epoch on a CPU)
    python 09_loss.py --fake-data  # no download: 256 random images with fixed random labels, seconds
"""

import argparse
import os

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader

from nn_CIFAR10 import MyModel


def positive_int(text):
    """argparse type: a whole number >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def learning_rate(text):
    """argparse type: a number >= 0 (not inf or nan)."""
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default="./dataset", help="CIFAR-10 download folder (default: %(default)s)")
    parser.add_argument("--image-folder", metavar="DIR", help="read DIR/train/<class>/*.png instead of CIFAR-10")
    parser.add_argument("--fake-data", action="store_true", help="random CIFAR-shaped images: no files, no network")
    parser.add_argument("--epochs", type=positive_int, default=3, help="passes over the data (default: %(default)s)")
    parser.add_argument("--lr", type=learning_rate, default=0.01, help="SGD learning rate (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: runs repeat exactly (default: %(default)s)")
    args = parser.parse_args()
    torch.manual_seed(args.seed)  # the same starting weights and batch order every run

    inputs = torch.tensor([1, 2, 3], dtype=torch.float32)  # losses need float numbers
    targets = torch.tensor([1, 2, 5], dtype=torch.float32)
    inputs = torch.reshape(inputs, (1, 1, 1, 3))
    targets = torch.reshape(targets, (1, 1, 1, 3))
    loss = nn.L1Loss(reduction="sum")  # the notes write nn.L1Liss, a typo: the class is nn.L1Loss
    print(f"L1Loss(reduction='sum'): {loss(inputs, targets).item():.4f}")  # 0 + 0 + 2
    print(f"L1Loss():                {nn.L1Loss()(inputs, targets).item():.4f}")  # (0 + 0 + 2) / 3
    loss_mse = nn.MSELoss()
    print(f"MSELoss():               {loss_mse(inputs, targets).item():.4f}")  # (0 + 0 + 2^2) / 3

    x = torch.tensor([0.1, 0.2, 0.3])  # raw scores (logits) for 3 classes
    y = torch.tensor([1])  # the right class
    # The notes call backward() here with no requires_grad: "element 0 of tensors does not require grad". Fixed:
    x = torch.reshape(x, (1, 3)).requires_grad_()  # (batch 1, 3 classes)
    loss_cross = nn.CrossEntropyLoss()
    result_cross = loss_cross(x, y)  # -0.2 + log(e^0.1 + e^0.2 + e^0.3)
    print(f"CrossEntropyLoss():      {result_cross.item():.4f}")
    print(f"x.grad before backward: {x.grad}")
    result_cross.backward()
    print(f"x.grad after backward:  {[round(g, 4) for g in x.grad[0].tolist()]}  (softmax(x) - one-hot(y))")

    # The notes' sketch loops over the train=False split; a model learns from the train split, so train=True here.
    transform = torchvision.transforms.ToTensor()
    try:
        if args.fake_data:  # random CIFAR-shaped images made in memory: no files, no network
            train_data = torchvision.datasets.FakeData(
                size=256, image_size=(3, 32, 32), num_classes=10, transform=transform, random_offset=10000
            )
        elif args.image_folder:  # your own copy: DIR/train/<class>/*.png (class folders sorted = CIFAR-10's labels)
            train_data = torchvision.datasets.ImageFolder(os.path.join(args.image_folder, "train"), transform=transform)
        else:
            train_data = torchvision.datasets.CIFAR10(
                root=args.data_root, train=True, transform=transform, download=True
            )
    except (OSError, RuntimeError) as error:  # no internet, a firewall, an SSL error, a missing folder
        reason = str(error).partition("\n")[0]  # one line: the message may go on over several
        parser.exit(
            2,
            f"error: no CIFAR-10 in {args.image_folder or args.data_root} ({reason}); offline: put "
            f"cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz in "
            f"{args.data_root}/, or use --image-folder DIR or --fake-data\n",
        )
    dataloader = DataLoader(dataset=train_data, batch_size=64, shuffle=True, num_workers=0)

    model = MyModel()
    loss = nn.CrossEntropyLoss()
    optim = torch.optim.SGD(model.parameters(), lr=args.lr)
    print(f"MyModel's conv1.weight.grad before any backward: {model.conv1.weight.grad}")
    batches = len(dataloader)
    every = max(1, batches // 10)  # a progress line about every 10% of an epoch
    try:
        for epoch in range(args.epochs):
            running_loss = 0.0
            for step, data in enumerate(dataloader, start=1):
                imgs, targets = data
                outputs = model(imgs)
                result_loss = loss(outputs, targets)
                optim.zero_grad()  # clear the gradients left from the previous batch
                result_loss.backward()  # fresh gradients in every parameter's .grad
                optim.step()  # move every parameter a little against its gradient
                # The notes add result_loss itself, a tensor that drags every batch's graph along; .item() is a number.
                running_loss = running_loss + result_loss.item()
                if step % every == 0 or step == batches:
                    print(f"  epoch {epoch + 1} [{step}/{batches}] mean loss {running_loss / step:.4f}", flush=True)
            print(f"epoch {epoch + 1}: running_loss {running_loss:.4f} (sum of {batches} batch losses)", flush=True)
    except OSError as error:  # a broken file in --image-folder (PIL: cannot identify image file ...)
        parser.exit(2, f"error: cannot read image ({error}); remove or replace that file\n")
    grad = model.conv1.weight.grad  # what the last backward() left: one number per weight
    print(f"conv1.weight.grad after backward: shape {list(grad.shape)}, norm {grad.norm():.4f}")


if __name__ == "__main__":
    main()
