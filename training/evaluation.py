"""The test pass: mean loss, accuracy and per-class accuracy, in large batches, without gradients."""

from __future__ import annotations

import torch
from torch import nn

from training.data import to_model_input
from training.device import CHANNELS_LAST, autocast
from training.distributed import all_reduce_sum


@torch.inference_mode()
def evaluate(model, images, labels, settings, device, tta: bool = False, rank: int = 0, world: int = 1):
    """(test loss, accuracy, per-class accuracy list). Under torchrun each process tests its share and
    the sums are added up. tta (test-time augmentation): average each image's logits with its mirror image's."""
    model.eval()
    images, labels = images[rank::world], labels[rank::world]
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    totals = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, count
    per_class = torch.zeros(2, 10, device=device, dtype=torch.float64)  # correct, count
    for start in range(0, len(labels), 1000):
        x = to_model_input(images[start : start + 1000], settings.normalize, CHANNELS_LAST)
        y = labels[start : start + 1000]
        with autocast(settings.amp, device):
            logits = model(x).float()
            if tta:
                logits = (logits + model(x.flip(-1)).float()) / 2
        hits = (logits.argmax(1) == y).double()
        totals += torch.stack([loss_fn(logits, y).double(), hits.sum(), torch.tensor(len(y), device=device)])
        per_class[0].index_add_(0, y, hits)
        per_class[1].index_add_(0, y, torch.ones_like(hits))
    all_reduce_sum(totals)
    all_reduce_sum(per_class)
    loss_sum, correct, count = totals.tolist()
    return loss_sum / count, correct / count, (per_class[0] / per_class[1].clamp(min=1)).tolist()


@torch.inference_mode()
def predict(model, images, normalize: bool) -> torch.Tensor:
    model.eval()
    return model(to_model_input(images, normalize, CHANNELS_LAST)).argmax(1)
