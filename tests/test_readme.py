"""The README's commands are the ones CI runs, and every script it lists exists and explains itself."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, assert_ok, run_in_process

README = (ROOT / "README.md").read_text()
SCRIPTS = sorted(set(re.findall(r"`(\d\d_\w+\.py|nn_CIFAR10\.py)`", README)))


def test_ci_runs_the_readme_commands():
    ci_lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci_lines, "CI must run something"
    readme_commands = [line.strip() for line in README.splitlines()]
    for line in ci_lines:
        assert any(command.startswith(line) for command in readme_commands), line
    assert "pip install -r requirements.txt && python 10_train_cifar10.py" in readme_commands


def test_the_table_lists_every_numbered_script():
    on_disk = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py")) + ["nn_CIFAR10.py"]
    assert sorted(SCRIPTS) == sorted(on_disk)


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_has_help_and_a_bilingual_heading(script, tmp_path):
    first_line = (ROOT / script).read_text(encoding="utf-8").split("\n", 1)[0]
    assert first_line.startswith('"""') and " / " in first_line
    assert re.search(r"[\u4e00-\u9fff]", first_line), "the notes' Chinese heading"
    result = run_in_process(script, "--help", cwd=tmp_path)
    assert_ok(result)
    assert result.stdout.startswith("usage:")
