"""10_train_cifar10.py gives the right results: what it measures, learns and reports is what it says."""

from __future__ import annotations

import pytest
import torch

from training.evaluation import evaluate
from training.models import MODELS
from training.settings import Settings


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
