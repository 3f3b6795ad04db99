"""10_train_cifar10.py gives the right results: what it measures, learns and reports is what it says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import assert_ok, run_in_process

from training.evaluation import evaluate
from training.models import MODELS
from training.settings import Settings

TRAIN = "10_train_cifar10.py"
FAST = ("--compile", "off", "--device", "cpu")


def train_here(workdir: Path, *args: str):
    """A run of the tool inside the test process (no interpreter start-up)."""
    return run_in_process(TRAIN, *FAST, *args, cwd=workdir)


def metrics(workdir: Path, *args: str) -> dict:
    """Train in-process and return the metrics JSON of the run."""
    assert_ok(train_here(workdir, *args, "--metrics-json", "m.json"))
    return json.loads((workdir / "m.json").read_text())


@pytest.mark.parametrize("tta", [False, True])
def test_evaluation_builds_no_autograd_graph(tta):
    # A graph kept per test batch is what made the test pass need 4x the memory (issue 17).
    model = MODELS["mymodel"]()
    outputs_need_grad = []
    model.register_forward_hook(lambda module, inputs, output: outputs_need_grad.append(output.requires_grad))
    images = torch.randint(0, 256, (30, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(30) % 10
    loss, accuracy, per_class = evaluate(model, images, labels, Settings(), torch.device("cpu"), tta)
    assert outputs_need_grad and not any(outputs_need_grad)
    assert isinstance(loss, float) and len(per_class) == 10


def test_fake_data_is_learned_on_the_test_split(tmp_path):
    # Each class must look the same in both splits: before, test accuracy stayed near chance (10%).
    result = metrics(tmp_path, "--fake-data", "--epochs", "2", "--model", "mymodel-bn", "--momentum", "0.9")
    assert result["test_accuracy"] > 0.8
