"""01_dataset.py: the notes' MyDataset over data/train/ants and data/train/bees, --demo, ants + bees."""

import os

import numpy as np
import pytest
from conftest import assert_clean_error, assert_ok, run_in_process, run_with_globals
from PIL import Image
from torch.utils.data import ConcatDataset

SCRIPT = "01_dataset.py"


@pytest.fixture
def run_lesson(workdir, monkeypatch):
    """Run the lesson in workdir, in this process; return its module globals and what it printed.
    The test stays in workdir: the datasets read data/train from there."""
    monkeypatch.chdir(workdir)

    def run(*args):
        result, names = run_with_globals(SCRIPT, *args, cwd=workdir)
        assert_ok(result)
        return names, result.stdout

    return run


def test_demo_draws_pictures_that_my_dataset_reads(workdir, run_lesson):
    names, out = run_lesson("--demo")
    assert sorted(os.listdir(workdir / "data" / "train" / "ants")) == [
        "0013031.jpg",
        "0013035.jpg",
        "5650366.jpg",
    ]
    assert len(os.listdir(workdir / "data" / "train" / "bees")) == 2
    assert "ants_dataset: 3 images" in out and "bees_dataset: 2 images" in out
    train_dataset = names["train_dataset"]
    assert isinstance(train_dataset, ConcatDataset) and len(train_dataset) == 5
    items = [train_dataset[index] for index in range(5)]
    assert [label for _, label in items] == ["ants"] * 3 + ["bees"] * 2  # the folder's name is the label
    assert {(img.size, img.mode) for img, _ in items} == {((320, 240), "RGB")}
    assert "train_dataset: 5 images in a ConcatDataset" in out


def test_demo_never_draws_over_a_picture_that_is_there(workdir, run_lesson):
    ants = workdir / "data" / "train" / "ants"
    ants.mkdir(parents=True)
    Image.new("RGB", (40, 30), (1, 2, 3)).save(ants / "0013031.jpg")
    before = (ants / "0013031.jpg").read_bytes()
    names, _ = run_lesson("--demo")
    assert (ants / "0013031.jpg").read_bytes() == before
    assert len(names["ants_dataset"]) == 3


def test_own_pictures_come_back_as_the_files_have_them(workdir, run_lesson):
    for label_dir in ("ants", "bees"):
        (workdir / "data" / "train" / label_dir).mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 256, (30, 40), dtype=np.uint8)  # 30 high, 40 wide
    Image.fromarray(pixels).save(workdir / "data" / "train" / "bees" / "gray.png")
    Image.fromarray(np.stack([pixels] * 3, axis=-1)).save(workdir / "data" / "train" / "ants" / "a.png")
    Image.fromarray(np.stack([pixels] * 3, axis=-1)).save(workdir / "data" / "train" / "ants" / "b.png")
    names, out = run_lesson()
    assert "ants_dataset: 2 images" in out and "bees_dataset: 1 images" in out
    img, label = names["train_dataset"][2]
    assert (label, img.mode, img.size) == ("bees", "L", (40, 30))  # Image.open keeps the file's mode
    assert np.array_equal(np.array(img), pixels)
    assert sorted(os.listdir(workdir / "data" / "train" / "ants")) == ["a.png", "b.png"]  # nothing drawn


def test_no_pictures_is_one_line_naming_the_folders_and_demo(workdir):
    result = run_in_process(SCRIPT, cwd=workdir)  # sys.exit(message): the message on stderr, exit code 1
    assert result.returncode == 1
    assert_clean_error(result, "data/train/ants", "--demo")
    assert not (workdir / "data").exists()
