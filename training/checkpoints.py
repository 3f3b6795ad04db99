"""What a run saves, how it is written (atomically) and read back, and how Ctrl-C stops a run safely.

A checkpoint is a plain dict that torch.load(weights_only=True) can read: the model's and the optimizer's
state_dicts, the Settings, the RunProgress below, the RNG state, and "classes": the names of the labels
0, 1, 2 ... (CIFAR-10's, or an --image-folder's own class folders).
"""

from __future__ import annotations

import io
import os
import pickletools
import signal
import sys
import tempfile
import threading
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import torch

from training.errors import UserError, error_summary
from training.models import MODELS
from training.report import plural

CHECKPOINT_FORMAT = "pytorch-notes-cifar10-checkpoint/3"  # 3: optimizer groups, "ema"


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float  # mean over the epoch's batches
    train_loss_sum: float  # the notes' running total
    test_loss: float
    test_accuracy: float
    train_images_per_sec: float
    seconds: float
    elapsed_seconds: float  # since the process started, data loading included
    test_accuracy_tta: float | None = None  # --tta, final epoch only


@dataclass
class RunProgress:
    """How far a run has come: enough to go on exactly where it stopped, mid-epoch too."""

    epochs_done: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    partial_loss_sum: float = 0.0  # the loss summed over this epoch's steps so far
    seconds: float = 0.0  # wall-clock time of every process that trained this run, up to this save
    best_accuracy: float = -1.0
    class_accuracy: list[float | None] = field(default_factory=lambda: [0.0] * 10)  # None: no test images
    history: list[EpochRecord] = field(default_factory=list)

    @classmethod
    def from_dict(cls, saved: dict) -> RunProgress:
        return cls(**{**saved, "history": [EpochRecord(**record) for record in saved["history"]]})

    def end_epoch(self, record: EpochRecord, class_accuracy: list[float | None]) -> bool:
        """Record a finished epoch (the next one starts at its step 0); True when its test accuracy is the
        best of the run so far."""
        self.history.append(record)
        self.epochs_done, self.step_in_epoch, self.partial_loss_sum = record.epoch, 0, 0.0
        self.class_accuracy = class_accuracy
        improved = record.test_accuracy > self.best_accuracy
        self.best_accuracy = max(self.best_accuracy, record.test_accuracy)
        return improved


def atomic_torch_save(obj, path) -> None:
    """torch.save to a temporary file, then rename: a crash or kill never leaves a half-written file."""
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


def save_checkpoint(
    path, model, optimizer, settings, progress: RunProgress, average=None, classes=None, lookahead=None
) -> None:
    """`average`: the --ema WeightAverage, saved beside the trained weights (None without --ema);
    `lookahead`: the --lookahead slow weights (None without it);
    `classes`: the names of the labels, in order (default: CIFAR-10's). Makes the folder if needed."""
    from training.data import CIFAR10_CLASSES  # here: training.data imports this module

    check_output_folder(Path(path).parent, "--checkpoint-dir", create=True)
    atomic_torch_save(
        {
            "format": CHECKPOINT_FORMAT,
            "classes": list(classes or CIFAR10_CLASSES),
            "model_name": settings.model,
            "model": model.state_dict(),
            "ema": average.state_dict() if average else None,
            "lookahead": lookahead.state_dict() if lookahead else None,
            "optimizer": optimizer.state_dict(),
            "settings": asdict(settings),
            "progress": asdict(progress),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            },
        },
        path,
    )


# What a run's checkpoint holds beyond the weights, said wherever another kind of file is passed.
NEEDS = (
    ": --resume and --evaluate take a run's checkpoints/<run-name>/last.pt or best.pt (optimizer, settings, progress)"
)


