"""Training speed: the notes' loop against 10_train_cifar10.py's step, side by side in one process.

  reference  Dataset -> PIL -> ToTensor per image -> DataLoader(batch_size=64, num_workers=0)
             -> eager MyModel + SGD(lr=0.01)                      (the notes' loop, exactly)
  project    one decoded uint8 tensor -> batches by index -> float on the device,
             channels_last, torch.compile per --compile, the --recipe's model + SGD
  ceiling    the project's very model and optimizer (compiled or not alike), stepping over and over
             on ONE batch already on the device as the model's input: no data path at all

With --recipe notes (the default) all three train MyModel with SGD lr 0.01 at batch 64. With
--recipe fast or gpu, the project and ceiling rows take that recipe's model, batch size, SGD
settings (momentum, Nesterov, weight decay, the parameter groups of --bn-bias-lr, Muon for the
filters under --muon, the stem bias frozen as in the run's later epochs), label smoothing,
normalization and --amp, as 10_train_cifar10.py --recipe NAME does (not its per-epoch augmentation,
its smaller images of --resize-epochs or its --ema update); the reference row stays the notes' MyModel loop at batch 64. --batch-size and
--amp/--no-amp given on the command line still win over the recipe.

All three train about the same number of images after a warm-up, timed in alternating rounds
so that a noisy machine slows them alike. Prints images/s for each (labelled with model and
batch size), the project's rate as a percentage of the ceiling (what the data path costs), the
compile time and the peak memory; the last line is `speedup X.XXx` (project over reference).

    python bench/train_speed.py --fake-data
    python bench/train_speed.py --image-folder ../shared/data/cifar10 --images 6400
    python bench/train_speed.py --image-folder ../shared/data/cifar10 --recipe fast
"""

from __future__ import annotations

import argparse
import itertools
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
from training.data import cifar10_tensors, pil_dataset, to_model_input  # noqa: E402
from training.device import amp_note, autocast, maybe_compile, pick_device  # noqa: E402
from training.errors import run_main  # noqa: E402
from training.models import MODELS  # noqa: E402
from training.optimizer import freeze_batchnorm_scales, make_optimizer, stop_frozen_gradients  # noqa: E402
from training.recipes import RECIPES  # noqa: E402
from training.settings import Settings, add_data_flags, layer_settings, positive_int  # noqa: E402


def reference_batches(source, batch_size: int):
    """The notes' input pipeline, endlessly: PIL image -> ToTensor, one image at a time."""
    dataset = pil_dataset(source, train=True, transform=transforms.ToTensor())
    while True:
        yield from DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0)


