"""完整的模型训练套路 / The full training recipe: train MyModel on CIFAR-10.

The notes' recipe is the default: MyModel, CrossEntropyLoss, SGD lr 0.01,
batch 64, 20 epochs, ToTensor only. Each epoch trains with a progress bar,
then evaluates on the test set; checkpoints and TensorBoard logs are written
as it goes.

    python 10_train_cifar10.py                                   # the notes' recipe
    python 10_train_cifar10.py --image-folder ../data/cifar10    # offline: an image folder
    python 10_train_cifar10.py --fake-data --epochs 2            # a quick try, no data needed
    python 10_train_cifar10.py --recipe fast                     # FastNet + every switch: 85% in 9 epochs
    python 10_train_cifar10.py --model mymodel-bn --augment      # or one switch at a time (README)
    python 10_train_cifar10.py --resume checkpoints/<run>/last.pt
    torchrun --nproc_per_node=2 10_train_cifar10.py ...          # several processes (DDP)
    tensorboard --logdir logs/train

How it is fast without changing the math: the images are decoded once into
one uint8 tensor (N, 3, 32, 32), kept on the training device, and batches are
taken by index and turned into floats there (x / 255 is exactly ToTensor).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset
from tqdm import tqdm

from common import (
    CHECKPOINT_FORMAT,
    CIFAR10_CLASSES,
    UserError,
    add_data_args,
    add_graph_quietly,
    atomic_torch_save,
    check_can_create,
    cifar10_tensors,
    ensure_writable_dir,
    error_summary,
    load_checkpoint,
    make_writer,
    non_negative_float,
    non_negative_int,
    pick_device,
    positive_int,
    restore_model,
    run_main,
    to_model_input,
)
from nn_CIFAR10 import MODELS

# channels_last (NHWC) memory layout: faster convolutions on CPU and CUDA (see bench/train_speed.py).
CHANNELS_LAST = True
# --recipe fast: the switches below at once, tuned on this project's 2-core CPU to reach 85% in under
# 15 minutes (README: "Beyond the notes' model"). Flags given on the command line still win.
RECIPES = {
    "notes": {},
    "fast": {
        "model": "fastnet",
        "epochs": 9,
        "batch_size": 256,
        "lr": 0.2,
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 5e-4,
        "label_smoothing": 0.2,
        "schedule": "onecycle",
        "augment": True,
        "augment_padding": 2,  # a short run learns more from milder shifts
        "normalize": True,
        "tta": True,
    },
}


# --------------------------------------------------------------------------- settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    recipe = parser.add_argument_group("the recipe (defaults are the notes')")
    recipe.add_argument("--epochs", type=positive_int, default=20, help="epochs to train (default: 20)")
    recipe.add_argument("--batch-size", type=positive_int, default=64, help="images per step (default: 64)")
    recipe.add_argument("--lr", type=non_negative_float, default=0.01, help="learning rate (default: 0.01)")
    recipe.add_argument("--momentum", type=non_negative_float, default=0.0, help="SGD momentum (default: 0)")
    recipe.add_argument("--nesterov", action="store_true", help="Nesterov momentum (needs --momentum > 0)")
    recipe.add_argument("--weight-decay", type=non_negative_float, default=0.0, help="L2 weight decay (default: 0)")
    recipe.add_argument("--model", choices=sorted(MODELS), default="mymodel", help="network (default: mymodel)")
    recipe.add_argument("--label-smoothing", type=non_negative_float, default=0.0, help="(default: 0)")
    recipe.add_argument(
        "--schedule",
        choices=["none", "onecycle", "cosine"],
        default="none",
        help="learning-rate schedule: warm-up then decay (default: none, a constant lr)",
    )
    recipe.add_argument("--augment", action="store_true", help="random crop (padded) + horizontal flip")
    recipe.add_argument(
        "--augment-padding",
        type=positive_int,
        default=4,
        help="--augment pads by this many pixels, then crops 32x32 back out (default: 4)",
    )
    recipe.add_argument("--normalize", action="store_true", help="subtract CIFAR-10 channel mean, divide by std")
    recipe.add_argument(
        "--tta", action="store_true", help="final evaluation averages each test image with its mirror image"
    )
    recipe.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default="notes",
        help="a preset: 'fast' turns on fastnet and every switch above at once (flags given still win)",
    )
    recipe.add_argument("--seed", type=int, default=0, help="random seed; same seed + flags = same run (default: 0)")

    add_data_args(parser)
    data = parser.add_argument_group("device and speed")
    data.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto", help="(default: auto)")
    data.add_argument(
        "--workers", type=non_negative_int, default=0, help="DataLoader workers (data is in memory; default: 0)"
    )
    data.add_argument(
        "--compile",
        choices=["auto", "on", "off"],
        default="auto",
        help="torch.compile: auto = on CUDA only, falling back to eager if it fails (default: auto)",
    )
    data.add_argument("--amp", action="store_true", help="mixed precision (bf16) on CUDA")

    output = parser.add_argument_group("output")
    output.add_argument("--logdir", default="logs/train", help="TensorBoard root; runs go in LOGDIR/<run-name>")
    output.add_argument("--checkpoint-dir", default="checkpoints", help="checkpoints go in DIR/<run-name>/")
    output.add_argument("--run-name", help="name of this run (default: the start time, e.g. 20260101-120000)")
    output.add_argument("--log-every", type=positive_int, default=100, help="log the train loss every N steps")
    output.add_argument("--metrics-json", metavar="PATH", help="write the final metrics as JSON here")
    output.add_argument("--resume", metavar="PATH", help="continue from a checkpoint (last.pt or best.pt)")
    output.add_argument(
        "--stop-after", type=positive_int, metavar="N", help="stop after N epochs of this run (resume later)"
    )
    return parser


def explicit_flags(parser: argparse.ArgumentParser, argv) -> set[str]:
    """The settings the command line named itself (so they can override a preset or a checkpoint)."""
    probe = copy.deepcopy(parser)
    for action in probe._actions:
        action.default = argparse.SUPPRESS
    return set(vars(probe.parse_args(argv)))


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    given = explicit_flags(parser, argv)
    for key, value in RECIPES[args.recipe].items():
        if key not in given:
            setattr(args, key, value)
    args.explicit = sorted(given)
    return args


# --------------------------------------------------------------------------- distributed (torchrun)


def setup_distributed(device_name: str) -> tuple[int, int]:
    """(rank, world size); under torchrun this joins the process group (gloo on CPU, nccl on CUDA)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return 0, 1
    use_cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return dist.get_rank(), world_size


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


