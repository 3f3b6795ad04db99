"""The test pass: mean loss, accuracy and per-class accuracy, in large batches, without gradients;
and --evaluate CHECKPOINT, the same pass on a saved run."""

from __future__ import annotations

import os

import torch
from torch import nn
from torch.nn import functional as F

from training import report
from training.checkpoints import restore_model
from training.data import cifar10_tensors, class_names, to_model_input
from training.device import autocast, pick_device
from training.distributed import all_reduce_sum
from training.errors import UserError
from training.models import MODELS
from training.report import per_class_table, plural, tta_views


@torch.inference_mode()
def tta_logits(model, x: torch.Tensor, crops: bool = False) -> torch.Tensor:
    """Test-time augmentation: the logits averaged over views of each image. 2 views: the image and its
    mirror image. crops (--tta-crops), 6 views: also the image shifted by one pixel up-left and down-right
    (reflect-padded), each with its mirror; weighted as airbench does, 1/2 on the unshifted pair and
    1/4 on each shifted pair."""

    def with_mirror(views):
        return (model(views).float() + model(views.flip(-1)).float()) / 2

    logits = with_mirror(x)
    if not crops:
        return logits
    size = x.shape[-1]
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    up_left, down_right = padded[..., :size, :size], padded[..., 2:, 2:]
    return logits / 2 + (with_mirror(up_left) + with_mirror(down_right)) / 4


@torch.inference_mode()  # no autograd graph: without it every test batch's graph stays alive in `totals`
def evaluate(
    model, images, labels, settings, *, device, tta: bool = False, rank: int = 0, world: int = 1, num_classes: int = 10
):
    """(test loss, accuracy, per-class accuracy list: None for a class without test images). The guess is
    the best of the first num_classes outputs: an image folder with fewer classes leaves the rest unused. Under
    torchrun each process tests its share and the sums are added up. tta (test-time augmentation): average
    each image's logits over the views of tta_logits (the mirror image, and with --tta-crops one-pixel
    shifts too)."""
    model.eval()
    images, labels = images[rank::world], labels[rank::world]
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    totals = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, count
    per_class = torch.zeros(2, 10, device=device, dtype=torch.float64)  # correct, count
    for start in range(0, len(labels), 1000):
        x = to_model_input(images[start : start + 1000], settings.normalize, channels_last=True)
        y = labels[start : start + 1000]
        with autocast(settings.amp, device):
            logits = tta_logits(model, x, settings.tta_crops) if tta else model(x).float()
        hits = (logits[:, :num_classes].argmax(1) == y).double()
        totals += torch.stack([loss_fn(logits, y).double(), hits.sum(), torch.tensor(len(y), device=device)])
        per_class[0].index_add_(0, y, hits)
        per_class[1].index_add_(0, y, torch.ones_like(hits))
    all_reduce_sum(totals)
    all_reduce_sum(per_class)
    loss_sum, correct, count = totals.tolist()
    class_accuracy = [hits / n if n else None for hits, n in zip(*per_class.tolist())]
    return loss_sum / count, correct / count, class_accuracy


@torch.inference_mode()
def predictions_image(model, images, labels, settings, classes) -> torch.Tensor:
    """TensorBoard's test/predictions: 16 test images spread over the split (so every class shows), each
    with the model's guess and the true class (report.labelled_predictions)."""
    model.eval()
    shown = torch.linspace(0, len(labels) - 1, 16, device=labels.device).long()
    logits = model(to_model_input(images[shown], settings.normalize, channels_last=True))
    predicted = logits[:, : len(classes)].argmax(1)  # only the run's classes (an image folder may have fewer)
    return report.labelled_predictions(images[shown], labels[shown], predicted, classes)


def evaluate_checkpoint(settings, checkpoint: dict) -> None:
    """--evaluate PATH: the test pass on a saved run's weights (the --ema average where the run kept one, as
    it tested), on the run's own data unless data flags were given; prints the loss, the accuracy and the
    per-class table, and writes nothing."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UserError("--evaluate runs in one process; start it with python, not torchrun")
    path, device = settings.evaluate, pick_device(settings.device)
    model = MODELS[checkpoint["model_name"]]().to(device, memory_format=torch.channels_last)
    weights = restore_model(model, checkpoint, path, averaged=True)
    images, labels = (t.to(device) for t in cifar10_tensors(settings, train=False))
    classes = class_names(settings)
    progress = checkpoint["progress"]
    source = (
        f"--image-folder {settings.image_folder}"
        if settings.image_folder
        else ("--fake-data" if settings.fake_data else f"CIFAR-10 in {settings.data_root}")
    )
    print(
        f"checkpoint {path}: {checkpoint['model_name']} after {plural(progress['epochs_done'], 'epoch')} of run "
        f"{checkpoint['settings'].get('run_name')}; weights: {weights}\ndata: {len(labels)} test images from {source}"
    )
    loss, accuracy, class_accuracy = evaluate(model, images, labels, settings, device=device, num_classes=len(classes))
    saved = progress["history"][-1]["test_accuracy"] if progress["history"] else None
    when_saved = f" (the run measured {100 * saved:.2f}%)" if saved is not None else ""
    print(f"test loss {loss:.4f}  test accuracy {100 * accuracy:.2f}%{when_saved}")
    if settings.tta:
        _, tta_accuracy, class_accuracy = evaluate(
            model, images, labels, settings, device=device, tta=True, num_classes=len(classes)
        )
        print(f"test accuracy with TTA over {tta_views(settings)} views {100 * tta_accuracy:.2f}%")
    print(per_class_table(class_accuracy, classes))
