"""bench/train_speed.py (notes' loop, project step, ceiling) and bench/profile_step.py, at tiny sizes."""

from __future__ import annotations

import re
import sys

import pytest
import torch
from conftest import ROOT, assert_clean_error, assert_ok, run_in_process

from training.recipes import recipe as recipe_settings
from training.settings import layer_settings

sys.path.insert(0, str(ROOT / "bench"))

TINY_SPEED = ("--fake-data", "--images", "64", "--rounds", "1", "--batch-size", "16", "--compile", "off")
SPEED_ROW = re.compile(r"^(notes' loop|project step|ceiling) +(\S+), batch (\d+) +: +(\d+) images/s", re.MULTILINE)
GROUPS = (
    "convolution forward",
    "convolution backward",
    "BatchNorm (fwd+bwd)",
    "ReLU (fwd+bwd)",
    "max pooling (fwd+bwd)",
    "linear / matmul",
    "loss",
    "optimizer step",
    "data (index, augment, to float, resize)",
    "conversions / copies",
    "other",
)


@pytest.fixture
def one_thread(monkeypatch):
    """Tiny batches in this process: one thread is as quick, and does not fight other work for the cores."""
    monkeypatch.setenv("KINETO_LOG_LEVEL", "5")  # profile_step.py sets it if unset; undone after the test
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    "recipe, model, reference_batch",
    [
        ("notes", "mymodel", 16),
        ("fast", recipe_settings("fast")["model"], 64),
    ],  # fast: the notes' loop stays MyModel at batch 64
)
def test_train_speed_prints_three_rows_the_ceiling_share_and_speedup_last(
    tmp_path, one_thread, recipe, model, reference_batch
):
    result = run_in_process("bench/train_speed.py", *TINY_SPEED, "--device", "cpu", "--recipe", recipe, cwd=tmp_path)
    assert_ok(result)
    rows = {
        name: (row_model, int(batch), int(rate)) for name, row_model, batch, rate in SPEED_ROW.findall(result.stdout)
    }
    assert set(rows) == {"notes' loop", "project step", "ceiling"}, result.stdout
    assert rows["notes' loop"][:2] == ("mymodel", reference_batch)
    assert rows["project step"][:2] == rows["ceiling"][:2] == (model, 16), "--batch-size wins over the recipe's"
    assert all(rate > 0 for *_, rate in rows.values())
    assert re.search(r"^project = \d+% of ceiling$", result.stdout, re.MULTILINE), result.stdout
    assert ("--amp:" in result.stdout) == (recipe == "fast"), "the fast recipe turns --amp on; its note says so"
    peak = re.search(r"peak memory.*?(\d+) MB", result.stdout)
    assert peak and int(peak[1]) > 50, "the process's peak memory beside the figures"
    assert re.fullmatch(r"speedup \d+\.\d\dx", result.stdout.splitlines()[-1]), "tests and readers parse the last line"


def test_bench_flags_given_win_over_the_recipe():
    # The benchmarks layer their flags with 10_train_cifar10.py's own function.
    fast = layer_settings({"recipe": "fast", "images": 64})  # --images: the benchmark's own, not a setting
    assert fast.amp and fast.batch_size == 256
    settings = layer_settings({"recipe": "fast", "batch_size": 16, "amp": False})  # --batch-size 16 --no-amp
    assert (settings.batch_size, settings.amp, settings.model) == (16, False, recipe_settings("fast")["model"])


def group_table(stdout: str) -> tuple[dict[str, float], float]:
    """The group rows (name -> ms per step) and the total row's ms of profile_step.py's first table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("group"))
    rows, total = {}, None
    for line in lines[start + 1 :]:
        match = re.fullmatch(r"(.+?) +([\d.]+) +([\d.]+)%", line)
        assert match, f"not a table row: {line!r}\n{stdout}"
        if match[1] == "total":
            total = float(match[2])
            break
        rows[match[1]] = float(match[2])
    return rows, total


@pytest.mark.parametrize("recipe, model", [("fast", recipe_settings("fast")["model"]), ("notes", "mymodel")])
def test_profile_step_groups_add_up_to_the_total(tmp_path, one_thread, recipe, model):
    result = run_in_process(
        "bench/profile_step.py", "--recipe", recipe, "--steps", "1", "--batch-size", "4", "--no-amp", cwd=tmp_path
    )
    assert_ok(result)
    optimizer = r"SGD \+ Muon lr [\d.]+ \(filters\)" if recipe_settings(recipe).get("muon") else "SGD"
    header = rf"^threads: 1, amp: off, model: {model}, batch: 4, images 32x32, optimizer: {optimizer}$"
    assert re.search(header, result.stdout, re.MULTILINE), result.stdout
    rows, total = group_table(result.stdout)
    assert list(rows) == list(GROUPS)
    assert rows["convolution forward"] > 0 and rows["convolution backward"] > 0
    assert rows["data (index, augment, to float, resize)"] > 0 and rows["optimizer step"] > 0
    assert total > 0 and sum(rows.values()) == pytest.approx(total, rel=0.03)
    printed = re.search(r"^profiled total per step: ([\d.]+) ms, (\d+) images/s", result.stdout, re.MULTILINE)
    assert printed and float(printed[1]) == pytest.approx(total) and int(printed[2]) > 0
    peak = re.search(r"peak memory.*?(\d+) MB", result.stdout)
    assert peak and int(peak[1]) > 50, "the process's peak memory beside the figures"
    top = result.stdout.split("top 8 ops by self CPU time", 1)[1].splitlines()[2:]
    assert len(top) == 8
    conv_rows = [line for line in top if "convolution" in line]
    assert conv_rows and all(re.search(r"\b4x\d+x\d+x\d+\b", line) for line in conv_rows), "batch 4: NCHW shapes"


def test_profile_step_refuses_zero_steps(tmp_path):
    assert_clean_error(run_in_process("bench/profile_step.py", "--steps", "0", cwd=tmp_path), "--steps")


def test_profile_step_counts_muon_in_the_optimizer_and_resizes(tmp_path, one_thread):
    flags = ("--model", "fastnet", "--muon", "0.1", "--size", "16", "--steps", "1", "--batch-size", "4", "--no-amp")
    result = run_in_process("bench/profile_step.py", *flags, cwd=tmp_path)
    assert_ok(result)
    assert "images 16x16, optimizer: SGD + Muon lr 0.1 (filters)" in result.stdout
    rows, total = group_table(result.stdout)
    assert rows["optimizer step"] > 0 and sum(rows.values()) == pytest.approx(total, rel=0.03)
    conv_rows = [line for line in result.stdout.split("top 8 ops", 1)[1].splitlines() if "convolution" in line]
    assert all("x32x32" not in line for line in conv_rows), "the model sees 16x16 images"


def test_profile_step_groups_ops_by_what_runs_them():
    import profile_step

    def event(name, parent=None):
        return type("Event", (), {"name": name, "cpu_parent": parent})()

    step = event(profile_step.STEP)
    muon = event("aten::mm", event("aten::matmul", event("Optimizer.step#SGDMuon.step", step)))
    linear = event("aten::mm", event("aten::matmul", event("aten::linear", step)))
    copy = event("aten::copy_", event("aten::index", event(profile_step.DATA, step)))
    assert profile_step.group_of(muon) == "optimizer step", "Muon's matrix products are the optimizer's"
    assert profile_step.group_of(linear) == "linear / matmul"
    assert profile_step.group_of(copy) == "data (index, augment, to float, resize)"
    assert profile_step.group_of(event("aten::copy_", step)) == "conversions / copies"
