"""Dataset 类代码实战 / A custom Dataset.

A Dataset says two things: how many samples there are (__len__) and how to
get sample number idx (__getitem__). Here each sample is an image file and its
label is the name of the folder it sits in, as in the notes' ants/bees data:

    data/train/ants_image/0013035.jpg   -> (image, "ants_image")
    data/train/bees_image/16838648.jpg  -> (image, "bees_image")

One MyData per label folder; adding them (ants_dataset + bees_dataset) gives a
ConcatDataset as long as both together. Files that are not images (.DS_Store,
Thumbs.db, *.txt) are skipped, and every image comes back as RGB.

    python 01_dataset.py                    # reads data/train/<label>/*.jpg
    python 01_dataset.py --root DIR         # reads DIR/<label>/*.jpg
    python 01_dataset.py --demo             # writes a tiny example set to data/demo and reads it
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from common import UserError, image_files, load_rgb, run_main

DEFAULT_ROOT = "data/train"
DEMO_ROOT = "data/demo"


class MyData(Dataset):
    """The images in root_dir/label_dir, each labelled with label_dir."""

    def __init__(self, root_dir, label_dir):
        self.root_dir = root_dir
        self.label_dir = label_dir
        self.path = Path(root_dir) / label_dir
        self.img_paths = image_files(self.path)  # sorted, non-image files left out

    def __getitem__(self, idx):
        img = load_rgb(self.img_paths[idx])  # RGB even for RGBA/grayscale files
        label = self.label_dir
        return img, label

    def __len__(self):
        return len(self.img_paths)


def demo_files() -> dict:
    """A tiny two-class set: generated pictures plus two files that are not images."""
    y, x = np.mgrid[0:48, 0:64]
    gradient = np.stack([x * 4, y * 5, np.full_like(x, 120)], axis=-1).astype(np.uint8)
    stripes = ((x // 8) % 2 * 200 + 30).astype(np.uint8)
    return {
        "ants_image/ant_1.jpg": Image.fromarray(gradient),
        "ants_image/ant_2.jpg": Image.fromarray(255 - gradient),
        "ants_image/ant_3.png": Image.fromarray(gradient).convert("RGBA"),  # has an alpha channel
        "ants_image/.DS_Store": b"\x00\x00\x00\x01Bud1",  # macOS Finder leaves these around
        "bees_image/bee_1.png": Image.fromarray(stripes, mode="L"),  # grayscale
        "bees_image/bee_2.jpg": Image.fromarray(np.stack([stripes, stripes, gradient[..., 2]], axis=-1)),
        "bees_image/notes.txt": b"not an image: the Dataset skips this file\n",
    }


def write_demo(root: Path) -> None:
    files = demo_files()
    existing = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()
    if existing - set(files):  # never mix generated pictures into someone's real data
        raise UserError(f"--demo would write into {root}, which already holds other files; pass an empty --root")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content.save(path)
    print(f"wrote a demo set of {len(files)} files to {root}")


def label_folders(root: Path, root_given: bool) -> list[str]:
    """The sub-folders of root, each one label; a clear error when there is nothing to read."""
    if not root.is_dir():
        if root_given:
            raise UserError(f"--root {root} does not exist (expected {root}/<label>/*.jpg)")
        raise UserError(
            f"no images at {root}: put them in {root}/<label>/*.jpg "
            f"(e.g. {root}/ants_image/0013035.jpg), pass --root DIR, or run with --demo for a tiny example set"
        )
    labels = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not labels:
        raise UserError(f"{root} has no label folders (expected {root}/<label>/*.jpg, e.g. {root}/ants_image/)")
    return labels


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--root",
        metavar="DIR",
        help=f"folder holding one sub-folder per label (default: {DEFAULT_ROOT}, or {DEMO_ROOT} with --demo)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=f"first write a tiny generated set (ants_image/, bees_image/) into {DEMO_ROOT} (or --root DIR), then read it",
    )
    args = parser.parse_args()

    root = Path(args.root or (DEMO_ROOT if args.demo else DEFAULT_ROOT))
    if args.demo:
        write_demo(root)

    label_datasets = []
    for label_dir in label_folders(root, root_given=args.root is not None):
        dataset = MyData(root, label_dir)
        kept = set(dataset.img_paths)
        skipped = sorted(p.name for p in dataset.path.iterdir() if p.is_file() and p not in kept)
        note = f" (skipped, not images: {', '.join(skipped)})" if skipped else ""
        print(f"{label_dir}: {len(dataset)} images{note}")
        label_datasets.append(dataset)

    # ants_dataset + bees_dataset: Dataset.__add__ returns a ConcatDataset
    train_dataset = label_datasets[0]
    for dataset in label_datasets[1:]:
        train_dataset = train_dataset + dataset
    added = " + ".join(dataset.label_dir for dataset in label_datasets)
    print(f"{added}: {len(train_dataset)} images ({type(train_dataset).__name__})")
    if len(train_dataset) == 0:
        raise UserError(f"the label folders in {root} hold no images (looked for .jpg, .png, ...)")

    img, label = train_dataset[0]
    print(f"train_dataset[0]: size {img.size}, mode {img.mode}, label {label}")
    img, label = train_dataset[len(train_dataset) - 1]
    print(f"train_dataset[{len(train_dataset) - 1}]: size {img.size}, mode {img.mode}, label {label}")

    # Reading every sample once finds a broken file now rather than in the middle of training.
    modes = {train_dataset[idx][0].mode for idx in range(len(train_dataset))}
    print(f"read all {len(train_dataset)} images, modes: {', '.join(sorted(modes))}")


if __name__ == "__main__":
    run_main(main)
