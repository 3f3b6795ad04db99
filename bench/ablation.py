"""Beyond the notes' model: what ReLU, BatchNorm, augmentation and a schedule buy, measured.

Runs each row of the README's ablation table as its own process, exactly as a
learner would type it (plus --metrics-json and a scratch log folder), and times
the whole process: Python start, data decoding, training, evaluation. Each row
gets an empty cache folder (XDG_CACHE_HOME), so decoding the images is part of
its time too, unless --warm-cache is given. Writes the per-epoch numbers to a
CSV and draws test accuracy against minutes into a PNG (with Pillow).

    python bench/ablation.py --image-folder ../shared/data/cifar10            # every row (about 70 min on 2 cores)
    python bench/ablation.py --image-folder ../shared/data/cifar10 --rows 1 6 # some rows
    python bench/ablation.py --report-only                                    # the table and PNG from the CSV
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from training.cli import UserError, run_main  # noqa: E402

# Each row adds one idea to the row above it; all but the last share the notes' MyModel layout.
ROWS = [
    ("notes' recipe", ["--epochs", "10"]),
    ("+ ReLU", ["--epochs", "10", "--model", "mymodel-relu"]),
    ("+ BatchNorm", ["--epochs", "10", "--model", "mymodel-bn"]),
    ("+ augmentation", ["--epochs", "10", "--model", "mymodel-bn", "--augment"]),
    (
        "+ momentum and schedule",
        ["--epochs", "10", "--model", "mymodel-bn", "--augment", "--lr", "0.05", "--momentum", "0.9", "--nesterov"]
        + ["--weight-decay", "5e-4", "--schedule", "onecycle"],
    ),
    ("--recipe fast", ["--recipe", "fast"]),
]
CSV_COLUMNS = [
    "row",
    "label",
    "command",
    "epoch",
    "train_loss",
    "test_loss",
    "test_accuracy",
    "test_accuracy_tta",
    "epoch_seconds",
    "elapsed_seconds",
    "process_seconds",
]
COLOURS = ["#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#d62728"]


def command_for(row_flags: list[str], image_folder: str) -> list[str]:
    return ["python", "10_train_cifar10.py", "--image-folder", image_folder, *row_flags]


def run_row(
    number: int, label: str, flags: list[str], image_folder: str, scratch: Path, warm_cache: bool
) -> list[dict]:
    """Run one row as a separate process in the project folder; return its per-epoch rows for the CSV."""
    command = command_for(flags, image_folder)  # as a learner types it; run with the data folder made absolute
    metrics_path = scratch / f"row{number}.json"
    extra = ["--metrics-json", str(metrics_path), "--logdir", str(scratch / "runs"), "--run-name", f"row{number}"]
    extra += ["--checkpoint-dir", str(scratch / "checkpoints")]
    environment = dict(os.environ)
    if not warm_cache:
        environment["XDG_CACHE_HOME"] = str(scratch / f"cache{number}")
    print(f"\n[{number}] {label}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    actual = [sys.executable, *command_for(flags, str(Path(image_folder).resolve()))[1:], *extra]
    result = subprocess.run(actual, cwd=ROOT, env=environment)
    process_seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise UserError(f"row {number} ({label}) failed with exit code {result.returncode}")
    summary = json.loads(metrics_path.read_text())
    # The process started before the script's own clock: add that start-up time to every epoch.
    startup = process_seconds - summary["seconds"]
    rows = []
    for epoch in summary["history"]:
        rows.append(
            {
                "row": number,
                "label": label,
                "command": " ".join(command),
                "epoch": epoch["epoch"],
                "train_loss": round(epoch["train_loss"], 4),
                "test_loss": round(epoch["test_loss"], 4),
                "test_accuracy": epoch["test_accuracy"],
                "test_accuracy_tta": "" if epoch["test_accuracy_tta"] is None else epoch["test_accuracy_tta"],
                "epoch_seconds": round(epoch["seconds"], 1),
                "elapsed_seconds": round(startup + epoch["elapsed_seconds"], 1),
                "process_seconds": round(process_seconds, 1),
            }
        )
    final = rows[-1]
    tta = f" ({100 * final['test_accuracy_tta']:.2f}% with --tta)" if final["test_accuracy_tta"] != "" else ""
    print(f"[{number}] {label}: {100 * final['test_accuracy']:.2f}%{tta} in {process_seconds / 60:.1f} min", flush=True)
    return rows


def read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        raise UserError(f"no CSV at {path}: run the rows first")
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def draw_plot(rows: list[dict], path: Path, title: str) -> None:
    """Test accuracy (%) against whole-process minutes, one line per row; the last point of a
    row that used --tta is drawn as a ring at its flip-averaged accuracy."""
    width, height = 960, 600
    left, right, top, bottom = 70, 300, 50, 60
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    series = {}
    for row in rows:
        series.setdefault(int(row["row"]), []).append(row)
    max_minutes = max(float(r["elapsed_seconds"]) for r in rows) / 60
    x_max = max(5, 5 * int(max_minutes / 5 + 1))

    def to_xy(minutes: float, accuracy: float) -> tuple[float, float]:
        x = left + (width - left - right) * minutes / x_max
        y = top + (height - top - bottom) * (1 - accuracy / 100)
        return x, y

    for percent in range(0, 101, 10):  # horizontal grid
        x0, y = to_xy(0, percent)
        draw.line([(x0, y), (width - right, y)], fill="#e6e6e6")
        draw.text((x0 - 8, y), f"{percent}%", fill="black", font=font, anchor="rm")
    for minute in range(0, x_max + 1, 5):
        x, y0 = to_xy(minute, 0)
        draw.line([(x, top), (x, y0)], fill="#e6e6e6")
        draw.text((x, y0 + 8), str(minute), fill="black", font=font, anchor="mt")
    draw.rectangle([to_xy(0, 100), to_xy(x_max, 0)], outline="black")
    draw.text(
        ((left + width - right) / 2, height - 22),
        "minutes (whole process, 2-core CPU)",
        fill="black",
        font=font,
        anchor="mm",
    )
    draw.text((left, 20), title, fill="black", font=font, anchor="lm")
    for index, (number, points) in enumerate(sorted(series.items())):
        colour = COLOURS[(number - 1) % len(COLOURS)]  # a row keeps its colour when others are left out
        xy = [to_xy(float(p["elapsed_seconds"]) / 60, 100 * float(p["test_accuracy"])) for p in points]
        if len(xy) > 1:
            draw.line(xy, fill=colour, width=3)
        for x, y in xy:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        last = points[-1]
        final = 100 * float(last["test_accuracy"])
        if last["test_accuracy_tta"] not in ("", None):
            final = 100 * float(last["test_accuracy_tta"])
            x, y = to_xy(float(last["elapsed_seconds"]) / 60, final)
            draw.ellipse([x - 6, y - 6, x + 6, y + 6], outline=colour, width=2)
        legend_y = top + 10 + 24 * index
        draw.line([(width - right + 15, legend_y), (width - right + 40, legend_y)], fill=colour, width=3)
        draw.text(
            (width - right + 46, legend_y),
            f"{number}. {last['label']}: {final:.1f}%",
            fill="black",
            font=font,
            anchor="lm",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-folder", help="CIFAR-10 as train/<class>/*.png and test/<class>/*.png")
    parser.add_argument(
        "--rows", type=int, nargs="+", choices=range(1, len(ROWS) + 1), help="rows to run (default: all)"
    )
    parser.add_argument("--csv", default="bench/results/ablation_cpu.csv", help="(default: %(default)s)")
    parser.add_argument("--png", default="bench/results/ablation_cpu.png", help="(default: %(default)s)")
    parser.add_argument("--warm-cache", action="store_true", help="reuse the decoded-image cache (faster, less honest)")
    parser.add_argument(
        "--report-only", action="store_true", help="only redraw the PNG and print the table from the CSV"
    )
    args = parser.parse_args()
    csv_path, png_path = ROOT / args.csv, ROOT / args.png
    if args.report_only:
        report(csv_path, png_path)
        return
    if not args.image_folder:
        raise UserError("--image-folder is required to run rows (for example --image-folder ../shared/data/cifar10)")
    image_folder = Path(args.image_folder)
    if not (image_folder / "train").is_dir() or not (image_folder / "test").is_dir():
        raise UserError(f"--image-folder {image_folder} needs train/ and test/ sub-folders")

    wanted = args.rows or range(1, len(ROWS) + 1)
    # Rows not run now keep their earlier numbers, so one row can be rerun alone.
    kept = [r for r in read_csv(csv_path) if int(r["row"]) not in wanted] if csv_path.is_file() else []
    new_rows = []
    with tempfile.TemporaryDirectory(prefix="ablation-") as scratch:
        for number in wanted:
            label, flags = ROWS[number - 1]
            new_rows += run_row(number, label, flags, args.image_folder, Path(scratch), args.warm_cache)
            write_csv(csv_path, sorted(kept + new_rows, key=lambda r: (int(r["row"]), int(r["epoch"]))))
    report(csv_path, png_path)


def report(csv_path: Path, png_path: Path) -> None:
    """Draw the plot and print the README's table from the CSV."""
    all_rows = read_csv(csv_path)
    draw_plot(all_rows, png_path, "CIFAR-10 test accuracy per epoch (ring: final accuracy with --tta)")
    print(f"\nwrote {png_path}\n")
    print("| row | command | epochs | test accuracy, last epoch | best epoch | minutes |\n|---|---|---|---|---|---|")
    for number in sorted({int(r["row"]) for r in all_rows}):
        epochs = [r for r in all_rows if int(r["row"]) == number]
        last = epochs[-1]
        accuracy = f"**{100 * float(last['test_accuracy']):.2f}%**"
        if last["test_accuracy_tta"]:
            accuracy = f"**{100 * float(last['test_accuracy_tta']):.2f}%** with TTA ({100 * float(last['test_accuracy']):.2f}% without)"
        best = max(epochs, key=lambda r: float(r["test_accuracy"]))
        best_text = f"{100 * float(best['test_accuracy']):.2f}% (epoch {best['epoch']})"
        command = last["command"].replace(" --image-folder ../shared/data/cifar10", "")
        minutes = float(last["process_seconds"]) / 60
        print(f"| {number}. {last['label']} | `{command}` | {len(epochs)} | {accuracy} | {best_text} | {minutes:.1f} |")


if __name__ == "__main__":
    run_main(main)
