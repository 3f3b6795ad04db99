"""README.md and README.zh-CN.md against the scripts: CI runs the README's commands; every script the table
lists exists, explains itself and takes the offline flags the table gives it; every flag an example uses is
the script's own; the Chinese README has the same scripts, commands and troubleshooting."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, assert_ok, run_in_process

README = (ROOT / "README.md").read_text(encoding="utf-8")
README_ZH = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
SCRIPT = r"\d\d_\w+\.py|nn_CIFAR10\.py"
ON_DISK = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py")) + ["nn_CIFAR10.py"]

# The offline flags: a lesson that reads CIFAR-10 takes --fake-data, 01 takes --demo, the others none;
# the training tool takes the three data flags.
DATA_FLAGS = {"--fake-data", "--demo", "--data-root", "--image-folder"}
FAKE_DATA_LESSONS = {"02_dataloader.py", "04_transforms.py", "05_conv.py", "06_pool.py", "07_activation.py"}
FAKE_DATA_LESSONS |= {"08_linear.py", "09_loss.py", "15_finetune_resnet18.py"}


def expected_data_flags(script: str) -> set[str]:
    if script == "10_train_cifar10.py":
        return {"--fake-data", "--image-folder", "--data-root"}
    if script == "01_dataset.py":
        return {"--demo"}
    return {"--fake-data"} if script in FAKE_DATA_LESSONS else set()


def table_rows(text: str) -> dict[str, tuple[str, set[str]]]:
    """The scripts table: script -> (command, offline flags)."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(f"`({SCRIPT})`", cells[1]):
            rows[cells[1].strip("`")] = (cells[2].strip("`"), set(re.findall(r"--[a-z][a-z-]*", cells[3])))
    return rows


def commands(text: str) -> set[str]:
    """The shell commands a reader may copy: lines of ```bash blocks and inline code, without comments."""
    found = set()
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        found.update(line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip())
    for span in code_spans(text):
        if span.startswith(("python ", "pip ", "tensorboard ", "torchrun ", "netstat ", "lsof ", "tasklist ")):
            found.add(span)
    return {" ".join(command.split()) for command in found}


def code_spans(text: str) -> set[str]:
    """Inline `code` outside the fenced blocks, a span broken over two lines joined again."""
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return {" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)}


def section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def has_flag(help_text: str, flag: str) -> bool:
    """Whether --help's options list `flag` (as itself or beside its short form)."""
    options = help_text.split("options:", 1)[1]
    return re.search(rf"^ +(-\w, )?{flag}(?![\w-])", options, re.MULTILINE) is not None


ROWS = table_rows(README)


@pytest.fixture(scope="module")
def help_of(tmp_path_factory):
    cache: dict[str, str] = {}

    def help_text(script: str) -> str:
        if script not in cache:
            result = run_in_process(script, "--help", cwd=tmp_path_factory.mktemp("help"))
            assert_ok(result)
            cache[script] = result.stdout
        return cache[script]

    return help_text


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
    assert "pip install -r requirements-dev.txt && ruff check . && python -m pytest" in readme_commands


def test_the_table_lists_every_script_with_its_command_and_offline_flags():
    assert sorted(ROWS) == sorted(ON_DISK)
    for script, (command, offline_flags) in ROWS.items():
        assert command.startswith(f"python {script}"), command
        assert offline_flags == expected_data_flags(script), script


@pytest.mark.parametrize("script", ON_DISK)
def test_script_has_a_bilingual_heading(script):
    source = (ROOT / script).read_text(encoding="utf-8")
    heading = " ".join(source.split("\n\n", 1)[0].split())
    assert source.startswith('"""') and " / " in heading
    assert re.search(r"[\u4e00-\u9fff]", heading), "the notes' Chinese heading"


# nn_CIFAR10.py parses no arguments: the lessons that import MyModel from it parse their own.
@pytest.mark.parametrize("script", [script for script in ON_DISK if script != "nn_CIFAR10.py"])
def test_script_has_help_and_its_offline_flags(script, help_of):
    first_line = (ROOT / script).read_text(encoding="utf-8").split("\n", 1)[0]
    help_text = help_of(script)
    assert " ".join(first_line.strip('"').split()) in " ".join(help_text.split()), "--help shows the docstring"
    lines = help_text.split("options:", 1)[1].splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^  (-\S+.*?)(?:\s{2,}(\S.*))?$", line)
        if match and not match.group(2):  # the help text then stands on the next, more indented line
            following = lines[index + 1] if index + 1 < len(lines) else ""
            assert following.startswith(" " * 6) and following.strip(), f"{script}: no help for {match.group(1)}"
    takes = {flag for flag in DATA_FLAGS if has_flag(help_text, flag)}
    assert takes == expected_data_flags(script)


def test_every_flag_in_the_readme_examples_is_the_scripts_own(help_of):
    examples = [c for c in commands(README) if re.search(rf"(^python |^torchrun .*?)({SCRIPT})", c)]
    examples += [command for command, _ in ROWS.values()]
    assert len(examples) > len(ROWS)
    for example in examples:
        script, arguments = re.search(rf"({SCRIPT})(.*)", example).groups()
        assert script in ON_DISK, example
        for flag in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", arguments):
            assert has_flag(help_of(script), flag), f"{example}: {flag}"
    assert "python 12_predict.py images/plane.png" in README and (ROOT / "images" / "plane.png").is_file()
    resume = "--resume checkpoints/<run-name>/last.pt"
    assert resume in README and resume in (ROOT / "10_train_cifar10.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("text", [README, README_ZH], ids=["README.md", "README.zh-CN.md"])
def test_links_lead_to_files(text):
    targets = re.findall(r"\]\(([^)#\s]+)\)", text)
    assert "bench/README.md" in targets
    for target in targets:
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target


def test_the_chinese_readme_has_the_same_scripts_commands_and_troubleshooting():
    assert "README.zh-CN.md" in README.split("\n## ", 1)[0] and "README.md" in README_ZH.split("\n## ", 1)[0]
    assert table_rows(README_ZH) == ROWS
    assert commands(README_ZH) == commands(README)
    english = code_spans(section(README, "Troubleshooting"))
    chinese = code_spans(section(README_ZH, "常见错误"))
    assert english and english <= chinese, english - chinese
