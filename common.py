"""Helpers shared by the numbered scripts: where the data comes from, which
device to use, where TensorBoard logs go, and how errors reach the learner.

The teaching content lives in the numbered scripts; this module only holds the
plumbing that would otherwise be pasted into every one of them.

Data sources (the same flags on every CIFAR-10 script):
  default            torchvision.datasets.CIFAR10(root="./dataset", download=True)
  --image-folder DIR DIR/train/<class>/*.png and DIR/test/<class>/*.png (ImageFolder)
  --fake-data        a small synthetic CIFAR-shaped set made in memory (no files, no network)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.utils.data import Dataset

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
CIFAR10_MANUAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CHECKPOINT_FORMAT = "pytorch-notes-cifar10-checkpoint/1"
FAKE_TRAIN_SIZE = 1000
FAKE_TEST_SIZE = 200


class UserError(Exception):
    """A problem the learner can fix (bad flag, missing data, ...): shown as one line."""


def error_summary(error: BaseException) -> str:
    """The first line of an exception's message, without terminal colours (or its type if it has none)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def run_main(main) -> None:
    """Run `main()` and turn learner-fixable errors into one clear line, no traceback."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        sys.exit(0)


# --------------------------------------------------------------------------- flags


def add_data_args(parser: argparse.ArgumentParser) -> None:
    """The data flags that every CIFAR-10 script shares."""
    group = parser.add_argument_group("data (pick one source)")
    group.add_argument(
        "--data-root",
        default="./dataset",
        help="folder for torchvision's CIFAR-10 download (default: ./dataset)",
    )
    group.add_argument(
        "--image-folder",
        metavar="DIR",
        help="use DIR/train/<class>/* and DIR/test/<class>/* instead of the download",
    )
    group.add_argument(
        "--fake-data",
        action="store_true",
        help="use a small synthetic CIFAR-shaped set made in memory (no files, no network)",
    )


def add_logdir_arg(parser: argparse.ArgumentParser, script_name: str) -> None:
    """`--logdir`, defaulting to logs/<script_name> so runs of different scripts never mix."""
    parser.add_argument(
        "--logdir",
        default=str(Path("logs") / script_name),
        help=f"TensorBoard log folder (default: logs/{script_name})",
    )


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


# --------------------------------------------------------------------------- device, folders


def pick_device(name: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit choice must be available."""
    cuda_ok = torch.cuda.is_available()
    mps_ok = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda_ok else "mps" if mps_ok else "cpu")
    if name == "cuda" and not cuda_ok:
        raise UserError("--device cuda was asked for, but CUDA is not available here; use --device cpu or auto")
    if name == "mps" and not mps_ok:
        raise UserError("--device mps was asked for, but MPS is not available here; use --device cpu or auto")
    return torch.device(name)


def ensure_writable_dir(path: str | Path, flag: str) -> Path:
    """Create `path` and prove it is writable, or raise a one-line UserError naming `flag`."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as error:
        reason = error.strerror or error
        raise UserError(f"cannot write to {flag} folder {path} ({reason}); pass another {flag}") from None
    return path


def check_can_create(path: str | Path, flag: str) -> None:
    """Fail early (before slow work) if `path` could not be created, without creating anything yet."""
    existing = Path(path).absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        problem = "is not a folder" if not existing.is_dir() else "is not writable"
        raise UserError(f"cannot write to {flag} folder {path} ({existing} {problem}); pass another {flag}")


def make_writer(logdir: str | Path, **kwargs):
    """A SummaryWriter for `logdir`, after checking the folder is writable."""
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(ensure_writable_dir(logdir, "--logdir")), **kwargs)


def add_graph_quietly(writer, model, example_input) -> None:
    """writer.add_graph without torch.jit.trace's deprecation warnings (it still works)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        writer.add_graph(model, example_input)


def tensorboard_hint(logdir: str | Path) -> str:
    return f"see it in TensorBoard: tensorboard --logdir {logdir}"


# --------------------------------------------------------------------------- fake data


def fake_cifar10_arrays(train: bool) -> tuple[np.ndarray, list[int]]:
    """A small deterministic CIFAR-shaped set: (N, 32, 32, 3) uint8 images and labels.

    Each class has its own colour and stripe pattern plus noise, so a model can
    learn it (the loss falls) but not instantly.
    """
    size = FAKE_TRAIN_SIZE if train else FAKE_TEST_SIZE
    generator = torch.Generator().manual_seed(0 if train else 1)
    labels = torch.arange(size) % 10
    labels = labels[torch.randperm(size, generator=generator)]
    palette = torch.rand(10, 3, 1, 1, generator=generator) * 0.6 + 0.2
    coords = torch.arange(32, dtype=torch.float32)
    images = torch.empty(size, 3, 32, 32)
    for label in range(10):
        frequency = 0.2 + 0.15 * (label % 5)
        stripes = torch.sin(coords * frequency)
        pattern = stripes.view(1, 32, 1) if label < 5 else stripes.view(1, 1, 32)
        mask = labels == label
        images[mask] = palette[label] + 0.25 * pattern.expand(3, 32, 32)
    images += 0.35 * torch.randn(images.shape, generator=generator)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    return images.permute(0, 2, 3, 1).contiguous().numpy(), labels.tolist()


