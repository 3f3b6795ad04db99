"""08_linear.py: torch.flatten a batch of 64 into Linear(196608, 10); nn.Flatten keeps the batch."""

import runpy
import sys

import pytest
from conftest import ROOT, assert_ok, run_script
from PIL import Image

SHAPES_LINE = "torch.Size([64, 3, 32, 32]) -> torch.flatten -> torch.Size([196608]) -> Linear -> torch.Size([10])"


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("work")
    result = run_script("08_linear.py", "--fake-data", "--max-steps", "2", cwd=workdir)
    assert_ok(result)
    return result


def test_flatten_and_linear_shapes(linear_run):
    lines = linear_run.stdout.splitlines()
    assert "Linear(in_features=196608, out_features=10, bias=True)" in linear_run.stdout
    assert [line for line in lines if line.startswith("batch ")] == [
        f"batch 1: {SHAPES_LINE}",
        f"batch 2: {SHAPES_LINE}",
    ]


def test_nn_flatten_keeps_the_batch(linear_run):
    assert "nn.Flatten() keeps the batch dimension: torch.Size([64, 3, 32, 32]) -> torch.Size([64, 3072])" in (
        linear_run.stdout
    )
    assert "10 outputs per image: torch.Size([64, 10])" in linear_run.stdout


def test_too_few_images_is_a_clean_error(tmp_path, monkeypatch, capsys):
    # Linear(196608, 10) needs full batches of 64; with drop_last a tiny folder would silently do nothing.
    class_dir = tmp_path / "images" / "test" / "cat"
    class_dir.mkdir(parents=True)
    for index in range(3):
        Image.new("RGB", (32, 32), (index * 40, 0, 0)).save(class_dir / f"{index}.png")
    monkeypatch.setattr(sys, "argv", ["08_linear.py", "--image-folder", str(tmp_path / "images")])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "08_linear.py"), run_name="__main__")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "3 images" in err and "at least 64" in err
    assert "Traceback" not in err
