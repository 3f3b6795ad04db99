"""Every setting of 10_train_cifar10.py in one place: its default (Settings), its flag (build_parser) and
how the layers combine (layer_settings, which bench/ uses too):

the notes' defaults (Settings)  <  --recipe (recipes.py)  <  the checkpoint's own (--resume)  <  flags given now

--evaluate CHECKPOINT layers the same way (without a recipe): the run's settings, then the flags given now.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from training.checkpoints import check_resumable, load_checkpoint
from training.errors import UserError
from training.models import BATCHNORM_MODELS, MODELS, STEM_MODELS
from training.optimizer import SCHEDULES, lr_factor
from training.recipes import RECIPES, recipe
from training.report import plural, tta_views


@dataclass
class Settings:
    # the recipe: the notes' values
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    model: str = "mymodel"
    label_smoothing: float = 0.0
    schedule: str = "none"
    augment: bool = False
    augment_padding: int = 4
    normalize: bool = False
    tta: bool = False
    # the airbench ideas, each off by default (bench/README.md: "Time to accuracy")
    ema: float = 0.0
    bn_bias_lr: float = 0.0
    dirac_init: bool = False
    flip: str = "random"
    tta_crops: bool = False
    stem_bias_epochs: int = 0
    # faster on a CPU, each off by default (bench/README.md: "Time to accuracy, second step")
    muon: float = 0.0
    lookahead: int = 0
    bn_momentum: float = 0.1
    resize_epochs: int = 0
    resize_from: int = 16
    recipe: str = "notes"
    seed: int = 0
    # data
    data_root: str = "./dataset"
    image_folder: str | None = None
    fake_data: bool = False
    # device and speed
    device: str = "auto"
    workers: int = 0
    compile: str = "auto"
    amp: bool = False
    # output
    logdir: str = "logs/train"
    checkpoint_dir: str = "checkpoints"
    run_name: str | None = None
    log_every: int = 100
    metrics_json: str | None = None
    resume: str | None = None
    stop_after: int | None = None
    evaluate: str | None = None


# A resumed run cannot change these halfway: they fix the network, the batches or the inputs.
# --ema too: dropping or restarting the average halfway would test other weights than the run kept.
# --muon too: it puts the filters in an optimizer group of their own.
FIXED_ON_RESUME = ("model", "batch_size", "seed", "normalize", "recipe", "run_name", "bn_bias_lr", "ema", "muon")
# These belong to one command, not to the run: never taken from a checkpoint.
THIS_COMMAND_ONLY = ("resume", "stop_after", "evaluate")
DATA_SOURCE = ("fake_data", "image_folder", "data_root")
# --evaluate tests a checkpoint as it was trained: only these flags may change how.
EVALUATE_FLAGS = ("evaluate", *DATA_SOURCE, "device", "tta", "tta_crops", "amp")

EXAMPLE = "checkpoints/<run-name>/last.pt"
# Bounds for numbers that would otherwise fail deep inside PyTorch or hang: a batch this large already
# holds CIFAR-10's 50,000 training images 20 times; DataLoader workers beyond the cores only wait.
MAX_BATCH_SIZE = 1_000_000
# The smallest image FastNet takes: its 2x2 stem and three halvings leave 1x1 of a 10x10 image; 12 keeps 1x1 too.
MIN_IMAGE_SIZE = 12
CPU_CORES = os.cpu_count() or 1


def layer_settings(given: dict, saved: dict | None = None) -> Settings:
    """The one place where settings are layered, for 10_train_cifar10.py and bench/ alike: the notes'
    defaults (Settings) < the --recipe named in `given` (RECIPES) < `saved`, a checkpoint's own settings
    (--resume, --evaluate) < the flags `given` now. A data flag given now replaces the checkpoint's whole
    data source; keys of `given` that are not settings (a benchmark's own --images) are left out."""
    names = {f.name for f in fields(Settings)}
    values = {**asdict(Settings()), **recipe(given.get("recipe", "notes"), given.get("device", "auto"))}
    if saved is not None:
        values.update({k: v for k, v in saved.items() if k in names and k not in THIS_COMMAND_ONLY})
        if any(key in given for key in DATA_SOURCE):
            values.update({key: getattr(Settings, key) for key in DATA_SOURCE})
    values.update({k: v for k, v in given.items() if k in names})
    return Settings(**values)


def build_parser(description: str = "") -> argparse.ArgumentParser:
    """The flags; parse_args returns only those named (argument_default=SUPPRESS), defaults come from Settings.
    The recipe's on/off switches come in pairs (--tta / --no-tta) so that a flag can undo a preset's choice."""
    d = Settings()
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    group = parser.add_argument_group("the recipe (defaults are the notes')")
    group.add_argument("--epochs", type=positive_int, help=f"epochs to train (default: {d.epochs})")
    group.add_argument(
        "--batch-size",
        type=whole_number_up_to(MAX_BATCH_SIZE, "more images than any data set here"),
        help=f"images per step (default: {d.batch_size})",
    )
    group.add_argument("--lr", type=non_negative_float, help=f"learning rate (default: {d.lr})")
    group.add_argument(
        "--momentum", type=unit_interval, help=f"SGD momentum, from 0 up to (not including) 1 (default: {d.momentum:g})"
    )
    group.add_argument(
        "--nesterov", action=argparse.BooleanOptionalAction, help="Nesterov momentum (needs --momentum above 0)"
    )
    group.add_argument("--weight-decay", type=non_negative_float, help="L2 weight decay (default: 0)")
    group.add_argument("--model", choices=sorted(MODELS), help=f"the network (default: {d.model})")
    group.add_argument(
        "--label-smoothing",
        type=non_negative_float,
        help="put 1 - S on the true class and spread S over all ten (CrossEntropyLoss; default: 0)",
    )
    group.add_argument("--schedule", choices=SCHEDULES, help="learning rate: warm-up then decay (default: none)")
    group.add_argument(
        "--augment", action=argparse.BooleanOptionalAction, help="random crop (padded) + horizontal flip each epoch"
    )
    group.add_argument(
        "--augment-padding",
        type=positive_int,
        help=f"--augment pads by this many pixels, then crops 32x32 back out (default: {d.augment_padding})",
    )
    group.add_argument(
        "--normalize", action=argparse.BooleanOptionalAction, help="subtract CIFAR-10's channel mean, divide by std"
    )
    group.add_argument(
        "--tta", action=argparse.BooleanOptionalAction, help="the final test averages each image with its mirror image"
    )
    group.add_argument(
        "--tta-crops", action=argparse.BooleanOptionalAction, help="with --tta: add one-pixel shifts (6 views, not 2)"
    )
    group.add_argument("--seed", type=int, help="random seed: same seed + flags = same run on a CPU (default: 0)")

    group = parser.add_argument_group("airbench's ideas, one switch each (all off by default)")
    group.add_argument(
        "--ema",
        type=unit_interval,
        metavar="DECAY",
        help="test an exponential moving average of the weights, e.g. 0.99 (default: 0, off)",
    )
    group.add_argument(
        "--bn-bias-lr",
        type=non_negative_float,
        metavar="X",
        help="freeze BatchNorm's scale at 1 and train its bias at X times --lr; for the models with BatchNorm "
        "(mymodel-bn, fastnet*) (default: 0, off)",
    )
    group.add_argument(
        "--dirac-init",
        action=argparse.BooleanOptionalAction,
        help="start every trained convolution as an identity (Dirac)",
    )
    group.add_argument(
        "--flip",
        choices=["random", "alternate"],
        help="--augment's mirroring: a random half each epoch, or each image every other epoch (default: random)",
    )
    group.add_argument(
        "--stem-bias-epochs",
        type=non_negative_int,
        metavar="N",
        help="fastnet models: stop training the whitening stem's bias after N epochs (default: 0, never)",
    )

    group = parser.add_argument_group("faster training, one switch each (all off by default)")
    group.add_argument(
        "--muon",
        type=non_negative_float,
        metavar="LR",
        help="train the convolution filters with Muon (orthogonalised momentum) at this lr, e.g. 0.1, and the "
        "rest with SGD; for the models with BatchNorm (default: 0, off)",
    )
    group.add_argument(
        "--lookahead",
        type=non_negative_int,
        metavar="K",
        help="every K steps pull the weights back toward a slow copy of them, e.g. 5 (default: 0, off)",
    )
    group.add_argument(
        "--bn-momentum",
        type=unit_interval,
        metavar="M",
        help=f"BatchNorm2d's momentum for its running statistics; 0.4 goes with --lookahead (default: {d.bn_momentum})",
    )
    group.add_argument(
        "--resize-epochs",
        type=non_negative_int,
        metavar="N",
        help="progressive resizing: the first N epochs train on smaller images, growing from --resize-from to "
        "32x32 (default: 0, off)",
    )
    group.add_argument(
        "--resize-from",
        type=positive_int,
        metavar="SIZE",
        help=f"the image size of the first --resize-epochs epoch (default: {d.resize_from})",
    )

    group = parser.add_argument_group("presets")
    group.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        help="a preset: 'fast' = fastnet-cpu, 10 epochs and the switches above that paid off on a CPU (float32 "
        "and a smaller fastnet where the CPU has no native bf16); 'gpu' = airbench94's widths for one GPU (flags given "
        "still win; default: notes)",
    )

    add_data_flags(parser)

    group = parser.add_argument_group("device and speed")
    group.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        help="where to train: auto picks cuda, then mps, then cpu (default: auto)",
    )
    group.add_argument(
        "--workers",
        type=whole_number_up_to(CPU_CORES, "the CPU cores here", minimum=0),
        help="DataLoader workers (data is in memory; default: 0)",
    )
    group.add_argument(
        "--compile",
        choices=["auto", "on", "off"],
        help="torch.compile: auto = on CUDA only, falling back to eager if it fails (default: auto)",
    )
    group.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        help="bf16 mixed precision on CUDA and on CPUs with native bf16 (AMX); elsewhere it does nothing",
    )

    group = parser.add_argument_group("output")
    group.add_argument("--logdir", help=f"TensorBoard root; each run writes LOGDIR/<run-name> (default: {d.logdir})")
    group.add_argument("--checkpoint-dir", help=f"checkpoints go in DIR/<run-name>/ (default: {d.checkpoint_dir})")
    group.add_argument("--run-name", help="name of this run (default: the start time, e.g. 20260101-120000)")
    group.add_argument(
        "--log-every",
        type=positive_int,
        help=f"log the train loss to TensorBoard every N steps (each log waits for the device; default: {d.log_every})",
    )
    group.add_argument("--metrics-json", metavar="PATH", help="write the final metrics as JSON here")
    group.add_argument("--resume", metavar="PATH", help=f"continue a run from its checkpoint, e.g. {EXAMPLE}")
    group.add_argument("--stop-after", type=positive_int, metavar="N", help="train N epochs now, the rest later")

    group = parser.add_argument_group("evaluate a checkpoint (no training)")
    group.add_argument(
        "--evaluate",
        metavar="PATH",
        help="test a checkpoint on its run's data (or on the data flags given): loss, accuracy, per-class "
        "table; writes nothing. With it: the data flags, --device, --tta, --tta-crops, --amp",
    )
    return parser


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """The data flags, one source each: 10_train_cifar10.py's and the benchmarks'. They have no defaults of
    their own (parsers here use argument_default=SUPPRESS): layer_settings fills in Settings' defaults."""
    group = parser.add_argument_group("data (pick one source)")
    group.add_argument(
        "--data-root", help=f"folder for torchvision's CIFAR-10 download (default: {Settings.data_root})"
    )
    group.add_argument(
        "--image-folder", metavar="DIR", help="use DIR/train/<class>/*.png and DIR/test/<class>/*.png instead"
    )
    group.add_argument(
        "--fake-data", action="store_true", help="a small synthetic CIFAR-shaped set made in memory (no files)"
    )


