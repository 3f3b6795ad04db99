"""10_train_cifar10.py as a training tool: metrics, TensorBoard, checkpoints, resume, bad input."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import (
    ROOT,
    all_tags,
    assert_clean_error,
    assert_ok,
    read_tensorboard,
    run_in_process,
    run_script,
)
from PIL import Image

import training.data
from training.checkpoints import run_folders
from training.data import CIFAR10_CLASSES
from training.errors import UserError
from training.settings import Settings

TRAIN = "10_train_cifar10.py"
FAST = ("--fake-data", "--compile", "off", "--device", "cpu")


def train(workdir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A run in its own interpreter, exactly as a learner starts it."""
    return run_script(TRAIN, *FAST, *args, cwd=workdir, timeout=timeout)


def train_here(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """The same run inside the test process: no interpreter start-up, for the many short runs."""
    return run_in_process(TRAIN, *FAST, *args, cwd=workdir)


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short run shared by the tests that only read its outputs."""
    workdir = tmp_path_factory.mktemp("trained")
    flags = ("--epochs", "2", "--run-name", "r1", "--log-every", "5", "--metrics-json", "m.json", "--tta")
    result = train(workdir, *flags)
    assert_ok(result)
    return workdir, result


def test_prints_each_epoch_and_the_per_class_table(trained):
    _, result = trained
    for epoch in (1, 2):
        assert f"epoch {epoch}/2  train loss " in result.stdout
    assert "test accuracy" in result.stdout and "img/s" in result.stdout
    for name in CIFAR10_CLASSES:
        assert name in result.stdout
    assert "device: cpu" in result.stdout and "compile: off" in result.stdout


def test_metrics_json(trained):
    workdir, _ = trained
    metrics = json.loads((workdir / "m.json").read_text())
    for key in ("epochs", "train_loss", "test_loss", "test_accuracy", "seconds", "train_images_per_sec", "device"):
        assert key in metrics, key
    assert metrics["epochs"] == 2 and metrics["device"] == "cpu"
    assert metrics["test_accuracy"] == metrics["history"][-1]["test_accuracy"], "the last epoch's accuracy"
    assert metrics["train_images_per_sec"] > 0 and metrics["seconds"] > 0
    assert [m["epoch"] for m in metrics["history"]] == [1, 2]
    assert tuple(metrics["per_class_accuracy"]) == CIFAR10_CLASSES


def test_tta_is_evaluated_once_at_the_end(trained):
    workdir, _ = trained  # a --tta run of 2 epochs
    history = json.loads((workdir / "m.json").read_text())["history"]
    assert [epoch["test_accuracy_tta"] is not None for epoch in history] == [False, True]


def test_tensorboard_run_folder_and_tags(trained):
    workdir, _ = trained
    logdir = workdir / "logs" / "train"
    assert [p.name for p in logdir.iterdir()] == ["r1"]
    tags = all_tags(logdir / "r1")
    assert {"train/loss", "train/lr", "test/loss", "test/accuracy", "train/images_per_sec"} <= tags["scalars"]
    assert "test/predictions" in tags["images"]
    assert "graph" in tags["graph"]
    assert any("per_class_accuracy" in tag for tag in tags["tensors"])
    assert {"hparam/test_accuracy", "hparam/test_loss"} <= tags["scalars"]
    runs = read_tensorboard(logdir / "r1")
    hparams = {tag for run in runs.values() for tag in run.PluginTagToContent("hparams")}
    assert "_hparams_/experiment" in hparams and "_hparams_/session_start_info" in hparams
    accuracy = [
        e.value
        for run in runs.values()
        if "test/accuracy" in run.Tags()["scalars"]
        for e in run.Scalars("test/accuracy")
    ]
    assert len(accuracy) == 2


def test_a_run_without_a_name_gets_a_fresh_folder(tmp_path):
    def start_a_run() -> str:
        settings = Settings(logdir=str(tmp_path / "logs"), checkpoint_dir=str(tmp_path / "checkpoints"))
        log_dir, _ = run_folders(settings)
        log_dir.mkdir(parents=True)  # as the run's SummaryWriter does
        return settings.run_name

    first, second = start_a_run(), start_a_run()  # within the same second: the name gets a -2
    assert first != second


def test_checkpoint_contents(trained):
    workdir, _ = trained
    folder = workdir / "checkpoints" / "r1"
    last, best = load(folder / "last.pt"), load(folder / "best.pt")
    for key in ("model", "optimizer", "settings", "progress", "rng", "model_name"):
        assert key in last, key
    assert last["progress"]["epochs_done"] == 2 and last["progress"]["step_in_epoch"] == 0
    assert last["settings"]["lr"] == 0.01 and last["settings"]["batch_size"] == 64
    assert "conv1.weight" in last["model"] and "state" in last["optimizer"]
    assert isinstance(last["rng"]["torch"], torch.Tensor)
    accuracies = [record["test_accuracy"] for record in last["progress"]["history"]]
    assert best["progress"]["history"][-1]["test_accuracy"] == max(accuracies)
    assert not list(folder.glob("*.tmp")), "temporary files left behind"


def test_same_seed_same_losses(trained, tmp_path):
    workdir, _ = trained  # the shared run: seed 0 by default
    assert_ok(train_here(tmp_path, "--epochs", "2", "--seed", "0", "--metrics-json", "again.json"))
    a, b = (json.loads(path.read_text())["history"] for path in (workdir / "m.json", tmp_path / "again.json"))
    assert [m["train_loss_sum"] for m in a] == [m["train_loss_sum"] for m in b]
    assert [m["test_loss"] for m in a] == [m["test_loss"] for m in b]


def test_training_lowers_the_loss(trained):
    workdir, _ = trained
    history = json.loads((workdir / "m.json").read_text())["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["test_loss"] < history[0]["test_loss"]


def assert_same_weights(a: dict, b: dict, atol: float = 1e-6) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=atol), key


RESUME_FLAGS = ("--epochs", "3", "--seed", "3", "--momentum", "0.9", "--lr", "0.005")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    """The last checkpoint of a 3-epoch run never stopped: what every resumed run must end with."""
    workdir = tmp_path_factory.mktemp("uninterrupted")
    assert_ok(train_here(workdir, *RESUME_FLAGS, "--run-name", "whole"))
    return load(workdir / "checkpoints" / "whole" / "last.pt")


def assert_same_run(whole: dict, resumed: dict) -> None:
    assert resumed["progress"]["epochs_done"] == whole["progress"]["epochs_done"]
    assert_same_weights(whole["model"], resumed["model"])
    for x, y in zip(whole["progress"]["history"], resumed["progress"]["history"], strict=True):
        assert x["test_loss"] == pytest.approx(y["test_loss"], rel=1e-5)
        assert x["train_loss_sum"] == pytest.approx(y["train_loss_sum"], rel=1e-5)


def test_resume_after_stop_after_equals_uninterrupted(tmp_path, uninterrupted):
    stopped = train_here(tmp_path, *RESUME_FLAGS, "--run-name", "parts", "--stop-after", "1")
    assert_ok(stopped)
    assert "--resume" in stopped.stdout, "it says how to go on"
    last = tmp_path / "checkpoints" / "parts" / "last.pt"
    assert load(last)["progress"]["epochs_done"] == 1
    resumed = train_here(tmp_path, "--resume", str(last))
    assert_ok(resumed)
    assert "resuming run parts" in resumed.stdout
    assert_same_run(uninterrupted, load(last))


def test_resume_with_the_fast_recipe_equals_uninterrupted(tmp_path, monkeypatch):
    """The fast recipe's state comes back as it was: the --ema average, the one-cycle schedule, the
    alternating flips, FastNet's whitened stem (set from the data once, not again on resume)."""
    monkeypatch.setattr(training.data, "FAKE_TRAIN_SIZE", 256)  # 1 step of 256 per epoch: the same code, cheaper
    monkeypatch.setattr(training.data, "FAKE_TEST_SIZE", 100)
    common = ("--recipe", "fast", "--epochs", "2", "--seed", "3")
    assert_ok(train_here(tmp_path, *common, "--run-name", "whole"))
    assert_ok(train_here(tmp_path, *common, "--run-name", "parts", "--stop-after", "1"))
    assert_ok(train_here(tmp_path, "--resume", "checkpoints/parts/last.pt"))
    whole, parts = (load(tmp_path / "checkpoints" / n / "last.pt") for n in ("whole", "parts"))
    assert_same_run(whole, parts)


def interrupt_at(monkeypatch, epoch: int, step: int, presses: int) -> None:
    """Press Ctrl-C `presses` times just before step `step` of epoch `epoch` (counted from 0), in-process:
    a real SIGINT to this process, as a terminal sends it."""
    import training.augment

    original = training.augment.epoch_batches

    def batches(images, labels, batch_size, generator, *args):
        this_epoch = batches.calls
        batches.calls += 1
        for index, batch in enumerate(original(images, labels, batch_size, generator, *args)):
            if this_epoch == epoch and index == step:
                for _ in range(presses):
                    os.kill(os.getpid(), signal.SIGINT)
            yield batch

    batches.calls = 0
    monkeypatch.setattr(training.augment, "epoch_batches", batches)


def test_first_ctrl_c_saves_at_the_step_boundary_and_resume_matches(tmp_path, monkeypatch, uninterrupted):
    with monkeypatch.context() as patch:
        interrupt_at(patch, epoch=1, step=5, presses=1)
        result = train_here(tmp_path, *RESUME_FLAGS, "--run-name", "c")
    assert result.returncode == 130 and "Traceback" not in result.stderr
    last = tmp_path / "checkpoints" / "c" / "last.pt"
    progress = load(last)["progress"]
    # Steps 0-4 of the second epoch were trained; the step that was about to start was not.
    assert (progress["epochs_done"], progress["step_in_epoch"], progress["global_step"]) == (1, 5, 16 + 5)
    assert (
        "epoch 2" in result.stderr
        and "step 5" in result.stderr
        and f"--resume {last.relative_to(tmp_path)}" in (result.stderr)
    )
    assert_ok(train_here(tmp_path, "--resume", str(last)))
    assert_same_run(uninterrupted, load(last))


def test_second_ctrl_c_stops_at_once_unsaved(tmp_path, monkeypatch):
    interrupt_at(monkeypatch, epoch=1, step=5, presses=2)
    result = train_here(tmp_path, "--epochs", "2", "--run-name", "c")
    assert result.returncode == 130 and "Traceback" not in result.stderr
    progress = load(tmp_path / "checkpoints" / "c" / "last.pt")["progress"]
    assert (progress["epochs_done"], progress["step_in_epoch"]) == (1, 0), "only epoch 1's checkpoint exists"


KILL_DURING_SAVE = """
import os, signal, sys, torch
sys.path.insert(0, sys.argv[1])
from training import checkpoints
path, where = sys.argv[2], sys.argv[3]
if where == "rename":  # the new file is complete, the rename has not happened
    checkpoints.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
else:  # half of the new file is written
    real_save = torch.save
    def half_save(obj, file):
        real_save(obj, file)
        file.truncate(file.tell() // 2)
        file.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    checkpoints.torch.save = half_save
checkpoints.atomic_torch_save({"new": torch.ones(100_000)}, path)
"""


@pytest.mark.parametrize("where", ["write", "rename"])
def test_a_kill_during_a_save_leaves_the_old_checkpoint_whole(tmp_path, where):
    path = tmp_path / "last.pt"
    torch.save({"old": torch.zeros(10)}, path)
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_SAVE, str(ROOT), str(path), where], timeout=120)
    assert killed.returncode == -signal.SIGKILL, "the save was cut by the kill"
    assert torch.equal(load(path)["old"], torch.zeros(10)), "the old checkpoint is intact"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "last.pt"]
    assert leftovers and all(name.endswith(".tmp") for name in leftovers), "only the cut temporary file"


