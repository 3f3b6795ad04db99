"""Training speed: the notes' loop against 10_train_cifar10.py's step, side by side in one process.

  reference  Dataset -> PIL -> ToTensor per image -> DataLoader(batch_size=64, num_workers=0)
             -> eager MyModel + SGD(lr=0.01)                      (the notes' loop, exactly)
  project    one decoded uint8 tensor -> batches by index -> float on the device,
             channels_last, torch.compile per --compile, the same MyModel + SGD

Both train the same number of images after a warm-up; the two are timed in
alternating rounds so that a noisy machine slows both alike. Prints images/s
for each, the ratio, the compile time and the peak memory; the last line is
`speedup X.XXx`.

    python bench/train_speed.py --fake-data
    python bench/train_speed.py --image-folder ../shared/data/cifar10 --images 6400
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nn_CIFAR10 import MyModel  # noqa: E402
from training.augment import epoch_batches, epoch_generator  # noqa: E402
from training.cli import add_data_flags, positive_int, run_main  # noqa: E402
from training.data import cifar10_tensors, pil_dataset, to_model_input  # noqa: E402
from training.device import CHANNELS_LAST, autocast, maybe_compile, pick_device  # noqa: E402


def reference_batches(args):
    """The notes' input pipeline, endlessly: PIL image -> ToTensor, one image at a time."""
    dataset = pil_dataset(args, train=True, transform=transforms.ToTensor())
    while True:
        yield from DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=0)


def project_batches(args, device):
    """10_train_cifar10.py's input pipeline, endlessly: indexed batches of the on-device uint8 tensor."""
    images, labels = cifar10_tensors(args, train=True)
    images, labels = images.to(device), labels.to(device)
    epoch = 0
    while True:
        generator = epoch_generator(0, epoch)
        for batch_images, batch_labels in epoch_batches(images, labels, args.batch_size, generator):
            yield to_model_input(batch_images, False, CHANNELS_LAST), batch_labels
        epoch += 1


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed_steps(step, batches, images: int, device) -> tuple[float, int]:
    """Run steps until `images` images are trained; return (seconds, images done)."""
    done = 0
    synchronize(device)
    start = time.perf_counter()
    while done < images:
        x, y = next(batches)
        step(x, y)
        done += len(y)
    synchronize(device)
    return time.perf_counter() - start, done


def peak_memory_mb(device) -> str:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    text = f"process peak RSS {rss:.0f} MB"
    if device.type == "cuda":
        text += f", GPU peak {torch.cuda.max_memory_allocated() / 2**20:.0f} MB"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_flags(parser)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    parser.add_argument("--images", type=positive_int, default=3200, help="images timed per path (default 3200)")
    parser.add_argument("--rounds", type=positive_int, default=4, help="alternating timing rounds (default 4)")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--compile", choices=["auto", "on", "off"], default="auto")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast for the project path (CUDA)")
    args = parser.parse_args()

    device = pick_device(args.device)
    torch.manual_seed(0)
    print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")

    loss_fn = nn.CrossEntropyLoss()
    reference_model = MyModel().to(device)
    reference_optimizer = torch.optim.SGD(reference_model.parameters(), lr=0.01)

    def reference_step(x, y):  # the notes' loop body
        x, y = x.to(device), y.to(device)
        loss = loss_fn(reference_model(x), y)
        reference_optimizer.zero_grad()
        loss.backward()
        reference_optimizer.step()
        loss.item()  # the notes print/accumulate loss.item() every step

    project_model = MyModel().to(device).to(memory_format=torch.channels_last)
    project_optimizer = torch.optim.SGD(project_model.parameters(), lr=0.01)
    reference_data, project_data = reference_batches(args), project_batches(args, device)
    started = time.perf_counter()
    x, y = next(project_data)
    compiled_model, note = maybe_compile(project_model, args.compile, device, x, y, loss_fn)
    synchronize(device)
    compile_seconds = time.perf_counter() - started
    compiled = note.startswith("compile: on")
    print(note)

    def project_step(x, y):  # 10_train_cifar10.py's step
        with autocast(args.amp, device):
            loss = loss_fn(compiled_model(x), y)
        project_optimizer.zero_grad()
        loss.backward()
        project_optimizer.step()

    timed_steps(reference_step, reference_data, 5 * args.batch_size, device)  # warm-up
    timed_steps(project_step, project_data, 5 * args.batch_size, device)

    totals = {"reference": [0.0, 0], "project": [0.0, 0]}
    per_round = max(args.batch_size, args.images // args.rounds)
    for _ in range(args.rounds):
        for name, step, batches in (
            ("reference", reference_step, reference_data),
            ("project", project_step, project_data),
        ):
            seconds, images = timed_steps(step, batches, per_round, device)
            totals[name][0] += seconds
            totals[name][1] += images
    rates = {name: images / seconds for name, (seconds, images) in totals.items()}
    print(f"notes' loop   : {rates['reference']:8.0f} images/s")
    print(f"project step  : {rates['project']:8.0f} images/s")
    print(f"compile time  : {compile_seconds:.1f}s ({'on' if compiled else 'off'})")
    print(f"peak memory   : {peak_memory_mb(device)}")
    print(f"speedup {rates['project'] / rates['reference']:.2f}x")


if __name__ == "__main__":
    run_main(main)