# --------------------------------------------------------------------------- the flags' number types


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


def parse_settings(argv=None, description: str = "") -> tuple[Settings, dict | None]:
    """The run's Settings (and the checkpoint dict with --resume or --evaluate), layered as the module
    docstring says."""
    given = vars(build_parser(description).parse_args(argv))
    if "evaluate" in given:
        if others := [key for key in given if key not in EVALUATE_FLAGS]:
            flags = ", ".join("--" + key.replace("_", "-") for key in others)
            raise UserError(f"--evaluate tests a checkpoint as it was trained; {flags} cannot go with it")
    checkpoint = None
    if "resume" in given or "evaluate" in given:
        checkpoint = load_checkpoint(given.get("resume") or given["evaluate"])
        saved = checkpoint["settings"]
        if "resume" in given:
            check_resumable(checkpoint, given["resume"])
        for key in FIXED_ON_RESUME:
            if key in given and given[key] != saved.get(key, getattr(Settings, key)):
                flag = "--" + key.replace("_", "-")
                was = f"with {saved.get(key)}" if saved.get(key) or key != "ema" else "without --ema"
                raise UserError(
                    f"{flag} cannot change when resuming (this run was started {was}); start a new run instead"
                )
    if given.get("fake_data") and given.get("image_folder"):
        raise UserError("--fake-data and --image-folder pick two data sources; give one")
    settings = layer_settings(given, checkpoint["settings"] if checkpoint else None)
    if settings.augment_padding > 31:
        raise UserError(f"--augment-padding must be below the image size of 32 (it was {settings.augment_padding})")
    if settings.label_smoothing > 1:
        raise UserError(f"--label-smoothing must be between 0 and 1 (it was {settings.label_smoothing})")
    if not 0 <= settings.seed < 2**32:
        raise UserError(f"--seed must be between 0 and 2**32 - 1 (it was {settings.seed})")
    # A switch that depends on another is an error when named alone (a recipe's own choice just rests).
    if "flip" in given and settings.flip != "random" and not settings.augment:
        raise UserError("--flip alternate mirrors the --augment images; add --augment")
    if given.get("tta_crops") and not settings.tta:
        raise UserError("--tta-crops adds views to --tta; add --tta")
    if "stem_bias_epochs" in given and settings.stem_bias_epochs and settings.model not in STEM_MODELS:
        raise UserError(f"--stem-bias-epochs is for the fastnet models' whitening stem (the model is {settings.model})")
    if "muon" in given and settings.muon and settings.model not in BATCHNORM_MODELS:
        raise UserError(f"--muon rescales filters that a BatchNorm follows, and {settings.model} has no BatchNorm")
    if not MIN_IMAGE_SIZE <= settings.resize_from <= 32:
        raise UserError(f"--resize-from must be between {MIN_IMAGE_SIZE} and 32 pixels (it was {settings.resize_from})")
    if settings.resize_epochs and settings.model not in STEM_MODELS and "resize_epochs" not in given:
        settings.resize_epochs = 0  # the recipe's resizing, with --model mymodel named now: 32x32 throughout
    if "resize_epochs" not in given and "resume" not in given and settings.resize_epochs >= settings.epochs:
        settings.resize_epochs = settings.epochs // 2  # a short run of the recipe still ends at full size
    if settings.resize_epochs and settings.model not in STEM_MODELS:
        raise UserError(
            f"--resize-epochs needs a model that takes any image size (the fastnet models); {settings.model}'s "
            "Linear layer takes 32x32 images only"
        )
    if "bn_bias_lr" in given and settings.bn_bias_lr and settings.model not in BATCHNORM_MODELS:
        raise UserError(f"--bn-bias-lr trains BatchNorm's biases, and {settings.model} has no BatchNorm")
    if settings.nesterov and settings.momentum <= 0:
        if "nesterov" in given:
            raise UserError("--nesterov needs --momentum above 0 (for example --momentum 0.9)")
        settings.nesterov = False  # a recipe's Nesterov, with --momentum 0 named now: plain SGD
    name = given.get("run_name")
    if name is not None and (Path(name).name != name or name in ("", ".", "..")):
        raise UserError(f"--run-name {name!r} must be a plain folder name (no / and not . or ..)")
    if "resume" in given and checkpoint["progress"]["epochs_done"] >= settings.epochs:
        done = checkpoint["progress"]["epochs_done"]
        raise UserError(f"the run has trained {plural(done, 'epoch')} already; pass a larger --epochs")
    return settings, checkpoint