def test_resume_takes_new_optimizer_settings_and_records_them(tmp_path):
    assert_ok(train_here(tmp_path, "--epochs", "2", "--stop-after", "1", "--run-name", "r", "--log-every", "1"))
    flags = ("--lr", "0.002", "--momentum", "0.5", "--nesterov", "--weight-decay", "1e-4", "--schedule", "cosine")
    resumed = train_here(tmp_path, "--resume", "checkpoints/r/last.pt", *flags, "--log-every", "1")
    assert_ok(resumed)
    saved = load(tmp_path / "checkpoints" / "r" / "last.pt")
    group = saved["optimizer"]["param_groups"][0]
    assert (group["momentum"], group["nesterov"], group["weight_decay"]) == (0.5, True, 1e-4)
    settings = saved["settings"]
    assert (settings["lr"], settings["momentum"], settings["schedule"]) == (0.002, 0.5, "cosine")
    assert group["lr"] < 0.002 * 0.01, "the cosine schedule at --lr 0.002 has decayed to almost 0 at the end"
    lrs = [
        e.value for run in read_tensorboard(tmp_path / "logs" / "train" / "r").values() for e in run.Scalars("train/lr")
    ]
    assert lrs[:16] == pytest.approx([0.01] * 16), "epoch 1 trained at the first --lr"
    assert max(lrs[16:]) <= 0.002 + 1e-12, "epoch 2 at the new one"


