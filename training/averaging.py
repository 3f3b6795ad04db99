"""--ema DECAY: an exponential moving average of the weights, which is what the tests evaluate.

Late in training the weights jitter around a good point from one step to the next; their running
average sits nearer its middle (the airbench family uses lookahead, a close cousin). The average is
kept in a second copy of the model that never trains: BatchNorm's running statistics are averaged too.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


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
        averaged = [t for t in self.model.state_dict().values() if t.is_floating_point()]
        current = [t for t in model.state_dict().values() if t.is_floating_point()]
        torch._foreach_lerp_(averaged, current, 1 - decay)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, saved: dict) -> None:
        self.model.load_state_dict(saved["model"])
        self.updates = saved["updates"]
