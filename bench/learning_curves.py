"""Same learning: the notes' loop and the project's fast path, epoch by epoch, from the same start.

Both paths start from the same MyModel weights and see the same batches in the
same order (the fast path's shuffle, given to the notes' DataLoader as its
sampler); only how the batches are made and computed differs. Per epoch it
prints and writes to CSV: test accuracy and seconds for each path; at the end, the process's peak memory.

    python bench/learning_curves.py --image-folder ../shared/data/cifar10 --epochs 5 --csv bench/learning_curves.csv
"""

from __future__ import annotations

import argparse
import copy
import csv
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.train_speed import peak_memory_mb  # noqa: E402
from nn_CIFAR10 import MyModel  # noqa: E402
from training.augment import epoch_batches, epoch_generator  # noqa: E402
from training.data import cifar10_tensors, pil_dataset, to_model_input  # noqa: E402
from training.errors import run_main  # noqa: E402
from training.optimizer import make_optimizer  # noqa: E402
from training.settings import Settings, add_data_flags, layer_settings, positive_int  # noqa: E402


@torch.inference_mode()
def test_accuracy(model, images, labels, channels_last) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(labels), 1000):
        x = to_model_input(images[start : start + 1000], False, channels_last)
        correct += (model(x).argmax(1) == labels[start : start + 1000]).sum().item()
    model.train()
    return correct / len(labels)


def main():
    # Data flags not given stay out of `args` (SUPPRESS): layer_settings puts the notes' values there.
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, argument_default=argparse.SUPPRESS
    )
    add_data_flags(parser)
    parser.add_argument("--epochs", type=positive_int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", default=None, help="write the per-epoch numbers here")
    args = parser.parse_args()
    source = layer_settings(vars(args))  # the data source, as 10_train_cifar10.py layers it

    torch.manual_seed(args.seed)
    reference_model = MyModel()
    project_model = copy.deepcopy(reference_model).to(memory_format=torch.channels_last)
    loss_fn = nn.CrossEntropyLoss()
    reference_optimizer = torch.optim.SGD(reference_model.parameters(), lr=0.01)
    project_optimizer = make_optimizer(project_model, Settings())  # 10_train_cifar10.py's SGD: the notes' lr 0.01

    reference_set = pil_dataset(source, train=True, transform=transforms.ToTensor())
    train_images, train_labels = cifar10_tensors(source, train=True)
    test_images, test_labels = cifar10_tensors(source, train=False)

    rows = []
    for epoch in range(args.epochs):
        # The notes' loop, fed the fast path's order of images for this epoch.
        generator = epoch_generator(args.seed, epoch)
        order = list(torch.utils.data.RandomSampler(range(len(train_labels)), generator=generator))
        started = time.perf_counter()
        for images, labels in DataLoader(reference_set, batch_size=64, sampler=order, num_workers=0):
            loss = loss_fn(reference_model(images), labels)
            reference_optimizer.zero_grad()
            loss.backward()
            reference_optimizer.step()
        reference_seconds = time.perf_counter() - started

        started = time.perf_counter()
        generator = epoch_generator(args.seed, epoch)
        for images, labels in epoch_batches(train_images, train_labels, 64, generator):
            x = to_model_input(images, False, True)
            loss = loss_fn(project_model(x), labels)  # 10_train_cifar10.py's step
            project_optimizer.zero_grad()
            loss.backward()
            project_optimizer.step()
        project_seconds = time.perf_counter() - started

        row = {
            "epoch": epoch + 1,
            "notes_test_accuracy": test_accuracy(reference_model, test_images, test_labels, False),
            "project_test_accuracy": test_accuracy(project_model, test_images, test_labels, True),
            "notes_seconds": round(reference_seconds, 1),
            "project_seconds": round(project_seconds, 1),
        }
        rows.append(row)
        print(
            f"epoch {row['epoch']}: notes' loop {100 * row['notes_test_accuracy']:.2f}% ({reference_seconds:.0f}s)  "
            f"project {100 * row['project_test_accuracy']:.2f}% ({project_seconds:.0f}s)  "
            f"difference {100 * (row['project_test_accuracy'] - row['notes_test_accuracy']):+.2f} points",
            flush=True,
        )
        if args.csv:
            with open(args.csv, "w", newline="") as file:
                writer = csv.DictWriter(file, fieldnames=list(row))
                writer.writeheader()
                writer.writerows(rows)
    print(f"peak memory: {peak_memory_mb(torch.device('cpu'))} (both paths, one process)")


if __name__ == "__main__":
    run_main(main)