def project_batches(device, settings: Settings):
    """10_train_cifar10.py's input pipeline, endlessly: indexed batches of the on-device uint8 tensor."""
    images, labels = cifar10_tensors(settings, train=True)
    images, labels = images.to(device), labels.to(device)
    epoch = 0
    while True:
        generator = epoch_generator(0, epoch)
        for batch_images, batch_labels in epoch_batches(images, labels, settings.batch_size, generator):
            yield to_model_input(batch_images, settings.normalize, channels_last=True), batch_labels
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
    """This process's peak memory so far (resident set; on CUDA the GPU's too), for the line beside the figures."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    text = f"process peak RSS {rss:.0f} MB"  # ru_maxrss: KiB on Linux, bytes on macOS
    if device.type == "cuda":
        text += f", GPU peak {torch.cuda.max_memory_allocated() / 2**20:.0f} MB"
    return text


def main():
    # Flags not given stay out of `args` (SUPPRESS): layer_settings puts the recipe's and the notes' values there.
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, argument_default=argparse.SUPPRESS
    )
    add_data_flags(parser)
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        help="where to train: auto picks cuda, then mps, then cpu (default: auto)",
    )
    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        help="model, batch size, SGD settings, loss and --amp of the project and ceiling rows, as "
        "10_train_cifar10.py --recipe NAME; the notes' loop stays MyModel at batch 64 (default: notes)",
    )
    parser.add_argument("--images", type=positive_int, default=3200, help="images timed per path (default 3200)")
    parser.add_argument("--rounds", type=positive_int, default=4, help="alternating timing rounds (default 4)")
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        help="images per step of the project and ceiling rows (and of the notes' loop with --recipe notes); "
        "default: the recipe's (64 for notes)",
    )
    parser.add_argument(
        "--compile",
        choices=["auto", "on", "off"],
        help="torch.compile the project's model (the ceiling row uses the same one): auto = on CUDA only "
        "(default: auto)",
    )
    parser.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        help="bf16 autocast for the project and ceiling rows (CUDA, CPUs with native bf16); "
        "default: the recipe's (off for notes, on for fast and gpu)",
    )
    args = parser.parse_args()

    settings = layer_settings(vars(args))  # the notes' defaults < --recipe < the flags given, as in 10_train_cifar10.py
    device = pick_device(settings.device)
    reference_batch = settings.batch_size if settings.recipe == "notes" else Settings.batch_size  # the notes' 64
    torch.manual_seed(0)
    print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    if note := amp_note(settings.amp, device):
        print(note)

    reference_loss_fn = nn.CrossEntropyLoss()
    reference_model = MyModel().to(device)
    reference_optimizer = torch.optim.SGD(reference_model.parameters(), lr=0.01)

    def reference_step(x, y):  # the notes' loop body
        x, y = x.to(device), y.to(device)
        loss = reference_loss_fn(reference_model(x), y)
        reference_optimizer.zero_grad()
        loss.backward()
        reference_optimizer.step()
        loss.item()  # the notes print/accumulate loss.item() every step

    # 10_train_cifar10.py's model, loss and optimizer for --recipe (the notes': MyModel, CrossEntropyLoss, SGD lr 0.01)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
    project_model = MODELS[settings.model]().to(device, memory_format=torch.channels_last)
    if settings.bn_bias_lr:  # as 10_train_cifar10.py: BatchNorm's scales stay at 1
        freeze_batchnorm_scales(project_model)
    project_optimizer = make_optimizer(project_model, settings)
    stop_frozen_gradients(project_optimizer, settings.epochs - 1)  # a step of the last epoch, as most of them
    reference_data, project_data = reference_batches(settings, reference_batch), project_batches(device, settings)
    started = time.perf_counter()
    x, y = next(project_data)
    compiled_model, note = maybe_compile(project_model, settings.compile, device, x, y, loss_fn)
    synchronize(device)
    compile_seconds = time.perf_counter() - started
    compiled = note.startswith("compile: on")
    print(note)
    ceiling_data = itertools.repeat((x, y))  # one batch, already the model's input on the device

    def project_step(x, y):  # 10_train_cifar10.py's step
        with autocast(settings.amp, device):
            loss = loss_fn(compiled_model(x), y)
        project_optimizer.zero_grad()
        loss.backward()
        project_optimizer.step()

    batch = settings.batch_size
    paths = (  # name, row label, step, batches, images per step
        (
            "reference",
            f"notes' loop   mymodel, batch {reference_batch}",
            reference_step,
            reference_data,
            reference_batch,
        ),
        ("project", f"project step  {settings.model}, batch {batch}", project_step, project_data, batch),
        ("ceiling", f"ceiling       {settings.model}, batch {batch}", project_step, ceiling_data, batch),
    )
    for _, _, step, batches, size in paths:  # warm-up
        timed_steps(step, batches, 5 * size, device)

    totals = {name: [0.0, 0] for name, *_ in paths}
    per_round = max(reference_batch, batch, args.images // args.rounds)
    for _ in range(args.rounds):
        for name, _, step, batches, _ in paths:
            seconds, images = timed_steps(step, batches, per_round, device)
            totals[name][0] += seconds
            totals[name][1] += images
    rates = {name: images / seconds for name, (seconds, images) in totals.items()}
    width = max(len(label) for _, label, *_ in paths)
    for name, label, *_ in paths:
        extra = "  (one batch already on the device: no data path)" if name == "ceiling" else ""
        print(f"{label:<{width}} : {rates[name]:8.0f} images/s{extra}")
    print(f"project = {100 * rates['project'] / rates['ceiling']:.0f}% of ceiling")
    print(f"compile time  : {compile_seconds:.1f}s ({'on' if compiled else 'off'})")
    print(f"peak memory   : {peak_memory_mb(device)}")
    print(f"speedup {rates['project'] / rates['reference']:.2f}x")


if __name__ == "__main__":
    run_main(main)
