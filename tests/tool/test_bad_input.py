"""10_train_cifar10.py on bad input: one `error:` line naming the culprit, exit 2, nothing lost or half-done;
and the lines a resumed or cut-short run prints say what happened."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOT, assert_clean_error, assert_ok, run_in_process, script_env

from nn_CIFAR10 import MyModel

TRAIN = "10_train_cifar10.py"
FAST = ("--fake-data", "--compile", "off", "--device", "cpu")


def train_here(workdir: Path, *args: str):
    """A run of the tool inside the test process (no interpreter start-up)."""
    return run_in_process(TRAIN, *FAST, *args, cwd=workdir)


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory) -> Path:
    """A real checkpoint: a 3-epoch run stopped after its first epoch (run name 'r')."""
    workdir = tmp_path_factory.mktemp("stopped")
    assert_ok(train_here(workdir, "--epochs", "3", "--stop-after", "1", "--run-name", "r", "--metrics-json", "m.json"))
    return workdir


def copy_of(stopped_run: Path, tmp_path: Path, change=None) -> Path:
    """The stopped run's last.pt in tmp_path/checkpoints/r/, after `change(checkpoint)` if given."""
    folder = tmp_path / "checkpoints" / "r"
    folder.mkdir(parents=True)
    checkpoint = load(stopped_run / "checkpoints" / "r" / "last.pt")
    if change:
        change(checkpoint)
    torch.save(checkpoint, folder / "last.pt")
    return folder / "last.pt"


def test_a_batch_smaller_than_the_process_count_is_refused(tmp_path, monkeypatch):
    import training.distributed

    monkeypatch.setattr(training.distributed, "setup", lambda device: (0, 2))  # as under torchrun, 2 processes
    result = train_here(tmp_path, "--batch-size", "1", "--epochs", "1", "--run-name", "r")
    assert result.returncode == 2
    assert_clean_error(result, "--batch-size 1", "2 processes")
    assert not (tmp_path / "checkpoints" / "r").exists()


# --- output folders and absurd numbers: refused before anything trains ------------------------------


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize(("flag", "folder"), [("--logdir", "/proc/forbidden/logs"), ("--checkpoint-dir", "/proc/nope")])
def test_a_folder_that_cannot_be_made_is_refused_before_training(tmp_path, flag, folder):
    result = train_here(tmp_path, "--epochs", "1", flag, folder)
    assert result.returncode == 2
    assert_clean_error(result, flag)
    assert "epoch 1/1" not in result.stdout + result.stderr, "refused before training"


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--batch-size", "99999999999999999999999"), ("--workers", "99999999999"), ("--momentum", "1.5")],
)
def test_absurd_numbers_are_refused(tmp_path, flag, value):
    result = train_here(tmp_path, "--epochs", "1", flag, value)
    assert result.returncode == 2
    assert_clean_error(result, flag)


def test_a_weight_decay_that_blows_up_is_named_not_the_learning_rate(tmp_path):
    result = train_here(tmp_path, "--epochs", "1", "--weight-decay", "1e30")
    line = assert_clean_error(result, "--weight-decay")
    assert "lower --lr" not in line


# --- checkpoints that are not what --resume needs ---------------------------------------------------


def test_a_whole_model_pickle_says_what_it_is(tmp_path):
    torch.save(MyModel(), tmp_path / "whole.pt")
    assert_clean_error(train_here(tmp_path, "--resume", "whole.pt"), "whole model", "MyModel")


def test_a_state_dict_says_it_holds_only_weights(tmp_path):
    torch.save(MyModel().state_dict(), tmp_path / "weights.pth")  # what 11_save_load.py saves
    for flag in ("--resume", "--evaluate"):
        result = run_in_process(TRAIN, flag, "weights.pth", cwd=tmp_path)
        assert_clean_error(result, "state_dict", "12_predict.py")


def test_a_file_that_is_no_checkpoint_is_not_told_to_try_weights_only_false(tmp_path):
    (tmp_path / "notes.txt").write_text("not a checkpoint\n")
    line = assert_clean_error(train_here(tmp_path, "--resume", "notes.txt"), "not a checkpoint")
    assert "weights_only" not in line


