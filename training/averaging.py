"""--ema DECAY: an exponential moving average of the weights, which is what the tests evaluate.

Late in training the weights jitter around a good point from one step to the next; their running
average sits nearer its middle (the airbench family uses lookahead, a close cousin). The average is
kept in a second copy of the model that never trains: BatchNorm's running statistics are averaged too.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def float_state(model: nn.Module) -> list[torch.Tensor]:
    """The model's weights and float buffers (BatchNorm's running statistics), not its integer counters."""
    return [t for t in model.state_dict().values() if t.is_floating_point()]


class WeightAverage:
    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """average <- average + (1 - d) (weights - average), where d = min(--ema, (1 + n) / (10 + n)) after
        n updates: small at first (2/11 on the first), so that the starting weights are soon forgotten."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        averaged, current = float_state(self.model), float_state(model)
        torch._foreach_lerp_(averaged, current, 1 - decay)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, saved: dict) -> None:
        self.model.load_state_dict(saved["model"])
        self.updates = saved["updates"]


class Lookahead:
    """--lookahead K: every K steps the trained weights take a step back toward a slow copy of themselves
    (Zhang et al., 2019, "Lookahead Optimizer: k steps forward, 1 step back"), with airbench94's schedule
    (legacy/airbench94.py in github.com/KellerJordan/cifar10-airbench): slow <- slow + (1 - d) (weights -
    slow), then weights <- slow, where d = 0.95^K x progress^3 grows from 0 (no pull at all at first) to
    0.95^K at the end, and the last step hands the model the slow weights. BatchNorm's running statistics
    take part too; airbench pairs it with fast BatchNorm statistics (--bn-momentum 0.4), which its ablation
    found lookahead needs."""

    def __init__(self, model: nn.Module, every: int):
        self.every = every
        self.restart(model)

    def restart(self, model: nn.Module) -> None:
        """The slow copy = the model's weights now (a new run, or --lookahead turned on when resuming)."""
        self.slow = [t.detach().clone() for t in float_state(model)]

    @torch.no_grad()
    def update(self, model: nn.Module, step: int, total_steps: int) -> None:
        """After training step number `step` (from 1) of `total_steps`: a sync every K steps and at the end."""
        if step % self.every and step < total_steps:
            return
        decay = 1.0 if step >= total_steps else 0.95**self.every * (step / total_steps) ** 3
        current = float_state(model)
        torch._foreach_lerp_(self.slow, current, 1 - decay)
        torch._foreach_copy_(current, self.slow)

    def state_dict(self) -> dict:
        return {"slow": self.slow}

    def load_state_dict(self, saved: dict) -> None:
        torch._foreach_copy_(self.slow, saved["slow"])
