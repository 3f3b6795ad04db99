"""Where CIFAR-10 comes from, decoded once into one uint8 tensor (N, 3, 32, 32).

default             torchvision.datasets.CIFAR10(root=--data-root, download=True): already an array
--image-folder DIR  DIR/train/<class>/*.png, DIR/test/<class>/*.png: decoded once, then cached on
                    disk beside the data (or under ~/.cache when that folder is read-only)
--fake-data         a small learnable synthetic set made in memory: no files, no network
"""

from __future__ import annotations

import hashlib
import os
import sys
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from training.checkpoints import atomic_torch_save, nearest_existing
from training.errors import UserError

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
FAKE_TRAIN_SIZE, FAKE_TEST_SIZE = 1000, 200
CACHE_VERSION = 2  # 2: 16-bit grayscale scaled to 8 bits (caches made before decode again)


def cifar10_tensors(source, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The split chosen by `source` (.fake_data, .image_folder, .data_root) as uint8 images and int64 labels."""
    if source.fake_data:
        data, targets = fake_cifar10_arrays(train)
    elif source.image_folder:
        for split in ("train", "test"):  # both splits checked before either is decoded (and cached)
            check_image_folder(source.image_folder, split)
        return image_folder_tensors(check_image_folder(source.image_folder, "train" if train else "test"))
    else:
        dataset = torchvision_cifar10(source.data_root, train)
        data, targets = dataset.data, dataset.targets
    images = torch.from_numpy(np.ascontiguousarray(data)).permute(0, 3, 1, 2).contiguous()
    return images, torch.as_tensor(targets, dtype=torch.int64)


def class_names(source) -> tuple[str, ...]:
    """The names of the labels 0, 1, 2 ...: an image folder's own class folders, else CIFAR-10's classes."""
    if source.image_folder:
        return tuple(folder_classes(check_image_folder(source.image_folder, "test")))
    return CIFAR10_CLASSES


def folder_classes(split_dir: Path) -> list[str]:
    """The class folders of DIR/<split>, sorted: their order gives the label numbers (as ImageFolder's)."""
    return sorted(d.name for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith("."))


def pil_dataset(source, train: bool, transform=None) -> Dataset:
    """The same split as the notes read it, one PIL image + label per item (the benchmarks' reference)."""
    if source.fake_data:
        return _ArrayImages(*fake_cifar10_arrays(train), transform)
    if source.image_folder:
        from torchvision.datasets import ImageFolder

        folder = str(check_image_folder(source.image_folder, "train" if train else "test"))
        return ImageFolder(folder, transform, loader=open_rgb)  # 16-bit images as the tool decodes them
    return torchvision_cifar10(source.data_root, train, transform)


class _ArrayImages(Dataset):
    def __init__(self, arrays, labels, transform):
        self.arrays, self.labels, self.transform = arrays, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = Image.fromarray(self.arrays[index])
        return (self.transform(image) if self.transform else image), self.labels[index]


def to_model_input(images: torch.Tensor, normalize: bool, channels_last: bool = False) -> torch.Tensor:
    """uint8 (N, 3, 32, 32) -> floats in [0, 1] exactly as ToTensor makes them, then optionally Normalize."""
    x = images.float().div_(255)
    if normalize:
        mean = torch.tensor(CIFAR10_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(CIFAR10_STD, device=x.device).view(1, 3, 1, 1)
        x = (x - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def fake_cifar10_arrays(train: bool) -> tuple[np.ndarray, list[int]]:
    """A small deterministic CIFAR-shaped set, (N, 32, 32, 3) uint8 and labels: each class has its own
    colour and stripes plus noise, so a model learns it (the loss falls), but not instantly. The classes'
    patterns are the same in both splits (drawn from seed 0); only the noise and the order differ."""
    size = FAKE_TRAIN_SIZE if train else FAKE_TEST_SIZE
    palette = torch.rand(10, 3, 1, 1, generator=torch.Generator().manual_seed(0)) * 0.6 + 0.2
    generator = torch.Generator().manual_seed(1 if train else 2)  # this split's own order and noise
    labels = (torch.arange(size) % 10)[torch.randperm(size, generator=generator)]
    coords = torch.arange(32, dtype=torch.float32)
    images = torch.empty(size, 3, 32, 32)
    for label in range(10):
        stripes = torch.sin(coords * (0.2 + 0.15 * (label % 5)))
        pattern = stripes.view(1, 32, 1) if label < 5 else stripes.view(1, 1, 32)
        images[labels == label] = palette[label] + 0.25 * pattern.expand(3, 32, 32)
    images += 0.35 * torch.randn(images.shape, generator=generator)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    return images.permute(0, 2, 3, 1).contiguous().numpy(), labels.tolist()


def download_help(root) -> str:
    return (
        f"offline: download {CIFAR10_URL} by hand and put it in {root}/ (unpacked on the next run), "
        "or use --image-folder DIR (DIR/train/<class>/*.png, DIR/test/<class>/*.png), or --fake-data"
    )


def torchvision_cifar10(root, train: bool, transform=None):
    """torchvision's CIFAR10 with download=True; a failed download is one clear line."""
    from torchvision.datasets import CIFAR10

    try:
        return CIFAR10(root=str(root), train=train, transform=transform, download=True)
    except Exception as error:  # URLError, SSL and HTTP errors, a broken archive ...
        reason = str(getattr(error, "reason", None) or error).splitlines()[0]
        raise UserError(f"could not get CIFAR-10 into {root} ({reason}); {download_help(root)}") from None


def check_image_folder(folder, split: str) -> Path:
    """Check that DIR/<split>/<class>/ holds images; return DIR/<split>."""
    folder, expected = Path(folder), f"expected {folder}/{split}/<class>/*.png"
    if folder.is_file():
        raise UserError(f"--image-folder {folder} is a file, not a folder ({expected})")
    if not folder.is_dir():
        raise UserError(f"--image-folder {folder} does not exist ({expected})")
    split_dir = folder / split
    if not split_dir.is_dir():
        raise UserError(f"--image-folder {folder} has no '{split}' folder ({expected})")
    class_dirs = [d for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith(".")]
    if not class_dirs:
        raise UserError(f"{split_dir} holds no class folders ({expected})")
    if not any(image_files(d) for d in class_dirs):
        raise UserError(f"{split_dir} holds no images (looked for {', '.join(IMAGE_EXTENSIONS)})")
    if len(class_dirs) > len(CIFAR10_CLASSES):
        raise UserError(f"{split_dir} has {len(class_dirs)} class folders; the models here have 10 outputs")
    other = folder / ("test" if split == "train" else "train")
    if other.is_dir():  # the label numbers come from the sorted folder names: both splits must agree
        names = {d.name for d in class_dirs}
        other_names = {d.name for d in other.iterdir() if d.is_dir() and not d.name.startswith(".")}
        if other_names != names:
            only_one = ", ".join(sorted(names ^ other_names))
            raise UserError(f"{folder}/train and {folder}/test hold different class folders ({only_one}: in one only)")
    return split_dir


def image_files(folder: Path) -> list[Path]:
    """The image files directly inside `folder`, sorted; other files (Thumbs.db, .DS_Store) are skipped."""
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and p.name[0] != "."
    )


# --------------------------------------------------------------------------- the decoded-image cache


def user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pytorch-notes-cifar10"


def cache_candidates(split_dir: Path) -> list[Path]:
    """Where a split's cache may live: beside the data, then under the user's cache folder."""
    resolved = split_dir.resolve()
    return [resolved.parent / ".tensor-cache", user_cache_dir() / hashlib.sha1(str(resolved).encode()).hexdigest()[:12]]


def image_folder_tensors(split_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode an image folder once into tensors, reusing a valid cache (the key changes when any file does)."""
    classes = folder_classes(split_dir)
    samples = [(path, label) for label, name in enumerate(classes) for path in image_files(split_dir / name)]
    digest = hashlib.sha1(f"v{CACHE_VERSION}".encode())
    for path, label in samples:
        stat = path.stat()
        digest.update(f"{path.relative_to(split_dir)}|{label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    key = digest.hexdigest()[:20]
    cache_name = f"{split_dir.name}-{key}.pt"
    for cache_dir in cache_candidates(split_dir):
        cached = read_tensor_cache(cache_dir / cache_name, key)
        if cached is not None:
            return cached
    images, labels = decode_images(samples)
    write_tensor_cache(split_dir, cache_name, key, images, labels)
    return images, labels


def read_tensor_cache(path: Path, key: str):
    if not path.is_file():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        images, labels = blob["images"], blob["labels"]
        valid = (
            blob["key"] == key
            and images.dtype == torch.uint8
            and images.shape[1:] == (3, 32, 32)
            and labels.shape == (images.shape[0],)
            and blob["crc32"] == zlib.crc32(images.numpy().tobytes())
        )
    except Exception:
        valid = False
    if not valid:
        print(f"note: the cache {path} is damaged; decoding the images again", file=sys.stderr)
        return None
    return images, labels


def write_tensor_cache(split_dir: Path, cache_name: str, key: str, images, labels) -> None:
    """Save beside the data, else in the user's cache folder, and say where; never fail the run."""
    blob = {"key": key, "images": images, "labels": labels, "crc32": zlib.crc32(images.numpy().tobytes())}
    for cache_dir in cache_candidates(split_dir):
        if not may_write_into(cache_dir):
            continue
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            for stale in cache_dir.glob(f"{split_dir.name}-*.pt"):
                stale.unlink()
            atomic_torch_save(blob, cache_dir / cache_name)
        except OSError:
            continue
        megabytes = (cache_dir / cache_name).stat().st_size / 2**20
        print(
            f"note: decoded {len(labels)} {split_dir.name} images once and cached them in {cache_dir} "
            f"({megabytes:.0f} MB; delete that folder to free the space, the next run decodes again)",
            file=sys.stderr,
        )
        return
    print("note: no writable place for the decoded-image cache; the next run decodes again", file=sys.stderr)


def may_write_into(folder: Path) -> bool:
    """Whether `folder` (or its nearest existing parent) is meant to be written to: the write bits count
    too, because root may write into a folder marked read-only, and a read-only data folder stays untouched."""
    existing = nearest_existing(folder)
    return existing.is_dir() and os.access(existing, os.W_OK) and bool(existing.stat().st_mode & 0o222)


def to_rgb(image: Image.Image) -> Image.Image:
    """image.convert("RGB"), except that 16-bit grayscale (mode I;16, or I) is scaled to 8 bits first:
    convert() clips its 0-65535 values at 255, so nearly every pixel would turn white."""
    if image.mode.startswith("I"):
        grey = (np.asarray(image, dtype=np.float64) / 257).round().clip(0, 255).astype(np.uint8)
        image = Image.fromarray(grey)
    return image.convert("RGB")


def open_rgb(path) -> Image.Image:
    with Image.open(path) as image:
        return to_rgb(image)


class _DecodeFiles(Dataset):
    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        path = self.paths[index]
        try:
            with Image.open(path) as image:
                image = to_rgb(image)
                if image.size != (32, 32):
                    image = image.resize((32, 32), Image.BILINEAR)
                return np.asarray(image, dtype=np.uint8), None
        except Exception as error:
            return None, f"cannot read image {path} ({error}); remove or replace that file"


def decode_images(samples: list[tuple[Path, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode every file (in worker processes when there are many) into one uint8 (N, 3, 32, 32) tensor."""
    from training.report import ProgressLine

    paths = [path for path, _ in samples]
    images = np.empty((len(paths), 32, 32, 3), dtype=np.uint8)
    workers = min(4, os.cpu_count() or 1) if len(paths) > 2000 else 0
    loader = DataLoader(_DecodeFiles(paths), batch_size=500, num_workers=workers, collate_fn=list)
    name = paths[0].parent.parent.name if paths else ""
    with ProgressLine(len(loader), f"decoding {len(paths)} {name} images once", quiet=len(paths) < 5000) as bar:
        position = 0
        for batch in loader:
            for array, problem in batch:
                if problem:
                    raise UserError(problem)
                images[position] = array
                position += 1
            bar.update()
    labels = torch.tensor([label for _, label in samples], dtype=torch.int64)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels
