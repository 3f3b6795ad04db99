"""05_conv.py: the notes' F.conv2d on the 5x5 input (padding=1, then no padding and stride=2), MyModel's
nn.Conv2d(3 -> 6) on a batch, the batches in TensorBoard."""

import ast
import re

import pytest
from conftest import assert_ok, read_tensorboard, run_in_process

PADDING_1 = [[1, 3, 4, 10, 8], [5, 10, 12, 12, 6], [7, 18, 16, 16, 8], [11, 13, 9, 3, 4], [14, 13, 9, 7, 4]]
STRIDE_1 = [[10, 12, 12], [18, 16, 16], [13, 9, 3]]
STRIDE_2 = [[10, 12], [13, 3]]


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("conv")
    result = run_in_process("05_conv.py", "--fake-data", cwd=tmp_path)  # FakeData: 200 images, 4 batches
    assert_ok(result)
    return result, tmp_path


def test_the_notes_convolutions(conv_run):
    printed = [ast.literal_eval(found) for found in re.findall(r"tensor\((\[.*?\])\)", conv_run[0].stdout, re.DOTALL)]
    assert [tensor[0][0] for tensor in printed] == [PADDING_1, STRIDE_1, STRIDE_2]


def test_conv2d_turns_3_channels_into_6(conv_run):
    out = conv_run[0].stdout
    assert "Conv2d(3, 6, kernel_size=(3, 3), stride=(1, 1))" in out
    assert out.count("torch.Size([64, 3, 32, 32]) torch.Size([64, 6, 30, 30])") == 3
    assert "torch.Size([8, 3, 32, 32]) torch.Size([8, 6, 30, 30])" in out  # 200 = 3 x 64 + 8


def test_input_and_output_images_in_tensorboard(conv_run):
    (accumulator,) = read_tensorboard(conv_run[1] / "logs").values()
    # add_images draws 8 images a row: 64 of 32x32 -> 256x256; the 6 channels as 128 images of 30x30 -> 240x480
    assert [(e.step, e.width, e.height) for e in accumulator.Images("input")][:3] == [(s, 256, 256) for s in range(3)]
    assert [(e.step, e.width, e.height) for e in accumulator.Images("output")][:3] == [(s, 240, 480) for s in range(3)]
    assert len(accumulator.Images("output")) == 4