class FakeCIFAR10(Dataset):
    """Behaves like torchvision.datasets.CIFAR10 (PIL images, .data, .targets, .classes)."""

    def __init__(self, train: bool = True, transform=None, target_transform=None):
        self.data, self.targets = fake_cifar10_arrays(train)
        self.classes = list(CIFAR10_CLASSES)
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        image, target = Image.fromarray(self.data[index]), self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


# --------------------------------------------------------------------------- real data


def download_help(root: str | Path) -> str:
    return (
        f"download {CIFAR10_MANUAL_URL} by hand and put it in {root}/ "
        "(it is unpacked on the next run), or use --image-folder DIR "
        "(DIR/train/<class>/*.png, DIR/test/<class>/*.png), or --fake-data to try the script without data"
    )


def torchvision_cifar10(root: str | Path, train: bool, transform=None):
    """torchvision's CIFAR10 with download=True, turning a failed download into one clear line."""
    from torchvision.datasets import CIFAR10

    try:
        return CIFAR10(root=str(root), train=train, transform=transform, download=True)
    except Exception as error:  # URLError, SSL errors, HTTP errors, a broken archive ...
        reason = getattr(error, "reason", None) or error
        raise UserError(f"could not get CIFAR-10 into {root} ({reason}); {download_help(root)}") from None


def check_image_folder(folder: str | Path, split: str) -> Path:
    """Check DIR/<split>/<class>/ exists and holds images; return DIR/<split>."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"--image-folder {folder} does not exist (expected {folder}/{split}/<class>/*.png)")
    split_dir = folder / split
    if not split_dir.is_dir():
        raise UserError(f"--image-folder {folder} has no '{split}' folder (expected {folder}/{split}/<class>/*.png)")
    class_dirs = [d for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith(".")]
    if not class_dirs:
        raise UserError(f"{split_dir} holds no class folders (expected {split_dir}/<class>/*.png)")
    if not any(image_files(d) for d in class_dirs):
        raise UserError(f"{split_dir} holds no images (looked for {', '.join(IMAGE_EXTENSIONS)})")
    return split_dir


def image_files(folder: Path) -> list[Path]:
    """The image files directly inside `folder`, sorted; other files are skipped."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
    )


def load_rgb(path: str | Path) -> Image.Image:
    """Open an image as RGB, or raise a UserError naming the file."""
    if not Path(path).is_file():
        raise UserError(f"image {path} does not exist")
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise UserError(f"cannot read image {path} ({error}); remove or replace that file") from None


def cifar10_dataset(args: argparse.Namespace, train: bool, transform=None) -> Dataset:
    """The CIFAR-10 split chosen by the data flags, as a Dataset of (image, label)."""
    if args.fake_data:
        return FakeCIFAR10(train=train, transform=transform)
    split = "train" if train else "test"
    if args.image_folder:
        from torchvision.datasets import ImageFolder

        split_dir = check_image_folder(args.image_folder, split)
        return ImageFolder(str(split_dir), transform=transform, loader=load_rgb)
    return torchvision_cifar10(args.data_root, train, transform)


# --------------------------------------------------------------------------- decoded tensors (fast path)

CACHE_VERSION = 1