def load_checkpoint(path) -> dict:
    """torch.load(weights_only=True); anything that is not one of this tool's checkpoints is one clear error."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a checkpoint file (did you mean {path / 'last.pt'}?)")
    if not path.is_file():
        raise UserError(
            f"checkpoint {path} does not exist; train first with python 10_train_cifar10.py, or check the path"
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        if "Unsupported global" in str(error):  # weights_only=True refuses pickled Python objects
            found = pickled_class(path)
            what = (
                f"a pickled {found} object (a whole model saved with torch.save(model)?)"
                if found
                else "pickled Python objects, which torch.load(weights_only=True) refuses"
            )
            raise UserError(f"{path} is not a checkpoint of 10_train_cifar10.py: it holds {what}{NEEDS}") from None
        # torch's own message goes on to suggest weights_only=False: never for a file that is not ours
        plain = isinstance(error, RuntimeError) and "Weights only load failed" not in str(error)  # e.g. a cut zip
        reason = f" ({error_summary(error)})" if plain else ""
        raise UserError(f"cannot read checkpoint {path}: it is truncated or not a checkpoint{reason}") from None
    if isinstance(checkpoint, dict) and checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise UserError(
            f"{path} holds only a model's weights (a state_dict, as 11_save_load.py saves), not a run{NEEDS}; "
            "12_predict.py --checkpoint can use it"
        )
    found = checkpoint.get("format", "") if isinstance(checkpoint, dict) else ""
    if found.startswith(CHECKPOINT_FORMAT.split("/")[0]) and found != CHECKPOINT_FORMAT:
        raise UserError(
            f"{path} was written by another version of 10_train_cifar10.py ({found}); start a new run "
            "(its weights stay readable: torch.load(path, weights_only=True)['model'])"
        )
    if found != CHECKPOINT_FORMAT:
        raise UserError(f"{path} is not a checkpoint written by this version of 10_train_cifar10.py")
    missing = [key for key in ("model", "model_name", "settings", "progress") if key not in checkpoint]
    if missing:
        raise UserError(f"checkpoint {path} has no {', '.join(missing)}: it was not written by 10_train_cifar10.py")
    for name in {checkpoint["model_name"], checkpoint["settings"].get("model")}:
        if name not in MODELS:
            raise UserError(
                f"checkpoint {path} names a model this tool does not have ({name!r}; it has {', '.join(MODELS)})"
            )
    return checkpoint


def check_resumable(checkpoint: dict, path) -> None:
    """What --resume needs beyond the weights: the optimizer's state and the RNG state (hand-made or
    trimmed checkpoints may lack them; 11 and 12 need neither)."""
    missing = [key for key in ("optimizer", "rng") if not isinstance(checkpoint.get(key), dict)]
    if "optimizer" not in missing and "state" not in checkpoint["optimizer"]:
        missing.append("optimizer")
    if missing:
        raise UserError(
            f"checkpoint {path} has no {' and no '.join(missing)} state, so the run cannot go on from it; "
            "start a new run"
        )


def pickled_class(path) -> str | None:
    """The class of the object a torch.save file holds, read from its pickle without running it
    ('nn_CIFAR10.MyModel' for torch.save(model)); None for a dict, a list or an unreadable file."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(next(name for name in archive.namelist() if name.endswith("data.pkl")))
        strings = []
        for opcode, argument, _ in pickletools.genops(io.BytesIO(data)):
            if opcode.name in ("PROTO", "FRAME", "MEMOIZE", "BINPUT", "LONG_BINPUT"):
                continue
            if opcode.name == "GLOBAL":  # the first object built is the saved object's class
                return argument.replace(" ", ".")
            if "UNICODE" in opcode.name:  # protocol 4: module and name as strings, then STACK_GLOBAL
                strings.append(argument)
                continue
            return ".".join(strings[-2:]) if opcode.name == "STACK_GLOBAL" else None
    except Exception:
        return None
    return None


def restore_model(model, checkpoint: dict, path, averaged: bool = False) -> str:
    """The trained weights into `model`; averaged=True: the --ema average instead, where the run kept one
    (it is what the run tested). Returns which of the two it loaded, in words."""
    use_average = averaged and checkpoint.get("ema")
    try:
        model.load_state_dict(checkpoint["ema"]["model"] if use_average else checkpoint["model"])
    except RuntimeError as error:
        raise UserError(f"checkpoint {path} does not fit this model ({error_summary(error)})") from None
    if use_average:
        return f"the moving average of the weights (--ema {checkpoint['settings']['ema']:g}), as the run tested"
    return "the trained weights"


def restore_run(checkpoint: dict, path, model, optimizer, device, average=None, lookahead=None) -> RunProgress:
    """Weights, optimizer state and RNG back from `checkpoint`. The optimizer keeps the settings it was
    built with now (lr, momentum, weight decay, Nesterov), so flags named when resuming take effect;
    only its per-parameter state (the momentum buffers) comes from the file."""
    restore_model(model, checkpoint, path)
    optimizer.load_state_dict(
        {"state": checkpoint["optimizer"]["state"], "param_groups": optimizer.state_dict()["param_groups"]}
    )
    if average is not None:  # --ema turned on only now starts from the current weights
        if checkpoint.get("ema"):
            average.load_state_dict(checkpoint["ema"])
        else:
            average.model.load_state_dict(model.state_dict())
    if lookahead is not None:  # --lookahead turned on only now starts from the current weights
        if checkpoint.get("lookahead"):
            lookahead.load_state_dict(checkpoint["lookahead"])
        else:
            lookahead.restart(model)
    torch.set_rng_state(checkpoint["rng"]["torch"])
    if device.type == "cuda" and checkpoint["rng"]["cuda"]:
        torch.cuda.set_rng_state_all(checkpoint["rng"]["cuda"])
    return RunProgress.from_dict(checkpoint["progress"])


