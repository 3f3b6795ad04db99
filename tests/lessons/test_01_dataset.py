"""01_dataset.py: a folder-per-label Dataset, adding datasets, skipping non-images, clean errors."""

import importlib.util
import sys

import numpy as np
import pytest
from conftest import ROOT, assert_clean_error, assert_ok, run_script
from PIL import Image

from common import UserError

SCRIPT = "01_dataset.py"


def load_script_module():
    spec = importlib.util.spec_from_file_location("dataset_script", ROOT / SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_tree(root):
    """ants: an RGB jpg and an RGBA png; bees: a grayscale png and an RGB jpg; plus junk files."""
    pixels = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    (root / "ants").mkdir(parents=True)
    (root / "bees").mkdir()
    Image.fromarray(pixels).save(root / "ants" / "a.jpg")
    Image.fromarray(pixels).convert("RGBA").save(root / "ants" / "b.png")
    Image.fromarray(pixels[..., 0], mode="L").save(root / "bees" / "c.png")
    Image.fromarray(pixels).save(root / "bees" / "d.JPG")
    for junk in ("ants/.DS_Store", "ants/Thumbs.db", "bees/readme.txt"):
        (root / junk).write_bytes(b"not an image")
    (root / ".hidden_folder").mkdir()  # not a label


def run_in_process(monkeypatch, workdir, *args):
    """Call the script's main() here (no new interpreter): quicker for the small checks."""
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "argv", [SCRIPT, *map(str, args)])
    load_script_module().main()


def test_help(workdir, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_in_process(monkeypatch, workdir, "--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Dataset" in out and "--demo" in out and "--root" in out and "data/demo" in out


def test_demo_writes_and_reads_two_labels(workdir):
    result = run_script(SCRIPT, "--demo", cwd=workdir)
    assert_ok(result)
    out = result.stdout
    assert "ants_image: 3 images (skipped, not images: .DS_Store)" in out
    assert "bees_image: 2 images (skipped, not images: notes.txt)" in out
    assert "ants_image + bees_image: 5 images (ConcatDataset)" in out
    assert "train_dataset[0]: size (64, 48), mode RGB, label ants_image" in out
    assert "train_dataset[4]: size (64, 48), mode RGB, label bees_image" in out
    assert "read all 5 images, modes: RGB" in out
    assert (workdir / "data" / "demo" / "ants_image" / "ant_3.png").is_file()


def test_hand_made_tree_skips_junk_and_gives_rgb(workdir):
    root = workdir / "mydata"
    make_tree(root)
    result = run_script(SCRIPT, "--root", root, cwd=workdir)
    assert_ok(result)
    assert "ants: 2 images (skipped, not images: .DS_Store, Thumbs.db)" in result.stdout
    assert "bees: 2 images (skipped, not images: readme.txt)" in result.stdout
    assert "ants + bees: 4 images (ConcatDataset)" in result.stdout
    assert "read all 4 images, modes: RGB" in result.stdout

    module = load_script_module()
    ants, bees = module.MyData(root, "ants"), module.MyData(root, "bees")
    assert [p.name for p in ants.img_paths] == ["a.jpg", "b.png"]
    assert Image.open(root / "ants" / "b.png").mode == "RGBA"
    assert Image.open(root / "bees" / "c.png").mode == "L"
    both = ants + bees
    assert len(both) == len(ants) + len(bees) == 4
    samples = [both[idx] for idx in range(len(both))]
    assert [label for _, label in samples] == ["ants", "ants", "bees", "bees"]
    assert all(img.mode == "RGB" and img.size == (30, 20) for img, _ in samples)


def test_no_data_at_default_place_explains_in_one_line(workdir):
    result = run_script(SCRIPT, cwd=workdir)
    assert_clean_error(result, "data/train", "--demo")


def test_missing_root_is_an_error_naming_it(workdir, monkeypatch):
    with pytest.raises(UserError, match="--root .*nowhere does not exist"):
        run_in_process(monkeypatch, workdir, "--root", workdir / "nowhere")


def test_root_without_label_folders_is_an_error(workdir, monkeypatch):
    Image.new("RGB", (8, 8)).save(workdir / "loose.jpg")
    with pytest.raises(UserError, match="no label folders"):
        run_in_process(monkeypatch, workdir, "--root", ".")


def test_corrupt_image_names_the_file(workdir):
    root = workdir / "mydata"
    make_tree(root)
    (root / "bees" / "broken.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    result = run_script(SCRIPT, "--root", root, cwd=workdir)
    assert_clean_error(result, "broken.jpg", "cannot read image")


def test_demo_runs_again_in_its_own_folder_but_not_into_real_data(workdir, monkeypatch, capsys):
    run_in_process(monkeypatch, workdir, "--demo")
    run_in_process(monkeypatch, workdir, "--demo")
    assert capsys.readouterr().out.count("ants_image + bees_image: 5 images") == 2
    root = workdir / "mydata"
    make_tree(root)
    with pytest.raises(UserError, match="already holds other files"):
        run_in_process(monkeypatch, workdir, "--demo", "--root", root)
    assert not (root / "ants_image").exists()