@pytest.mark.parametrize(("flag", "value"), [("--batch-size", "32"), ("--model", "fastnet"), ("--seed", "9")])
def test_resume_refuses_settings_that_cannot_change(trained, tmp_path, flag, value):
    workdir, _ = trained  # refused before the run's own state matters: the shared, finished run will do
    result = train_here(tmp_path, "--resume", str(workdir / "checkpoints" / "r1" / "last.pt"), flag, value)
    assert_clean_error(result, flag, "cannot change")


def test_a_loss_that_blows_up_stops_the_run_even_while_finite():
    spec = importlib.util.spec_from_file_location("train_script", ROOT / TRAIN)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    args = Settings(lr=0.2, momentum=0.9)
    assert script.finite(2.3, args, 0, 5, script.DIVERGED_LOSS) == 2.3
    assert script.finite(1e4, args, 0, 5) == 1e4, "an epoch's summed loss has no limit"
    for loss in (1e9, float("nan"), float("inf")):
        with pytest.raises(UserError) as error:
            script.finite(loss, args, 0, 5, script.DIVERGED_LOSS)
        assert all(fragment in str(error.value) for fragment in ("epoch 1", "step 6", "--lr", "0.2")), error.value


def test_progress_lines_when_output_is_not_a_terminal(trained):
    _, result = trained  # run with stderr piped, as in a log file
    lines = [line for line in result.stderr.splitlines() if line.startswith("epoch 1/2: ")]
    assert 5 <= len(lines) <= 10, result.stderr
    assert all(re.search(r"\d+%.*loss \d", line) for line in lines), "how far, and the loss"


