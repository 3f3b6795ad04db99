"""--recipe: each preset is one dict of settings over the notes' defaults (training/settings.py's Settings),
layered by settings.layer_settings, so that flags given on the command line still win.

Where each setting acts: 10_train_cifar10.py names every one at its place; the comments below say which
module does the work.
"""

from __future__ import annotations

# airbench's ideas (Keller Jordan's airbench94), one switch each, all off in the notes' recipe.
AIRBENCH_SWITCHES = {
    "ema": 0.99,  # tests an average of the weights: training/averaging.py
    "bn_bias_lr": 16.0,  # BatchNorm scales frozen, biases at 16x --lr: training/optimizer.py
    "dirac_init": True,  # convolutions start as identities: training/models.py dirac_init
    "flip": "alternate",  # each image mirrored every other epoch: training/augment.py
    "tta_crops": True,  # the final test also looks at one-pixel shifts: training/evaluation.py
    "stem_bias_epochs": 3,  # FastNet's stem bias stops after 3 epochs: training/optimizer.py
}
# --recipe fast: tuned on a 2-core CPU (bench/README.md); --recipe gpu: the same ideas sized for one GPU.
RECIPES = {
    "notes": {},
    "fast": {
        "model": "fastnet-wide",  # training/models.py
        "epochs": 10,  # 1.12x the notes' 20-epoch run's time on a 2-core AMX CPU (bench/README.md)
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
        "amp": True,  # bf16 where the CPU computes it natively (AMX), float32 elsewhere: training/device.py
        **AIRBENCH_SWITCHES,
    },
}
RECIPES["gpu"] = {
    **RECIPES["fast"],
    "model": "fastnet-gpu",
    "batch_size": 1024,
    "lr": 0.8,  # fast's 0.2 at batch 256, scaled with the batch (not tuned: no GPU was measured)
}