def newest_checkpoint(checkpoint_dir="checkpoints", name: str = "best.pt") -> Path | None:
    """The most recently written CHECKPOINT_DIR/<run>/<name>, or None."""
    found = list(Path(checkpoint_dir).glob(f"*/{name}"))
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


class CtrlC:
    """The first Ctrl-C asks the run to stop at the next step boundary, where it saves a consistent
    checkpoint; a second Ctrl-C stops at once and saves nothing (the last epoch's last.pt stays)."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if os.environ.get("RANK", "0") == "0":  # under torchrun every process gets the signal; one speaks
            print(
                "\nCtrl-C: saving after this step (press again to stop at once, unsaved)", file=sys.stderr, flush=True
            )


def nearest_existing(path) -> Path:
    """`path` itself if it exists, else its nearest parent that does: where a new folder would be made."""
    existing = Path(path).absolute()
    while not existing.exists():
        existing = existing.parent
    return existing


def check_output_folder(path, flag: str, create: bool = False) -> Path:
    """Fail early, in one line naming `flag`, when `path` could not be written; create it if asked.
    Without `create` a folder is made and removed at once in the nearest existing one: os.access()
    says yes to root everywhere, also where nothing can be made (/proc)."""
    path = Path(path)
    existing = nearest_existing(path)
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        problem = "is not a folder" if not existing.is_dir() else "is not writable"
        raise UserError(f"cannot write to {flag} folder {path} ({existing} {problem}); pass another {flag}")
    if not create:
        try:
            os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".write-check-"))
        except OSError as error:
            raise UserError(
                f"cannot write to {flag} folder {path} (nothing can be made in {existing}: "
                f"{error.strerror or error}); pass another {flag}"
            ) from None
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(
                f"cannot create {flag} folder {path} ({error.strerror or error}); pass another {flag}"
            ) from None
    return path


def run_folders(settings, check: bool = True) -> tuple[Path, Path]:
    """LOGDIR/<run-name> and CHECKPOINT_DIR/<run-name>; the name defaults to the start time (20260101-120000,
    with -2, -3 ... added if taken). Checks now that both can be written, but creates them only later."""
    if not settings.run_name:
        base = name = datetime.now().strftime("%Y%m%d-%H%M%S")
        counter = 1
        while (Path(settings.logdir) / name).exists() or (Path(settings.checkpoint_dir) / name).exists():
            counter += 1
            name = f"{base}-{counter}"
        settings.run_name = name
    log_dir, checkpoint_dir = (
        Path(settings.logdir) / settings.run_name,
        Path(settings.checkpoint_dir) / settings.run_name,
    )
    if check:  # fail now rather than after loading the data
        if not settings.resume and (log_dir.exists() or checkpoint_dir.exists()):
            taken = " and ".join(str(p) for p in (checkpoint_dir, log_dir) if p.exists())
            go_on = (
                f"or go on with --resume {checkpoint_dir / 'last.pt'}"
                if (checkpoint_dir / "last.pt").is_file()
                else f"or delete {taken}: that run saved no checkpoint (it stopped before its first epoch ended)"
            )
            exists = "exist" if " and " in taken else "exists"
            raise UserError(f"--run-name {settings.run_name} is taken ({taken} {exists}): pick another name, {go_on}")
        check_output_folder(checkpoint_dir, "--checkpoint-dir")
        check_output_folder(log_dir, "--logdir")
        if settings.metrics_json:
            if Path(settings.metrics_json).is_dir():
                raise UserError(f"--metrics-json {settings.metrics_json} is a folder; give a file name")
            check_output_folder(Path(settings.metrics_json).absolute().parent, "--metrics-json")
    return log_dir, checkpoint_dir


def resume_command(checkpoint_dir: Path) -> str:
    return f"python 10_train_cifar10.py --resume {checkpoint_dir / 'last.pt'}"


def stopped_lines(checkpoint_dir: Path, progress: RunProgress) -> str:
    """What a run stopped between two steps (Ctrl-C, a closed pipe) says after saving last.pt."""
    epoch, step = progress.epochs_done + 1, progress.step_in_epoch
    where = f"in epoch {epoch} after step {step}" if step else f"after {plural(epoch - 1, 'epoch')}"
    return f"\nstopped {where}: saved {checkpoint_dir / 'last.pt'}\nresume with: {resume_command(checkpoint_dir)}"