# --------------------------------------------------------------------------- data on the device


def augment_images(images: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop (reflect-padded by `pad`) and random horizontal flip of a whole uint8 batch at once."""
    n, size = images.shape[0], images.shape[-1]
    # Reflect padding by indexing keeps the data uint8 (4x less memory than padding floats).
    index = torch.arange(-pad, size + pad, device=images.device).abs()
    index = torch.where(index >= size, 2 * (size - 1) - index, index)
    padded = images[:, :, index][:, :, :, index]
    shifts = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator).to(images.device)
    flips = (torch.rand(n, generator=generator) < 0.5).to(images.device)
    out = torch.empty_like(images)
    # One slice per possible (dy, dx): 81 vectorised copies instead of N Python-level crops.
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            chosen = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            if chosen.any():
                out[chosen] = padded[chosen, :, dy : dy + size, dx : dx + size]
    out[flips] = out[flips].flip(-1)
    return out


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The RNG for one epoch's shuffle and augmentation: same seed + epoch = same batches (resume is exact)."""
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def epoch_batches(images, labels, batch_size, generator, rank=0, world_size=1, workers=0):
    """The teaching DataLoader, but over in-memory tensors: each item is a whole batch.

    BatchSampler hands the DataLoader a list of indices, and TensorDataset
    answers a list with a whole batch at once, so no Python work per image.
    Under torchrun every rank gets the same shuffle and takes its slice of each batch.
    """
    sampler = BatchSampler(RandomSampler(range(len(labels)), generator=generator), batch_size, drop_last=False)
    workers = workers if images.device.type == "cpu" else 0  # worker processes cannot index GPU memory
    loader = DataLoader(TensorDataset(images, labels), sampler=sampler, batch_size=None, num_workers=workers)
    for batch_images, batch_labels in loader:
        if world_size > 1:
            batch_images, batch_labels = batch_images[rank::world_size], batch_labels[rank::world_size]
        yield batch_images, batch_labels


# --------------------------------------------------------------------------- model, optimizer, schedule


def lr_factor(schedule: str, step: int, total_steps: int) -> float:
    """Multiplier on --lr at `step`: 'onecycle' warms up linearly over 20% then decays linearly to 0;
    'cosine' warms up over 5% then follows a half cosine to 0."""
    if schedule == "none":
        return 1.0
    progress = step / max(1, total_steps)
    warmup = 0.2 if schedule == "onecycle" else 0.05
    if progress < warmup:
        return 0.1 + 0.9 * progress / warmup
    rest = (progress - warmup) / (1 - warmup)
    return max(0.0, 1 - rest) if schedule == "onecycle" else 0.5 * (1 + math.cos(math.pi * min(1.0, rest)))


def make_training_objects(args, device, steps_per_epoch):
    torch.manual_seed(args.seed)
    model = MODELS[args.model]().to(device)
    if CHANNELS_LAST:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=args.lr,
        momentum=args.momentum,
        nesterov=args.nesterov,
        weight_decay=args.weight_decay,
    )
    total_steps = args.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(args.schedule, step, total_steps))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    return model, optimizer, scheduler, loss_fn


