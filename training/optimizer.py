"""The optimizer and every step's learning rate: the notes' SGD over the model's parameters, in groups where
a switch treats some apart (--bn-bias-lr, --stem-bias-epochs); each step's lr is --lr x the --schedule x the
group's scale."""

from __future__ import annotations

import math

import torch
from torch import nn

from training.models import FastNet
from training.muon import SGDMuon

SCHEDULES = ("none", "onecycle", "cosine")


def freeze_batchnorm_scales(model: nn.Module) -> None:
    """--bn-bias-lr, its first half: every BatchNorm2d's scale (weight) stays at its start, 1; it no longer
    trains (param_groups then leaves it out, and puts the biases in a group of their own)."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.weight.requires_grad_(False)


def param_groups(model: nn.Module, settings) -> list[dict]:
    """The notes' `model.parameters()` (those that train), split where a switch treats some apart. The model
    is left as it is.

    --bn-bias-lr X: every BatchNorm2d's bias trains at X times --lr (with weight decay divided by X, so that
    the decay per step stays the same).
    FastNet's whitening stem bias gets a group of its own, which stops at epoch --stem-bias-epochs
    (`frozen_from_epoch`; None: never).
    --muon LR: the trained convolution filters (4-D weights) in a group of their own, marked `muon`, which
    SGDMuon steps with Muon at LR x the schedule instead of --lr.
    Each group carries `lr_scale`, its multiplier on --lr (see set_learning_rates), and a `name` for whoever
    reads a checkpoint's optimizer state.
    """
    bn_biases = [m.bias for m in model.modules() if isinstance(m, nn.BatchNorm2d)] if settings.bn_bias_lr else []
    stem_bias = [model.stem.bias] if isinstance(model, FastNet) else []
    filters = [p for p in model.parameters() if p.requires_grad and p.dim() == 4] if settings.muon else []
    apart = {id(p) for p in bn_biases + stem_bias + filters}
    weights = [p for p in model.parameters() if p.requires_grad and id(p) not in apart]
    groups = [{"params": weights, "name": "weights", "lr_scale": 1.0}]
    if filters:
        groups.append({"params": filters, "name": "filters (Muon)", "muon": True, "lr_scale": 1.0, "weight_decay": 0})
    if bn_biases:
        decay = settings.weight_decay / settings.bn_bias_lr
        groups.append(
            {"params": bn_biases, "name": "batchnorm biases", "lr_scale": settings.bn_bias_lr, "weight_decay": decay}
        )
    if stem_bias:
        stop = settings.stem_bias_epochs or None
        groups.append({"params": stem_bias, "name": "stem bias", "lr_scale": 1.0, "frozen_from_epoch": stop})
    return groups


def make_optimizer(model: nn.Module, settings) -> torch.optim.SGD:
    """The notes' `torch.optim.SGD(model.parameters(), lr=0.01)` with the run's --lr, --momentum, --nesterov and
    --weight-decay, over param_groups (SGDMuon with --muon: Muon for the filters, SGD for the rest). The lr
    given here is only a start: set_learning_rates sets every group's lr before each step."""
    return (SGDMuon if settings.muon else torch.optim.SGD)(
        param_groups(model, settings),
        lr=settings.lr,
        momentum=settings.momentum,
        nesterov=settings.nesterov,
        weight_decay=settings.weight_decay,
    )


def set_learning_rates(optimizer: torch.optim.Optimizer, settings, step: int, total_steps: int, epoch: int) -> None:
    """Every group's lr for this step: --lr (--muon for the Muon group) x lr_factor(--schedule) x the group's
    lr_scale; 0 once the group's
    frozen_from_epoch has come (the stem bias after --stem-bias-epochs: with lr 0, momentum and weight decay
    cannot move it either)."""
    factor = lr_factor(settings.schedule, step, total_steps)
    for group in optimizer.param_groups:
        frozen_from = group.get("frozen_from_epoch")
        frozen = frozen_from is not None and epoch >= frozen_from
        base = settings.muon if group.get("muon") else settings.lr
        group["lr"] = 0.0 if frozen else base * factor * group.get("lr_scale", 1.0)


def lr_factor(schedule: str, step: int, total_steps: int) -> float:
    """--schedule: the multiplier on --lr at `step`. 'onecycle' warms up linearly over 20% of the steps, then
    decays linearly to 0; 'cosine' warms up over 5%, then follows a half cosine to 0; 'none' keeps --lr."""
    if schedule == "none":
        return 1.0
    progress = step / max(1, total_steps)
    warmup = 0.2 if schedule == "onecycle" else 0.05
    if progress < warmup:
        return 0.1 + 0.9 * progress / warmup
    rest = (progress - warmup) / (1 - warmup)
    return max(0.0, 1 - rest) if schedule == "onecycle" else 0.5 * (1 + math.cos(math.pi * min(1.0, rest)))


def stop_frozen_gradients(optimizer: torch.optim.Optimizer, epoch: int) -> None:
    """A group past its frozen_from_epoch needs no gradient, and without one autograd skips work: for FastNet's
    stem bias (--stem-bias-epochs), the first convolution's gradient with respect to its input, ~6% of a
    fastnet-cpu step (bench/profile_step.py). Not under torchrun: DDP expects a gradient for every parameter
    it was given."""
    for group in optimizer.param_groups:
        frozen_from = group.get("frozen_from_epoch")
        if frozen_from is not None:
            for parameter in group["params"]:
                parameter.requires_grad_(epoch < frozen_from)