def test_no_amp_note_without_amp(trained):
    _, result = trained
    assert "--amp" not in result.stdout


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--epochs", "0"), "--epochs"),
        (("--epochs", "-3"), "--epochs"),
        (("--batch-size", "0"), "--batch-size"),
        (("--lr", "-0.1"), "--lr"),
        (("--lr", "1e6"), "lower --lr"),
        (("--label-smoothing", "2"), "--label-smoothing"),
        (("--seed", "99999999999999999999999"), "--seed"),
        (("--seed", "-1"), "--seed"),
        (("--image-folder", "somewhere"), "two data sources"),  # FAST has --fake-data
        (("--augment", "--augment-padding", "40"), "--augment-padding"),
    ],
)
def test_bad_settings(tmp_path, flags, fragment):
    assert_clean_error(train_here(tmp_path, "--epochs", "1", *flags), fragment)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda(tmp_path):
    assert_clean_error(train_here(tmp_path, "--device", "cuda"), "CUDA is not available")


def test_unwritable_output_folders(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_clean_error(train_here(tmp_path, "--logdir", str(blocker / "logs")), "--logdir")
    assert_clean_error(train_here(tmp_path, "--checkpoint-dir", str(blocker / "ck")), "--checkpoint-dir")


def test_bad_checkpoints(trained, tmp_path):
    finished = trained[0] / "checkpoints" / "r1" / "last.pt"  # 2 epochs of 2
    truncated = tmp_path / "truncated.pt"
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.ones(3), "epoch": 3}, foreign)  # a dict of our own, not a state_dict
    good = finished.read_bytes()
    truncated.write_bytes(good[: len(good) // 2])
    assert_clean_error(train_here(tmp_path, "--resume", str(truncated)), "truncated")
    assert_clean_error(train_here(tmp_path, "--resume", str(foreign)), "not a checkpoint")
    assert_clean_error(train_here(tmp_path, "--resume", str(tmp_path / "none.pt")), "does not exist")
    assert_clean_error(train_here(tmp_path, "--resume", str(finished.parent)), "is a folder")
    other = load(finished)
    other["settings"]["model"] = other["model_name"] = "fastnet"
    torch.save(other, tmp_path / "other-model.pt")
    other_model = train_here(tmp_path, "--resume", str(tmp_path / "other-model.pt"), "--epochs", "3")
    assert_clean_error(other_model, "does not fit")
    done = train_here(tmp_path, "--resume", str(finished))
    assert_clean_error(done, "2 epochs already", "--epochs")
    assert "device:" not in done.stdout, "a finished run says so before it loads the data"


def test_a_taken_run_name_is_refused_and_the_old_run_kept(trained, tmp_path):
    before = (trained[0] / "checkpoints" / "r1" / "last.pt").read_bytes()
    (tmp_path / "checkpoints" / "dup").mkdir(parents=True)
    (tmp_path / "checkpoints" / "dup" / "last.pt").write_bytes(before)  # a run that saved an epoch
    result = train_here(tmp_path, "--epochs", "1", "--run-name", "dup")
    assert_clean_error(result, "dup", "taken", "--resume")
    assert (tmp_path / "checkpoints" / "dup" / "last.pt").read_bytes() == before


def test_a_metrics_json_folder_is_refused_before_training(tmp_path):
    (tmp_path / "out").mkdir()
    result = train_here(tmp_path, "--epochs", "1", "--run-name", "m", "--metrics-json", str(tmp_path / "out"))
    assert_clean_error(result, "--metrics-json", "is a folder")
    assert not (tmp_path / "checkpoints" / "m").exists(), "stopped before training"


def test_a_data_flag_named_on_resume_replaces_the_runs_source(trained, tmp_path):
    shutil.copytree(trained[0] / "checkpoints", tmp_path / "checkpoints")  # the shared run, 2 epochs of 2
    folder = tmp_path / "images"
    for split in ("train", "test"):
        for label in ("cat", "dog"):
            (folder / split / label).mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (32, 32), (40 * i, 100, 200)).save(folder / split / label / f"{i}.png")
    flags = ("--resume", "checkpoints/r1/last.pt", "--epochs", "3", "--image-folder", str(folder))
    resumed = run_in_process(TRAIN, *flags, cwd=tmp_path)
    assert_ok(resumed)
    assert "data: 6 train / 6 test images" in resumed.stdout
    settings = load(tmp_path / "checkpoints" / "r1" / "last.pt")["settings"]
    assert settings["image_folder"] == str(folder) and settings["fake_data"] is False