def resume_notes(checkpoint: dict, settings: Settings, progress, classes, steps_per_epoch: int) -> str:
    """The lines a resumed run prints before it goes on (`progress`: the RunProgress restored from `checkpoint`):
    where it stands, each setting given a new value now, labels that now mean other classes, and a jump of
    the learning rate where --epochs or --schedule changed."""
    done = plural(progress.epochs_done, "epoch") + " done"
    if progress.step_in_epoch:  # stopped mid-epoch (Ctrl-C): the next step is the one after it
        done += f", and epoch {progress.epochs_done + 1} up to step {progress.step_in_epoch}"
    notes = [f"resuming run {settings.run_name} from {settings.resume}: {done}"]
    if changes := resume_changes(checkpoint["settings"], settings):
        notes.append(f"changed now: {changes}")
    if checkpoint.get("classes", list(classes)) != list(classes):
        notes.append(f"note: the labels now mean {', '.join(classes)} (the run had {', '.join(checkpoint['classes'])})")
    if note := lr_jump_note(checkpoint["settings"], settings, progress.global_step, steps_per_epoch):
        notes.append(note)
    return "\n".join(notes)


def resume_changes(saved: dict, settings: Settings) -> str:
    """What a resumed run does differently from its checkpoint, e.g. '--lr 0.01 → 0.02' ('' if nothing)."""

    def shown(value) -> str:
        if isinstance(value, bool) or value is None:
            return {True: "on", False: "off", None: "none"}[value]
        return f"{value:g}" if isinstance(value, float) else str(value)

    changes = [
        f"--{key.replace('_', '-')} {shown(saved[key])} → {shown(value)}"
        for key, value in asdict(settings).items()
        if key in saved and key not in THIS_COMMAND_ONLY and value != saved[key]
    ]
    return ", ".join(changes)


