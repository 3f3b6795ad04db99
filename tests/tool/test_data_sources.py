"""common.py's data sources: a failed download, bad --image-folder trees, FakeCIFAR10.

Every problem must reach the learner as one `error:` line that says what to do,
never as a traceback.
"""

import argparse
import runpy
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import ROOT, assert_clean_error, run_script
from PIL import Image

import common

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
    assert "by hand" in message  # the manual download
    assert "cifar-10-python.tar.gz" in message
    assert "--image-folder" in message
    assert "--fake-data" in message


def test_failed_download_is_a_user_error(offline_cifar10, tmp_path):
    args = argparse.Namespace(fake_data=False, image_folder=None, data_root=str(tmp_path / "dataset"))
    with pytest.raises(common.UserError) as error_info:
        common.cifar10_dataset(args, train=False)
    assert_names_the_offline_options(str(error_info.value))


def test_failed_download_through_a_script(offline_cifar10, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["08_linear.py", "--data-root", str(tmp_path / "dataset")])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "08_linear.py"), run_name="__main__")
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, err
    assert_names_the_offline_options(error_lines[0])


# --------------------------------------------------------------------------- bad image folders


def save_png(path, colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), colour).save(path)


def make_folders(base):
    """Bad image-folder trees, one per case: (script to run, folder, fragments the error must name)."""
    missing = base / "no-such-folder"

    only_test = base / "only-test"  # a train/ split is missing (09_loss.py trains)
    save_png(only_test / "test" / "cat" / "0.png")

    empty = base / "empty"
    empty.mkdir()

    no_images = base / "no-images"  # class folders, but nothing inside them is an image
    (no_images / "test" / "cat").mkdir(parents=True)
    (no_images / "test" / "cat" / "notes.txt").write_text("not an image")

    corrupt = base / "corrupt"
    save_png(corrupt / "test" / "cat" / "0.png")
    (corrupt / "test" / "cat" / "x.png").write_bytes(b"not a png")

    return {
        "missing": ("07_activation.py", missing, ["--image-folder", "no-such-folder", "does not exist"]),
        "without-train": ("09_loss.py", only_test, ["only-test", "no 'train' folder"]),
        "empty": ("08_linear.py", empty, ["empty", "no 'test' folder"]),
        "no-images": ("05_conv.py", no_images, ["no-images", "holds no images"]),
        "corrupt": ("06_pool.py", corrupt, ["cannot read image", "x.png"]),
    }


# Starting a script in a fresh process spends seconds importing torch, so two cases run that
# way (as a learner would) and the rest run the same script in this process, which is just as
# strict: same run_main, same stderr, same exit code.
SUBPROCESS_CASES = ["missing", "corrupt"]
IN_PROCESS_CASES = ["without-train", "empty", "no-images"]


@pytest.fixture(scope="module")
def folder_cases(tmp_path_factory):
    return make_folders(tmp_path_factory.mktemp("folders"))


@pytest.fixture(scope="module")
def subprocess_runs(folder_cases, tmp_path_factory):
    def run(case):
        script, folder, _ = folder_cases[case]
        return run_script(script, "--image-folder", folder, cwd=tmp_path_factory.mktemp(case))

    with ThreadPoolExecutor(max_workers=len(SUBPROCESS_CASES)) as pool:
        return dict(zip(SUBPROCESS_CASES, pool.map(run, SUBPROCESS_CASES)))


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_bad_image_folder_in_a_subprocess(subprocess_runs, folder_cases, case):
    assert_clean_error(subprocess_runs[case], *folder_cases[case][2])


@pytest.mark.parametrize("case", IN_PROCESS_CASES)
def test_bad_image_folder_in_process(folder_cases, case, tmp_path, monkeypatch, capsys):
    script, folder, fragments = folder_cases[case]
    monkeypatch.chdir(tmp_path)  # logs/ from scripts that open a writer land here
    monkeypatch.setattr(sys, "argv", [script, "--image-folder", str(folder)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / script), run_name="__main__")
    captured = capsys.readouterr()
    result = subprocess.CompletedProcess([script], exit_info.value.code, captured.out, captured.err)
    assert_clean_error(result, *fragments)


# --------------------------------------------------------------------------- fake data


def test_fake_cifar10_is_deterministic_with_ten_classes():
    first, second = common.FakeCIFAR10(train=True), common.FakeCIFAR10(train=True)
    assert len(first) == common.FAKE_TRAIN_SIZE
    assert np.array_equal(first.data, second.data)
    assert first.targets == second.targets
    assert list(first.classes) == list(common.CIFAR10_CLASSES) and len(first.classes) == 10
    assert set(first.targets) == set(range(10))

    image, label = first[0]
    assert image.size == (32, 32) and image.mode == "RGB"
    assert label == first.targets[0]

    test_split = common.FakeCIFAR10(train=False)
    assert len(test_split) == common.FAKE_TEST_SIZE
    assert set(test_split.targets) == set(range(10))
    assert not np.array_equal(test_split.data[:10], first.data[:10])  # a different split, not a copy
