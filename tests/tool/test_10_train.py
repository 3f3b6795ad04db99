"""10_train_cifar10.py as a training tool: metrics, TensorBoard, checkpoints, resume, bad input."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
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
    script_env,
)
from PIL import Image

import training.device
from training.cli import UserError
from training.data import CIFAR10_CLASSES
from training.device import cpu_has_bf16
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
    result = train(workdir, "--epochs", "2", "--run-name", "r1", "--log-every", "5", "--metrics-json", "m.json")
    assert_ok(result)
    return workdir, result


def test_prints_each_epoch_and_the_per_class_table(trained):
    _, result = trained
    for epoch in (1, 2):
        assert f"epoch {epoch}/2  train loss " in result.stdout
    assert "test accuracy" in result.stdout and "img/s" in result.stdout
    for name in CIFAR10_CLASSES:
        assert name in result.stdout
    assert "device: cpu" in result.stdout


def test_metrics_json(trained):
    workdir, _ = trained
    metrics = json.loads((workdir / "m.json").read_text())
    for key in ("epochs", "train_loss", "test_loss", "test_accuracy", "seconds", "train_images_per_sec", "device"):
        assert key in metrics, key
    assert metrics["epochs"] == 2 and metrics["device"] == "cpu"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["train_images_per_sec"] > 0 and metrics["seconds"] > 0
    assert [m["epoch"] for m in metrics["history"]] == [1, 2]
    assert tuple(metrics["per_class_accuracy"]) == CIFAR10_CLASSES


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


def test_a_second_run_gets_a_fresh_folder(tmp_path):
    for _ in range(2):
        assert_ok(train_here(tmp_path, "--epochs", "1"))
    runs = sorted(p.name for p in (tmp_path / "logs" / "train").iterdir())
    assert len(runs) == 2 and runs[0] != runs[1]


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


def test_same_seed_same_losses(tmp_path):
    first = train_here(tmp_path, "--epochs", "2", "--seed", "7", "--run-name", "a", "--metrics-json", "a.json")
    second = train_here(tmp_path, "--epochs", "2", "--seed", "7", "--run-name", "b", "--metrics-json", "b.json")
    assert_ok(first)
    assert_ok(second)
    a, b = (json.loads((tmp_path / f"{n}.json").read_text())["history"] for n in "ab")
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


@pytest.mark.parametrize("recipe", ["notes", "fast"])  # fast: FastNet's whitened stem must not be re-set
def test_resume_equals_uninterrupted(tmp_path, recipe):
    common = ("--recipe", recipe, "--epochs", "4", "--seed", "3", "--momentum", "0.9", "--lr", "0.005")
    assert_ok(train_here(tmp_path, *common, "--run-name", "whole", "--metrics-json", "whole.json"))
    stopped = train_here(tmp_path, *common, "--run-name", "parts", "--stop-after", "2")
    assert_ok(stopped)
    assert "--resume" in stopped.stdout
    assert load(tmp_path / "checkpoints" / "parts" / "last.pt")["progress"]["epochs_done"] == 2
    resumed = train_here(tmp_path, "--resume", "checkpoints/parts/last.pt", "--metrics-json", "parts.json")
    assert_ok(resumed)
    assert "resuming run parts" in resumed.stdout
    whole, parts = (load(tmp_path / "checkpoints" / n / "last.pt") for n in ("whole", "parts"))
    assert parts["progress"]["epochs_done"] == 4
    assert_same_weights(whole["model"], parts["model"])
    a, b = (json.loads((tmp_path / f"{n}.json").read_text())["history"] for n in ("whole", "parts"))
    for x, y in zip(a, b):
        assert x["test_loss"] == pytest.approx(y["test_loss"], rel=1e-5)
        assert x["train_loss_sum"] == pytest.approx(y["train_loss_sum"], rel=1e-5)


def start_training(workdir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / TRAIN), *FAST, *args],
        cwd=workdir,
        env=script_env(workdir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_ctrl_c_saves_and_resume_matches(tmp_path):
    flags = ("--epochs", "3", "--seed", "5")
    assert_ok(train_here(tmp_path, *flags, "--run-name", "whole"))
    process = start_training(tmp_path, *flags, "--run-name", "cut", "--log-every", "1")
    last = tmp_path / "checkpoints" / "cut" / "last.pt"
    wait_for(last, process)  # epoch 1 is done: interrupt somewhere in epoch 2
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr and "resume with: python 10_train_cifar10.py --resume" in stderr
    saved = load(last)["progress"]
    assert_ok(train_here(tmp_path, "--resume", str(last)))
    whole, cut = (load(tmp_path / "checkpoints" / n / "last.pt") for n in ("whole", "cut"))
    assert cut["progress"]["epochs_done"] == 3 and saved["epochs_done"] < 3
    assert_same_weights(whole["model"], cut["model"])


def interrupt_at(monkeypatch, epoch: int, step: int, presses: int) -> None:
    """Press Ctrl-C `presses` times just before step `step` of epoch `epoch` (counted from 0), in-process."""
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


def test_first_ctrl_c_saves_at_the_step_boundary(tmp_path, monkeypatch):
    interrupt_at(monkeypatch, epoch=1, step=5, presses=1)
    result = train_here(tmp_path, "--epochs", "3", "--run-name", "c")
    assert result.returncode == 130 and "Traceback" not in result.stderr
    progress = load(tmp_path / "checkpoints" / "c" / "last.pt")["progress"]
    # Steps 0-4 of the second epoch were trained; the step that was about to start was not.
    assert (progress["epochs_done"], progress["step_in_epoch"], progress["global_step"]) == (1, 5, 16 + 5)
    assert "stopped in epoch 2 after step 5" in result.stderr


def test_second_ctrl_c_stops_at_once_unsaved(tmp_path, monkeypatch):
    interrupt_at(monkeypatch, epoch=1, step=5, presses=2)
    result = train_here(tmp_path, "--epochs", "3", "--run-name", "c")
    assert result.returncode == 130 and "Traceback" not in result.stderr
    progress = load(tmp_path / "checkpoints" / "c" / "last.pt")["progress"]
    assert (progress["epochs_done"], progress["step_in_epoch"]) == (1, 0), "only epoch 1's checkpoint exists"
    assert "stopped in epoch" not in result.stderr and "\ninterrupted" in result.stderr


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
    assert_ok(train_here(tmp_path, "--epochs", "3", "--stop-after", "1", "--run-name", "r", "--log-every", "1"))
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
    assert max(lrs[16:]) <= 0.002 + 1e-12, "epochs 2-3 at the new one"


@pytest.mark.parametrize(("flag", "value"), [("--batch-size", "32"), ("--model", "fastnet"), ("--seed", "9")])
def test_resume_refuses_settings_that_cannot_change(tmp_path, flag, value):
    assert_ok(train_here(tmp_path, "--epochs", "2", "--stop-after", "1", "--run-name", "r"))
    result = train_here(tmp_path, "--resume", "checkpoints/r/last.pt", flag, value)
    assert_clean_error(result, flag, "cannot change when resuming")


def test_a_loss_that_blows_up_stops_the_run_even_while_finite():
    spec = importlib.util.spec_from_file_location("train_script", ROOT / TRAIN)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    args = Settings(lr=0.2, momentum=0.9)
    assert script.finite(2.3, args, 0, 5, script.DIVERGED_LOSS) == 2.3
    assert script.finite(1e4, args, 0, 5) == 1e4, "an epoch's summed loss has no limit"
    for loss in (1e9, float("nan"), float("inf")):
        with pytest.raises(UserError, match=r"at epoch 1, step 6: .* try a lower --lr \(it was 0.2\)"):
            script.finite(loss, args, 0, 5, script.DIVERGED_LOSS)


def test_progress_lines_when_output_is_not_a_terminal(trained):
    _, result = trained  # run with stderr piped, as in a log file
    lines = [line for line in result.stderr.splitlines() if line.startswith("epoch 1/2: ")]
    assert 5 <= len(lines) <= 10, result.stderr
    assert all(re.match(r"epoch 1/2: \d+% \(\d+/16\)  loss \d+\.\d{3}$", line) for line in lines), lines


NO_BF16_NOTE = "--amp: mixed precision does nothing here (this CPU has no native bf16"


def test_amp_on_this_cpu_says_what_it_does(tmp_path):
    result = train_here(tmp_path, "--epochs", "1", "--amp")
    assert_ok(result)
    if cpu_has_bf16():
        assert "--amp: bf16 mixed precision on cpu" in result.stdout
        assert NO_BF16_NOTE not in result.stdout
    else:
        assert NO_BF16_NOTE in result.stdout and "training stays float32" in result.stdout
        assert "bf16 mixed precision on cpu" not in result.stdout


def test_amp_on_a_cpu_without_bf16_says_it_does_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(training.device, "cpu_has_bf16", lambda: False)
    result = train_here(tmp_path, "--epochs", "1", "--amp")
    assert_ok(result)
    assert NO_BF16_NOTE in result.stdout and "training stays float32" in result.stdout
    assert "bf16 mixed precision on cpu" not in result.stdout


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
    ],
)
def test_bad_settings(tmp_path, flags, fragment):
    assert_clean_error(train_here(tmp_path, "--epochs", "1", *flags), fragment)


def test_bad_image_folders(tmp_path):
    missing = run_in_process(TRAIN, "--image-folder", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert_clean_error(missing, "does not exist")
    empty = tmp_path / "empty"
    (empty / "train" / "cat").mkdir(parents=True)
    (empty / "test" / "cat").mkdir(parents=True)
    assert_clean_error(run_in_process(TRAIN, "--image-folder", str(empty), cwd=tmp_path), "no images")
    corrupt = tmp_path / "corrupt"
    for split in ("train", "test"):
        (corrupt / split / "cat").mkdir(parents=True)
        (corrupt / split / "cat" / "0.png").write_bytes(b"not a png")
    assert_clean_error(run_in_process(TRAIN, "--image-folder", str(corrupt), cwd=tmp_path), "0.png")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda(tmp_path):
    assert_clean_error(train_here(tmp_path, "--device", "cuda"), "CUDA is not available")


def test_unwritable_output_folders(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_clean_error(train_here(tmp_path, "--logdir", str(blocker / "logs")), "--logdir")
    assert_clean_error(train_here(tmp_path, "--checkpoint-dir", str(blocker / "ck")), "--checkpoint-dir")


def test_bad_checkpoints(tmp_path):
    truncated = tmp_path / "truncated.pt"
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.ones(3)}, foreign)
    assert_ok(train_here(tmp_path, "--epochs", "1", "--run-name", "ok"))
    good = (tmp_path / "checkpoints" / "ok" / "last.pt").read_bytes()
    truncated.write_bytes(good[: len(good) // 2])
    assert_clean_error(train_here(tmp_path, "--resume", str(truncated)), "truncated")
    assert_clean_error(train_here(tmp_path, "--resume", str(foreign)), "not a checkpoint")
    assert_clean_error(train_here(tmp_path, "--resume", str(tmp_path / "none.pt")), "does not exist")
    assert_clean_error(train_here(tmp_path, "--resume", str(tmp_path / "checkpoints")), "is a folder")
    other = load(tmp_path / "checkpoints" / "ok" / "last.pt")
    other["settings"]["model"] = other["model_name"] = "fastnet"
    torch.save(other, tmp_path / "other-model.pt")
    other_model = train_here(tmp_path, "--resume", str(tmp_path / "other-model.pt"), "--epochs", "2")
    assert_clean_error(other_model, "does not fit")
    done = train_here(tmp_path, "--resume", "checkpoints/ok/last.pt")
    assert_clean_error(done, "trained 1 epoch already", "pass a larger --epochs")
    assert "device:" not in done.stdout, "a finished run says so before it loads the data"


def test_a_taken_run_name_is_refused_and_the_old_run_kept(tmp_path):
    assert_ok(train_here(tmp_path, "--epochs", "1", "--run-name", "dup"))
    before = (tmp_path / "checkpoints" / "dup" / "last.pt").read_bytes()
    assert_clean_error(
        train_here(tmp_path, "--epochs", "1", "--run-name", "dup"), "--run-name dup is taken", "--resume"
    )
    assert (tmp_path / "checkpoints" / "dup" / "last.pt").read_bytes() == before


def test_a_metrics_json_folder_is_refused_before_training(tmp_path):
    (tmp_path / "out").mkdir()
    result = train_here(tmp_path, "--epochs", "1", "--run-name", "m", "--metrics-json", str(tmp_path / "out"))
    assert_clean_error(result, "--metrics-json", "is a folder")
    assert not (tmp_path / "checkpoints" / "m").exists(), "stopped before training"


def test_a_data_flag_named_on_resume_replaces_the_runs_source(tmp_path):
    assert_ok(train_here(tmp_path, "--epochs", "2", "--stop-after", "1", "--run-name", "r"))
    folder = tmp_path / "images"
    for split in ("train", "test"):
        for label in ("cat", "dog"):
            (folder / split / label).mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (32, 32), (40 * i, 100, 200)).save(folder / split / label / f"{i}.png")
    resumed = run_in_process(TRAIN, "--resume", "checkpoints/r/last.pt", "--image-folder", str(folder), cwd=tmp_path)
    assert_ok(resumed)
    assert "data: 6 train / 6 test images" in resumed.stdout
    settings = load(tmp_path / "checkpoints" / "r" / "last.pt")["settings"]
    assert settings["image_folder"] == str(folder) and settings["fake_data"] is False
