"""bench/ablation.py runs a row as a learner would and records it in the CSV, the table and the plot."""

from __future__ import annotations

import contextlib
import csv
import io
import sys

from conftest import ROOT, assert_clean_error, assert_ok, run_in_process
from PIL import Image
from test_fast_path import make_image_folder

sys.path.insert(0, str(ROOT / "bench"))
import ablation  # noqa: E402


def test_a_row_runs_and_lands_in_the_csv_the_table_and_the_plot(tmp_path):
    folder = make_image_folder(tmp_path / "cifar", per_class=4)
    csv_path, png_path = tmp_path / "out" / "ablation.csv", tmp_path / "out" / "ablation.png"
    flags = ("--table", "notes", "--csv", csv_path, "--png", png_path)
    result = run_in_process("bench/ablation.py", *flags, "--image-folder", folder, "--rows", "2", cwd=tmp_path)
    assert_ok(result)
    with csv_path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 11)), "one CSV line per epoch"
    assert {r["label"] for r in rows} == {"+ ReLU"}
    assert rows[0]["command"] == f"python 10_train_cifar10.py --image-folder {folder} --epochs 10 --model mymodel-relu"
    elapsed = [float(r["elapsed_seconds"]) for r in rows]
    assert elapsed == sorted(elapsed) and 0 < elapsed[-1] <= float(rows[-1]["process_seconds"])
    peak = {r["peak_rss_mb"] for r in rows}
    assert len(peak) == 1 and int(peak.pop()) > 50, "the row's process peak memory (Python and torch alone: >50 MB)"
    table_row = next(line for line in result.stdout.splitlines() if line.startswith("| 2. + ReLU |"))
    assert f"**{100 * float(rows[-1]['test_accuracy']):.2f}%**" in table_row, "the table shows the CSV's last epoch"
    assert f"{int(rows[0]['peak_rss_mb']):,} MB" in table_row
    assert "--image-folder" not in table_row, "the table's command leaves out this machine's data folder"
    with Image.open(png_path) as image:
        assert len(image.getcolors(1 << 20)) > 2, "something was drawn"

    png_path.unlink()
    assert_ok(run_in_process("bench/ablation.py", *flags, "--report-only", cwd=tmp_path))
    assert png_path.is_file(), "--report-only redraws the plot from the CSV"


def test_bad_input_gives_one_line(tmp_path):
    def run(*flags):
        return run_in_process("bench/ablation.py", *flags, cwd=tmp_path)

    assert_clean_error(run("--rows", "1"), "--image-folder is required")
    assert_clean_error(run("--image-folder", tmp_path / "nowhere"), "train/ and test/")
    assert_clean_error(run("--report-only", "--csv", tmp_path / "none.csv"), "no CSV")
    last = len(ablation.TIME_ROWS)
    assert_clean_error(run("--rows", str(last + 1), "--image-folder", tmp_path), f"rows 1 to {last}")
    assert_clean_error(run("--report-only", "--rows", "0"), f"rows 1 to {last}")


def test_time_table_rows_add_one_idea_each():
    """Row 2 is the fast recipe with every idea off; each later row switches one more on; the last is
    --recipe fast itself, and row 1 the notes' default."""
    rows, first = ablation.TIME_ROWS[: ablation.SEED_ROW], ablation.FIRST_FAST
    assert rows[0][1] == [] and rows[-1][1] == first
    assert len(rows) == 2 + len(ablation.IDEAS)
    for (label, off), (_, before), (after_label, after) in zip(ablation.IDEAS, rows[1:], rows[2:]):
        assert before == [*first, *off, *after[len(first) :]], f"{after_label}: only {off} switched back on"
        assert after_label == label
    longer = [flags for _, flags in ablation.TIME_ROWS[ablation.SEED_ROW :]]
    assert longer and all(flags[: len(first)] == first and "--epochs" in flags for flags in longer)


def test_the_first_fast_recipe_is_todays_without_the_second_step():
    """FIRST_FAST (the rows of --table time) undoes exactly what the second step put into --recipe fast."""
    from training.recipes import FIRST_FAST, SECOND_STEP
    from training.settings import Settings, build_parser, layer_settings

    first = layer_settings(vars(build_parser().parse_args(ablation.FIRST_FAST)))
    for key in SECOND_STEP:
        assert getattr(first, key) == FIRST_FAST.get(key, getattr(Settings, key)), key


def test_second_table_rows():
    rows = dict(ablation.SECOND_ROWS)
    assert ablation.SECOND_ROWS[0][1] == [] and ablation.SECOND_ROWS[1][1] == ablation.FIRST_FAST
    assert ablation.SECOND_ROWS[ablation.SECOND_SEED_ROW - 1][1] == ["--recipe", "fast"], "--seeds: today's recipe"
    assert all(flags[:2] == ["--recipe", "fast"] for flags in list(rows.values())[2:])


def table_rows(printed: str) -> dict[str, dict[str, str]]:
    """The printed Markdown table: first cell -> {column name: cell}."""
    lines = [line.strip("|").split("|") for line in printed.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0]]
    return {row[0].strip(): dict(zip(header, (cell.strip() for cell in row))) for row in lines[1:]}


def test_time_table_minutes_to_accuracy_and_seed_spread(tmp_path):
    """The report finds the first epoch at each threshold (the last epoch counting its TTA) and the seed spread."""

    def epoch(row, seed, number, accuracy, tta="", elapsed=60.0):
        return {"row": row, "label": f"row {row}", "command": "python 10_train_cifar10.py --recipe fast",
                "epoch": number, "train_loss": 1, "test_loss": 1, "test_accuracy": accuracy,
                "test_accuracy_tta": tta, "epoch_seconds": 60, "elapsed_seconds": elapsed * number,
                "process_seconds": 200, "seed": seed}  # fmt: skip

    rows = [epoch(1, 0, 1, 0.80), epoch(1, 0, 2, 0.86), epoch(1, 0, 3, 0.895, tta=0.901)]
    rows += [epoch(1, 1, 3, 0.89, tta=0.895), epoch(1, 2, 3, 0.89, tta=0.905)]
    csv_path = tmp_path / "t.csv"
    ablation.write_csv(csv_path, rows)
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        ablation.report(csv_path, None, "time")
    printed = printed.getvalue()
    row = table_rows(printed)["1. row 1"]
    assert (row["minutes"], row["to 85%"], row["to 88%"], row["to 90%"]) == ("3.3", "2.0", "3.0", "3.0"), row
    # 85% at epoch 2; 88% and 90% only with the TTA of the last epoch
    assert "90.10%" in row["final accuracy"] and "89.50%" in row["final accuracy"], "with TTA, and without"
    assert row["peak memory"] == "—", "a CSV without the column (measured before it existed)"
    spread = next(line for line in printed.splitlines() if line.startswith("row 1, seeds 0, 1, 2"))
    assert "90.03% ± 0.50" in spread

    ablation.write_csv(csv_path, rows + [{**epoch(2, 0, 1, 0.5), "label": "row 2"}])
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        ablation.report(csv_path, None, "time", only_rows=[2])
    assert "| 2. row 2 |" in printed.getvalue() and "| 1. row 1" not in printed.getvalue(), "--report-only --rows 2"
    assert "wrote" not in printed.getvalue(), "some rows only: the plot is left as it was"
