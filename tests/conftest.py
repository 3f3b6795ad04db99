"""Shared test helpers: run a script as a learner would, read TensorBoard files back."""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def script_env(tmp_path: Path) -> dict[str, str]:
    """An environment that keeps caches and TensorBoard out of the real home folder."""
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("OMP_NUM_THREADS", "2")
    return env


def run_script(script: str, *args: str, cwd: Path, timeout: float = 300, env=None) -> subprocess.CompletedProcess:
    """Run ROOT/script with args in `cwd`, the way a learner would from a shell."""
    return subprocess.run(
        [sys.executable, str(ROOT / script), *map(str, args)],
        cwd=cwd,
        env=env or script_env(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_copied(script: str, *args: str, tmp_path: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Copy ROOT/script alone into an empty folder (with nn_CIFAR10.py when it imports it) and run it
    there with nothing of the project on the path: what a learner who copied one lesson out gets."""
    folder = tmp_path / "copied"
    folder.mkdir(exist_ok=True)
    source = (ROOT / script).read_text(encoding="utf-8")
    (folder / script).write_text(source, encoding="utf-8")
    if script != "nn_CIFAR10.py" and re.search(r"^from nn_CIFAR10 import", source, re.MULTILINE):
        (folder / "nn_CIFAR10.py").write_text((ROOT / "nn_CIFAR10.py").read_text(encoding="utf-8"), encoding="utf-8")
    env = script_env(tmp_path)
    env.pop("PYTHONPATH")
    return subprocess.run(
        [sys.executable, script, *map(str, args)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_in_process(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ROOT/script as __main__ inside the test process (no new interpreter, so no import cost).

    For the quick paths (bad input, errors); the same run_main handles errors as in a subprocess.
    """
    return run_with_globals(script, *args, cwd=cwd)[0]


def run_with_globals(script: str, *args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """run_in_process, and the script's module globals (its models, datasets ...) for the test to inspect."""
    argv = [str(ROOT / script), *map(str, args)]
    found = {}
    old_argv, sys.argv = sys.argv, argv
    try:
        result = call_captured(lambda: found.update(runpy.run_path(str(ROOT / script), run_name="__main__")), cwd, argv)
    finally:
        sys.argv = old_argv
    return result, found


def call_captured(function, cwd: Path, argv=()) -> subprocess.CompletedProcess:
    """Call `function` in `cwd`, capturing stdout, stderr and the exit code as a subprocess would."""
    stdout, stderr = io.StringIO(), io.StringIO()
    old_cwd = os.getcwd()
    code = 0
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            function()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if isinstance(exit_.code, str):  # sys.exit("error: ...") prints its message, as Python does
            stderr.write(exit_.code + "\n")
    except Exception:
        stderr.write("Traceback (most recent call last):\n" + traceback.format_exc())
        code = 1
    finally:
        os.chdir(old_cwd)
    return subprocess.CompletedProcess(list(argv), code, stdout.getvalue(), stderr.getvalue())


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\nSTDOUT:\n{result.stdout}\nSTDERR:\n{result.stderr}"


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Non-zero exit, one 'error:' line on stderr naming each fragment, and no traceback."""
    assert result.returncode != 0, f"expected failure\nSTDOUT:\n{result.stdout}\nSTDERR:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    # Our scripts print "error: ..."; argparse prints "usage: ..." then "<script>: error: ...".
    error_lines = [line for line in result.stderr.splitlines() if re.match(r"^(\S+: )?error: ", line)]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0], error_lines[0]
    return error_lines[0]


def read_tensorboard(logdir: Path):
    """An EventAccumulator over every event file below `logdir`, fully loaded.

    Returns a dict: run folder (relative to logdir) -> accumulator.
    """
    from tensorboard.backend.event_processing import event_accumulator

    runs = {}
    for events in sorted(Path(logdir).rglob("events.out.tfevents.*")):
        run = str(events.parent.relative_to(logdir))
        if run in runs:
            continue
        accumulator = event_accumulator.EventAccumulator(
            str(events.parent), size_guidance={"scalars": 0, "images": 0, "tensors": 0}
        )
        runs[run] = accumulator.Reload()
    return runs


def all_tags(logdir: Path) -> dict[str, set[str]]:
    """Kind ('scalars', 'images', 'tensors', 'graph') -> every tag written below logdir."""
    tags: dict[str, set[str]] = {"scalars": set(), "images": set(), "tensors": set(), "graph": set()}
    for accumulator in read_tensorboard(logdir).values():
        found = accumulator.Tags()
        for kind in ("scalars", "images", "tensors"):
            tags[kind].update(found.get(kind, []))
        if found.get("graph"):
            tags["graph"].add("graph")
    return tags


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty folder to run scripts in (so logs/ and checkpoints/ land there)."""
    path = tmp_path / "work"
    path.mkdir()
    return path
