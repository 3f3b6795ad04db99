"""06_pool.py: MyModel's MaxPool2d(kernel_size=3, ceil_mode=True) on the 5x5 example ([[2, 3], [5, 1]];
ceil_mode=False: [[2]]) and on CIFAR-shaped batches in TensorBoard."""

import ast
import re

import pytest
from conftest import assert_ok, read_tensorboard, run_in_process


@pytest.fixture(scope="module")
def pool_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pool")
    result = run_in_process("06_pool.py", "--fake-data", cwd=tmp_path)  # FakeData: 200 images, 4 batches
    assert_ok(result)
    return result, tmp_path


def test_ceil_mode_true_and_false_on_the_5x5_input(pool_run):
    printed = [ast.literal_eval(found) for found in re.findall(r"tensor\((\[.*?\])\)", pool_run[0].stdout, re.DOTALL)]
    assert [tensor[0][0] for tensor in printed] == [[[2, 3], [5, 1]], [[2]]]


def test_the_pooled_batch_and_its_images(pool_run):
    result, tmp_path = pool_run
    assert result.stdout.count("torch.Size([64, 3, 32, 32]) torch.Size([64, 3, 11, 11])") == 3  # ceil(29 / 3) + 1
    (accumulator,) = read_tensorboard(tmp_path / "logs").values()
    outputs = accumulator.Images("output")
    assert len(outputs) == 4 and (outputs[0].width, outputs[0].height) == (88, 88)  # 8 x 8 images of 11x11