def lr_jump_note(saved: dict, settings: Settings, step: int, steps_per_epoch: int) -> str | None:
    """A note when a resumed run's schedule no longer goes on where it stopped: --epochs or --schedule
    changed, so the next step's learning rate is not the one the run would have taken."""
    old_epochs, old_schedule = saved.get("epochs", settings.epochs), saved.get("schedule", settings.schedule)
    if (old_epochs, old_schedule) == (
        settings.epochs,
        settings.schedule,
    ) or old_schedule == settings.schedule == "none":
        return None
    before = saved.get("lr", settings.lr) * lr_factor(old_schedule, step, old_epochs * steps_per_epoch)
    after = settings.lr * lr_factor(settings.schedule, step, settings.epochs * steps_per_epoch)
    if abs(after - before) <= 0.01 * max(before, after):
        return None
    return (
        f"note: the {settings.schedule} schedule now spans {plural(settings.epochs, 'epoch')} (it was {old_schedule} "
        f"over {old_epochs}): the learning rate jumps from {before:.2g} to {after:.2g} at this step"
    )


def describe(settings: Settings) -> str:
    """The run's recipe in one line, for the header a run prints: what trains, how, and which switches
    (a recipe's switch that the model has nothing for is left out)."""
    optimizer = f"SGD lr {settings.lr:g}"
    if settings.momentum:
        optimizer += f" momentum {settings.momentum:g}" + (" (Nesterov)" if settings.nesterov else "")
    if settings.weight_decay:
        optimizer += f" weight decay {settings.weight_decay:g}"
    parts = [settings.model, optimizer, f"batch {settings.batch_size}", plural(settings.epochs, "epoch")]
    if settings.schedule != "none":
        parts.append(f"{settings.schedule} schedule")
    if settings.label_smoothing:
        parts.append(f"label smoothing {settings.label_smoothing:g}")
    if settings.augment:
        parts.append(f"augment (pad {settings.augment_padding}, {settings.flip} flips)")
    extras = {
        "normalize": settings.normalize,
        f"EMA {settings.ema:g}": settings.ema,
        f"BN bias lr x{settings.bn_bias_lr:g}": settings.bn_bias_lr and settings.model in BATCHNORM_MODELS,
        "Dirac init": settings.dirac_init,
        f"stem bias frozen after {plural(settings.stem_bias_epochs, 'epoch')}": 0
        < settings.stem_bias_epochs
        < settings.epochs
        and settings.model in STEM_MODELS,
        f"Muon lr {settings.muon:g} for the filters": settings.muon and settings.model in BATCHNORM_MODELS,
        f"lookahead every {settings.lookahead} steps": settings.lookahead,
        f"BatchNorm momentum {settings.bn_momentum:g}": settings.bn_momentum != Settings.bn_momentum
        and settings.model in BATCHNORM_MODELS,
        f"{settings.resize_from}px to 32px over {plural(settings.resize_epochs, 'epoch')}": settings.resize_epochs,
        f"TTA ({tta_views(settings)} views)": settings.tta,
        "amp": settings.amp,
    }
    recipe = f"--recipe {settings.recipe}: " if settings.recipe != "notes" else ""
    return recipe + ", ".join(parts + [name for name, on in extras.items() if on])
