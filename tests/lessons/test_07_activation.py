"""07_activation.py: ReLU (and inplace=True) and Sigmoid on torch.randn(2), MyModel's Sigmoid on images in
TensorBoard, BatchNorm2d(100) normalising each channel."""

import io
import math
import re

import numpy as np
import pytest
import torch
from conftest import assert_ok, read_tensorboard, run_in_process
from PIL import Image


@pytest.fixture(scope="module")
def activation_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("activation")
    result = run_in_process("07_activation.py", "--fake-data", cwd=tmp_path)  # FakeData: 200 images, 4 batches
    assert_ok(result)
    return result, tmp_path


def printed_pairs(stdout: str) -> list[tuple[list[float], list[float]]]:
    """Every line `tensor([a, b]) tensor([c, d])`: the input and the output of an activation."""
    pairs = re.findall(r"^tensor\(\[(.*?)\]\) tensor\(\[(.*?)\]\)$", stdout, re.MULTILINE)
    return [([float(v) for v in x.split(",")], [float(v) for v in y.split(",")]) for x, y in pairs]


def test_relu_then_sigmoid_on_the_seeded_randn(activation_run):
    (relu_in, relu_out), (sigmoid_in, sigmoid_out) = printed_pairs(activation_run[0].stdout)
    assert relu_in == [1.5410, -0.2934]  # torch.manual_seed(0); torch.randn(2)
    assert relu_out == [max(0.0, x) for x in relu_in]
    assert sigmoid_out == pytest.approx([1 / (1 + math.exp(-x)) for x in sigmoid_in], abs=1e-4)


def test_relu_inplace_overwrites_its_input(activation_run):
    assert re.search(r"^tensor\(\[1\.5410, 0\.0000\]\)$", activation_run[0].stdout, re.MULTILINE)


def test_sigmoid_images_are_paler(activation_run):
    (accumulator,) = read_tensorboard(activation_run[1] / "logs").values()
    outputs = accumulator.Images("output")
    assert len(outputs) == 4 and len(accumulator.Images("input")) == 4
    grid = np.asarray(Image.open(io.BytesIO(outputs[0].encoded_image_string)).convert("RGB"))
    assert grid.min() >= 127 and grid.max() <= 187  # sigmoid of pixels 0..1: 0.5..0.73 of 255


def test_batchnorm_keeps_the_shape_and_normalises(activation_run):
    out = activation_run[0].stdout
    assert "torch.Size([20, 100, 35, 45])" in out
    mean, std = re.search(r"mean (\S+), std (\S+)$", out, re.MULTILINE).groups()
    assert abs(float(mean)) < 1e-4 and float(std) == 1.0


def test_sigmoid_has_no_inplace_as_the_lesson_says():
    with pytest.raises(TypeError):
        torch.nn.Sigmoid(inplace=False)
