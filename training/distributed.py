"""torchrun: joining the process group, summing across processes, and leaving it cleanly.

Under `torchrun --nproc_per_node=N` every process trains its share of each batch with
DistributedDataParallel (gloo on a CPU, nccl on CUDA); only rank 0 prints, logs and saves.
"""

from __future__ import annotations

import contextlib
import os

import torch
import torch.distributed as dist

from training.errors import UserError


def setup(device_name: str) -> tuple[int, int]:
    """(rank, world size); under torchrun this joins the process group."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return 0, 1
    use_cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return dist.get_rank(), world_size


def check_batch_size(batch_size: int, world_size: int) -> None:
    """Every process trains its own slice of each batch: a batch smaller than the process count leaves
    some processes without an image (every step would be skipped)."""
    if batch_size < world_size:
        raise UserError(
            f"--batch-size {batch_size} is smaller than the {world_size} processes: each needs at least one image "
            f"per step; use --batch-size {world_size} or more, or fewer processes"
        )


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    if active():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def any_rank(flag: bool, device) -> bool:
    """True when `flag` is true in any process (so all of them stop at the same step)."""
    if not active():
        return flag
    return bool(all_reduce_sum(torch.tensor([float(flag)], device=device)).item())


def shutdown(finished_cleanly: bool) -> None:
    """Leave the process group. After a clean run every rank first waits for the others (rank 0 still
    writes its last logs and checkpoint), so no process exits while a peer still talks to it."""
    if not active():
        return
    if finished_cleanly:
        dist.barrier()
    dist.destroy_process_group()


def mean(tensor: torch.Tensor) -> float:
    """The mean of a scalar over all processes, as a Python number (a host sync)."""
    return all_reduce_sum(tensor.detach().clone().float()).item() / (dist.get_world_size() if active() else 1)


@contextlib.contextmanager
def processes(device_name: str):
    """Join the process group under torchrun for a `with` block (yields rank, world size) and leave it
    cleanly on every path: after an error no barrier, since a peer may never reach it."""
    rank, world = setup(device_name)
    try:
        yield rank, world
    except BaseException:
        shutdown(finished_cleanly=False)
        raise
    shutdown(finished_cleanly=True)
