"""03_tensorboard.py: the notes' y=x^2 scalars and the ants picture (dataformats='HWC') read back from ./logs."""

import io

import numpy as np
from conftest import assert_ok, read_tensorboard, run_in_process
from PIL import Image

SCRIPT = "03_tensorboard.py"
PICTURE = "data/train/ants/0013031.jpg"  # the notes' img_path


def logged(workdir):
    (accumulator,) = read_tensorboard(workdir / "logs").values()
    return accumulator


def test_scalars_and_a_drawn_stand_in_picture(workdir):
    result = run_in_process(SCRIPT, cwd=workdir)
    assert_ok(result)
    assert "(240, 320, 3)" in result.stdout  # (H, W, C)
    accumulator = logged(workdir)
    assert {event.step: event.value for event in accumulator.Scalars("y=x^2")} == {i: float(i**2) for i in range(100)}
    (event,) = accumulator.Images("test")
    assert (event.step, event.width, event.height) == (0, 320, 240)
    # HWC read as HWC: TensorBoard's picture is the file's pixels, channels in place.
    drawn = np.array(Image.open(workdir / PICTURE))
    assert np.array_equal(np.array(Image.open(io.BytesIO(event.encoded_image_string))), drawn)


def test_the_learners_own_picture_is_logged_as_it_is(workdir):
    (workdir / "data" / "train" / "ants").mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)  # 30 high, 40 wide
    Image.fromarray(pixels).save(workdir / PICTURE)
    before = (workdir / PICTURE).read_bytes()
    result = run_in_process(SCRIPT, cwd=workdir)
    assert_ok(result)
    assert (workdir / PICTURE).read_bytes() == before  # not drawn over
    assert "(30, 40, 3)" in result.stdout
    (event,) = logged(workdir).Images("test")
    assert (event.width, event.height) == (40, 30)
    assert np.array_equal(
        np.array(Image.open(io.BytesIO(event.encoded_image_string))), np.array(Image.open(workdir / PICTURE))
    )