def maybe_compile(model, mode: str, device: torch.device, say):
    """torch.compile where asked (auto: on CUDA); falls back to eager when compiling is impossible."""
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        if mode == "auto":
            say("compile: off (auto compiles on CUDA only; on CPU it did not pay off in bench/train_speed.py)")
        return model, False
    if not hasattr(torch, "compile"):
        say("compile: not available in this torch; running eager")
        return model, False
    return torch.compile(model), True


class CtrlC:
    """The first Ctrl-C asks the run to stop at the next safe point (between two steps), where the
    checkpoint is consistent and no log write is cut in half; a second Ctrl-C stops at once."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def install(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: saving at the end of this step (press again to stop at once)", file=sys.stderr, flush=True)

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def compile_failed(state, error: Exception):
    """--compile auto falls back to eager with one line; --compile on stops with one line."""
    reason = error_summary(error)[:200]
    if state["args"].compile == "on":
        raise UserError(f"torch.compile failed ({reason}); run with --compile off") from None
    print(f"compile: failed ({reason}); running eager instead", flush=True)
    state["compiled"] = False
    return state["eager_model"]


# --------------------------------------------------------------------------- train and test


def train_step(model, optimizer, loss_fn, x, y, autocast) -> torch.Tensor:
    """The notes' step: forward, loss, zero_grad, backward, step. Returns the loss without a host sync."""
    with autocast:
        loss = loss_fn(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def train_one_epoch(state, data, epoch, start_step, say_progress):
    """One pass over the training set; returns (summed batch loss, images seen, seconds)."""
    args, model, optimizer, scheduler, loss_fn = (
        state["args"],
        state["train_model"],
        state["optimizer"],
        state["scheduler"],
        state["loss_fn"],
    )
    model.train()
    generator = epoch_generator(args.seed, epoch)
    images = data["train_images"]
    if args.augment:
        images = augment_images(images, generator, pad=args.augment_padding)
    loss_sum = torch.zeros((), device=data["device"])
    loss_sum += state["partial_loss_sum"]
    seen = 0
    batches = epoch_batches(
        images, data["train_labels"], args.batch_size, generator, data["rank"], data["world"], args.workers
    )
    total_batches = math.ceil(len(data["train_labels"]) / args.batch_size)
    bar = tqdm(
        total=total_batches,
        initial=start_step,
        desc=f"epoch {epoch + 1}/{args.epochs}",
        unit="batch",
        leave=False,
        disable=data["rank"] != 0 or not sys.stderr.isatty(),
        dynamic_ncols=True,
    )
    started = time.perf_counter()
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.amp and data["device"].type == "cuda")
    for step, (batch_images, batch_labels) in enumerate(batches):
        if step < start_step:  # resuming mid-epoch: these batches were trained before the interruption
            continue
        state["ctrl_c"].check()  # between two steps: a safe point to stop and save
        state["step_in_epoch"] = step
        x = to_model_input(batch_images, args.normalize, CHANNELS_LAST)
        try:
            loss = train_step(model, optimizer, loss_fn, x, batch_labels, autocast)
        except Exception as error:  # torch.compile compiles on the first step, and may fail there
            if not state.get("compiled") or state.get("compile_checked"):
                raise
            model = state["train_model"] = compile_failed(state, error)
            loss = train_step(model, optimizer, loss_fn, x, batch_labels, autocast)
        state["compile_checked"] = True
        scheduler.step()
        loss_sum += loss
        seen += len(batch_labels) * data["world"]
        state["global_step"] += 1
        state["step_in_epoch"] = step + 1
        state["partial_loss_sum"] = loss_sum
        bar.update(1)
        if state["global_step"] % args.log_every == 0:  # the only host sync inside the epoch
            current = all_reduce_sum(loss.clone()).item() / data["world"]
            check_finite(current, epoch, step, args)
            rate = seen / (time.perf_counter() - started)
            bar.set_postfix(loss=f"{current:.3f}", img_s=f"{rate:.0f}")
            say_progress(state["global_step"], current, scheduler.get_last_lr()[0])
    bar.close()
    seconds = time.perf_counter() - started
    total = all_reduce_sum(loss_sum.detach().clone()).item() / data["world"]
    check_finite(total, epoch, total_batches - 1, args)
    return total, seen, seconds


