"""Where one training step's time goes on the CPU: torch.profiler over 10_train_cifar10.py's step.

Builds the --recipe's model, optimizer (SGD, with Muon for the filters under --muon; its parameter
groups), loss and --amp as the training tool does. Each step first makes its batch as the tool does
(the 'data' group): a random batch taken by index from a uint8 tensor of 50,000 images, cropped and
mirrored (--augment; the tool does this for a whole epoch at once, the same work per image), turned into
the model's input (float, normalized, channels_last) and, with --size below 32, resized as a
--resize-epochs epoch does. 3 warm-up steps, then --steps more profiled. Every op's self CPU time (its
own time, less that of the ops it calls) goes to 'data' or 'optimizer step' when it runs inside them,
else to the first group that its name, or the name of the nearest op around it, matches; so nothing
is counted twice and the groups add up to the profiled total. Prints the groups (ms per step, % of the total), the total
and images/s, the process's peak memory, then the 8 ops with the most self time (with the convolutions' input shapes).
'other' is mostly Python between the ops; with --compile on it also holds the code that inductor
fuses ('## Call CompiledFxGraph ...'): only the ops it calls out to (convolutions, matmuls) keep
their groups.

    python bench/profile_step.py                          # --recipe fast: fastnet-wide, batch 256, amp
    python bench/profile_step.py --recipe notes           # MyModel, batch 64, SGD lr 0.01
    python bench/profile_step.py --threads 1 --no-amp --steps 10
    python bench/profile_step.py --size 16                # a --resize-epochs epoch's step at 16x16
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KINETO_LOG_LEVEL", "5")  # read as torch loads: no "gpuGetDeviceCount failed" on a CPU
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.profiler import ProfilerActivity, profile, record_function  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.train_speed import peak_memory_mb  # noqa: E402
from training.augment import augment_images, resize_batch  # noqa: E402
from training.data import to_model_input  # noqa: E402
from training.device import amp_active, autocast, maybe_compile  # noqa: E402
from training.errors import run_main  # noqa: E402
from training.models import MODELS  # noqa: E402
from training.optimizer import freeze_batchnorm_scales, make_optimizer, stop_frozen_gradients  # noqa: E402
from training.recipes import RECIPES  # noqa: E402
from training.settings import layer_settings, positive_int  # noqa: E402

STEP = "profile_step: one step"  # the record_function around each profiled step
DATA = "profile_step: data"  # the record_function around making the batch
WARM_UP_STEPS = 3
# (group, name fragments), tried in order on an op's lower-cased name: the first match wins.
GROUPS = (
    ("convolution backward", ("convolution_backward", "convolutionbackward")),
    ("convolution forward", ("mkldnn_convolution", "convolution", "conv2d")),
    ("BatchNorm (fwd+bwd)", ("batch_norm", "batchnorm")),
    ("ReLU (fwd+bwd)", ("threshold_backward", "relu", "clamp_min")),
    ("max pooling (fwd+bwd)", ("max_pool", "maxpool")),
    ("loss", ("cross_entropy", "log_softmax", "logsoftmax", "nll_loss", "nllloss")),
    ("optimizer step", ("optimizer.", "_foreach", "sgd")),
    ("conversions / copies", ("_to_copy", "tocopy", "copy_")),
    ("linear / matmul", ("addmm", "mm", "linear", "matmul")),
)
# Ops inside these count for them, whatever they are (Muon's matrix products are the optimizer's).
CONTAINERS = {DATA: "data (index, augment, to float, resize)"}
OPTIMIZER = "optimizer step"
OTHER = "other"
CONVERSIONS = "conversions / copies"
EXACT = {"aten::to": CONVERSIONS}  # the cast's wrapper: its child aten::_to_copy matches anyway


def own_group(name: str) -> str | None:
    if name in EXACT:
        return EXACT[name]
    lowered = name.lower()
    return next((group for group, fragments in GROUPS if any(f in lowered for f in fragments)), None)


def group_of(event) -> str:
    """'data' or the optimizer where the op runs inside them; else the group of the op's own name, else of the
    nearest enclosing op's, else 'other'."""
    outer = event
    while outer is not None and outer.name != STEP:
        if outer.name in CONTAINERS:
            return CONTAINERS[outer.name]
        if outer.name.lower().startswith("optimizer.step"):
            return OPTIMIZER
        outer = outer.cpu_parent
    while event is not None and event.name != STEP:
        if group := own_group(event.name):
            return group
        event = event.cpu_parent
    return OTHER


def shapes_text(shapes) -> str:
    return ", ".join("x".join(map(str, shape)) for shape in shapes if shape)[:60]


