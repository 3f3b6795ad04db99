"""08_linear.py: torch.flatten a batch of 64 into Linear(196608, 10); nn.Flatten keeps the batch."""

import ast
import re

import pytest
from conftest import assert_clean_error, assert_ok, run_in_process
from PIL import Image


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("linear")
    result = run_in_process("08_linear.py", "--fake-data", "--max-steps", "2", cwd=tmp_path)
    assert_ok(result)
    return result


def shapes(line: str) -> list:
    """Every [..] shape on a printed line, as lists of ints."""
    return [ast.literal_eval(found) for found in re.findall(r"\[[\d, ]+\]", line)]


def test_torch_flatten_then_linear(linear_run):
    assert "Linear(in_features=196608, out_features=10" in linear_run.stdout
    batches = [line for line in linear_run.stdout.splitlines() if line.startswith("batch ")]
    assert len(batches) == 2  # --max-steps 2
    for line in batches:  # the whole batch becomes one vector, and one output of 10
        assert shapes(line) == [[64, 3, 32, 32], [196608], [10]]


def test_nn_flatten_keeps_the_batch(linear_run):
    (line,) = [line for line in linear_run.stdout.splitlines() if line.startswith("nn.Flatten()")]
    assert shapes(line) == [[64, 3, 32, 32], [64, 3072], [64, 10]]


def test_too_few_images_for_one_batch(tmp_path):
    # drop_last=True leaves no batch at all from 3 images: say so instead of doing nothing.
    class_dir = tmp_path / "images" / "test" / "cat"
    class_dir.mkdir(parents=True)
    for index in range(3):
        Image.new("RGB", (32, 32), (index * 40, 0, 0)).save(class_dir / f"{index}.png")
    result = run_in_process("08_linear.py", "--image-folder", tmp_path / "images", cwd=tmp_path)
    assert_clean_error(result, "3 images", "64")


def test_bad_inputs_are_one_line_errors(tmp_path):
    assert_clean_error(run_in_process("08_linear.py", "--max-steps", "-1", cwd=tmp_path), "--max-steps")
    (tmp_path / "a-file").write_text("")  # --data-root names a file: the download cannot make its folder
    result = run_in_process("08_linear.py", "--data-root", tmp_path / "a-file", cwd=tmp_path)
    assert_clean_error(result, "a-file", "cifar-10-python.tar.gz", "--fake-data")
