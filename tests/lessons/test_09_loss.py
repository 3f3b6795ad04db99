"""09_loss.py: the notes' loss values, gradients before/after backward, a falling training loss."""

import importlib
import re

import pytest
from conftest import assert_ok, run_script


@pytest.fixture(scope="module")
def loss_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("work")
    result = run_script("09_loss.py", "--fake-data", cwd=workdir)  # default --epochs 3, --lr 0.01
    assert_ok(result)
    return result


def test_loss_values_printed(loss_run):
    printed = dict(re.findall(r"^(\w+\(.*?\))\s+(-?\d+\.\d{4})$", loss_run.stdout, re.MULTILINE))
    assert printed == {
        "L1Loss()": "0.6667",
        "L1Loss(reduction='sum')": "2.0000",
        "MSELoss()": "1.3333",
        "CrossEntropyLoss()": "1.1019",
    }


def test_loss_examples_function():
    values = importlib.import_module("09_loss").loss_examples()
    assert values["L1Loss()"] == pytest.approx(2 / 3)
    assert values["L1Loss(reduction='sum')"] == pytest.approx(2.0)
    assert values["MSELoss()"] == pytest.approx(4 / 3)
    assert values["CrossEntropyLoss()"] == pytest.approx(1.1019, abs=1e-4)


def test_gradients_shown(loss_run):
    out = loss_run.stdout
    assert "w.grad before backward: None" in out
    assert "w.grad after backward:  30.0000" in out
    assert "conv1.weight.grad before backward: None" in out
    match = re.search(r"conv1\.weight\.grad shape torch\.Size\(\[32, 3, 5, 5\]\), norm (\d+\.\d+)", out)
    assert match and float(match.group(1)) > 0


def test_summed_loss_falls(loss_run):
    losses = [
        float(value) for value in re.findall(r"^epoch \d+: summed loss (\d+\.\d+)$", loss_run.stdout, re.MULTILINE)
    ]
    assert len(losses) == 3
    assert losses[-1] < losses[0]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert "SGD(lr=0.01) on 1000 images" in loss_run.stdout
