"""bench/README.md's two ablation tables, measured: each row one idea added to the row above.

  --table time   (default) time to accuracy: the notes' 20-epoch default, then --recipe fast as it
                 was before the airbench ideas, then each idea added in turn, up to today's
                 --recipe fast, then the ways to 90%: that recipe trained longer, and its ideas
                 at airbench94's widths; minutes to reach 85/88/90% (TTA counts on the last
                 epoch). --seeds 1 2 reruns the --recipe fast row with other seeds, for the spread.
  --table second the second step (2026-12-05): the first --recipe fast, then each idea of the second
                 step added in turn (a network shaped for the CPU, progressive resizing, Muon) up to
                 today's --recipe fast, then lookahead over it (not kept), and today's --recipe fast
                 at its float32 size (a CPU without native bf16). --seeds 1 2 reruns today's recipe.
  --table notes  beyond the notes' model: what ReLU, BatchNorm, augmentation and a schedule buy.

Runs each row as its own process, exactly as a learner would type it (plus
--metrics-json and a scratch log folder), and times the whole process: Python
start, data decoding, training, evaluation; it also records the process's peak
memory (resident set). Each row gets an empty cache folder (XDG_CACHE_HOME), so
decoding the images is part of its time too, unless --warm-cache is given. Writes
the per-epoch numbers to a CSV and draws test accuracy against minutes into a PNG
(with matplotlib: pip install -r requirements-dev.txt).

    python bench/ablation.py --image-folder ../shared/data/cifar10 --seeds 1 2  # every row (about 2.5 h on 2 cores)
    python bench/ablation.py --image-folder ../shared/data/cifar10 --rows 1 10  # some rows
    python bench/ablation.py --image-folder ../shared/data/cifar10 --rows 1 13 12 10 \
        --csv bench/results/time_to_90_cpu.csv                                  # the second sitting
    python bench/ablation.py --table second --image-folder ../shared/data/cifar10 --seeds 1 2
    python bench/ablation.py --table notes --image-folder ../shared/data/cifar10
    python bench/ablation.py --report-only                                      # the table and PNG from the CSV
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from training.errors import UserError, run_main  # noqa: E402

# --table notes: each row adds one idea to the row above it; all but the last share the notes' MyModel layout.
NOTES_ROWS = [
    ("notes' recipe", ["--epochs", "10"]),
    ("+ ReLU", ["--epochs", "10", "--model", "mymodel-relu"]),
    ("+ BatchNorm", ["--epochs", "10", "--model", "mymodel-bn"]),
    ("+ augmentation", ["--epochs", "10", "--model", "mymodel-bn", "--augment"]),
    (
        "+ momentum and schedule",
        ["--epochs", "10", "--model", "mymodel-bn", "--augment", "--lr", "0.05", "--momentum", "0.9", "--nesterov"]
        + ["--weight-decay", "5e-4", "--schedule", "onecycle"],
    ),
    ("FastNet recipe", []),  # --recipe fast as it was before the airbench ideas: TIME_ROWS[1]'s flags, below
]

# --table time: the first --recipe fast (training/recipes.py FIRST_FAST: today's recipe without the second step's
# ideas) with the ideas not yet added switched off, one more added per row.
FIRST_FAST = ["--recipe", "fast", "--model", "fastnet-wide", "--resize-epochs", "0", "--muon", "0"]
IDEAS = [  # (label, the flags that switch the idea off)
    ("+ bf16 autocast (native bf16 CPUs)", ["--no-amp"]),
    ("+ EMA of the weights", ["--ema", "0"]),
    ("+ BatchNorm: scale frozen, bias lr x16", ["--bn-bias-lr", "0"]),
    ("+ Dirac init", ["--no-dirac-init"]),
    ("+ alternating flips", ["--flip", "random"]),
    ("+ 6-view TTA", ["--no-tta-crops"]),
    ("+ stem bias frozen after 3 epochs", ["--stem-bias-epochs", "0"]),
    ("+ fastnet-wide, 10 epochs", ["--model", "fastnet", "--epochs", "9"]),
]
TIME_ROWS = [("notes' default, 20 epochs", [])] + [
    ("--recipe fast before" if index == 0 else IDEAS[index - 1][0], [*FIRST_FAST, *flags])
    for index in range(len(IDEAS) + 1)
    for flags in [[flag for _, off in IDEAS[index:] for flag in off]]
]
NOTES_ROWS[-1] = (NOTES_ROWS[-1][0], TIME_ROWS[1][1])
SEED_ROW = len(TIME_ROWS)  # --seeds reruns this row: the first --recipe fast itself
# Past the notes' time: how long the same recipe, or the same ideas at airbench94's widths, need for 90%.
TIME_ROWS.append(("longer: 18 epochs", [*FIRST_FAST, "--epochs", "18"]))
TIME_ROWS.append(("longer: 26 epochs", [*FIRST_FAST, "--epochs", "26"]))
TIME_ROWS.append(
    ("airbench widths (fastnet-gpu), 11 epochs", [*FIRST_FAST, "--model", "fastnet-gpu", "--epochs", "11"])
)
# --table second: the ideas of the second step, one row each on the row above; the ideas that did not pay off
# (not in today's --recipe fast) each as one row over today's recipe.
SECOND_ROWS = [
    ("notes' default, 20 epochs", []),
    ("--recipe fast before (fastnet-wide)", FIRST_FAST),
    ("+ fastnet-cpu (48/128/256)", ["--recipe", "fast", "--resize-epochs", "0", "--muon", "0"]),
    ("+ progressive resizing, 16 to 28 px over 4 epochs", ["--recipe", "fast", "--muon", "0"]),
    ("+ Muon for the filters (lr 0.05)", ["--recipe", "fast"]),
]
SECOND_SEED_ROW = len(SECOND_ROWS)  # today's --recipe fast
SECOND_ROWS += [
    ("+ lookahead (5 steps), BatchNorm momentum 0.4", ["--recipe", "fast", "--lookahead", "5", "--bn-momentum", "0.4"]),
    ("--recipe fast at its float32 size", ["--recipe", "fast", "--no-amp", "--model", "fastnet"]),
    ("today's --recipe fast, 9 epochs", ["--recipe", "fast", "--epochs", "9"]),
    ("time to 90%: today's --recipe fast, 13 epochs", ["--recipe", "fast", "--epochs", "13"]),
]
TABLES = {"time": TIME_ROWS, "second": SECOND_ROWS, "notes": NOTES_ROWS}
SEED_ROWS = {"time": SEED_ROW, "second": SECOND_SEED_ROW, "notes": len(NOTES_ROWS)}
DEFAULT_CSV = {
    "time": "time_to_accuracy_cpu.csv",
    "second": "time_to_accuracy_second_cpu.csv",
    "notes": "ablation_cpu.csv",
}
THRESHOLDS = (0.85, 0.88, 0.90)
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
    "seed",
    "peak_rss_mb",
]
COLOURS = [
    "#7f7f7f",
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#d62728",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#000000",
    "#bcbd22",
    "#393b79",
    "#e7ba52",
]


def command_for(row_flags: list[str], image_folder: str) -> list[str]:
    return ["python", "10_train_cifar10.py", "--image-folder", image_folder, *row_flags]


def run_row(
    number: int, label: str, flags: list[str], image_folder: str, scratch: Path, warm_cache: bool, seed: int = 0
) -> list[dict]:
    """Run one row as a separate process in the project folder; return its per-epoch rows for the CSV."""
    flags = flags + (["--seed", str(seed)] if seed else [])
    command = command_for(flags, image_folder)  # as a learner types it; run with the data folder made absolute
    name = f"row{number}-seed{seed}"
    metrics_path = scratch / f"{name}.json"
    extra = ["--metrics-json", str(metrics_path), "--logdir", str(scratch / "runs"), "--run-name", name]
    extra += ["--checkpoint-dir", str(scratch / "checkpoints")]
    environment = dict(os.environ)
    if not warm_cache:
        environment["XDG_CACHE_HOME"] = str(scratch / f"cache-{name}")
    print(f"\n[{number}] {label}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    actual = [sys.executable, *command_for(flags, str(Path(image_folder).resolve()))[1:], *extra]
    returncode, peak_mb = wait_with_peak_memory(subprocess.Popen(actual, cwd=ROOT, env=environment))
    process_seconds = time.perf_counter() - started
    if returncode != 0:
        raise UserError(f"row {number} ({label}) failed with exit code {returncode}")
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
                "seed": seed,
                "peak_rss_mb": "" if peak_mb is None else round(peak_mb),
            }
        )
    final = rows[-1]
    tta = f" ({100 * final['test_accuracy_tta']:.2f}% with --tta)" if final["test_accuracy_tta"] != "" else ""
    print(
        f"[{number}] {label}: {100 * final['test_accuracy']:.2f}%{tta} in {process_seconds / 60:.1f} min, "
        f"peak memory {peak_memory(final)}",
        flush=True,
    )
    return rows


def wait_with_peak_memory(process: subprocess.Popen) -> tuple[int, float | None]:
    """Wait for `process`; return its exit code and its peak resident memory in MB (the largest of it and
    of the processes it waited for, such as its image decoders), where the system tells (os.wait4)."""
    if not hasattr(os, "wait4"):  # Windows
        return process.wait(), None
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)  # bytes / KiB


def peak_memory(row: dict) -> str:
    """A row's peak memory for the tables; "—" for rows measured before the CSV had the column."""
    return f"{int(row['peak_rss_mb']):,} MB" if row.get("peak_rss_mb") else "—"


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
    row that used --tta is drawn as a ring at its accuracy with TTA."""
    import matplotlib  # only the bench draws: the training tool never needs it

    matplotlib.use("Agg")  # a file, no window
    from matplotlib import pyplot as plt

    series: dict[int, list[dict]] = {}
    for row in rows:
        series.setdefault(int(row["row"]), []).append(row)
    figure, axes = plt.subplots(figsize=(10.5, 6), dpi=100)
    for number, points in sorted(series.items()):
        colour = COLOURS[(number - 1) % len(COLOURS)]  # a row keeps its colour when others are left out
        minutes = [float(p["elapsed_seconds"]) / 60 for p in points]
        accuracy = [100 * float(p["test_accuracy"]) for p in points]
        final = 100 * final_accuracy(points[-1])
        label = f"{number}. {points[-1]['label']}: {final:.1f}%"
        axes.plot(minutes, accuracy, "o-", color=colour, linewidth=2, markersize=4, label=label)
        if points[-1]["test_accuracy_tta"] not in ("", None):
            axes.plot(minutes[-1], final, "o", color=colour, fillstyle="none", markersize=11, markeredgewidth=2)
    max_minutes = max(float(r["elapsed_seconds"]) for r in rows) / 60
    x_max = max(5, 5 * int(max_minutes / 5 + 1))
    axes.set(xlim=(0, x_max), ylim=(0, 100), xticks=range(0, x_max + 1, 5), yticks=range(0, 101, 10))
    axes.set_title(title, loc="left")
    axes.set_xlabel("minutes (whole process, 2-core CPU)")
    axes.set_ylabel("test accuracy")
    axes.yaxis.set_major_formatter("{x:.0f}%")
    axes.grid(color="#e6e6e6")
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", choices=sorted(TABLES), default="time", help="which table (default: %(default)s)")
    parser.add_argument("--image-folder", help="CIFAR-10 as train/<class>/*.png and test/<class>/*.png")
    parser.add_argument("--rows", type=int, nargs="+", metavar="N", help="rows to run, from 1 (default: all)")
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[],
        metavar="S",
        help="also rerun the --recipe fast row (--table notes: the last row) with these seeds",
    )
    parser.add_argument("--csv", help="default: bench/results/<ablation_cpu|time_to_accuracy_cpu|..._second_cpu>.csv")
    parser.add_argument("--png", help="default: the CSV's name with .png")
    parser.add_argument("--warm-cache", action="store_true", help="reuse the decoded-image cache (faster, less honest)")
    parser.add_argument(
        "--report-only", action="store_true", help="only redraw the PNG and print the table from the CSV (--rows)"
    )
    args = parser.parse_args()
    table = TABLES[args.table]
    default_csv = "bench/results/" + DEFAULT_CSV[args.table]
    csv_path = ROOT / (args.csv or default_csv)
    png_path = ROOT / args.png if args.png else csv_path.with_suffix(".png")
    bad = [n for n in args.rows or [] if not 1 <= n <= len(table)]
    if bad:
        raise UserError(f"--rows {bad[0]}: the {args.table} table has rows 1 to {len(table)}")
    if args.report_only:  # some --rows only: the committed plot stays, unless --png names another
        report(csv_path, png_path if args.png or not args.rows else None, args.table, args.rows)
        return
    if any(seed < 0 for seed in args.seeds):
        raise UserError("--seeds must be whole numbers from 0")
    if not args.image_folder:
        raise UserError("--image-folder is required to run rows (for example --image-folder ../shared/data/cifar10)")
    image_folder = Path(args.image_folder)
    if not (image_folder / "train").is_dir() or not (image_folder / "test").is_dir():
        raise UserError(f"--image-folder {image_folder} needs train/ and test/ sub-folders")

    wanted = [(number, 0) for number in args.rows or range(1, len(table) + 1)]
    seed_row = SEED_ROWS[args.table]
    wanted += [(seed_row, seed) for seed in args.seeds if seed != 0]
    # Rows not run now keep their earlier numbers, so one row can be rerun alone.
    kept = [r for r in read_csv(csv_path) if row_key(r) not in wanted] if csv_path.is_file() else []
    new_rows = []
    with tempfile.TemporaryDirectory(prefix="ablation-") as scratch:
        for number, seed in wanted:
            label, flags = table[number - 1]
            new_rows += run_row(number, label, flags, args.image_folder, Path(scratch), args.warm_cache, seed)
            all_rows = sorted(kept + new_rows, key=lambda r: (int(r["row"]), int(r["seed"] or 0), int(r["epoch"])))
            write_csv(csv_path, all_rows)
    report(csv_path, png_path, args.table)


def row_key(row: dict) -> tuple[int, int]:
    return int(row["row"]), int(row.get("seed") or 0)  # CSVs written before --seeds have no seed column


def final_accuracy(row: dict) -> float:
    """The accuracy a run ends with: with TTA where the run used it (as airbench counts)."""
    return float(row["test_accuracy_tta"] or row["test_accuracy"])


def minutes_to(epochs: list[dict], threshold: float) -> str:
    """Whole-process minutes until the first epoch at `threshold` or above (the last epoch with its TTA)."""
    for index, epoch in enumerate(epochs):
        accuracy = final_accuracy(epoch) if index == len(epochs) - 1 else float(epoch["test_accuracy"])
        if accuracy >= threshold:
            return f"{float(epoch['elapsed_seconds']) / 60:.1f}"
    return "—"


def report(csv_path: Path, png_path: Path | None, table: str = "notes", only_rows: list[int] | None = None) -> None:
    """Draw the plot (unless png_path is None) and print bench/README.md's table from the CSV (only `only_rows`,
    where given)."""
    all_rows = [r for r in read_csv(csv_path) if not only_rows or int(r["row"]) in only_rows]
    if not all_rows:
        raise UserError(f"{csv_path} has none of the rows {', '.join(map(str, only_rows or []))}")
    runs: dict[tuple[int, int], list[dict]] = {}
    for row in all_rows:
        runs.setdefault(row_key(row), []).append(row)
    first_seed = [r for r in all_rows if row_key(r)[1] == 0]
    if png_path is not None:
        draw_plot(first_seed, png_path, "CIFAR-10 test accuracy per epoch (ring: final accuracy with --tta)")
        print(f"\nwrote {png_path}\n")
    if table in ("time", "second"):
        print_time_table(runs)
        return
    print(
        "| row | command | epochs | test accuracy, last epoch | best epoch | minutes | peak memory |\n"
        "|---|---|---|---|---|---|---|"
    )
    for (number, seed), epochs in sorted(runs.items()):
        if seed:
            continue
        last = epochs[-1]
        accuracy = f"**{100 * float(last['test_accuracy']):.2f}%**"
        if last["test_accuracy_tta"]:
            accuracy = f"**{100 * float(last['test_accuracy_tta']):.2f}%** with TTA ({100 * float(last['test_accuracy']):.2f}% without)"
        best = max(epochs, key=lambda r: float(r["test_accuracy"]))
        best_text = f"{100 * float(best['test_accuracy']):.2f}% (epoch {best['epoch']})"
        command = readme_command(last)
        minutes = float(last["process_seconds"]) / 60
        print(
            f"| {number}. {last['label']} | `{command}` | {len(epochs)} | {accuracy} | {best_text} | {minutes:.1f} "
            f"| {peak_memory(last)} |"
        )


def readme_command(row: dict) -> str:
    """The row's command as bench/README.md shows it: without the machine's --image-folder."""
    return re.sub(r" --image-folder \S+", "", row["command"])


def print_time_table(runs: dict[tuple[int, int], list[dict]]) -> None:
    """The time-to-accuracy table (seed 0), then the spread over seeds of every row run with several."""
    header = "| row | command | epochs | final accuracy | minutes | to 85% | to 88% | to 90% | peak memory |"
    print(header + "\n|---|---|---|---|---|---|---|---|---|")
    for (number, seed), epochs in sorted(runs.items()):
        if seed:
            continue
        last = epochs[-1]
        accuracy = f"**{100 * final_accuracy(last):.2f}%**"
        if last["test_accuracy_tta"]:
            accuracy += f" ({100 * float(last['test_accuracy']):.2f}% without TTA)"
        command = readme_command(last)
        times = " | ".join(minutes_to(epochs, threshold) for threshold in THRESHOLDS)
        minutes = float(last["process_seconds"]) / 60
        print(
            f"| {number}. {last['label']} | `{command}` | {len(epochs)} | {accuracy} | {minutes:.1f} | {times} "
            f"| {peak_memory(last)} |"
        )
    for number in sorted({n for n, _ in runs}):
        seeds = sorted(seed for n, seed in runs if n == number)
        if len(seeds) < 2:
            continue
        finals = [100 * final_accuracy(runs[number, seed][-1]) for seed in seeds]
        minutes = [float(runs[number, seed][-1]["process_seconds"]) / 60 for seed in seeds]
        mean = sum(finals) / len(finals)
        spread = (sum((f - mean) ** 2 for f in finals) / (len(finals) - 1)) ** 0.5
        print(
            f"\nrow {number}, seeds {', '.join(map(str, seeds))}: final accuracy {mean:.2f}% ± {spread:.2f} "
            f"(standard deviation; from {min(finals):.2f}% to {max(finals):.2f}%), "
            f"{min(minutes):.1f}-{max(minutes):.1f} minutes"
        )


if __name__ == "__main__":
    run_main(main)
