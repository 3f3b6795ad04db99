"""One-line errors for the learner, and argparse types for numbers."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys

USER_ERROR_EXIT = 2  # the same code argparse uses for a bad flag


class UserError(Exception):
    """A problem the learner can fix (a bad flag, missing data, ...): shown as one line, no traceback."""


def error_summary(error: BaseException) -> str:
    """The first line of an exception's message, without terminal colours (or its type if it has none)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def run_main(main) -> None:
    """Run `main()`; a UserError becomes `error: ...` and exit 2, Ctrl-C exit 130, a closed pipe exit 0."""
    first_process = os.environ.get("RANK", "0") == "0"  # under torchrun every process fails alike; one speaks
    try:
        main()
    except UserError as error:
        if first_process:
            print(f"error: {error}", file=sys.stderr)
        sys.exit(USER_ERROR_EXIT)
    except KeyboardInterrupt:
        if first_process:
            print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        sys.exit(0)


def _number(text: str, kind, minimum, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    return _number(text, int, 1, "a whole number")


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0."""
    return _number(text, int, 0, "a whole number")


def whole_number_up_to(maximum: int, why: str, minimum: int = 1):
    """argparse type: a whole number from `minimum` to `maximum` (`why`: what the bound is, in words)."""

    def parse(text: str) -> int:
        value = _number(text, int, minimum, "a whole number")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum} ({why}), got {text}")
        return value

    return parse


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(text, float, 0, "a number")


def unit_interval(text: str) -> float:
    """argparse type: a number from 0 up to (not including) 1."""
    value = _number(text, float, 0, "a number")
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be below 1, got {text}")
    return value


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """The data flags of the benchmark scripts (10_train_cifar10.py has the same three in training/settings.py)."""
    group = parser.add_argument_group("data (pick one source)")
    group.add_argument("--data-root", default="./dataset", help="torchvision's CIFAR-10 download folder")
    group.add_argument("--image-folder", metavar="DIR", help="DIR/train/<class>/*.png and DIR/test/<class>/*.png")
    group.add_argument("--fake-data", action="store_true", help="a small synthetic set made in memory")
