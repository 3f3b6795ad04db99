"""07_activation.py: ReLU/Sigmoid values, what inplace=True overwrites, BatchNorm2d and its running statistics."""

import ast
import math
import re

import pytest
import torch
import torchvision
from conftest import all_tags, assert_clean_error, assert_ok, read_tensorboard, run_in_process


@pytest.fixture(scope="module")
def activation_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("activation")
    logdir = tmp_path / "tb"
    result = run_in_process("07_activation.py", "--fake-data", "--logdir", logdir, "--max-steps", "2", cwd=tmp_path)
    assert_ok(result)
    return result, logdir


def printed_list(stdout: str, label: str) -> list:
    """The list printed right after `label` (the first such line)."""
    match = re.search(rf"{re.escape(label)}\s*(\[[^\]]*\])", stdout)
    assert match, f"no {label!r} in:\n{stdout}"
    return ast.literal_eval(match.group(1))


def test_relu_and_sigmoid(activation_run):
    out = activation_run[0].stdout
    assert printed_list(out, "ReLU:") == [1.0, 0.0, 0.0, 3.0]
    expected = [1 / (1 + math.exp(-x)) for x in (1, -0.5, -1, 3)]  # 0.7311, 0.3775, 0.2689, 0.9526
    assert printed_list(out, "Sigmoid:") == pytest.approx(expected, abs=1e-4)


def test_inplace_overwrites_the_input(activation_run):
    out = activation_run[0].stdout
    for inplace, input_afterwards in ((False, [1.0, -0.5, -1.0, 3.0]), (True, [1.0, 0.0, 0.0, 3.0])):
        match = re.search(rf"ReLU\(inplace={inplace}\):\s+output (\[.*?\]), input afterwards (\[.*?\])", out)
        assert match, out
        assert ast.literal_eval(match.group(1)) == [1.0, 0.0, 0.0, 3.0]
        assert ast.literal_eval(match.group(2)) == input_afterwards
    assert "returned its input tensor itself: True" in out


def test_batchnorm_statistics(activation_run):
    out = activation_run[0].stdout
    # The batch is the first 64 FakeData images: recompute its per-channel mean and variance here.
    fake = torchvision.datasets.FakeData(
        size=200, image_size=(3, 32, 32), num_classes=10, transform=torchvision.transforms.ToTensor()
    )
    imgs = torch.stack([fake[index][0] for index in range(64)])
    batch_mean, batch_var = imgs.mean(dim=(0, 2, 3)), imgs.var(dim=(0, 2, 3))
    assert printed_list(out, "batch mean:") == pytest.approx(batch_mean.tolist(), abs=1e-4)
    assert printed_list(out, "train mode output mean:") == pytest.approx([0, 0, 0], abs=1e-4)
    assert printed_list(out, "train mode output std:") == pytest.approx([1, 1, 1], abs=1e-3)
    running_mean, running_var = 0.1 * batch_mean, 0.9 + 0.1 * batch_var  # momentum 0.1 from 0 and 1
    assert printed_list(out, "running_mean:") == pytest.approx(running_mean.tolist(), abs=1e-4)
    assert printed_list(out, "running_var:") == pytest.approx(running_var.tolist(), abs=1e-4)
    eval_mean = (batch_mean - running_mean) / torch.sqrt(running_var + 1e-5)  # not 0: eval uses the running ones
    assert printed_list(out, "eval mode output mean:") == pytest.approx(eval_mean.tolist(), abs=1e-3)


def test_sigmoid_images_in_tensorboard(activation_run):
    result, logdir = activation_run
    assert all_tags(logdir)["images"] == {"input", "output"}
    (accumulator,) = read_tensorboard(logdir).values()
    assert [event.step for event in accumulator.Images("output")] == [0, 1]  # --max-steps 2
    assert "logged 2 batches" in result.stdout


def test_bad_inputs_are_one_line_errors(tmp_path):
    assert_clean_error(run_in_process("07_activation.py", "--max-steps", "two", cwd=tmp_path), "--max-steps")
    result = run_in_process("07_activation.py", "--image-folder", tmp_path / "no-such-folder", cwd=tmp_path)
    assert_clean_error(result, "no-such-folder", "--fake-data")
