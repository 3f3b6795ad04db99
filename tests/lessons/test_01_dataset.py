"""01_dataset.py: what MyDataset hands out (lengths, labels, RGB images), ants + bees, --demo, clean errors."""

import importlib.util

import numpy as np
import pytest
from conftest import ROOT, assert_clean_error, assert_ok, run_in_process
from PIL import Image
from torch.utils.data import ConcatDataset

SCRIPT = "01_dataset.py"
PIXELS = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)  # 20 high, 30 wide


def lesson():
    """The lesson as a module (its name starts with a digit, so no plain import)."""
    spec = importlib.util.spec_from_file_location("lesson_01_dataset", ROOT / SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(workdir):
    """ants: an RGB jpg and an RGBA png; bees: a grayscale png and an RGB .JPG; plus files that are no images."""
    root = workdir / "mydata"
    (root / "ants").mkdir(parents=True)
    (root / "bees").mkdir()
    (root / ".hidden_folder").mkdir()  # not a label
    Image.fromarray(PIXELS).save(root / "ants" / "a.jpg")
    Image.fromarray(PIXELS).convert("RGBA").save(root / "ants" / "b.png")
    Image.fromarray(PIXELS[..., 0]).save(root / "bees" / "c.png")
    Image.fromarray(PIXELS).save(root / "bees" / "d.JPG")
    for junk in ("ants/.DS_Store", "ants/Thumbs.db", "ants/._a.jpg", "bees/readme.txt"):
        (root / junk).write_bytes(b"not an image")
    return root


def test_my_dataset_items_are_rgb_images_with_the_folder_as_label(tree):
    module = lesson()
    ants_dataset = module.MyDataset(str(tree), "ants")
    bees_dataset = module.MyDataset(str(tree), "bees")
    assert (len(ants_dataset), len(bees_dataset)) == (2, 2)  # .DS_Store, Thumbs.db, ._a.jpg, readme.txt left out
    items = [ants_dataset[0], ants_dataset[1], bees_dataset[0], bees_dataset[1]]
    assert [label for _, label in items] == ["ants", "ants", "bees", "bees"]
    assert [(img.mode, img.size) for img, _ in items] == [("RGB", (30, 20))] * 4
    # The RGBA png comes back without its alpha channel, the grayscale png as three equal channels.
    assert np.array_equal(np.array(ants_dataset[1][0]), PIXELS)
    assert np.array_equal(np.array(bees_dataset[0][0]), np.repeat(PIXELS[..., :1], 3, axis=2))

    train_dataset = ants_dataset + bees_dataset
    assert isinstance(train_dataset, ConcatDataset)
    assert len(train_dataset) == 4
    assert [train_dataset[idx][1] for idx in range(4)] == ["ants", "ants", "bees", "bees"]
    assert np.array_equal(np.array(train_dataset[2][0]), np.array(bees_dataset[0][0]))


def test_demo_writes_a_set_that_the_dataset_reads(tmp_path):
    result = run_in_process(SCRIPT, "--demo", cwd=tmp_path)
    assert_ok(result)
    out = result.stdout
    assert "ants_image: 3 images" in out and "bees_image: 2 images" in out
    assert "ants_image + bees_image: 5 images (ConcatDataset)" in out
    assert "train_dataset[4]: size (64, 48), mode RGB, label bees_image" in out
    # What MyDataset makes of the written set: RGBA and grayscale files come back as RGB too.
    module = lesson()
    root = str(tmp_path / "data" / "demo")
    for label_dir, count in (("ants_image", 3), ("bees_image", 2)):
        dataset = module.MyDataset(root, label_dir)
        assert len(dataset) == count
        assert {(img.mode, img.size, label) for img, label in dataset} == {("RGB", (64, 48), label_dir)}


def test_root_reads_every_label_folder_and_reports_skipped_files(tree, workdir):
    result = run_in_process(SCRIPT, "--root", tree, cwd=workdir)
    assert_ok(result)
    assert "ants: 2 images (skipped, not images: .DS_Store, ._a.jpg, Thumbs.db)" in result.stdout
    assert "ants + bees: 4 images" in result.stdout
    assert "train_dataset[3]: size (30, 20), mode RGB, label bees" in result.stdout


def test_no_data_at_the_default_place_says_how_to_get_some(workdir):
    result = run_in_process(SCRIPT, cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "data/train", "--demo")


def test_missing_root_a_file_as_root_and_a_root_without_labels_are_clean_errors(tree, workdir):
    result = run_in_process(SCRIPT, "--root", workdir / "nowhere", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "nowhere does not exist")
    result = run_in_process(SCRIPT, "--root", tree / "ants" / "a.jpg", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "a.jpg is a file, not a folder")
    result = run_in_process(SCRIPT, "--root", tree / "ants", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "no label folders")


def test_corrupt_image_names_the_file(tree, workdir):
    (tree / "bees" / "broken.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    result = run_in_process(SCRIPT, "--root", tree, cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "broken.jpg", "cannot read image")


def test_demo_runs_again_in_its_own_folder_but_never_into_other_files(tree, workdir):
    for _ in range(2):
        assert_ok(run_in_process(SCRIPT, "--demo", cwd=workdir))
    result = run_in_process(SCRIPT, "--demo", "--root", tree, cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "holds other files")
    assert sorted(p.name for p in tree.iterdir()) == [".hidden_folder", "ants", "bees"]  # nothing written
