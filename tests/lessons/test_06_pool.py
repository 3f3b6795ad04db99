"""06_pool.py: MaxPool2d's ceil_mode on the notes' 5x5 input, pooled CIFAR-shaped images in TensorBoard."""

import ast
import io
import re

import numpy as np
import pytest
import torch
import torchvision
from conftest import all_tags, assert_clean_error, assert_ok, read_tensorboard, run_in_process
from PIL import Image


@pytest.fixture(scope="module")
def pool_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pool")
    logdir = tmp_path / "tb"
    result = run_in_process("06_pool.py", "--fake-data", "--logdir", logdir, "--max-steps", "2", cwd=tmp_path)
    assert_ok(result)
    return result, logdir


def printed_pool(stdout: str, ceil_mode: bool) -> list:
    match = re.search(rf"ceil_mode={ceil_mode}\): (\[.*\])$", stdout, re.MULTILINE)
    assert match, stdout
    return ast.literal_eval(match.group(1))


def test_the_notes_pooled_values(pool_run):
    result, _ = pool_run
    assert printed_pool(result.stdout, ceil_mode=True) == [[2, 3], [5, 1]]  # partial border windows kept
    assert printed_pool(result.stdout, ceil_mode=False) == [[2]]  # only the one full 3x3 window


def test_pooled_images_in_tensorboard(pool_run):
    result, logdir = pool_run
    assert "[64, 3, 32, 32] -> maxpool1 -> [64, 3, 10, 10]" in result.stdout
    assert all_tags(logdir)["images"] == {"input", "output"}
    (accumulator,) = read_tensorboard(logdir).values()
    outputs = accumulator.Images("output")
    assert [event.step for event in outputs] == [0, 1]  # --max-steps 2
    assert (outputs[0].width, outputs[0].height) == (80, 80)  # 64 images of 10x10 in an 8 x 8 grid
    assert (accumulator.Images("input")[0].width, accumulator.Images("input")[0].height) == (256, 256)
    # The first tile is the first FakeData image, max-pooled 3x3 (32 -> 10: the last 2 pixels dropped).
    first = torchvision.datasets.FakeData(
        size=200, image_size=(3, 32, 32), num_classes=10, transform=torchvision.transforms.ToTensor()
    )[0][0]
    expected = torch.nn.functional.max_pool2d(first, 3).permute(1, 2, 0).numpy() * 255
    grid = np.asarray(Image.open(io.BytesIO(outputs[0].encoded_image_string)).convert("RGB"), dtype=np.float32)
    assert np.abs(grid[:10, :10] - expected).max() <= 1


def test_bad_inputs_are_one_line_errors(tmp_path):
    result = run_in_process("06_pool.py", "--max-steps", "0", cwd=tmp_path)
    assert_clean_error(result, "--max-steps", "at least 1")
    result = run_in_process("06_pool.py", "--image-folder", tmp_path / "no-such-folder", cwd=tmp_path)
    assert_clean_error(result, "no-such-folder", "--fake-data")
    (tmp_path / "a-file").write_text("")
    result = run_in_process("06_pool.py", "--fake-data", "--logdir", tmp_path / "a-file", cwd=tmp_path)
    assert_clean_error(result, "--logdir", "a-file")
    broken = tmp_path / "images" / "test" / "cat"
    broken.mkdir(parents=True)
    (broken / "x.png").write_bytes(b"not a png")
    result = run_in_process("06_pool.py", "--image-folder", tmp_path / "images", cwd=tmp_path)
    assert_clean_error(result, "cannot read image", "x.png")


def test_failed_download_is_one_line(tmp_path, monkeypatch):
    # Port 9 refuses at once: the same path as an offline machine, without touching the network.
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "url", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    result = run_in_process("06_pool.py", "--data-root", tmp_path / "dataset", cwd=tmp_path)
    assert_clean_error(result, "cifar-10-python.tar.gz", "--image-folder", "--fake-data")
