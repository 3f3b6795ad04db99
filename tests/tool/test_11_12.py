"""11_save_load.py and 12_predict.py on a checkpoint made here."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import ROOT, assert_clean_error, assert_ok, run_in_process, run_script
from PIL import Image


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("saved")
    result = run_script(
        "10_train_cifar10.py",
        "--fake-data",
        "--compile",
        "off",
        "--device",
        "cpu",
        "--epochs",
        "1",
        "--run-name",
        "r",
        cwd=workdir,
    )
    assert_ok(result)
    return workdir


def test_save_load_both_ways_and_the_checkpoint(trained):
    result = run_script("11_save_load.py", cwd=trained)  # no data flag: the run's own (--fake-data) is used
    assert_ok(result)
    out = result.stdout
    assert "torch.load(path) refuses it: UnpicklingError" in out
    assert "weights_only=False) -> MyModel, same weights: True" in out
    assert "load_state_dict(torch.load(path, weights_only=True)) -> same weights: True" in out
    assert "checkpoints/r/best.pt: mymodel, 1 epoch(s), test accuracy now" in out
    assert out.rstrip().endswith("; weights: the trained weights"), "a run without --ema: its own weights"
    saved = torch.load(trained / "checkpoints" / "r" / "best.pt", weights_only=True)
    assert f"saved with it: {100 * saved['progress']['history'][-1]['test_accuracy']:.2f}%" in out
    assert (trained / "saved_models" / "mymodel_method1.pth").is_file()
    assert (trained / "saved_models" / "mymodel_method2.pth").is_file()


def test_save_load_without_a_checkpoint_says_train_first(tmp_path):
    result = run_in_process("11_save_load.py", "--fake-data", cwd=tmp_path)
    assert_ok(result)
    assert "train first with python 10_train_cifar10.py" in result.stdout
    missing = run_in_process("11_save_load.py", "--fake-data", "--checkpoint", "nope.pt", cwd=tmp_path)
    assert_clean_error(missing, "nope.pt", "train first")


def make_images(folder):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (50, 70, 4), dtype=np.uint8)
    Image.fromarray(pixels, "RGBA").save(folder / "rgba.png")
    Image.fromarray(pixels[..., 0], "L").save(folder / "gray.png")
    Image.fromarray(pixels[..., :3]).convert("P").save(folder / "palette.png")
    Image.fromarray(pixels[..., :3]).save(folder / "photo.jpg")
    (folder / "broken.png").write_bytes(b"not an image")
    return ["rgba.png", "gray.png", "palette.png", "photo.jpg"]


def test_predict_any_image_top3(trained):
    names = make_images(trained)
    result = run_script("12_predict.py", *names, cwd=trained)
    assert_ok(result)
    assert "weights: the trained weights" in result.stdout
    for name in names:
        (line,) = [line for line in result.stdout.splitlines() if line.startswith(f"{name}: ")]
        guesses = line.split(": ", 1)[1].split(", ")
        assert len(guesses) == 3
        percents = [float(g.rsplit(" ", 1)[1].rstrip("%")) for g in guesses]
        assert percents == sorted(percents, reverse=True) and 0 < sum(percents) <= 100.1


def test_predict_bad_images_still_answers_the_rest(trained):
    make_images(trained)
    result = run_in_process("12_predict.py", "missing.png", "broken.png", "photo.jpg", cwd=trained)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "missing.png does not exist" in result.stderr and "broken.png" in result.stderr
    assert any(line.startswith("photo.jpg: ") for line in result.stdout.splitlines())


def test_predict_without_checkpoint_says_train_first(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "x.png")
    assert_clean_error(
        run_script("12_predict.py", "x.png", cwd=tmp_path), "train first with python 10_train_cifar10.py"
    )
    foreign = tmp_path / "weights.pth"
    torch.save({"conv1.weight": torch.zeros(1)}, foreign)
    result = run_in_process("12_predict.py", "x.png", "--checkpoint", str(foreign), cwd=tmp_path)
    assert_clean_error(result, "not a checkpoint written by 10_train_cifar10.py nor a MyModel state_dict")


def test_predict_the_shipped_image_with_a_state_dict_from_11(tmp_path):
    assert_ok(run_in_process("11_save_load.py", cwd=tmp_path))
    state_dict = tmp_path / "saved_models" / "mymodel_method2.pth"
    result = run_in_process(
        "12_predict.py", str(ROOT / "images" / "plane.png"), "--checkpoint", str(state_dict), cwd=tmp_path
    )
    assert_ok(result)
    assert "weights: the trained weights (a MyModel state_dict)" in result.stdout
    (line,) = [line for line in result.stdout.splitlines() if line.startswith(str(ROOT / "images" / "plane.png"))]
    assert len(line.split(": ", 1)[1].split(", ")) == 3


def test_11_evaluates_on_the_data_source_the_run_trained_with(trained):
    # The run in `trained` used --fake-data; with no data flag 11 must not try to download CIFAR-10.
    result = run_in_process("11_save_load.py", cwd=trained)
    assert_ok(result)
    assert "on 200 images" in result.stdout  # the synthetic test split's size
    folder = run_in_process("11_save_load.py", "--checkpoint", "checkpoints", cwd=trained)
    assert_clean_error(folder, "is a folder")
