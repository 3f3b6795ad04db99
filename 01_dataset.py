"""Dataset 类代码实战 / A custom Dataset.

A Dataset says two things: how many samples there are (__len__) and how to get sample
number idx (__getitem__). Here each sample is an image file and its label is the name of
the folder it sits in, as in the notes' ants/bees data:

    data/train/ants_image/0013035.jpg   -> (image, "ants_image")
    data/train/bees_image/16838648.jpg  -> (image, "bees_image")

One MyDataset per label folder; adding them (ants_dataset + bees_dataset) gives a ConcatDataset
as long as both together. Non-images (.DS_Store, *.txt) are skipped; every image comes back RGB.

    python 01_dataset.py                # reads data/train/<label>/*.jpg
    python 01_dataset.py --root DIR     # reads DIR/<label>/*.jpg
    python 01_dataset.py --demo         # first writes a tiny example set to data/demo, then reads it
"""

import argparse
import os

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class MyDataset(Dataset):  # the notes call it MyData
    def __init__(self, root_dir, label_dir):
        self.root_dir = root_dir
        self.label_dir = label_dir
        self.path = os.path.join(self.root_dir, self.label_dir)
        # The notes keep every name os.listdir gives; here only image files, sorted, because Image.open fails on
        # .DS_Store or Thumbs.db (and macOS's ._x.jpg), and os.listdir's order differs between machines.
        names = os.listdir(self.path)
        self.img_path = sorted(n for n in names if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith("."))

    def __getitem__(self, idx):
        img_name = self.img_path[idx]
        img_item_path = os.path.join(self.root_dir, self.label_dir, img_name)
        img = Image.open(img_item_path).convert("RGB")  # the notes keep the file's mode; RGB makes all alike
        label = self.label_dir
        return img, label

    def __len__(self):
        return len(self.img_path)


def write_demo(root_dir, parser):
    """A tiny two-label set drawn with numpy, plus two files that are not images (MyDataset skips them)."""
    y, x = np.mgrid[0:48, 0:64]
    gradient = np.stack([x * 4, y * 5, np.full_like(x, 120)], axis=-1).astype(np.uint8)
    stripes = ((x // 8) % 2 * 200 + 30).astype(np.uint8)
    files = {
        "ants_image/ant_1.jpg": Image.fromarray(gradient),
        "ants_image/ant_2.jpg": Image.fromarray(255 - gradient),
        "ants_image/ant_3.png": Image.fromarray(gradient).convert("RGBA"),  # has an alpha channel
        "ants_image/.DS_Store": b"\x00\x00\x00\x01Bud1",  # macOS Finder leaves these around
        "bees_image/bee_1.png": Image.fromarray(stripes),  # grayscale (mode L)
        "bees_image/bee_2.jpg": Image.fromarray(np.stack([stripes, stripes, gradient[..., 2]], axis=-1)),
        "bees_image/notes.txt": b"not an image: MyDataset skips this file\n",
    }
    existing = {os.path.relpath(os.path.join(d, f), root_dir) for d, _, names in os.walk(root_dir) for f in names}
    if existing - {os.path.normpath(name) for name in files}:  # never mix drawn pictures into someone's real data
        parser.exit(2, f"error: --demo would write into {root_dir}, which holds other files; pass an empty --root\n")
    for name, content in files.items():
        os.makedirs(os.path.join(root_dir, os.path.dirname(name)), exist_ok=True)
        if isinstance(content, bytes):
            with open(os.path.join(root_dir, name), "wb") as file:
                file.write(content)
        else:
            content.save(os.path.join(root_dir, name))
    print(f"wrote a demo set of {len(files)} files to {root_dir}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", metavar="DIR", help="folder with one sub-folder per label (default: data/train)")
    parser.add_argument("--demo", action="store_true", help="first write a tiny set into data/demo (or --root DIR)")
    args = parser.parse_args()

    root_dir = args.root or ("data/demo" if args.demo else "data/train")
    if os.path.exists(root_dir) and not os.path.isdir(root_dir):
        parser.exit(2, f"error: {root_dir} is a file, not a folder; give the folder that holds <label>/*.jpg\n")
    if args.demo:
        try:
            write_demo(root_dir, parser)
        except OSError as error:  # --root is a file, or not writable
            parser.exit(2, f"error: cannot write the demo set into {root_dir} ({error.strerror or error})\n")
    if not os.path.isdir(root_dir):
        where = f"--root {root_dir} does not exist" if args.root else f"no folder {root_dir}"
        hint = "" if args.root else ", pass --root DIR, or run with --demo for a tiny example set"
        parser.exit(2, f"error: {where} (put images in {root_dir}/<label>/*.jpg){hint}\n")
    label_dirs = sorted(d for d in os.listdir(root_dir) if os.path.isdir(os.path.join(root_dir, d)) and d[0] != ".")
    if not label_dirs:
        parser.exit(2, f"error: {root_dir} has no label folders (expected {root_dir}/<label>/*.jpg)\n")

    # The notes: ants_dataset = MyData(root_dir, "ants_image"); bees_dataset = MyData(root_dir, "bees_image")
    label_datasets = [MyDataset(root_dir, label_dir) for label_dir in label_dirs]
    for dataset in label_datasets:
        skipped = sorted(set(os.listdir(dataset.path)) - set(dataset.img_path))
        note = f" (skipped, not images: {', '.join(skipped)})" if skipped else ""
        print(f"{dataset.label_dir}: {len(dataset)} images{note}")
    # The notes: train_dataset = ants_dataset + bees_dataset (Dataset + Dataset gives a ConcatDataset)
    train_dataset = label_datasets[0]
    for dataset in label_datasets[1:]:
        train_dataset = train_dataset + dataset
    print(f"{' + '.join(label_dirs)}: {len(train_dataset)} images ({type(train_dataset).__name__})")
    if len(train_dataset) == 0:
        parser.exit(2, f"error: the label folders in {root_dir} hold no images (looked for .jpg, .png, ...)\n")

    # Reading every image once finds a broken file now rather than in the middle of training.
    samples = [(dataset, idx) for dataset in label_datasets for idx in range(len(dataset))]
    modes, every = set(), max(100, len(samples) // 10)
    for done, (dataset, idx) in enumerate(samples, start=1):
        try:
            img, label = dataset[idx]
        except OSError as error:  # not really a picture, or a truncated one
            path = os.path.join(dataset.path, dataset.img_path[idx])
            parser.exit(2, f"error: cannot read image {path} ({error}); remove or replace that file\n")
        modes.add(img.mode)
        if done % every == 0:
            print(f"  read {done}/{len(samples)} images")
    print(f"read all {len(train_dataset)} images, modes: {', '.join(sorted(modes))}")

    for idx in (0, len(train_dataset) - 1):
        img, label = train_dataset[idx]
        print(f"train_dataset[{idx}]: size {img.size}, mode {img.mode}, label {label}")


if __name__ == "__main__":
    main()
