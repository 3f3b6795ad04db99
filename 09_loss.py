"""损失函数与反向传播 / Loss functions and backward, 优化器 / Optimizer.

A loss function measures how far the outputs are from the targets; backward()
computes, for every parameter, which way (and how strongly) it pushes the loss
(the gradient, in .grad); an optimizer then nudges each parameter against its
gradient. This script shows:

  1. L1Loss, MSELoss and CrossEntropyLoss on the notes' small examples
  2. backward(): .grad is None before, filled in after
  3. the notes' training loop with optim.SGD(lr=0.01) on MyModel (nn_CIFAR10.py):
     per batch zero_grad, backward, step; the summed loss of each epoch falls

    python 09_loss.py              # downloads CIFAR-10 into ./dataset
    python 09_loss.py --fake-data  # no download: 1000 synthetic images, a few seconds
"""

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms
from tqdm import tqdm

from common import add_data_args, cifar10_dataset, non_negative_float, positive_int, run_main
from nn_CIFAR10 import MyModel


def loss_examples() -> dict[str, float]:
    """The notes' loss examples; each value is the loss as a plain number."""
    inputs = torch.tensor([1, 2, 3], dtype=torch.float32)  # losses need float, not whole numbers
    targets = torch.tensor([1, 2, 5], dtype=torch.float32)
    # CrossEntropyLoss takes raw scores (logits) of shape (batch, classes) and the right class index.
    logits = torch.tensor([[0.1, 0.2, 0.3]])
    target_class = torch.tensor([1])
    return {
        "L1Loss()": nn.L1Loss()(inputs, targets).item(),  # (0 + 0 + 2) / 3
        "L1Loss(reduction='sum')": nn.L1Loss(reduction="sum")(inputs, targets).item(),  # 0 + 0 + 2
        "MSELoss()": nn.MSELoss()(inputs, targets).item(),  # (0 + 0 + 2^2) / 3
        "CrossEntropyLoss()": nn.CrossEntropyLoss()(logits, target_class).item(),  # -0.2 + log(e^0.1 + e^0.2 + e^0.3)
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_args(parser)
    parser.add_argument("--epochs", type=positive_int, default=3, help="passes over the training set (default: 3)")
    parser.add_argument("--lr", type=non_negative_float, default=0.01, help="SGD learning rate (default: 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="random seed, so runs repeat exactly (default: 0)")
    args = parser.parse_args()
    torch.manual_seed(args.seed)  # the same starting weights every run

    for name, value in loss_examples().items():
        print(f"{name:<25} {value:.4f}")

    print("\nbackward() on one number: w = 2, loss = (3w - 1)^2")
    w = torch.tensor(2.0, requires_grad=True)  # requires_grad: track what is computed from w
    loss = (3 * w - 1) ** 2
    print(f"  w.grad before backward: {w.grad}")
    loss.backward()
    print(f"  w.grad after backward:  {w.grad.item():.4f}  (d loss / dw = 2 * (3w - 1) * 3 = 30)")

    dataset = cifar10_dataset(args, train=True, transform=transforms.ToTensor())
    # shuffle: an --image-folder lists its images class by class; the seed keeps the order repeatable.
    dataloader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=0)
    model = MyModel()
    loss_fn = nn.CrossEntropyLoss()

    print("\nbackward() on MyModel with the first training batch:")
    imgs, targets = next(iter(dataloader))
    loss = loss_fn(model(imgs), targets)
    print(f"  loss {loss.item():.4f}; conv1.weight.grad before backward: {model.conv1.weight.grad}")
    loss.backward()
    grad = model.conv1.weight.grad
    print(f"  after backward: conv1.weight.grad shape {grad.shape}, norm {grad.norm().item():.4f}")

    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    print(f"\ntraining with {optimizer.__class__.__name__}(lr={args.lr}) on {len(dataset)} images:")
    for epoch in range(args.epochs):
        running_loss = 0.0
        for imgs, targets in tqdm(dataloader, desc=f"epoch {epoch + 1}", leave=False, disable=None):
            outputs = model(imgs)
            loss = loss_fn(outputs, targets)
            optimizer.zero_grad()  # clear the gradients left from the previous batch
            loss.backward()  # compute fresh gradients
            optimizer.step()  # move every parameter a little against its gradient
            running_loss += loss.item()
        print(f"epoch {epoch + 1}: summed loss {running_loss:.4f}")


if __name__ == "__main__":
    run_main(main)