def unknown_model(checkpoint):
    checkpoint["model_name"] = checkpoint["settings"]["model"] = "resnet99"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [(unknown_model, "resnet99"), (lambda checkpoint: checkpoint.pop("optimizer"), "optimizer")],
    ids=["unknown-model", "no-optimizer"],
)
def test_hand_made_checkpoints_are_one_line(stopped_run, tmp_path, change, fragment):
    path = copy_of(stopped_run, tmp_path, change)
    assert_clean_error(train_here(tmp_path, "--resume", str(path)), fragment)


def test_a_taken_run_name_without_a_checkpoint_suggests_no_resume(tmp_path):
    (tmp_path / "logs" / "train" / "died").mkdir(parents=True)  # a run that stopped before its first epoch ended
    (tmp_path / "checkpoints" / "died").mkdir(parents=True)
    line = assert_clean_error(train_here(tmp_path, "--epochs", "1", "--run-name", "died"), "--run-name died")
    assert "last.pt" not in line


# --- what a resumed run says -------------------------------------------------------------------------


def test_resume_names_each_setting_it_changes(stopped_run, tmp_path):
    path = copy_of(stopped_run, tmp_path)
    result = train_here(tmp_path, "--resume", str(path), "--lr", "0.02", "--momentum", "0.5", "--stop-after", "1")
    assert_ok(result)
    assert "lr 0.01 → 0.02" in result.stdout and "momentum 0 → 0.5" in result.stdout


def test_resume_after_a_mid_epoch_stop_says_the_step(stopped_run, tmp_path):
    def mid_epoch(checkpoint):
        checkpoint["progress"].update(step_in_epoch=5, global_step=16 + 5)

    path = copy_of(stopped_run, tmp_path, mid_epoch)
    result = train_here(tmp_path, "--resume", str(path), "--stop-after", "1")
    assert_ok(result)
    resuming = next(line for line in result.stdout.splitlines() if line.startswith("resuming"))
    assert "1 epoch" in resuming and "step 5" in resuming


def test_extending_a_one_cycle_run_says_the_learning_rate_jumps(tmp_path):
    assert_ok(train_here(tmp_path, "--epochs", "1", "--schedule", "onecycle", "--run-name", "c"))
    result = train_here(tmp_path, "--resume", "checkpoints/c/last.pt", "--epochs", "2")
    assert_ok(result)
    assert "onecycle" in result.stdout and "jumps" in result.stdout


def test_the_metrics_seconds_count_every_process_of_a_resumed_run(stopped_run, tmp_path):
    first = json.loads((stopped_run / "m.json").read_text())["seconds"]
    path = copy_of(stopped_run, tmp_path)
    assert_ok(train_here(tmp_path, "--resume", str(path), "--stop-after", "1", "--metrics-json", "m.json"))
    resumed = json.loads((tmp_path / "m.json").read_text())
    assert resumed["seconds"] > first + resumed["history"][-1]["seconds"]


# --- output closed early ------------------------------------------------------------------------------


def test_output_piped_into_head_saves_and_says_how_to_resume(tmp_path):
    command = [sys.executable, str(ROOT / TRAIN), *FAST, "--epochs", "3", "--run-name", "p"]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=script_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for line in process.stdout:  # like `| head`: read the header, then close the pipe
        if line.startswith("run p:"):
            break
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=120)
    assert "Traceback" not in stderr
    assert "resume with: python 10_train_cifar10.py --resume" in stderr
    assert (tmp_path / "checkpoints" / "p" / "last.pt").exists()


def test_evaluate_refuses_training_flags(stopped_run, tmp_path):
    path = copy_of(stopped_run, tmp_path)
    assert_clean_error(train_here(tmp_path, "--evaluate", str(path), "--lr", "0.1"), "--evaluate", "--lr")


def test_an_image_folder_without_a_test_split_is_refused_before_decoding(tmp_path):
    from PIL import Image

    (tmp_path / "data" / "train" / "ants").mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(tmp_path / "data" / "train" / "ants" / "a.png")
    result = run_in_process(TRAIN, "--image-folder", "data", "--device", "cpu", cwd=tmp_path)
    assert_clean_error(result, "test")
    assert not (tmp_path / "data" / ".tensor-cache").exists()  # nothing written into the learner's folder
