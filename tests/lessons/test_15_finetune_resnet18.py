"""15_finetune_resnet18.py on --fake-data: a 10-class fc, only fc trains when frozen, finite loss, TensorBoard."""

import math
import re

import pytest
import torch
import torchvision
from conftest import all_tags, assert_ok, read_tensorboard, run_with_globals
from torch import nn

SCRIPT = "15_finetune_resnet18.py"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The lesson run on --fake-data with the random numbers seeded: (stdout, its globals, the folder)."""
    folder = tmp_path_factory.mktemp("finetune")
    torch.manual_seed(0)
    result, found = run_with_globals(SCRIPT, "--fake-data", cwd=folder)
    assert_ok(result)
    return result.stdout, found, folder


def test_fc_is_replaced_by_a_10_class_layer(run):
    out, found, _ = run
    assert "model.fc: Linear(in_features=512, out_features=1000, bias=True)" in out  # torchvision's, before
    model = found["model"]
    assert isinstance(model.fc, nn.Linear) and (model.fc.in_features, model.fc.out_features) == (512, 10)
    with torch.no_grad():
        assert model(torch.ones((1, 3, 32, 32))).shape == (1, 10)
    assert "trainable parameters: 5,130 of 11,181,642" in out  # 512 * 10 + 10


def test_only_fc_trains_when_frozen(run):
    _, found, _ = run
    trained = found["model"].state_dict()
    torch.manual_seed(0)  # the same random numbers as the lesson: its model before training
    untrained = torchvision.models.resnet18(weights=None)
    untrained.fc = nn.Linear(512, 10)
    before = untrained.state_dict()
    assert sorted(trained) == sorted(before)
    changed = [name for name in before if not torch.equal(before[name], trained[name])]
    assert changed == ["fc.weight", "fc.bias"]  # BatchNorm's running statistics included: eval() kept them


def test_loss_starts_near_ln10_and_stays_finite(run):
    out, _, _ = run
    first = float(re.search(r"^step: 0, result_loss: (\S+)$", out, re.MULTILINE).group(1))
    assert abs(first - math.log(10)) < 0.3  # 10 classes, an untrained fc: about ln(10)
    sum_loss = float(re.search(r"^epoch: 0, sum_loss: (\S+)$", out, re.MULTILINE).group(1))
    assert math.isfinite(sum_loss) and sum_loss > 0


def test_tensorboard_logs(run):
    _, _, folder = run
    assert all_tags(folder / "logs")["scalars"] == {"train_loss", "test_accuracy"}
    (accumulator,) = read_tensorboard(folder / "logs").values()
    assert [event.step for event in accumulator.Scalars("train_loss")] == [0, 1]  # 128 fake images / 64
    assert [event.step for event in accumulator.Scalars("test_accuracy")] == [0]
