"""09_loss.py: the notes' L1Loss, MSELoss and CrossEntropyLoss with backward() (CE 1.1019; the course's
[1, 2, 3] vs [1, 2, 5]: 0.6667 and 1.3333), then their loop: 20 epochs of sum_loss that falls."""

import math
import re

import pytest
import torch
from conftest import assert_ok, run_in_process


@pytest.fixture(scope="module")
def loss_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("loss")
    result = run_in_process("09_loss.py", "--fake-data", cwd=tmp_path)  # FakeData: 64 images, one batch an epoch
    assert_ok(result)
    return result


def printed_values(stdout: str) -> list[float]:
    """Every number printed as tensor(x...), in order."""
    return [float(value) for value in re.findall(r"tensor\((-?\d+\.\d+)", stdout)]


def test_the_loss_values(loss_run):
    torch.manual_seed(0)  # as the lesson: the notes' torch.randn inputs and targets, in the notes' order
    l1_input, l1_target = torch.randn(3, 5), torch.randn(3, 5)
    mse_input, mse_target = torch.randn(3, 5), torch.randn(3, 5)
    l1 = (l1_input - l1_target).abs().mean().item()
    mse = ((mse_input - mse_target) ** 2).mean().item()
    cross_entropy = -0.2 + math.log(sum(math.exp(v) for v in (0.1, 0.2, 0.3)))
    assert round(cross_entropy, 4) == 1.1019
    assert printed_values(loss_run.stdout) == pytest.approx([l1, mse, 2 / 3, 4 / 3, cross_entropy], abs=1e-4)


def test_backward_fills_the_l1_gradient(loss_run):
    row = re.search(r"^tensor\(\[(.*?)\]\)$", loss_run.stdout, re.MULTILINE).group(1)
    assert [abs(float(v)) for v in row.split(",")] == [0.0667] * 5  # the sign of input - target, over 15 numbers


def test_twenty_epochs_of_falling_sum_loss(loss_run):
    lines = re.findall(r"^epoch: (\d+), sum_loss: (\S+)$", loss_run.stdout, re.MULTILINE)
    assert [int(epoch) for epoch, _ in lines] == list(range(20))
    sums = [float(value) for _, value in lines]
    assert sums[0] == pytest.approx(math.log(10), abs=0.1)  # one batch, about a guess among 10 classes
    assert sums[-1] < sums[0]


def test_the_notes_cross_entropy_line_cannot_backward():
    input = torch.tensor([0.1, 0.2, 0.3]).view(1, 3)  # the notes' line, kept in a comment in the lesson
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.nn.CrossEntropyLoss()(input, torch.tensor([1])).backward()