def main():
    # Flags not given stay out of `args` (SUPPRESS): layer_settings puts the recipe's and the notes' values there.
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, argument_default=argparse.SUPPRESS
    )
    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default="fast",
        help="model, batch size, SGD settings, loss and --amp as 10_train_cifar10.py --recipe NAME (default: fast)",
    )
    parser.add_argument("--model", choices=sorted(MODELS), help="the network (default: the recipe's)")
    parser.add_argument("--batch-size", type=positive_int, help="images per step (default: the recipe's)")
    parser.add_argument(
        "--muon", type=float, metavar="LR", help="Muon for the filters at this lr (default: the recipe's)"
    )
    parser.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        help="bf16 autocast, where this CPU computes bf16 natively (default: the recipe's)",
    )
    parser.add_argument(
        "--compile",
        choices=["on", "off"],
        default="off",
        help="on: torch.compile the model and warm it up before profiling (default: off)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch.set_num_threads(N) (default: torch's, usually the cores)",
    )
    parser.add_argument(
        "--size", type=positive_int, default=32, help="the side of the images the model sees (default: 32)"
    )
    parser.add_argument(
        "--steps", type=positive_int, default=5, help=f"steps profiled, after {WARM_UP_STEPS} warm-up steps (default 5)"
    )
    args = parser.parse_args()

    settings = layer_settings(vars(args))  # the notes' defaults < --recipe < the flags given, as in 10_train_cifar10.py
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    amp = "on (bf16 autocast)" if amp_active(settings.amp, device) else "off"
    if settings.amp and not amp_active(settings.amp, device):
        amp = "off (asked for, but this CPU has no native bf16)"
    optimizer_name = f"SGD + Muon lr {settings.muon:g} (filters)" if settings.muon else "SGD"
    print(
        f"threads: {torch.get_num_threads()}, amp: {amp}, model: {settings.model}, batch: {settings.batch_size}, "
        f"images {args.size}x{args.size}, optimizer: {optimizer_name}"
    )

    # 10_train_cifar10.py's model, loss and optimizer; one random batch in the model's input form
    torch.manual_seed(0)
    model = MODELS[settings.model]().to(device, memory_format=torch.channels_last)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
    if settings.bn_bias_lr:  # as 10_train_cifar10.py: BatchNorm's scales stay at 1
        freeze_batchnorm_scales(model)
    optimizer = make_optimizer(model, settings)
    stop_frozen_gradients(optimizer, settings.epochs - 1)  # a step of the last epoch, as most of them (stem bias)
    cached = torch.randint(0, 256, (50_000, 3, 32, 32), dtype=torch.uint8)  # the tool's decoded training set
    generator = torch.Generator().manual_seed(0)

    def batch():  # what the tool does to each batch's images before the model sees them
        with record_function(DATA):
            images = cached[torch.randint(0, len(cached), (settings.batch_size,), generator=generator)]
            if settings.augment:
                images = augment_images(images, generator, settings.augment_padding)
            return resize_batch(to_model_input(images, settings.normalize, channels_last=True), args.size)

    x, y = batch(), torch.randint(0, 10, (settings.batch_size,))
    train_model, note = maybe_compile(model, settings.compile, device, x, y, loss_fn)
    print(f"{note}; {args.steps} profiled step{'s' if args.steps > 1 else ''} after {WARM_UP_STEPS} warm-up steps")

    def step():  # the training loop's step
        img = batch()
        with autocast(settings.amp, device):
            loss = loss_fn(train_model(img), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(WARM_UP_STEPS):
        step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        started = time.perf_counter()
        for _ in range(args.steps):
            with record_function(STEP):
                step()
        wall_ms = (time.perf_counter() - started) * 1000 / args.steps

    events = prof.events()
    total_ms = sum(e.cpu_time_total for e in events if e.name == STEP) / 1000 / args.steps
    groups = {group: 0.0 for group, _ in GROUPS} | {group: 0.0 for group in CONTAINERS.values()}
    groups[OTHER] = 0.0
    for event in events:  # the step's own self time is Python between the ops: 'other'
        groups[group_of(event)] += event.self_cpu_time_total / 1000 / args.steps
    order = ["convolution forward", "convolution backward", "BatchNorm (fwd+bwd)", "ReLU (fwd+bwd)"]
    order += ["max pooling (fwd+bwd)", "linear / matmul", "loss", OPTIMIZER, *CONTAINERS.values(), CONVERSIONS, OTHER]

    print("\nwhere the time goes (self CPU time per step)")
    print(f"{'group':<24}{'ms/step':>10}{'%':>8}")
    for group in order:
        print(f"{group:<24}{groups[group]:10.3f}{100 * groups[group] / total_ms:7.1f}%")
    print(f"{'total':<24}{total_ms:10.3f}{100.0:7.1f}%")
    grouped = sum(groups.values())
    print(
        f"profiled total per step: {total_ms:.3f} ms, {settings.batch_size / total_ms * 1000:.0f} images/s "
        f"(wall {wall_ms:.3f} ms per step with the profiler on)"
    )
    print(f"peak memory: {peak_memory_mb(device)}")
    if abs(grouped - total_ms) > 0.02 * total_ms:
        print(f"note: the groups add up to {grouped:.3f} ms, not the total: some ops ran outside the step")

    print("\ntop 8 ops by self CPU time (per step)")
    print(f"{'op':<44}{'ms/step':>10}{'%':>8}{'calls':>7}  input shapes (convolutions)")
    ops = [e for e in prof.key_averages(group_by_input_shape=True) if e.key != STEP]
    for op in sorted(ops, key=lambda e: e.self_cpu_time_total, reverse=True)[:8]:
        ms = op.self_cpu_time_total / 1000 / args.steps
        shapes = shapes_text(op.input_shapes) if own_group(op.key) and "convolution" in own_group(op.key) else ""
        calls = op.count / args.steps
        print(f"{op.key[:43]:<44}{ms:10.3f}{100 * ms / total_ms:7.1f}%{calls:7.0f}  {shapes}")


if __name__ == "__main__":
    run_main(main)
