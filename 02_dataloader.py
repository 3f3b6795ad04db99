"""DataLoader 的使用 / DataLoader.

A Dataset hands out one sample at a time; a DataLoader groups samples into
batches, shuffles them each epoch and can load them in worker processes:

    DataLoader(test_data, batch_size=64, shuffle=True, num_workers=0, drop_last=True)

Here the CIFAR-10 test set (10000 images) goes through it. One sample is a
[3, 32, 32] image and an int target; one batch is [64, 3, 32, 32] images and
[64] targets. With drop_last=True the last, smaller batch is left out. Each
epoch's batches go to TensorBoard (add_images, tag "Epoch: 0", "Epoch: 1"):
shuffle=True gives different batches in each epoch.

    python 02_dataloader.py --fake-data     # no download needed
    python 02_dataloader.py                 # downloads CIFAR-10 into ./dataset
    tensorboard --logdir logs/02_dataloader
"""

import argparse

import torchvision
from torch.utils.data import DataLoader

from common import (
    UserError,
    add_data_args,
    add_logdir_arg,
    cifar10_dataset,
    make_writer,
    non_negative_int,
    positive_int,
    run_main,
    tensorboard_hint,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_args(parser)
    add_logdir_arg(parser, "02_dataloader")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per batch (default: 64)")
    parser.add_argument(
        "--workers", type=non_negative_int, default=0, help="loader worker processes (default: 0, load in this one)"
    )
    parser.add_argument("--epochs", type=positive_int, default=2, help="passes over the test set (default: 2)")
    parser.add_argument(
        "--drop-last",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="leave out the last batch when it is smaller than --batch-size (default: on)",
    )
    parser.add_argument(
        "--max-steps",
        type=non_negative_int,
        default=10,
        help="batches per epoch written to TensorBoard, to keep the log small (default: 10)",
    )
    args = parser.parse_args()

    test_data = cifar10_dataset(args, train=False, transform=torchvision.transforms.ToTensor())
    test_loader = DataLoader(
        test_data, batch_size=args.batch_size, shuffle=True, num_workers=args.workers, drop_last=args.drop_last
    )

    if len(test_loader) == 0:
        raise UserError(
            f"--batch-size {args.batch_size} is more than the {len(test_data)} images, and drop_last leaves out "
            "that one short batch: use a smaller --batch-size or --no-drop-last"
        )

    img, target = test_data[0]
    print(f"test_data[0]: img.shape {img.shape}, target {target} ({test_data.classes[target]})")
    print(
        f"{len(test_data)} images, batch_size {args.batch_size}, drop_last {args.drop_last}: "
        f"len(test_loader) = {len(test_loader)} batches"
    )

    writer = make_writer(args.logdir)
    for epoch in range(args.epochs):
        step = 0
        for imgs, targets in test_loader:
            if epoch == 0 and step == 0:
                print(f"one batch: imgs.shape {imgs.shape}, targets.shape {targets.shape}")
            if step < args.max_steps:
                writer.add_images(f"Epoch: {epoch}", imgs, step)
            step += 1
        print(
            f"epoch {epoch}: {step} batches, the last one {tuple(imgs.shape)}; "
            f"{min(step, args.max_steps)} written to TensorBoard as 'Epoch: {epoch}'"
        )
    writer.close()
    print(tensorboard_hint(args.logdir), "(IMAGES tab)")


if __name__ == "__main__":
    run_main(main)
