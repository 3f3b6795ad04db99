"""The optimizer's parameter groups, and each step's learning rates: the airbench ideas about which
parameters learn how fast (--bn-bias-lr, --stem-bias-epochs) live here."""

from __future__ import annotations

import torch
from torch import nn

from training.models import FastNet
from training.recipes import lr_factor


def param_groups(model: nn.Module, settings) -> list[dict]:
    """The notes' `model.parameters()`, split where a switch treats some parameters apart.

    --bn-bias-lr X: every BatchNorm2d keeps its scale frozen at 1 and trains its bias at X times --lr
    (with weight decay divided by X, so that the decay per step stays the same).
    FastNet's whitening stem bias gets a group of its own, so that --stem-bias-epochs can stop it.
    Each group carries `lr_scale`, its multiplier on --lr (see set_learning_rates).
    """
    bn_biases = []
    if settings.bn_bias_lr:
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.requires_grad_(False)
                bn_biases.append(module.bias)
    stem_bias = [model.stem.bias] if isinstance(model, FastNet) else []
    apart = {id(p) for p in bn_biases + stem_bias}
    weights = [p for p in model.parameters() if p.requires_grad and id(p) not in apart]
    groups = [{"params": weights, "name": "weights", "lr_scale": 1.0}]
    if bn_biases:
        decay = settings.weight_decay / settings.bn_bias_lr
        groups.append({"params": bn_biases, "name": "batchnorm biases", "lr_scale": settings.bn_bias_lr})
        groups[-1]["weight_decay"] = decay
    if stem_bias:
        groups.append({"params": stem_bias, "name": "stem bias", "lr_scale": 1.0})
    return groups


def make_optimizer(model: nn.Module, settings) -> torch.optim.SGD:
    """The SGD of 10_train_cifar10.py for `settings` (the benchmarks build theirs here; 10 writes it out)."""
    return torch.optim.SGD(
        param_groups(model, settings),
        lr=settings.lr,
        momentum=settings.momentum,
        nesterov=settings.nesterov,
        weight_decay=settings.weight_decay,
    )


def set_learning_rates(optimizer: torch.optim.Optimizer, settings, step: int, total_steps: int, epoch: int) -> None:
    """Every group's lr for this step: --lr x the schedule x the group's lr_scale. The stem bias stops
    (lr 0: momentum and weight decay cannot move it either) once --stem-bias-epochs have passed."""
    factor = lr_factor(settings.schedule, step, total_steps)
    for group in optimizer.param_groups:
        frozen = group.get("name") == "stem bias" and 0 < settings.stem_bias_epochs <= epoch
        group["lr"] = 0.0 if frozen else settings.lr * factor * group.get("lr_scale", 1.0)
