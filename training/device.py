"""Where the run trains (cuda, mps or cpu), and what speeds it up there: bf16 autocast (--amp: CUDA, and CPUs
with native bf16 such as Intel's AMX) and torch.compile (--compile), which falls back to eager if it fails.
The model and every batch are always in channels_last (NHWC) memory, for faster convolutions on CPU and
CUDA (bench/train_speed.py); there is no flag for it: 10_train_cifar10.py asks for it where it makes them."""

from __future__ import annotations

import contextlib
import functools
import time
from pathlib import Path

import torch

from training.errors import UserError, error_summary


def pick_device(name: str = "auto", rank: int = 0, world: int = 1) -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit choice must be available."""
    cuda_ok, mps_ok = torch.cuda.is_available(), mps_available()
    if name == "cuda" and not cuda_ok:
        raise UserError("--device cuda was asked for, but CUDA is not available here; use --device cpu or auto")
    if name == "mps" and not mps_ok:
        raise UserError("--device mps was asked for, but MPS is not available here; use --device cpu or auto")
    if name == "auto":
        name = auto_device_name()
    if name == "cuda" and world > 1:
        return torch.device("cuda", torch.cuda.current_device())  # torchrun: this process's own GPU
    return torch.device(name)


def mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def auto_device_name() -> str:
    """--device auto: cuda, then mps, then cpu."""
    return "cuda" if torch.cuda.is_available() else "mps" if mps_available() else "cpu"


def bf16_is_native(device: str = "auto") -> bool:
    """Whether --device `device` computes bf16 natively (CUDA, or a CPU with AVX512-BF16 or AMX): where --amp
    trains in bf16 (measured twice as fast as float32 on such CPUs: bench/README.md)."""
    name = auto_device_name() if device == "auto" else device
    return name == "cuda" or (name == "cpu" and cpu_has_bf16())


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX): only then does --amp pay off on it.
    On Linux the CPU's own flags decide (oneDNN's check also says yes for AVX-512 CPUs that only emulate
    bf16, where it trains slower than float32); elsewhere oneDNN's check."""
    if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return True
    return "avx512_bf16" in flags or "amx_bf16" in flags


def amp_active(amp: bool, device: torch.device) -> bool:
    return amp and bf16_is_native(device.type)


def autocast(amp: bool, device: torch.device):
    """bf16 mixed precision where asked and native (CUDA, bf16 CPUs); elsewhere a context that does nothing.
    Convolutions and Linear layers run in bf16; the loss, BatchNorm statistics and the weights stay float32."""
    if amp_active(amp, device):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def amp_note(amp: bool, device: torch.device) -> str | None:
    if amp and not amp_active(amp, device):
        where = "this CPU has no native bf16 (AVX512-BF16/AMX)" if device.type == "cpu" else f"on {device.type}"
        return f"--amp: mixed precision does nothing here ({where}); training stays float32"
    if amp:
        native = " (native on this CPU: AVX512-BF16 or AMX)" if device.type == "cpu" else ""
        return f"--amp: bf16 mixed precision on {device.type}{native}"
    return None


def maybe_compile(model, mode: str, device: torch.device, example_x, example_y, loss_fn):
    """torch.compile where asked (auto: on CUDA only) and compile right away on one example step, so that
    a failure shows now: 'auto' then runs eager, 'on' stops with one line. Returns (model, note)."""
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        reason = "auto compiles on CUDA only; on a CPU it did not pay off in bench/train_speed.py"
        return model, f"compile: off ({reason})" if mode == "auto" else "compile: off"
    started = time.perf_counter()
    buffers = {name: buffer.clone() for name, buffer in model.named_buffers()}  # BatchNorm statistics
    try:
        compiled = torch.compile(model)
        loss_fn(compiled(example_x), example_y).backward()  # compiles forward and backward
    except Exception as error:
        reason = error_summary(error)[:200]
        if mode == "on":
            raise UserError(f"torch.compile failed ({reason}); run with --compile off") from None
        return model, f"compile: failed ({reason}); running eager instead"
    finally:  # the example step must leave no trace: no gradients, the BatchNorm statistics as they were
        model.zero_grad(set_to_none=True)
        with torch.no_grad():
            for name, buffer in model.named_buffers():
                buffer.copy_(buffers[name])
    return compiled, f"compile: on ({time.perf_counter() - started:.1f}s to compile, before the first epoch)"
