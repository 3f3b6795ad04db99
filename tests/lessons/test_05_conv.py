"""05_conv.py: the notes' F.conv2d numbers, nn.Conv2d shapes, TensorBoard images."""

import ast
import importlib
import re
import runpy
import sys

import pytest
import torch
from conftest import ROOT, all_tags, assert_ok, read_tensorboard, run_script

STRIDE_1 = [[10, 12, 12], [18, 16, 16], [13, 9, 3]]
STRIDE_2 = [[10, 12], [13, 3]]
PADDING_1 = [
    [1, 3, 4, 10, 8],
    [5, 10, 12, 12, 6],
    [7, 18, 16, 16, 8],
    [11, 13, 9, 3, 4],
    [14, 13, 9, 7, 4],
]


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("work")
    logdir = workdir / "tb"
    result = run_script("05_conv.py", "--fake-data", "--logdir", logdir, "--max-steps", "3", cwd=workdir)
    assert_ok(result)
    return result, logdir


def printed_matrices(stdout: str) -> dict[str, list]:
    """'  stride=1  shape (1, 1, 3, 3): [[...]]' lines -> {'stride=1': [[...]]}."""
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"\s*(stride=\d|padding=\d)\s+shape \([\d, ]+\): (\[\[.*\]\])\s*$", line)
        if match:
            found[match.group(1)] = ast.literal_eval(match.group(2))
    return found


def test_prints_the_notes_convolution_results(conv_run):
    result, _ = conv_run
    assert printed_matrices(result.stdout) == {"stride=1": STRIDE_1, "stride=2": STRIDE_2, "padding=1": PADDING_1}


def test_conv2d_examples_function():
    module = importlib.import_module("05_conv")
    results = module.conv2d_examples()
    assert results["stride=1"].shape == (1, 1, 3, 3)
    assert results["stride=1"][0, 0].tolist() == STRIDE_1
    assert results["stride=2"][0, 0].tolist() == STRIDE_2
    assert results["padding=1"][0, 0].tolist() == PADDING_1


def test_conv_layer_shapes(conv_run):
    result, _ = conv_run
    assert "input shape:  torch.Size([64, 3, 32, 32])" in result.stdout
    assert "output shape: torch.Size([64, 6, 30, 30])" in result.stdout
    assert "torch.Size([128, 3, 30, 30])" in result.stdout
    module = importlib.import_module("05_conv")
    assert module.ConvNet()(torch.zeros(2, 3, 32, 32)).shape == (2, 6, 30, 30)


def test_tensorboard_images_capped_by_max_steps(conv_run):
    result, logdir = conv_run
    assert all_tags(logdir)["images"] == {"input", "output"}
    (accumulator,) = read_tensorboard(logdir).values()
    assert [event.step for event in accumulator.Images("input")] == [0, 1, 2]
    assert [event.step for event in accumulator.Images("output")] == [0, 1, 2]
    assert "logged 3 batches" in result.stdout
    assert "tensorboard --logdir" in result.stdout


def test_help_and_bad_max_steps(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["05_conv.py", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "05_conv.py"), run_name="__main__")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "卷积" in out and "--max-steps" in out and "--fake-data" in out

    monkeypatch.setattr(sys, "argv", ["05_conv.py", "--max-steps", "0"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "05_conv.py"), run_name="__main__")
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
