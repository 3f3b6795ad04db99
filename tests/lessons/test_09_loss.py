"""09_loss.py: the notes' loss values, gradients before/after backward(), an SGD loop whose summed loss falls."""

import math
import re

import pytest
from conftest import assert_clean_error, assert_ok, run_in_process
from PIL import Image


@pytest.fixture(scope="module")
def loss_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("loss")
    result = run_in_process("09_loss.py", "--fake-data", cwd=tmp_path)  # defaults: 3 epochs, lr 0.01, seed 0
    assert_ok(result)
    return result


def printed_number(stdout: str, label: str) -> float:
    match = re.search(rf"^{re.escape(label)}\s+(-?\d+\.\d+)$", stdout, re.MULTILINE)
    assert match, f"no {label!r} in:\n{stdout}"
    return float(match.group(1))


def test_the_notes_loss_values(loss_run):
    out = loss_run.stdout
    # inputs [1, 2, 3], targets [1, 2, 5]: the differences are 0, 0, 2
    assert printed_number(out, "L1Loss(reduction='sum'):") == pytest.approx(2.0, abs=1e-4)
    assert printed_number(out, "L1Loss():") == pytest.approx(2 / 3, abs=1e-4)
    assert printed_number(out, "MSELoss():") == pytest.approx(4 / 3, abs=1e-4)
    # x = [0.1, 0.2, 0.3], y = 1: -x[1] + log(sum(exp(x))) = 1.1019
    cross_entropy = -0.2 + math.log(sum(math.exp(v) for v in (0.1, 0.2, 0.3)))
    assert printed_number(out, "CrossEntropyLoss():") == pytest.approx(cross_entropy, abs=1e-4)
    assert round(cross_entropy, 4) == 1.1019


def test_backward_fills_the_gradients(loss_run):
    out = loss_run.stdout
    assert "x.grad before backward: None" in out
    grad = re.search(r"x\.grad after backward:\s+\[(.*?)\]", out).group(1)
    softmax = [math.exp(v) / sum(math.exp(w) for w in (0.1, 0.2, 0.3)) for v in (0.1, 0.2, 0.3)]
    expected = [p - (1 if index == 1 else 0) for index, p in enumerate(softmax)]  # [0.3006, -0.6678, 0.3672]
    assert [float(v) for v in grad.split(",")] == pytest.approx(expected, abs=1e-4)
    assert "conv1.weight.grad before any backward: None" in out
    match = re.search(r"conv1\.weight\.grad after backward: shape \[32, 3, 5, 5\], norm (\d+\.\d+)", out)
    assert match and float(match.group(1)) > 0


def test_summed_loss_falls_with_progress_lines(loss_run):
    out = loss_run.stdout
    losses = [float(v) for v in re.findall(r"^epoch \d+: running_loss (\d+\.\d+)", out, re.MULTILINE)]
    assert len(losses) == 3  # --epochs 3
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses  # SGD fits the fixed labels
    assert losses[0] == pytest.approx(4 * math.log(10), rel=0.02)  # 4 batches, each near log(10) for 10 classes
    for epoch in (1, 2, 3):  # 256 images = 4 batches: a progress line for each (every 10%, at least every batch)
        assert re.findall(rf"^  epoch {epoch} \[(\d)/4\] mean loss", out, re.MULTILINE) == ["1", "2", "3", "4"]


@pytest.mark.parametrize(("flag", "value"), [("--lr", "-1"), ("--lr", "nan"), ("--epochs", "0"), ("--seed", "x")])
def test_bad_numbers_are_one_line_errors(flag, value, tmp_path):
    assert_clean_error(run_in_process("09_loss.py", flag, value, cwd=tmp_path), flag)


def test_missing_train_folder_is_one_line(tmp_path):
    class_dir = tmp_path / "images" / "test" / "cat"  # only a test/ split: 09 trains on train/
    class_dir.mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(class_dir / "0.png")
    result = run_in_process("09_loss.py", "--image-folder", tmp_path / "images", cwd=tmp_path)
    assert_clean_error(result, "images", "train", "--fake-data")
