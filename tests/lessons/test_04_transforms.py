"""04_transforms.py: ToTensor, ToPILImage, Normalize, Resize, Compose, RandomCrop and CIFAR10(transform=...)."""

import io
import re

import numpy as np
import pytest
from conftest import assert_clean_error, assert_ok, read_tensorboard, run_in_process
from PIL import Image

SCRIPT = "04_transforms.py"


def images_by_tag(logdir):
    """Tag -> its image events (step, width, height, encoded_image_string), in step order."""
    (accumulator,) = read_tensorboard(logdir).values()
    return {tag: accumulator.Images(tag) for tag in accumulator.Tags()["images"]}


def decoded(event) -> np.ndarray:
    return np.array(Image.open(io.BytesIO(event.encoded_image_string)).convert("RGB"))


def sizes(events):
    return [(event.step, event.width, event.height) for event in events]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The drawn 1024x768 picture and FakeData (test_standalone runs the lesson copied alone)."""
    tmp_path = tmp_path_factory.mktemp("copied")
    logdir = tmp_path / "tb"
    result = run_in_process(SCRIPT, "--fake-data", "--logdir", logdir, cwd=tmp_path)
    assert_ok(result)
    return result.stdout, images_by_tag(logdir)


def test_printed_values_on_the_drawn_image(default_run):
    out, _ = default_run
    assert "ToTensor: shape torch.Size([3, 768, 1024]), values 0.1569 .. 1.0000" in out  # 40/255 .. 255/255
    match = re.search(r"img_tensor\[0\]\[0\]\[0\] (-?[\d.]+) -> img_norm\[0\]\[0\]\[0\] (-?[\d.]+)", out)
    before, after = float(match.group(1)), float(match.group(2))
    assert before == pytest.approx(40 / 255, abs=1e-6)
    assert after == pytest.approx((40 / 255 - 0.5) / 0.5, abs=1e-5)
    assert "(1024, 768) -> (512, 512)" in out
    assert "(1024, 768) -> torch.Size([3, 512, 682])" in out  # shorter side 512, 1024 * 512 / 768 = 682
    assert "10 crops of shape torch.Size([3, 512, 512])" in out


def test_tensorboard_images_have_the_right_sizes(default_run):
    _, images = default_run
    assert set(images) == {"ToTensor", "Normalize", "Resize", "RandomCrop", "test_set"}
    assert sizes(images["ToTensor"]) == sizes(images["Normalize"]) == [(0, 1024, 768)]
    assert sizes(images["Resize"]) == [(0, 512, 512), (1, 682, 512)]  # Resize((512, 512)), then Compose
    assert sizes(images["RandomCrop"]) == [(step, 512, 512) for step in range(10)]
    assert len({event.encoded_image_string for event in images["RandomCrop"]}) > 1, "crops should differ"
    assert sizes(images["test_set"]) == [(step, 32, 32) for step in range(10)]


def test_cifar10_dataset_with_a_transform(default_run):
    out, _ = default_run
    assert "test_set: 200 images; test_set[0]: [3, 32, 32], target" in out


def test_given_grayscale_image_smaller_than_the_crop(workdir):
    # 300 wide, 200 high, grayscale: it comes in as RGB; RandomCrop shrinks to the shorter side.
    pixels = np.random.default_rng(0).integers(0, 256, (200, 300), dtype=np.uint8)
    Image.fromarray(pixels).save(workdir / "small.png")
    logdir = workdir / "tb"
    result = run_in_process(SCRIPT, "--image", "small.png", "--fake-data", "--logdir", logdir, cwd=workdir)
    assert_ok(result)
    assert "ToTensor: shape torch.Size([3, 200, 300])" in result.stdout
    assert "RandomCrop(200): 10 crops of shape torch.Size([3, 200, 200])" in result.stdout
    images = images_by_tag(logdir)
    gray = np.repeat(pixels[..., None], 3, axis=2)
    assert np.array_equal(decoded(images["ToTensor"][0]), gray)
    # Normalize: (x - 0.5) / 0.5; TensorBoard scales by 255 and clips the negative half to 0.
    expected = np.clip((gray / 255 - 0.5) / 0.5 * 255, 0, 255)
    assert np.abs(decoded(images["Normalize"][0]) - expected).max() <= 1
    assert sizes(images["Resize"]) == [(0, 512, 512), (1, 768, 512)]
    assert sizes(images["RandomCrop"]) == [(step, 200, 200) for step in range(10)]


def test_bad_image_and_missing_data_are_clean_errors(workdir):
    (workdir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing sensible")
    result = run_in_process(SCRIPT, "--image", "broken.png", "--logdir", workdir / "tb", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "broken.png", "cannot read image")
    result = run_in_process(SCRIPT, "--image", workdir, "--logdir", workdir / "tb", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "is a folder")
    # A --data-root that cannot be made fails like a download: one line, after the transforms are saved.
    (workdir / "a_file").write_text("not a folder")
    result = run_in_process(SCRIPT, "--data-root", workdir / "a_file", "--logdir", workdir / "tb", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "cifar-10-python.tar.gz", "--fake-data")
    assert sizes(images_by_tag(workdir / "tb")["RandomCrop"]) == [(step, 512, 512) for step in range(10)]