def check_finite(value: float, epoch: int, step: int, args) -> None:
    if not math.isfinite(value):
        raise UserError(
            f"the training loss became {value} at epoch {epoch + 1}, step {step + 1}: the learning rate "
            f"is probably too high for this setup; try a lower --lr (it was {args.lr})"
        )


@torch.inference_mode()
def evaluate(model, data, args, tta: bool = False, batch_size: int = 1000):
    """Mean test loss, accuracy and per-class accuracy, in large batches, without gradients.

    tta (test-time augmentation): average the logits of each image and its mirror image.
    """
    model.eval()
    images, labels, device = data["test_images"], data["test_labels"], data["device"]
    shard = slice(data["rank"], None, data["world"])
    images, labels = images[shard], labels[shard]
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    totals = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, count
    per_class = torch.zeros(2, 10, device=device, dtype=torch.float64)  # correct, count
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.amp and device.type == "cuda")
    for start in range(0, len(labels), batch_size):
        x = to_model_input(images[start : start + batch_size], args.normalize, CHANNELS_LAST)
        y = labels[start : start + batch_size]
        with autocast:
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
    class_accuracy = (per_class[0] / per_class[1].clamp(min=1)).tolist()
    return loss_sum / count, correct / count, class_accuracy


# --------------------------------------------------------------------------- checkpoints


def checkpoint_state(state, epoch_done: int, metrics, class_accuracy) -> dict:
    model = state["model"]
    return {
        "format": CHECKPOINT_FORMAT,
        "model_name": state["args"].model,
        "model": model.state_dict(),
        "optimizer": state["optimizer"].state_dict(),
        "scheduler": state["scheduler"].state_dict(),
        "epoch": epoch_done,
        "step_in_epoch": state["step_in_epoch"],
        "partial_loss_sum": float(state["partial_loss_sum"]),
        "global_step": state["global_step"],
        "best_accuracy": state["best_accuracy"],
        "rng": {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        },
        "args": {k: v for k, v in vars(state["args"]).items() if k != "explicit"},
        "metrics": metrics,
        "class_accuracy": class_accuracy,
        "run_name": state["args"].run_name,
    }


# --------------------------------------------------------------------------- TensorBoard extras


def per_class_table(class_accuracy) -> str:
    rows = [f"{name:<11} {100 * acc:6.2f}%" for name, acc in zip(CIFAR10_CLASSES, class_accuracy)]
    return "\n".join(["class        accuracy", *rows])


