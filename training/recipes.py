"""--recipe presets and the learning-rate schedules."""

from __future__ import annotations

import math

# --recipe fast: tuned on a 2-core CPU (README: "Time to accuracy"); --recipe gpu: the same ideas sized
# for one GPU, after airbench94. A preset only changes defaults: flags given on the command line still win.
AIRBENCH_SWITCHES = {
    "ema": 0.99,
    "bn_bias_lr": 16.0,
    "dirac_init": True,
    "flip": "alternate",
    "tta_crops": True,
    "stem_bias_epochs": 3,
}
RECIPES = {
    "notes": {},
    "fast": {
        "model": "fastnet-wide",
        "epochs": 10,  # 1.12x the notes' 20-epoch run's time on a 2-core AMX CPU (README: "Time to accuracy")
        "batch_size": 256,
        "lr": 0.2,
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 5e-4,
        "label_smoothing": 0.2,
        "schedule": "onecycle",
        "augment": True,
        "augment_padding": 2,  # a short run learns more from milder shifts
        "normalize": True,
        "tta": True,
        "amp": True,  # bf16 where the CPU computes it natively (AMX); float32 elsewhere
        **AIRBENCH_SWITCHES,
    },
}
RECIPES["gpu"] = {
    **RECIPES["fast"],
    "model": "fastnet-gpu",
    "batch_size": 1024,
    "lr": 0.8,  # fast's 0.2 at batch 256, scaled with the batch (not tuned: no GPU was measured)
}
SCHEDULES = ("none", "onecycle", "cosine")


def lr_factor(schedule: str, step: int, total_steps: int) -> float:
    """Multiplier on --lr at `step`: 'onecycle' warms up linearly over 20% of the steps, then decays linearly
    to 0; 'cosine' warms up over 5%, then follows a half cosine to 0; 'none' keeps --lr."""
    if schedule == "none":
        return 1.0
    progress = step / max(1, total_steps)
    warmup = 0.2 if schedule == "onecycle" else 0.05
    if progress < warmup:
        return 0.1 + 0.9 * progress / warmup
    rest = (progress - warmup) / (1 - warmup)
    return max(0.0, 1 - rest) if schedule == "onecycle" else 0.5 * (1 + math.cos(math.pi * min(1.0, rest)))
