"""Batches by index from the in-memory uint8 tensor, and augmentation of a whole epoch at once on the device
(the airbench way: no per-image Python work, no DataLoader workers)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The RNG of one epoch's shuffle and augmentation: same seed + epoch = same batches, so resume is exact."""
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def epoch_batches(images, labels, batch_size: int, generator, rank: int = 0, world_size: int = 1, workers: int = 0):
    """The notes' DataLoader over in-memory tensors, a whole batch per item.

    BatchSampler hands the DataLoader a list of indices and TensorDataset answers a list with a whole
    batch at once. Under torchrun every process draws the same shuffle and takes its slice of each batch.
    """
    sampler = BatchSampler(RandomSampler(range(len(labels)), generator=generator), batch_size, drop_last=False)
    workers = workers if images.device.type == "cpu" else 0  # worker processes cannot index GPU memory
    loader = DataLoader(TensorDataset(images, labels), sampler=sampler, batch_size=None, num_workers=workers)
    for batch_images, batch_labels in loader:
        if len(batch_labels) < world_size:  # a last batch too small to give every process an image: skipped
            continue
        yield batch_images[rank::world_size], batch_labels[rank::world_size]


def epoch_images(images: torch.Tensor, settings, generator: torch.Generator, epoch: int) -> torch.Tensor:
    """The training images of one epoch: with --augment every image cropped (by up to --augment-padding
    pixels) and mirrored anew, by random halves or, with --flip alternate, by alternating_flips; without
    it the images as they are."""
    if not settings.augment:
        return images
    flips = alternating_flips(len(images), settings.seed, epoch) if settings.flip == "alternate" else None
    return augment_images(images, generator, settings.augment_padding, flips)


def alternating_flips(n: int, seed: int, epoch: int) -> torch.Tensor:
    """--flip alternate: which of n images to mirror this epoch. A random half in the first epoch (drawn
    from the seed alone), then every image the other way round from one epoch to the next: each image is
    seen both ways in any two epochs in a row, which random flips only promise on average (airbench)."""
    first = torch.rand(n, generator=torch.Generator().manual_seed(seed)) < 0.5
    return first ^ (epoch % 2 == 1)


def augment_images(
    images: torch.Tensor, generator: torch.Generator, pad: int = 4, flips: torch.Tensor | None = None
) -> torch.Tensor:
    """Random crop (reflect-padded by `pad`) and horizontal flip of a whole uint8 batch at once.
    `flips` (n booleans) says which images to mirror; by default a random half."""
    n, size = images.shape[0], images.shape[-1]
    # Reflect padding by indexing keeps the data uint8 (4x less memory than padding floats).
    index = torch.arange(-pad, size + pad, device=images.device).abs()
    index = torch.where(index >= size, 2 * (size - 1) - index, index)
    padded = images[:, :, index][:, :, :, index]
    shifts = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator).to(images.device)
    random_flips = torch.rand(n, generator=generator) < 0.5  # drawn either way: the same crops for both modes
    flips = (random_flips if flips is None else flips).to(images.device)
    out = torch.empty_like(images)
    # One slice per possible (dy, dx): (2 pad + 1)^2 vectorised copies instead of N Python-level crops.
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            chosen = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            if chosen.any():
                out[chosen] = padded[chosen, :, dy : dy + size, dx : dx + size]
    out[flips] = out[flips].flip(-1)
    return out


def epoch_image_size(settings, epoch: int, full_size: int = 32) -> int:
    """--resize-epochs N: the side of the images that epoch `epoch` (from 0) trains on. Progressive resizing
    (fast.ai's DAWNBench entries, 2018: "Now anyone can train Imagenet in 18 minutes"): the first N epochs
    grow from --resize-from to full size in steps of an even number of pixels (16, 20, 24, 28 for N = 4), the rest are full size.
    A 24x24 step costs about half a 32x32 one; the last epochs at full size fit the network to the size it
    is tested at."""
    if epoch >= settings.resize_epochs:
        return full_size
    step = (full_size - settings.resize_from) * epoch / settings.resize_epochs
    return min(full_size, settings.resize_from + 2 * round(step / 2))


def resize_batch(images: torch.Tensor, size: int) -> torch.Tensor:
    """The batch (floats, N x C x H x W) scaled down to size x size, antialiased (as PIL's resize), or as it is."""
    if images.shape[-1] == size:
        return images
    resized = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return resized.contiguous(memory_format=torch.channels_last)
