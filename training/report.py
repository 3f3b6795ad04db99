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

    def update(self, describe=None) -> None:
        """One more step done; `describe()` (called only when a plain line is due) adds e.g. the loss."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif not self.quiet and self.done >= self.next_line and self.done < self.total:
            extra = f"  {describe()}" if describe else ""
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
