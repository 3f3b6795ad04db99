"""training.data's sources: a failed download, bad --image-folder trees, the synthetic set.

Every problem must reach the learner as one `error:` line that says what to do, never as a traceback.
"""

import numpy as np
import pytest
from conftest import assert_clean_error, run_in_process
from PIL import Image

from training.data import CIFAR10_CLASSES, FAKE_TEST_SIZE, FAKE_TRAIN_SIZE, fake_cifar10_arrays

UNREACHABLE_URL = "http://127.0.0.1:9/cifar-10-python.tar.gz"  # port 9 (discard): refused at once, no network


@pytest.fixture
def offline_cifar10(monkeypatch):
    """Point torchvision's CIFAR-10 download at a port nothing listens on."""
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "url", UNREACHABLE_URL)
    if hasattr(CIFAR10, "mirrors"):  # newer torchvision versions may try several places
        monkeypatch.setattr(CIFAR10, "mirrors", [UNREACHABLE_URL.rsplit("/", 1)[0] + "/"])
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")


def assert_names_the_offline_options(message: str) -> None:
    for fragment in ("by hand", "cifar-10-python.tar.gz", "--image-folder", "--fake-data"):
        assert fragment in message, fragment


def test_failed_download_through_the_training_script(offline_cifar10, tmp_path):
    result = run_in_process("10_train_cifar10.py", "--data-root", str(tmp_path / "dataset"), cwd=tmp_path)
    assert result.returncode == 2
    assert_names_the_offline_options(assert_clean_error(result, "could not get CIFAR-10"))


def save_png(path, colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), colour).save(path)


@pytest.fixture(scope="module")
def folder_cases(tmp_path_factory):
    """Bad image-folder trees: case -> (folder, fragments the error must name)."""
    base = tmp_path_factory.mktemp("folders")
    a_file = base / "a-file.png"
    save_png(a_file)
    only_test = base / "only-test"
    save_png(only_test / "test" / "cat" / "0.png")
    (base / "empty").mkdir()
    no_images = base / "no-images"
    for split in ("train", "test"):
        (no_images / split / "cat").mkdir(parents=True)
        (no_images / split / "cat" / "notes.txt").write_text("not an image")
    corrupt = base / "corrupt"
    for split in ("train", "test"):
        save_png(corrupt / split / "cat" / "0.png")
        (corrupt / split / "cat" / "x.png").write_bytes(b"not a png")
    many = base / "eleven-classes"
    mismatched = base / "mismatched"
    for split in ("train", "test"):
        for k in range(11):
            save_png(many / split / f"class{k:02d}" / "0.png")
        for name in ("cat", "dog" if split == "train" else "bird"):
            save_png(mismatched / split / name / "0.png")
    return {
        "eleven-classes": (many, ["11 class folders", "10 outputs"]),
        "mismatched": (mismatched, ["different class folders", "bird, dog"]),
        "missing": (base / "no-such-folder", ["no-such-folder", "does not exist"]),
        "a-file": (a_file, ["a-file.png", "is a file, not a folder"]),
        "without-train": (only_test, ["only-test", "no 'train' folder"]),
        "empty": (base / "empty", ["empty", "no 'train' folder"]),
        "no-images": (no_images, ["no-images", "holds no images"]),
        "corrupt": (corrupt, ["cannot read image", "x.png"]),
    }


@pytest.mark.parametrize(
    "case", ["missing", "a-file", "without-train", "empty", "no-images", "corrupt", "eleven-classes", "mismatched"]
)
def test_bad_image_folder_in_process(folder_cases, case, tmp_path):
    folder, fragments = folder_cases[case]
    result = run_in_process("10_train_cifar10.py", "--image-folder", str(folder), cwd=tmp_path)
    assert result.returncode == 2
    assert_clean_error(result, *fragments)


def test_the_synthetic_set_is_deterministic_with_ten_classes():
    first, second = fake_cifar10_arrays(train=True), fake_cifar10_arrays(train=True)
    assert first[0].shape == (FAKE_TRAIN_SIZE, 32, 32, 3) and first[0].dtype == np.uint8
    assert np.array_equal(first[0], second[0]) and first[1] == second[1]
    assert set(first[1]) == set(range(len(CIFAR10_CLASSES)))
    test_images, test_labels = fake_cifar10_arrays(train=False)
    assert len(test_labels) == FAKE_TEST_SIZE and set(test_labels) == set(range(10))
    assert not np.array_equal(test_images[:10], first[0][:10])  # a different split, not a copy
