"""神经网络-非线性激活 / ReLU and Sigmoid, 正则化层 / nn.BatchNorm2d.

Without a non-linear activation between them, stacked layers are just one big
linear function. This script shows:

  1. ReLU (negatives -> 0) and Sigmoid (squash into 0..1) on [[1, -0.5], [-1, 3]]
  2. what ReLU(inplace=True) changes: the input tensor itself is overwritten
  3. Sigmoid on CIFAR-10 test images, "input" and "output" in TensorBoard
  4. nn.BatchNorm2d(3) on one batch: in train mode each channel of the output
     has mean 0 and std 1; the running statistics it keeps for eval mode

    python 07_activation.py              # downloads CIFAR-10 into ./dataset
    python 07_activation.py --fake-data  # no download: synthetic images
    tensorboard --logdir logs/07_activation
"""

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from common import add_data_args, add_logdir_arg, cifar10_dataset, make_writer, positive_int, run_main, tensorboard_hint

INPUT = torch.tensor([[1, -0.5], [-1, 3]])


def inplace_demo(input: torch.Tensor) -> dict[str, torch.Tensor]:
    """ReLU with inplace=False and inplace=True on copies of `input`, and what each leaves behind."""
    kept = input.clone()
    new_output = nn.ReLU(inplace=False)(kept)  # a new tensor; `kept` is untouched
    overwritten = input.clone()
    same_output = nn.ReLU(inplace=True)(overwritten)  # writes into `overwritten` and returns it
    return {
        "inplace=False output": new_output,
        "inplace=False input afterwards": kept,
        "inplace=True output": same_output,
        "inplace=True input afterwards": overwritten,
    }


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std of each channel over the batch and all pixels (dims 0, 2, 3)."""
    return images.mean(dim=(0, 2, 3)), images.std(dim=(0, 2, 3), unbiased=False)


def batchnorm_demo(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """nn.BatchNorm2d on one batch in train mode, then the same batch in eval mode."""
    norm = nn.BatchNorm2d(3)  # momentum=0.1; running_mean starts at 0, running_var at 1
    with torch.no_grad():
        norm.train()  # normalise with this batch's own mean/var, and update the running ones
        train_mean, train_std = channel_stats(norm(images))
        norm.eval()  # normalise with running_mean/running_var, as when testing one image
        eval_mean, eval_std = channel_stats(norm(images))
    return {
        "batch mean": images.mean(dim=(0, 2, 3)),
        "batch var": images.var(dim=(0, 2, 3)),  # unbiased, the one running_var uses
        "train output mean": train_mean,
        "train output std": train_std,
        "running_mean": norm.running_mean.clone(),
        "running_var": norm.running_var.clone(),
        "eval output mean": eval_mean,
        "eval output std": eval_std,
    }


def rounded(values: torch.Tensor, digits: int = 3) -> list[float]:
    return [round(value, digits) + 0.0 for value in values.tolist()]  # + 0.0 turns -0.0 into 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_args(parser)
    add_logdir_arg(parser, "07_activation")
    parser.add_argument(
        "--max-steps", type=positive_int, default=5, help="batches to run and log to TensorBoard (default: 5)"
    )
    args = parser.parse_args()

    print(f"input:     {INPUT.tolist()}")
    print(f"ReLU:      {nn.ReLU()(INPUT).tolist()}")
    print(f"Sigmoid:   {[rounded(row, 4) for row in nn.Sigmoid()(INPUT)]}  (1 / (1 + e^-x))")
    print("\nReLU(inplace=...) on a copy of the input:")
    for name, tensor in inplace_demo(INPUT).items():
        print(f"  {name + ':':<32}{tensor.tolist()}")
    print("  inplace=True returns the input tensor itself, overwritten: it saves memory but the original")
    print("  values are gone. The default inplace=False leaves the input as it was.")

    dataset = cifar10_dataset(args, train=False, transform=transforms.ToTensor())
    dataloader = DataLoader(dataset, batch_size=64, num_workers=0)
    sigmoid = nn.Sigmoid()
    writer = make_writer(args.logdir)
    logged = 0
    for step, (imgs, _targets) in enumerate(dataloader):
        if step == args.max_steps:
            break
        writer.add_images("input", imgs, step)
        writer.add_images("output", sigmoid(imgs), step)  # pixels 0..1 -> 0.5..0.73: paler, greyer
        logged += 1
    writer.close()
    print(f"\nSigmoid on CIFAR-10: logged {logged} batches as 'input' and 'output'")

    first_batch, _targets = next(iter(dataloader))
    stats = batchnorm_demo(first_batch)
    print(f"\nnn.BatchNorm2d(3) on one batch {first_batch.shape}, per channel (R, G, B):")
    print(f"  batch mean:                   {rounded(stats['batch mean'])}")
    print(f"  train mode, output mean:      {rounded(stats['train output mean'])}")
    print(f"  train mode, output std:       {rounded(stats['train output std'])}")
    print(f"  running_mean after 1 batch:   {rounded(stats['running_mean'], 4)}  = 0.9 * 0 + 0.1 * batch mean")
    print(f"  running_var after 1 batch:    {rounded(stats['running_var'], 4)}  = 0.9 * 1 + 0.1 * batch var")
    print(f"  eval mode, output mean:       {rounded(stats['eval output mean'])}")
    print(f"  eval mode, output std:        {rounded(stats['eval output std'])}")
    print("  eval mode normalises with running_mean/var (after many batches: the whole dataset's),")
    print("  so a single test image gets the same result whatever else is in its batch.")
    print(tensorboard_hint(args.logdir))


if __name__ == "__main__":
    run_main(main)