def cifar10_tensors(args: argparse.Namespace, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The chosen split as one uint8 tensor (N, 3, 32, 32) and int64 labels (N,).

    Decoding happens once: torchvision's files already hold the raw array, and an
    image folder is decoded once and cached on disk (see `image_folder_tensors`).
    """
    if args.fake_data:
        data, targets = fake_cifar10_arrays(train)
    elif args.image_folder:
        return image_folder_tensors(check_image_folder(args.image_folder, "train" if train else "test"))
    else:
        dataset = torchvision_cifar10(args.data_root, train)
        data, targets = dataset.data, dataset.targets
    images = torch.from_numpy(np.ascontiguousarray(data)).permute(0, 3, 1, 2).contiguous()
    return images, torch.as_tensor(targets, dtype=torch.int64)


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pytorch-notes-cifar10"


def cache_candidates(split_dir: Path) -> list[Path]:
    """Where a split's cache may live: beside the data, then under the user's cache folder."""
    resolved = split_dir.resolve()
    tag = hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    return [resolved.parent / ".tensor-cache", user_cache_dir() / tag]


def image_folder_listing(split_dir: Path) -> tuple[list[str], list[tuple[Path, int]], str]:
    """Class names, (file, label) pairs and a key that changes when any file changes."""
    classes = sorted(d.name for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith("."))
    samples = [(path, label) for label, name in enumerate(classes) for path in image_files(split_dir / name)]
    digest = hashlib.sha1(f"v{CACHE_VERSION}".encode())
    for path, label in samples:
        stat = path.stat()
        digest.update(f"{path.relative_to(split_dir)}|{label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return classes, samples, digest.hexdigest()[:20]


def image_folder_tensors(split_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode an image folder once into tensors, reusing a valid on-disk cache."""
    classes, samples, key = image_folder_listing(split_dir)
    cache_name = f"{split_dir.name}-{key}.pt"
    for cache_dir in cache_candidates(split_dir):
        cached = read_tensor_cache(cache_dir / cache_name, key)
        if cached is not None:
            return cached
    images, labels = decode_images(samples)
    write_tensor_cache(split_dir, cache_name, key, images, labels, classes)
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
            and images.dim() == 4
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


def write_tensor_cache(split_dir, cache_name, key, images, labels, classes) -> None:
    """Save atomically beside the data, else in the user's cache folder; never fail the run."""
    blob = {
        "key": key,
        "images": images,
        "labels": labels,
        "classes": classes,
        "crc32": zlib.crc32(images.numpy().tobytes()),
    }
    for cache_dir in cache_candidates(split_dir):
        if not may_write_into(cache_dir):
            continue
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            for stale in cache_dir.glob(f"{split_dir.name}-*.pt"):
                stale.unlink()
            atomic_torch_save(blob, cache_dir / cache_name)
            return
        except OSError:
            continue
    print("note: no writable place for the decoded-image cache; the next run decodes again", file=sys.stderr)


def may_write_into(folder: Path) -> bool:
    """Whether `folder` (or, if missing, its nearest existing parent) is meant to be written to.

    Checks the write bits as well as os.access, because root may write into a
    folder marked read-only, and a read-only data folder should stay untouched.
    """
    existing = folder
    while not existing.exists():
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK) and bool(existing.stat().st_mode & 0o222)


def atomic_torch_save(obj, path: str | Path) -> None:
    """torch.save to a temp file, then os.replace: a crash never leaves a half-written file."""
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _decode_one(path: Path):
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if image.size != (32, 32):
                image = image.resize((32, 32), Image.BILINEAR)
            return np.asarray(image, dtype=np.uint8), None
    except Exception as error:
        return None, f"cannot read image {path} ({error}); remove or replace that file"


class _DecodeDataset(Dataset):
    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return _decode_one(self.paths[index])


def decode_images(samples: list[tuple[Path, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode every file (in parallel worker processes) into one uint8 (N, 3, 32, 32) tensor."""
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    paths = [path for path, _ in samples]
    images = np.empty((len(paths), 32, 32, 3), dtype=np.uint8)
    workers = min(4, os.cpu_count() or 1) if len(paths) > 2000 else 0
    loader = DataLoader(_DecodeDataset(paths), batch_size=500, num_workers=workers, collate_fn=list)
    position = 0
    desc = f"decoding {paths[0].parent.parent.name} images once" if paths else "decoding"
    show_bar = len(paths) >= 5000 and sys.stderr.isatty()
    if len(paths) >= 5000 and not show_bar:  # a log file gets one line instead of a redrawn bar
        print(f"{desc}: {len(paths)} files (cached for the next run)", file=sys.stderr, flush=True)
    with tqdm(total=len(paths), desc=desc, unit="img", leave=False, disable=not show_bar) as bar:
        for batch in loader:
            for array, problem in batch:
                if problem:
                    raise UserError(problem)
                images[position] = array
                position += 1
            bar.update(len(batch))
    labels = torch.tensor([label for _, label in samples], dtype=torch.int64)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels


# --------------------------------------------------------------------------- model input and checkpoints


def to_model_input(images: torch.Tensor, normalize: bool, channels_last: bool) -> torch.Tensor:
    """uint8 (N, 3, 32, 32) -> float in [0, 1] exactly like ToTensor, then optional Normalize."""
    x = images.float().div_(255)
    if normalize:
        mean = torch.tensor(CIFAR10_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(CIFAR10_STD, device=x.device).view(1, 3, 1, 1)
        x = (x - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def load_checkpoint(path: str | Path) -> dict:
    """torch.load with weights_only=True; anything that is not one of our checkpoints is one clear error."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise UserError(
            f"cannot read checkpoint {path}: it is truncated or not a checkpoint ({error_summary(error)})"
        ) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path} is not a checkpoint written by 10_train_cifar10.py")
    return checkpoint


def restore_model(model: nn.Module, checkpoint: dict, path) -> None:
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as error:
        raise UserError(f"checkpoint {path} does not fit this model ({error_summary(error)})") from None


def newest_checkpoint(checkpoint_dir: str | Path = "checkpoints", name: str = "best.pt") -> Path | None:
    """The most recently written CHECKPOINT_DIR/<run>/<name>, or None."""
    found = list(Path(checkpoint_dir).glob(f"*/{name}"))
    return max(found, key=lambda p: p.stat().st_mtime) if found else None
