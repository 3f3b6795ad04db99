"""08_linear.py: torch.flatten turns each full batch of 64 into 196608 numbers for nn.Linear(196608, 10)
(drop_last=True drops the rest); nn.Flatten keeps one row per image."""

import pytest
from conftest import assert_ok, run_in_process


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("linear")
    result = run_in_process("08_linear.py", "--fake-data", cwd=tmp_path)  # FakeData: 200 images = 3 x 64 + 8
    assert_ok(result)
    return result


def test_each_full_batch_flattens_to_196608_numbers(linear_run):
    lines = linear_run.stdout.splitlines()
    assert lines[:3] == ["torch.Size([196608]) torch.Size([10])"] * 3
    assert "torch.Size([24576])" not in linear_run.stdout  # the last 8 images: dropped, not flattened


def test_nn_flatten_keeps_the_batch(linear_run):
    assert linear_run.stdout.splitlines()[3] == "torch.Size([64, 3072]) torch.Size([64, 10])"
