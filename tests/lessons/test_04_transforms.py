"""04_transforms.py: ToTensor, ToPILImage, Normalize, Resize, Compose, RandomCrop, and their TensorBoard images."""

import re

import numpy as np
import pytest
from conftest import assert_clean_error, assert_ok, read_tensorboard, run_in_process, run_script
from PIL import Image

SCRIPT = "04_transforms.py"
TAGS = {"ToTensor", "Normalize", "Resize", "Compose", "RandomCrop", "CIFAR10 test_set"}


def images_by_tag(logdir):
    """Tag -> its image events (step, width, height, encoded_image_string), in step order."""
    runs = read_tensorboard(logdir)
    assert list(runs) == ["."], runs
    accumulator = runs["."]
    return {tag: accumulator.Images(tag) for tag in accumulator.Tags()["images"]}


def normalized_pixel(stdout: str) -> tuple[float, float]:
    match = re.search(r"img_tensor\[0\]\[0\]\[0\] (-?[\d.]+) -> img_norm\[0\]\[0\]\[0\] (-?[\d.]+)", stdout)
    assert match, stdout
    return float(match.group(1)), float(match.group(2))


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("work")
    logdir = workdir / "tb"
    result = run_script(SCRIPT, "--fake-data", "--logdir", logdir, cwd=workdir)
    assert_ok(result)
    return result.stdout, images_by_tag(logdir)


def test_printed_results_on_the_drawn_image(default_run):
    out, _ = default_run
    assert "image (drawn with numpy): PIL size (1024, 768) (W, H), mode RGB" in out
    assert "ToTensor: shape torch.Size([3, 768, 1024]), dtype torch.float32, values 0.1569 .. 1.0000" in out
    assert "same pixels as the original: True" in out
    before, after = normalized_pixel(out)
    assert before == pytest.approx(40 / 255, abs=1e-6)
    assert after == pytest.approx((before - 0.5) / 0.5, abs=1e-5)
    assert "Resize((512, 512)): PIL size (1024, 768) -> (512, 512)" in out
    assert "Compose([Resize(512), ToTensor()]): PIL size (1024, 768) -> tensor shape torch.Size([3, 512, 682])" in out
    assert "RandomCrop(512): 10 crops, each tensor shape torch.Size([3, 512, 512]), steps 0..9" in out


def test_tensorboard_images_have_the_right_sizes(default_run):
    _, images = default_run
    assert set(images) == TAGS
    sizes = {tag: [(event.step, event.width, event.height) for event in events] for tag, events in images.items()}
    assert sizes["ToTensor"] == sizes["Normalize"] == [(0, 1024, 768)]
    assert sizes["Resize"] == [(0, 512, 512)]
    assert sizes["Compose"] == [(0, 682, 512)]
    assert sizes["RandomCrop"] == [(step, 512, 512) for step in range(10)]
    assert len({event.encoded_image_string for event in images["RandomCrop"]}) > 1, "crops should differ"


def test_cifar10_dataset_with_a_transform(default_run):
    out, images = default_run
    assert "CIFAR10 test_set: 200 images; test_set[0] is a tensor (3, 32, 32), target" in out
    assert [(event.step, event.width, event.height) for event in images["CIFAR10 test_set"]] == [
        (step, 32, 32) for step in range(10)
    ]


def test_given_grayscale_image_smaller_than_the_crop(workdir):
    # 300 wide, 200 high, grayscale, top-left pixel 51 (= 0.2 after ToTensor, -0.6 after Normalize).
    pixels = np.random.default_rng(0).integers(0, 256, (200, 300), dtype=np.uint8)
    pixels[0, 0] = 51
    Image.fromarray(pixels, mode="L").save(workdir / "small.png")
    logdir = workdir / "tb"
    result = run_in_process(SCRIPT, "--image", "small.png", "--fake-data", "--logdir", logdir, cwd=workdir)
    assert_ok(result)
    out = result.stdout
    assert "ToTensor: shape torch.Size([3, 200, 300])" in out  # grayscale comes in as RGB
    assert "same pixels as the original: True" in out
    before, after = normalized_pixel(out)
    assert (before, after) == (pytest.approx(0.2, abs=1e-6), pytest.approx(-0.6, abs=1e-5))
    assert "Resize((512, 512)): PIL size (300, 200) -> (512, 512)" in out
    assert "cropping 200 instead" in out
    assert "RandomCrop(200): 10 crops, each tensor shape torch.Size([3, 200, 200])" in out
    crops = images_by_tag(logdir)["RandomCrop"]
    assert [(event.step, event.width, event.height) for event in crops] == [(step, 200, 200) for step in range(10)]


def test_unreadable_image_is_a_clean_error(workdir):
    (workdir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing sensible")
    result = run_in_process(SCRIPT, "--image", "broken.png", "--logdir", workdir / "tb", cwd=workdir)
    assert_clean_error(result, "broken.png", "cannot read image")
