"""07_activation.py: ReLU/Sigmoid numbers, what inplace=True changes, BatchNorm2d statistics."""

import ast
import importlib
import re

import pytest
import torch
from conftest import all_tags, assert_ok, read_tensorboard, run_script


@pytest.fixture(scope="module")
def activation_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("work")
    logdir = workdir / "tb"
    result = run_script("07_activation.py", "--fake-data", "--logdir", logdir, "--max-steps", "2", cwd=workdir)
    assert_ok(result)
    return result, logdir


@pytest.fixture(scope="module")
def module():
    return importlib.import_module("07_activation")


def printed_list(stdout: str, label: str) -> list:
    """The Python list printed after `label` on its line."""
    match = re.search(rf"^\s*{re.escape(label)}\s*(\[.*?\])(\s|$)", stdout, re.MULTILINE)
    assert match, f"no line starting with {label!r} in:\n{stdout}"
    return ast.literal_eval(match.group(1))


def test_relu_and_sigmoid_printed(activation_run):
    result, _ = activation_run
    assert printed_list(result.stdout, "ReLU:") == [[1.0, 0.0], [0.0, 3.0]]
    assert printed_list(result.stdout, "Sigmoid:") == [[0.7311, 0.3775], [0.2689, 0.9526]]


def test_inplace_printed(activation_run):
    result, _ = activation_run
    assert printed_list(result.stdout, "inplace=False input afterwards:") == [[1.0, -0.5], [-1.0, 3.0]]
    assert printed_list(result.stdout, "inplace=True input afterwards:") == [[1.0, 0.0], [0.0, 3.0]]


def test_inplace_demo_function(module):
    original = module.INPUT.clone()
    shown = module.inplace_demo(module.INPUT)
    assert torch.equal(module.INPUT, original)  # the demo works on copies
    assert shown["inplace=False output"].tolist() == [[1, 0], [0, 3]]
    assert torch.equal(shown["inplace=False input afterwards"], original)
    assert shown["inplace=True input afterwards"].tolist() == [[1, 0], [0, 3]]
    assert shown["inplace=True output"] is shown["inplace=True input afterwards"]


def test_batchnorm_printed(activation_run):
    result, _ = activation_run
    train_mean = printed_list(result.stdout, "train mode, output mean:")
    train_std = printed_list(result.stdout, "train mode, output std:")
    assert train_mean == pytest.approx([0, 0, 0], abs=1e-3)
    assert train_std == pytest.approx([1, 1, 1], abs=1e-3)
    batch_mean = printed_list(result.stdout, "batch mean:")
    running_mean = printed_list(result.stdout, "running_mean after 1 batch:")
    assert running_mean == pytest.approx([0.1 * m for m in batch_mean], abs=1e-3)
    eval_mean = printed_list(result.stdout, "eval mode, output mean:")
    assert max(abs(m) for m in eval_mean) > 0.1  # eval mode does not use this batch's statistics


def test_batchnorm_demo_function(module):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(16, 3, 8, 8, generator=generator) * torch.tensor([0.5, 1.0, 2.0]).view(1, 3, 1, 1) + 0.3
    stats = module.batchnorm_demo(images)
    assert stats["train output mean"].tolist() == pytest.approx([0, 0, 0], abs=1e-5)
    assert stats["train output std"].tolist() == pytest.approx([1, 1, 1], abs=1e-3)
    batch_mean = images.mean(dim=(0, 2, 3))
    batch_var = images.var(dim=(0, 2, 3))  # unbiased
    assert torch.allclose(stats["running_mean"], 0.1 * batch_mean, atol=1e-6)
    assert torch.allclose(stats["running_var"], 0.9 + 0.1 * batch_var, atol=1e-6)
    expected_eval = (batch_mean - stats["running_mean"]) / torch.sqrt(stats["running_var"] + 1e-5)
    assert torch.allclose(stats["eval output mean"], expected_eval, atol=1e-4)


def test_sigmoid_images_in_tensorboard(activation_run):
    result, logdir = activation_run
    assert all_tags(logdir)["images"] == {"input", "output"}
    (accumulator,) = read_tensorboard(logdir).values()
    assert [event.step for event in accumulator.Images("output")] == [0, 1]
    assert "logged 2 batches" in result.stdout
