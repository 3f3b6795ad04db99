"""bench/ablation.py runs a README row as a learner would and records it in the CSV and the plot."""

from __future__ import annotations

import csv

from conftest import assert_clean_error, assert_ok, run_in_process, run_script
from PIL import Image
from test_fast_path import make_image_folder


def test_a_row_runs_and_lands_in_the_csv_and_the_plot(tmp_path):
    folder = make_image_folder(tmp_path / "cifar", per_class=4)
    csv_path, png_path = tmp_path / "out" / "ablation.csv", tmp_path / "out" / "ablation.png"
    result = run_script(
        "bench/ablation.py",
        "--image-folder",
        folder,
        "--rows",
        "2",
        "--csv",
        csv_path,
        "--png",
        png_path,
        cwd=tmp_path,
    )
    assert_ok(result)
    with csv_path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 11)), "one CSV line per epoch"
    assert {r["label"] for r in rows} == {"+ ReLU"}
    assert rows[0]["command"] == f"python 10_train_cifar10.py --image-folder {folder} --epochs 10 --model mymodel-relu"
    elapsed = [float(r["elapsed_seconds"]) for r in rows]
    assert elapsed == sorted(elapsed) and 0 < elapsed[-1] <= float(rows[-1]["process_seconds"])
    assert all(0 <= float(r["test_accuracy"]) <= 1 for r in rows)
    assert "| 2. + ReLU | `python 10_train_cifar10.py" in result.stdout, "prints the README table row"
    with Image.open(png_path) as image:
        assert image.size == (960, 600)
        assert len(image.getcolors(1 << 16)) > 2, "something was drawn"

    png_path.unlink()
    redraw = run_in_process("bench/ablation.py", "--report-only", "--csv", csv_path, "--png", png_path, cwd=tmp_path)
    assert_ok(redraw)
    assert png_path.is_file()


def test_bad_input_gives_one_line(tmp_path):
    def run(*flags):
        return run_in_process("bench/ablation.py", *flags, cwd=tmp_path)

    assert_clean_error(run("--rows", "1"), "--image-folder is required")
    assert_clean_error(run("--image-folder", tmp_path / "nowhere"), "train/ and test/")
    assert_clean_error(run("--report-only", "--csv", tmp_path / "none.csv"), "no CSV")
