"""The README's commands are the ones CI runs, and every script it lists exists, explains itself and
takes the flags the README says it takes."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, assert_ok, run_in_process

README = (ROOT / "README.md").read_text()
SCRIPTS = sorted(set(re.findall(r"`(\d\d_\w+\.py|nn_CIFAR10\.py)`", README)))
# The README's "Data, offline too": which scripts take the three data flags.
DATA_FLAG_SCRIPTS = {f"{n}.py" for n in ("02_dataloader", "04_transforms", "05_conv", "06_pool", "07_activation")}
DATA_FLAG_SCRIPTS |= {"08_linear.py", "09_loss.py", "10_train_cifar10.py", "11_save_load.py", "13_pretrained.py"}


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
def test_script_has_help_a_bilingual_heading_and_help_for_every_flag(script, tmp_path):
    first_line = (ROOT / script).read_text(encoding="utf-8").split("\n", 1)[0]
    assert first_line.startswith('"""') and " / " in first_line
    assert re.search(r"[\u4e00-\u9fff]", first_line), "the notes' Chinese heading"
    result = run_in_process(script, "--help", cwd=tmp_path)
    assert_ok(result)
    assert first_line.strip('"') in result.stdout, "--help shows the docstring"
    lines = result.stdout.split("options:", 1)[1].splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^  (-\S+.*?)(?:\s{2,}(\S.*))?$", line)
        if match and not match.group(2):  # the help text then stands on the next, more indented line
            following = lines[index + 1] if index + 1 < len(lines) else ""
            assert following.startswith(" " * 6) and following.strip(), f"{script}: no help for {match.group(1)}"
    takes_data_flags = all(flag in result.stdout for flag in ("--data-root", "--image-folder", "--fake-data"))
    assert takes_data_flags == (script in DATA_FLAG_SCRIPTS), "the README's data-flag list"


def test_readme_examples_match_the_files_and_the_help():
    assert "python 12_predict.py images/plane.png" in README and (ROOT / "images" / "plane.png").is_file()
    resume = "--resume checkpoints/<run-name>/last.pt"
    assert resume in README and resume in (ROOT / "10_train_cifar10.py").read_text()
