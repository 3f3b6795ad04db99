"""nn_CIFAR10.py: the notes' model gives (64, 10), its graph lands in TensorBoard, the three forms match."""

import re

import pytest
import torch
from conftest import all_tags, assert_ok, run_script

import nn_CIFAR10


@pytest.fixture(scope="module")
def model_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("work")
    logdir = workdir / "tb"
    result = run_script("nn_CIFAR10.py", "--logdir", logdir, cwd=workdir)
    assert_ok(result)
    return result, logdir


def test_prints_output_shape(model_run):
    result, _ = model_run
    assert "input shape:  (64, 3, 32, 32)" in result.stdout
    assert "output shape: (64, 10)" in result.stdout


def test_addone_printed_and_computed(model_run):
    result, _ = model_run
    assert "AddOne()(torch.tensor(1.0)) = tensor(2.)" in result.stdout
    assert nn_CIFAR10.AddOne()(torch.tensor([1.0, -2.0])).tolist() == [2.0, -1.0]


def test_three_forms_have_the_same_parameter_count(model_run):
    result, _ = model_run
    main_count = re.search(r"^parameters: ([\d,]+)$", result.stdout, re.MULTILINE).group(1)
    printed = re.findall(r"^(\w+): output shape \(64, 10\), parameters ([\d,]+)$", result.stdout, re.MULTILINE)
    assert [name for name, _ in printed] == ["MyModelSequential", "Sequential", "MyModelReLU", "MyModelBN", "FastNet"]
    assert {count for _, count in printed[:3]} == {main_count}, "same layers (ReLU has no weights), same count"
    assert dict(printed)["MyModelBN"] == "145,834", "BatchNorm2d adds a scale and a shift per channel: 2 x 128"
    # In process too: the same layers, so the same number of weights and the same output shape.
    models = [nn_CIFAR10.MyModel(), nn_CIFAR10.MyModelSequential(), nn_CIFAR10.make_ordered_model()]
    counts = {sum(p.numel() for p in model.parameters()) for model in models}
    assert counts == {int(main_count.replace(",", ""))}
    batch = torch.zeros(2, 3, 32, 32)
    assert all(model(batch).shape == (2, 10) for model in models)


def test_graph_in_tensorboard(model_run):
    result, logdir = model_run
    assert all_tags(logdir)["graph"] == {"graph"}
    assert "GRAPHS" in result.stdout
