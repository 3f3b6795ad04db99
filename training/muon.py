"""--muon LR: Muon for the convolution filters, the notes' SGD for every other parameter.

Muon ("MomentUm Orthogonalized by Newton-Schulz", Keller Jordan, 2024: kellerjordan.github.io/posts/muon;
airbench94_muon.py in github.com/KellerJordan/cifar10-airbench reaches airbench94's 94% in 8 epochs
instead of 10) steps each filter tensor along its Nesterov momentum made orthogonal: reshaped to a matrix
(out_channels x in_channels*k*k), the update keeps its directions but has every singular value near 1, so
the few directions a gradient is dominated by no longer crowd out the rest. Each filter tensor is first
scaled back to norm sqrt(out_channels): the BatchNorm after every FastNet convolution makes the filters'
scale irrelevant to the output, and a fixed scale gives the lr a fixed meaning (a rotation per step).
"""

from __future__ import annotations

import torch

from training.device import amp_active

MUON_MOMENTUM = 0.6  # airbench94_muon's
NEWTON_SCHULZ_STEPS = 3  # airbench94_muon's


def orthogonalize(matrix: torch.Tensor, steps: int = NEWTON_SCHULZ_STEPS) -> torch.Tensor:
    """About U V^T of the matrix U S V^T, by the quintic Newton-Schulz iteration of airbench94_muon (its
    coefficients push small singular values up fast; the result's singular values land in roughly
    0.5..1.5 rather than exactly 1, which trains as well). In bf16 where the device computes it natively
    (airbench94_muon's choice; on a 2-core AMD EPYC with AVX512-BF16 it halves the cost, which is still
    ~10% of a fastnet-cpu step at batch 256), else float32."""
    a, b, c = 3.4445, -4.7750, 2.0315
    x = matrix.to(torch.bfloat16 if native_bf16(matrix.device) else torch.float32)
    x = x / (x.norm() + 1e-7)  # every singular value <= 1, where the iteration converges
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def native_bf16(device: torch.device) -> bool:
    return amp_active(True, device)


class SGDMuon(torch.optim.SGD):
    """torch.optim.SGD whose param groups marked `muon=True` take Muon's step instead (no weight decay
    there: the filters' norm is reset every step anyway). The rest is SGD's own step, untouched; the
    momentum of both is in the optimizer's state, so checkpoints and --resume keep it."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            if not group.get("muon"):
                continue
            for weight in group["params"]:
                if weight.grad is None:
                    continue
                state = self.state[weight]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(weight.grad)
                buffer = state["momentum_buffer"]
                buffer.mul_(MUON_MOMENTUM).add_(weight.grad)
                direction = weight.grad.add(buffer, alpha=MUON_MOMENTUM)  # Nesterov
                weight.mul_(len(weight) ** 0.5 / weight.norm())
                update = orthogonalize(direction.reshape(len(weight), -1)).view(weight.shape)
                weight.add_(update.to(weight.dtype), alpha=-group["lr"])
                weight.grad = None  # done: SGD's step below skips a parameter without a gradient
        return super().step(closure)
