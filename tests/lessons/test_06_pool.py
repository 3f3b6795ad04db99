"""06_pool.py: MaxPool2d with ceil_mode=True/False on the notes' input, pooled CIFAR images."""

import importlib
import runpy
import sys

import pytest
from conftest import ROOT, all_tags, assert_ok, read_tensorboard, run_script


@pytest.fixture(scope="module")
def pool_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("work")
    logdir = workdir / "tb"
    result = run_script("06_pool.py", "--fake-data", "--logdir", logdir, "--max-steps", "2", cwd=workdir)
    assert_ok(result)
    return result, logdir


def test_prints_both_ceil_modes(pool_run):
    result, _ = pool_run
    assert "ceil_mode=True:  [[2.0, 3.0], [5.0, 1.0]]" in result.stdout
    assert "ceil_mode=False: [[2.0]]" in result.stdout
    assert "long (integer) tensor" in result.stdout  # the dtype explanation is shown either way


def test_max_pool_function():
    module = importlib.import_module("06_pool")
    assert module.INPUT.is_floating_point()
    assert module.max_pool(module.INPUT, ceil_mode=True).tolist() == [[2, 3], [5, 1]]
    assert module.max_pool(module.INPUT, ceil_mode=False).tolist() == [[2]]


def test_pooled_image_shape(pool_run):
    result, _ = pool_run
    assert "input shape:  torch.Size([64, 3, 32, 32])" in result.stdout
    assert "output shape: torch.Size([64, 3, 10, 10])" in result.stdout  # ceil_mode=False: 32 -> 10


def test_tensorboard_images_capped_by_max_steps(pool_run):
    result, logdir = pool_run
    assert all_tags(logdir)["images"] == {"input", "output"}
    (accumulator,) = read_tensorboard(logdir).values()
    assert [event.step for event in accumulator.Images("output")] == [0, 1]
    assert "logged 2 batches" in result.stdout
    assert "tensorboard --logdir" in result.stdout


def test_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["06_pool.py", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "06_pool.py"), run_name="__main__")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "池化" in out and "ceil_mode" in out and "--max-steps" in out