def labelled_predictions(model, data, args, count: int = 16, columns: int = 8) -> torch.Tensor:
    """A grid of test images with 'pred/true' written under each (green right, red wrong), as (3, H, W)."""
    import numpy as np
    from PIL import Image, ImageDraw

    images, labels = data["test_images"][:count], data["test_labels"][:count]
    model.eval()
    with torch.inference_mode():
        predicted = model(to_model_input(images, args.normalize, CHANNELS_LAST)).argmax(1)
    tile_w, tile_h = 96, 112
    rows = math.ceil(len(labels) / columns)
    sheet = Image.new("RGB", (columns * tile_w, rows * tile_h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (image, label, guess) in enumerate(zip(images.cpu(), labels.tolist(), predicted.tolist())):
        x, y = (i % columns) * tile_w, (i // columns) * tile_h
        picture = Image.fromarray(image.permute(1, 2, 0).numpy()).resize((tile_w - 4, tile_w - 4), Image.NEAREST)
        sheet.paste(picture, (x + 2, y + 2))
        colour = (0, 140, 0) if guess == label else (200, 0, 0)
        draw.text((x + 2, y + tile_w), f"{CIFAR10_CLASSES[guess][:6]}/{CIFAR10_CLASSES[label][:6]}", fill=colour)
    return torch.from_numpy(np.asarray(sheet).copy()).permute(2, 0, 1)


# --------------------------------------------------------------------------- main


def main(argv=None):
    args = parse_args(argv)
    resume_from = None
    if args.resume:
        resume_from = load_checkpoint(args.resume)
        saved = resume_from["args"]
        for key, value in saved.items():  # the run goes on with its own settings, except those named now
            if key in ("resume", "stop_after"):
                continue
            if key not in args.explicit or key in ("model", "seed", "run_name"):
                setattr(args, key, value)
    if args.augment_padding > 31:
        raise UserError(f"--augment-padding must be below the image size of 32 (it was {args.augment_padding})")
    if args.nesterov and args.momentum <= 0:
        raise UserError("--nesterov needs --momentum above 0 (for example --momentum 0.9)")

    rank, world = setup_distributed(args.device)
    device = pick_device(args.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", torch.cuda.current_device())

    def say(message: str) -> None:
        if rank == 0:
            print(message, flush=True)

    run_name = args.run_name or unused_run_name(Path(args.logdir), Path(args.checkpoint_dir))
    args.run_name = run_name
    log_dir = Path(args.logdir) / run_name
    checkpoint_dir = Path(args.checkpoint_dir) / run_name
    if rank == 0:  # fail now rather than after loading the data; create the folders only later
        check_can_create(checkpoint_dir, "--checkpoint-dir")
        check_can_create(log_dir, "--logdir")

    started = time.perf_counter()
    train_images, train_labels = cifar10_tensors(args, train=True)
    test_images, test_labels = cifar10_tensors(args, train=False)
    data = {
        "device": device,
        "rank": rank,
        "world": world,
        "train_images": train_images.to(device),
        "train_labels": train_labels.to(device),
        "test_images": test_images.to(device),
        "test_labels": test_labels.to(device),
    }
    say(
        f"device: {device}{f' x {world} processes' if world > 1 else ''}; "
        f"data: {len(train_labels)} train / {len(test_labels)} test images "
        f"({time.perf_counter() - started:.1f}s to load)"
    )

    if rank == 0:
        ensure_writable_dir(checkpoint_dir, "--checkpoint-dir")
        ensure_writable_dir(log_dir, "--logdir")
    steps_per_epoch = math.ceil(len(train_labels) / args.batch_size)
    model, optimizer, scheduler, loss_fn = make_training_objects(args, device, steps_per_epoch)
    state = {
        "args": args,
        "model": model,
        "optimizer": optimizer,
        "scheduler": scheduler,
        "loss_fn": loss_fn,
        "global_step": 0,
        "step_in_epoch": 0,
        "partial_loss_sum": 0.0,
        "best_accuracy": -1.0,
    }
    metrics = []
    first_epoch = 0
    if resume_from is None and hasattr(model, "whiten_stem"):  # FastNet: its first layer is set from the data
        sample = torch.randperm(len(train_labels), generator=torch.Generator().manual_seed(args.seed))[:5000]
        model.whiten_stem(to_model_input(data["train_images"][sample.to(device)], args.normalize, False))
    if resume_from is not None:
        restore_model(model, resume_from, args.resume)
        optimizer.load_state_dict(resume_from["optimizer"])
        scheduler.load_state_dict(resume_from["scheduler"])
        torch.set_rng_state(resume_from["rng"]["torch"])
        if device.type == "cuda" and resume_from["rng"]["cuda"]:
            torch.cuda.set_rng_state_all(resume_from["rng"]["cuda"])
        first_epoch = resume_from["epoch"]
        metrics = list(resume_from["metrics"])
        for key in ("global_step", "step_in_epoch", "partial_loss_sum", "best_accuracy"):
            state[key] = resume_from[key]
        say(f"resuming run {run_name} from {args.resume}: {first_epoch} epochs done, step {state['step_in_epoch']}")
    if first_epoch >= args.epochs:
        raise UserError(f"the checkpoint has already trained {first_epoch} epochs; pass a larger --epochs to go on")

    train_model = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    state["eager_model"] = train_model
    train_model, compiled = maybe_compile(train_model, args.compile, device, say)
    state["train_model"], state["compiled"] = train_model, compiled

    writer = make_writer(log_dir, purge_step=state["global_step"] or None) if rank == 0 else None
    state["ctrl_c"] = CtrlC().install()
    try:
        if writer is not None and resume_from is None:
            add_graph_quietly(writer, model, to_model_input(data["test_images"][:8], args.normalize, False).to(device))

        def log_progress(step, loss, lr):
            if writer is not None:
                writer.add_scalar("train/loss", loss, step)
                writer.add_scalar("train/lr", lr, step)

        say(
            f"run {run_name}: {args.model}, SGD lr {args.lr} momentum {args.momentum}, batch {args.batch_size}, "
            f"{args.epochs} epochs; logs in {log_dir}, checkpoints in {checkpoint_dir}"
        )
        epoch = first_epoch
        last_class_accuracy = resume_from["class_accuracy"] if resume_from is not None else [0.0] * 10
        try:
            for epoch in range(first_epoch, args.epochs):
                state["ctrl_c"].check()
                if args.stop_after is not None and epoch - first_epoch >= args.stop_after:
                    say(
                        f"stopping after {args.stop_after} epochs as asked; go on with: {resume_command(checkpoint_dir)}"
                    )
                    break
                step_started = time.perf_counter()
                compile_note = compiled and epoch == first_epoch
                loss_sum, seen, seconds = train_one_epoch(state, data, epoch, state["step_in_epoch"], log_progress)
                if compile_note:
                    say(f"compile: the first epoch includes torch.compile's one-time compile ({seconds:.1f}s in all)")
                images_per_sec = seen / seconds
                test_loss, test_accuracy, class_accuracy = evaluate(model, data, args)
                tta_accuracy = None
                if args.tta and epoch + 1 == args.epochs:  # once, at the end: it doubles the cost of a test pass
                    _, tta_accuracy, class_accuracy = evaluate(model, data, args, tta=True)
                done = {
                    "epoch": epoch + 1,
                    "train_loss": loss_sum / steps_per_epoch,
                    "train_loss_sum": loss_sum,
                    "test_loss": test_loss,
                    "test_accuracy": test_accuracy,
                    "train_images_per_sec": images_per_sec,
                    "seconds": time.perf_counter() - step_started,
                    "elapsed_seconds": time.perf_counter() - started,  # since the start, data loading included
                }
                tta_note = ""
                if tta_accuracy is not None:
                    done["test_accuracy_tta"] = tta_accuracy
                    tta_note = f" ({100 * tta_accuracy:.2f}% with --tta)"
                state["step_in_epoch"], state["partial_loss_sum"] = 0, 0.0
                metrics.append(done)
                last_class_accuracy = class_accuracy
                say(
                    f"epoch {epoch + 1}/{args.epochs}  train loss {done['train_loss']:.4f} (sum {loss_sum:.1f})  "
                    f"test loss {test_loss:.4f}  test accuracy {100 * test_accuracy:.2f}%{tta_note}  "
                    f"{images_per_sec:.0f} img/s  {done['seconds']:.1f}s"
                )
                if rank == 0:
                    writer.add_scalar("test/loss", test_loss, epoch + 1)
                    writer.add_scalar("test/accuracy", test_accuracy, epoch + 1)
                    writer.add_scalar("train/images_per_sec", images_per_sec, epoch + 1)
                    writer.add_scalar("train/epoch_loss", done["train_loss"], epoch + 1)
                    improved = test_accuracy > state["best_accuracy"]
                    state["best_accuracy"] = max(state["best_accuracy"], test_accuracy)
                    checkpoint = checkpoint_state(state, epoch + 1, metrics, class_accuracy)
                    atomic_torch_save(checkpoint, checkpoint_dir / "last.pt")
                    if improved:
                        atomic_torch_save(checkpoint, checkpoint_dir / "best.pt")
        except KeyboardInterrupt:
            if rank == 0:
                atomic_torch_save(
                    checkpoint_state(state, len(metrics), metrics, last_class_accuracy), checkpoint_dir / "last.pt"
                )
                print(
                    f"\ninterrupted in epoch {epoch + 1}, step {state['step_in_epoch']}: saved {checkpoint_dir / 'last.pt'}"
                    f"\nresume with: {resume_command(checkpoint_dir)}",
                    file=sys.stderr,
                )
            raise

        finished = len(metrics) == args.epochs
        if metrics and rank == 0:
            final = metrics[-1]
            class_accuracy = last_class_accuracy
            table = per_class_table(class_accuracy)
            tta_note = f", {100 * final['test_accuracy_tta']:.2f}% with --tta" if "test_accuracy_tta" in final else ""
            print(f"\ntest accuracy {100 * final['test_accuracy']:.2f}%{tta_note} after {final['epoch']} epochs")
            print(table)
            writer.add_text("test/per_class_accuracy", "    " + table.replace("\n", "\n    "), final["epoch"])
            writer.add_image("test/predictions", labelled_predictions(model, data, args), final["epoch"])
            if finished:
                hparams = {
                    k: getattr(args, k)
                    for k in ("model", "epochs", "batch_size", "lr", "momentum", "weight_decay", "schedule", "seed")
                }
                hparams.update(augment=args.augment, normalize=args.normalize, label_smoothing=args.label_smoothing)
                writer.add_hparams(
                    hparams,
                    {
                        "hparam/test_accuracy": final["test_accuracy"],
                        "hparam/test_accuracy_tta": final.get("test_accuracy_tta", final["test_accuracy"]),
                        "hparam/test_loss": final["test_loss"],
                    },
                    run_name=".",
                )
            total_seconds = time.perf_counter() - started
            if args.metrics_json:
                summary = {
                    "epochs": final["epoch"],
                    "train_loss": final["train_loss"],
                    "train_loss_sum": final["train_loss_sum"],
                    "test_loss": final["test_loss"],
                    "test_accuracy": final["test_accuracy"],
                    "test_accuracy_tta": final.get("test_accuracy_tta"),
                    "per_class_accuracy": dict(zip(CIFAR10_CLASSES, class_accuracy)),
                    "seconds": total_seconds,
                    "train_images_per_sec": sum(m["train_images_per_sec"] for m in metrics) / len(metrics),
                    "device": str(device),
                    "world_size": world,
                    "run_name": run_name,
                    "history": metrics,
                }
                write_json(args.metrics_json, summary)
            print(f"done in {total_seconds:.1f}s; best checkpoint: {checkpoint_dir / 'best.pt'}")
            print(f"see it in TensorBoard: tensorboard --logdir {args.logdir}")
    finally:  # also on errors and Ctrl-C, so nothing logged is lost
        state["ctrl_c"].restore()
        if writer is not None:
            writer.close()
    if world > 1:
        dist.destroy_process_group()


def unused_run_name(logdir: Path, checkpoint_dir: Path) -> str:
    """The start time (20260101-120000), with -2, -3 ... added if a run of that name exists."""
    base = name = datetime.now().strftime("%Y%m%d-%H%M%S")
    counter = 1
    while (logdir / name).exists() or (checkpoint_dir / name).exists():
        counter += 1
        name = f"{base}-{counter}"
    return name


def resume_command(checkpoint_dir: Path) -> str:
    return f"python 10_train_cifar10.py --resume {checkpoint_dir / 'last.pt'}"


def write_json(path: str, payload: dict) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n")
    except OSError as error:
        raise UserError(f"cannot write --metrics-json {path} ({error.strerror or error})") from None


if __name__ == "__main__":
    run_main(main)
