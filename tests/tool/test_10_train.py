"""10_train_cifar10.py as a training tool: metrics, TensorBoard, checkpoints, resume, bad input."""

from __future__ import annotations

import json
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

from common import CIFAR10_CLASSES

TRAIN = "10_train_cifar10.py"
FAST = ("--fake-data", "--compile", "off")


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
    for key in ("model", "optimizer", "epoch", "rng", "args", "metrics", "model_name"):
        assert key in last, key
    assert last["epoch"] == 2 and last["args"]["lr"] == 0.01 and last["args"]["batch_size"] == 64
    assert "conv1.weight" in last["model"] and "state" in last["optimizer"]
    assert isinstance(last["rng"]["torch"], torch.Tensor)
    assert best["metrics"][-1]["test_accuracy"] == max(m["test_accuracy"] for m in last["metrics"])
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
    assert load(tmp_path / "checkpoints" / "parts" / "last.pt")["epoch"] == 2
    resumed = train_here(tmp_path, "--resume", "checkpoints/parts/last.pt", "--metrics-json", "parts.json")
    assert_ok(resumed)
    assert "resuming run parts" in resumed.stdout
    whole, parts = (load(tmp_path / "checkpoints" / n / "last.pt") for n in ("whole", "parts"))
    assert parts["epoch"] == 4
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
    common = ("--epochs", "3", "--seed", "5")
    assert_ok(train_here(tmp_path, *common, "--run-name", "whole"))
    process = start_training(tmp_path, *common, "--run-name", "cut", "--log-every", "1")
    last = tmp_path / "checkpoints" / "cut" / "last.pt"
    wait_for(last, process)  # epoch 1 is done: interrupt somewhere in epoch 2
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "Traceback" not in stderr and "resume with: python 10_train_cifar10.py --resume" in stderr
    saved = load(last)
    assert_ok(train_here(tmp_path, "--resume", str(last)))
    whole, cut = (load(tmp_path / "checkpoints" / n / "last.pt") for n in ("whole", "cut"))
    assert cut["epoch"] == 3 and saved["epoch"] < 3
    assert_same_weights(whole["model"], cut["model"])


def test_checkpoint_survives_a_kill(tmp_path):
    process = start_training(tmp_path, "--epochs", "50", "--run-name", "k")
    last = tmp_path / "checkpoints" / "k" / "last.pt"
    wait_for(last, process)
    first_write = last.stat().st_mtime_ns
    deadline = time.monotonic() + 60
    while last.stat().st_mtime_ns == first_write and time.monotonic() < deadline:
        time.sleep(0.01)  # kill right after a later save, while the next one may be in flight
    time.sleep(0.05)
    process.kill()
    process.communicate()
    checkpoint = load(last)
    assert checkpoint["epoch"] >= 1
    resumed = train_here(tmp_path, "--resume", str(last), "--epochs", str(checkpoint["epoch"] + 1))
    assert_ok(resumed)
    assert load(last)["epoch"] == checkpoint["epoch"] + 1


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--epochs", "0"), "--epochs"),
        (("--epochs", "-3"), "--epochs"),
        (("--batch-size", "0"), "--batch-size"),
        (("--lr", "-0.1"), "--lr"),
        (("--lr", "1e6"), "lower --lr"),
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
    other = load(tmp_path / "checkpoints" / "ok" / "last.pt")
    other["args"]["model"] = other["model_name"] = "fastnet"
    torch.save(other, tmp_path / "other-model.pt")
    assert_clean_error(train_here(tmp_path, "--resume", str(tmp_path / "other-model.pt")), "does not fit")
    done = train_here(tmp_path, "--resume", "checkpoints/ok/last.pt")
    assert_clean_error(done, "--epochs")
