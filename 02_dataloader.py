"""DataLoader 的使用 / DataLoader.

A Dataset hands out one sample at a time; a DataLoader groups samples into batches,
shuffles them each epoch and can load them in worker processes. Here the CIFAR-10 test
set (10000 images) goes through one: a sample is a [3, 32, 32] image and an int target,
a batch is [64, 3, 32, 32] images and [64] targets. With drop_last=True the last, smaller
batch is left out. Each epoch's batches go to TensorBoard ("Epoch: 0", "Epoch: 1"):
shuffle=True gives different batches in each epoch.

    python 02_dataloader.py --fake-data     # no download: random images made in memory
    python 02_dataloader.py                 # downloads CIFAR-10 into ./dataset
    tensorboard --logdir logs/02_dataloader
"""

import argparse
import os

import torchvision
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def positive_int(text):
    """argparse type: a whole number >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text):
    """argparse type: a whole number >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-root", default="./dataset", help="folder for the CIFAR-10 download (default: %(default)s)"
    )
    parser.add_argument("--image-folder", metavar="DIR", help="read DIR/test/<class>/*.png instead of CIFAR-10")
    parser.add_argument("--fake-data", action="store_true", help="random CIFAR-shaped images: no files, no network")
    parser.add_argument("--logdir", default="logs/02_dataloader", help="TensorBoard log folder (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per batch (default: 64)")
    parser.add_argument("--workers", type=non_negative_int, default=0, help="loader processes (default: 0, this one)")
    parser.add_argument("--epochs", type=positive_int, default=2, help="passes over the test set (default: 2)")
    parser.add_argument(
        "--drop-last", action=argparse.BooleanOptionalAction, default=True, help="drop a short last batch (default: on)"
    )
    parser.add_argument(
        "--max-steps", type=non_negative_int, default=10, help="batches per epoch written to TensorBoard (default: 10)"
    )
    args = parser.parse_args()

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
            "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz in "
            f"{args.data_root}/, or use --image-folder DIR or --fake-data\n",
        )

    # The notes: DataLoader(dataset=test_data, batch_size=64, shuffle=True, num_workers=0, drop_last=True)
    test_loader = DataLoader(
        dataset=test_data, batch_size=args.batch_size, shuffle=True, num_workers=args.workers, drop_last=args.drop_last
    )
    if len(test_loader) == 0:
        parser.exit(
            2,
            f"error: --batch-size {args.batch_size} is more than the {len(test_data)} images, and drop_last leaves "
            "out that one short batch: use a smaller --batch-size or --no-drop-last\n",
        )

    try:
        writer = SummaryWriter(args.logdir)  # the notes: SummaryWriter("dataloader")
    except OSError as error:  # --logdir names a file, or a folder you may not write to
        parser.exit(2, f"error: cannot write TensorBoard logs to --logdir {args.logdir} ({error.strerror or error})\n")
    classes = getattr(test_data, "classes", CLASSES)  # FakeData has no .classes
    every = max(1, len(test_loader) // 10)  # a progress line about every 10% of an epoch
    try:
        img, target = test_data[0]
        print(f"test_data[0]: img.shape {img.shape}, target {target} ({classes[target]})")
        print(f"{len(test_data)} images, drop_last {args.drop_last}: len(test_loader) = {len(test_loader)} batches")
        for epoch in range(args.epochs):
            step = 0
            for data in test_loader:
                imgs, targets = data
                if step < args.max_steps:  # the notes log every batch; --max-steps keeps the log small
                    writer.add_images("Epoch: {}".format(epoch), imgs, step)  # noqa: UP032 (the notes' call)
                step = step + 1
                if step % every == 0:
                    shapes = f"imgs {list(imgs.shape)}, targets {list(targets.shape)}"
                    print(f"epoch {epoch}: batch {step}/{len(test_loader)}: {shapes}")
            print(f"epoch {epoch}: {min(step, args.max_steps)} batches written to TensorBoard as 'Epoch: {epoch}'")
    except OSError as error:  # a broken file in --image-folder (PIL: cannot identify image file ...)
        reason = str(error).partition("\n")[0]
        parser.exit(2, f"error: cannot read image ({reason}); remove or replace that file\n")
    writer.close()
    print(f"see them in TensorBoard (IMAGES tab): tensorboard --logdir {args.logdir}")


if __name__ == "__main__":
    main()
