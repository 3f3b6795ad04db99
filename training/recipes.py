"""--recipe: each preset is one dict of settings over the notes' defaults (training/settings.py's Settings),
layered by settings.layer_settings, so that flags given on the command line still win.

Where each setting acts: 10_train_cifar10.py names every one at its place; the comments below say which
module does the work.
"""

from __future__ import annotations

from training.device import bf16_is_native

# airbench's ideas (Keller Jordan's airbench94), one switch each, all off in the notes' recipe.
AIRBENCH_SWITCHES = {
    "ema": 0.99,  # tests an average of the weights: training/averaging.py
    "bn_bias_lr": 16.0,  # BatchNorm scales frozen, biases at 16x --lr: training/optimizer.py
    "dirac_init": True,  # convolutions start as identities: training/models.py dirac_init
    "flip": "alternate",  # each image mirrored every other epoch: training/augment.py
    "tta_crops": True,  # the final test also looks at one-pixel shifts: training/evaluation.py
    "stem_bias_epochs": 3,  # FastNet's stem bias stops after 3 epochs: training/optimizer.py
}
# The first CPU recipe (bench/README.md, "Time to accuracy: airbench's ideas on two CPU cores"): the base of
# today's --recipe fast and of --recipe gpu.
FIRST_FAST = {
    "model": "fastnet-wide",  # training/models.py
    "epochs": 10,
    "batch_size": 256,
    "lr": 0.2,  # SGD and each step's lr: training/optimizer.py
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 5e-4,
    "label_smoothing": 0.2,  # nn.CrossEntropyLoss(label_smoothing=...) in 10_train_cifar10.py
    "schedule": "onecycle",  # training/optimizer.py lr_factor
    "augment": True,  # random crops and flips of every epoch: training/augment.py
    "augment_padding": 2,  # a short run learns more from milder shifts
    "normalize": True,  # training/data.py to_model_input
    "tta": True,  # the final test averages each image with its mirror image: training/evaluation.py
    "amp": True,  # bf16 where the device computes it natively, float32 elsewhere: training/device.py
    **AIRBENCH_SWITCHES,
}
# The second step (bench/README.md, "Time to accuracy, second step"), measured on a 2-core AMD EPYC (Zen 4,
# AVX512-BF16, no AMX); each idea one switch of 10_train_cifar10.py.
SECOND_STEP = {
    "model": "fastnet-cpu",  # narrow at 31x31, wide at 7x7 and 3x3: training/models.py
    "resize_epochs": 4,  # progressive resizing, 16 -> 28 pixels over 4 epochs: training/augment.py
    "muon": 0.05,  # Muon for the convolution filters at this lr, SGD for the rest: training/muon.py
}
# A CPU without native bf16 trains in float32, at about half the speed (bench/README.md): there --recipe fast
# takes this smaller size, so that it does not take longer than in bf16 on a CPU that has it.
FLOAT32_SIZE = {"model": "fastnet"}
RECIPES = {
    "notes": {},
    "fast": {**FIRST_FAST, **SECOND_STEP},
    "gpu": {
        **FIRST_FAST,
        "model": "fastnet-gpu",
        "batch_size": 1024,
        "lr": 0.8,  # the first fast recipe's 0.2 at batch 256, scaled with the batch (not tuned: no GPU was measured)
    },
}


def recipe(name: str, device: str = "auto") -> dict:
    """The settings of --recipe NAME for a run on --device `device`: --recipe fast at its float32 size where
    that device computes bf16 only slowly or not at all."""
    if name == "fast" and not bf16_is_native(device):
        return {**RECIPES[name], **FLOAT32_SIZE}
    return dict(RECIPES[name])


def size_note(settings, device_type: str) -> str | None:
    """A line where --recipe fast took its float32 size on this device (None elsewhere)."""
    if settings.recipe != "fast" or bf16_is_native(device_type):
        return None
    size = ", ".join(f"--{key.replace('_', '-')} {value}" for key, value in FLOAT32_SIZE.items())
    return f"--recipe fast: no native bf16 here, so it trains in float32 at its float32 size ({size}; flags given win)"
