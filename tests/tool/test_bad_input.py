"""10_train_cifar10.py on bad input: one `error:` line naming the culprit, exit 2, nothing lost or half-done."""

from __future__ import annotations

from pathlib import Path

from conftest import assert_clean_error, run_in_process

TRAIN = "10_train_cifar10.py"
FAST = ("--fake-data", "--compile", "off", "--device", "cpu")


def train_here(workdir: Path, *args: str):
    """A run of the tool inside the test process (no interpreter start-up)."""
    return run_in_process(TRAIN, *FAST, *args, cwd=workdir)


def test_a_batch_smaller_than_the_process_count_is_refused(tmp_path, monkeypatch):
    import training.distributed

    monkeypatch.setattr(training.distributed, "setup", lambda device: (0, 2))  # as under torchrun, 2 processes
    result = train_here(tmp_path, "--batch-size", "1", "--epochs", "1", "--run-name", "r")
    assert result.returncode == 2
    assert_clean_error(result, "--batch-size 1", "2 processes")
    assert not (tmp_path / "checkpoints" / "r").exists()
