"""What the learner sees: a progress bar in a terminal, a plain line every ~10% in a log, the
per-class table, the labelled-predictions image for TensorBoard, the metrics JSON."""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from tqdm import tqdm

from training.errors import UserError


class Output:
    """print() for a run's own lines, flushed at once. If stdout is a pipe that closes early
    (`python 10_train_cifar10.py | head`), the rest of stdout goes to /dev/null and `closed` turns true:
    the run then saves and stops at the next step, as after Ctrl-C. quiet: print nothing (torchrun ranks > 0)."""

    def __init__(self, quiet: bool = False):
        self.quiet, self.closed = quiet, False

    def __call__(self, *text) -> None:
        if self.quiet or self.closed:
            return
        try:
            print(*text, flush=True)
        except BrokenPipeError:
            self.closed = True
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's advice for a closed pipe
            print("\noutput closed (| head?): saving after this step", file=sys.stderr, flush=True)


class ProgressLine:
    """tqdm when stderr is a terminal; otherwise one plain line about every 10% (CI logs, nohup)."""

    def __init__(self, total: int, desc: str, initial: int = 0, quiet: bool = False):
        self.total, self.desc, self.done, self.quiet = total, desc, initial, quiet
        self.bar = None
        if not quiet and sys.stderr.isatty():
            self.bar = tqdm(total=total, initial=initial, desc=desc, leave=False, dynamic_ncols=True)
        self.next_line = self._next_tenth(initial)

    def _next_tenth(self, done: int) -> int:
        tenth = max(1, math.ceil(self.total / 10))
        return (done // tenth + 1) * tenth

    def update(self, loss: torch.Tensor | None = None) -> None:
        """One more step done. `loss`, the step's loss on the device, is shown in the plain line every ~10%:
        only then is it read, which waits for the device (a host sync)."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif not self.quiet and self.done >= self.next_line and self.done < self.total:
            extra = f"  loss {loss.item():.3f}" if loss is not None else ""
            print(f"{self.desc}: {100 * self.done // self.total}% ({self.done}/{self.total}){extra}", file=sys.stderr)
            sys.stderr.flush()
            self.next_line = self._next_tenth(self.done)

    def show(self, text: str) -> None:
        """Live figures (loss, images/s) beside the terminal bar."""
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def tta_views(settings) -> int:
    """How many views of each image --tta averages (evaluation.tta_logits): the image and its mirror image,
    and with --tta-crops two shifted pairs more."""
    return 6 if settings.tta_crops else 2


def data_line(device, world: int, train_count: int, test_count: int, seconds: float) -> str:
    """The first line a run prints: where it trains and on how many images."""
    processes = f" x {world} processes" if world > 1 else ""
    return f"device: {device}{processes}; data: {train_count} train / {test_count} test images ({seconds:.1f}s to load)"


def epoch_line(record, epochs: int) -> str:
    """The line each epoch prints (`record`: its checkpoints.EpochRecord)."""
    tta = f" ({100 * record.test_accuracy_tta:.2f}% with TTA)" if record.test_accuracy_tta is not None else ""
    return (
        f"epoch {record.epoch}/{epochs}  train loss {record.train_loss:.4f} (sum {record.train_loss_sum:.1f})  "
        f"test loss {record.test_loss:.4f}  test accuracy {100 * record.test_accuracy:.2f}%{tta}  "
        f"{record.train_images_per_sec:.0f} img/s  {record.seconds:.1f}s"
    )


def log_epoch(writer, record) -> None:
    """The epoch's figures as TensorBoard scalars, at step = the epoch's number."""
    writer.add_scalar("test/loss", record.test_loss, record.epoch)
    writer.add_scalar("test/accuracy", record.test_accuracy, record.epoch)
    writer.add_scalar("train/epoch_loss", record.train_loss, record.epoch)
    writer.add_scalar("train/images_per_sec", record.train_images_per_sec, record.epoch)


# TensorBoard's HPARAMS tab: the settings that change what is learned.
HPARAMS = ("recipe", "model", "epochs", "batch_size", "lr", "momentum", "nesterov", "weight_decay", "label_smoothing")
HPARAMS += ("schedule", "seed", "augment", "augment_padding", "normalize", "tta", "tta_crops", "amp")
HPARAMS += ("ema", "bn_bias_lr", "dirac_init", "flip", "stem_bias_epochs")


def report_run(writer, settings, progress, classes, predictions: torch.Tensor) -> str:
    """The end of a run (`progress`: its checkpoints.RunProgress) in TensorBoard: the per-class table (TEXT),
    the labelled `predictions` image (IMAGES) and, once the run has trained all its epochs, the settings
    beside the results (HPARAMS). Returns the final accuracy and the same table, to print."""
    final, table = progress.history[-1], per_class_table(progress.class_accuracy, classes)
    writer.add_text("test/per_class_accuracy", "    " + table.replace("\n", "\n    "), final.epoch)
    writer.add_image("test/predictions", predictions, final.epoch)
    if final.epoch == settings.epochs:
        hparams = {key: getattr(settings, key) for key in HPARAMS}
        accuracy_tta = final.test_accuracy if final.test_accuracy_tta is None else final.test_accuracy_tta
        results = {"hparam/test_accuracy": final.test_accuracy, "hparam/test_loss": final.test_loss}
        writer.add_hparams(hparams, {**results, "hparam/test_accuracy_tta": accuracy_tta}, run_name=".")
    tta = (
        f", {100 * final.test_accuracy_tta:.2f}% with TTA over {tta_views(settings)} views"
        if final.test_accuracy_tta is not None
        else ""
    )
    return f"\ntest accuracy {100 * final.test_accuracy:.2f}%{tta} after {plural(final.epoch, 'epoch')}\n{table}"


def run_metrics(settings, progress, classes, device, world: int) -> dict:
    """--metrics-json: the last epoch's figures, the run's totals (`seconds`: every process of the run, up to
    its last checkpoint) and every epoch's record (`progress`: the checkpoints.RunProgress)."""
    final = progress.history[-1]
    rates = [record.train_images_per_sec for record in progress.history]
    return {
        **{k: v for k, v in vars(final).items() if k not in ("epoch", "seconds", "elapsed_seconds")},
        "epochs": final.epoch,
        "per_class_accuracy": dict(zip(classes, progress.class_accuracy)),
        "seconds": progress.seconds,
        "train_images_per_sec": sum(rates) / len(rates),
        "device": str(device),
        "world_size": world,
        "run_name": settings.run_name,
        "history": [vars(record) for record in progress.history],
    }


def per_class_table(class_accuracy, classes) -> str:
    """One row per class name; a class without test images (accuracy None) says so rather than 0.00%."""
    width = max(11, *(len(name) for name in classes))
    rows = [
        f"{name:<{width}} " + ("no test images" if accuracy is None else f"{100 * accuracy:6.2f}%")
        for name, accuracy in zip(classes, class_accuracy)
    ]
    return "\n".join([f"{'class':<{width}}  accuracy", *rows])


def labelled_predictions(images, labels, predicted, classes, columns: int = 8) -> torch.Tensor:
    """A grid of uint8 (3, 32, 32) images with 'pred/true' under each (green right, red wrong), as (3, H, W).
    A prediction beyond `classes` (an image folder with fewer than 10 classes) shows as its number, e.g. #7."""
    tile_w, tile_h = 96, 112
    sheet = Image.new("RGB", (columns * tile_w, math.ceil(len(labels) / columns) * tile_h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (image, label, guess) in enumerate(zip(images.cpu(), labels.tolist(), predicted.tolist())):
        x, y = (i % columns) * tile_w, (i // columns) * tile_h
        picture = Image.fromarray(image.permute(1, 2, 0).numpy()).resize((tile_w - 4, tile_w - 4), Image.NEAREST)
        sheet.paste(picture, (x + 2, y + 2))
        colour = (0, 140, 0) if guess == label else (200, 0, 0)
        guessed = classes[guess] if guess < len(classes) else f"#{guess}"
        draw.text((x + 2, y + tile_w), f"{guessed[:6]}/{classes[label][:6]}", fill=colour)
    return torch.from_numpy(np.asarray(sheet).copy()).permute(2, 0, 1)


def write_json(path, payload: dict) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n")
    except OSError as error:
        raise UserError(f"cannot write --metrics-json {path} ({error.strerror or error})") from None


def add_graph(writer, model, example) -> None:
    """writer.add_graph without torch.jit.trace's deprecation warning (the graph is still traced and shown)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        writer.add_graph(model, example)


class NoWriter:
    """Stands in for SummaryWriter in the processes that do not log (torchrun ranks above 0)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass
