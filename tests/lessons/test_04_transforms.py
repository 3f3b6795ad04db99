"""04_transforms.py: the notes' 3.1 and 3.2 transforms on the ants picture, and CIFAR10's transform= (FakeData)."""

import numpy as np
import pytest
import torch
from conftest import assert_ok, run_with_globals
from PIL import Image
from torchvision import transforms

SCRIPT = "04_transforms.py"
PICTURE = "data/train/ants/0013031.jpg"  # the notes' img_path


@pytest.fixture
def run_lesson(workdir):
    """Run the lesson with --fake-data in workdir, in this process; return its module globals and what it printed."""

    def run():
        result, names = run_with_globals(SCRIPT, "--fake-data", cwd=workdir)
        assert_ok(result)
        return names, result.stdout

    return run


def test_each_transform_does_what_the_notes_say(workdir, run_lesson):
    torch.manual_seed(0)  # RandomCrop is the lesson's only random draw before the dataset
    names, out = run_lesson()
    assert "drew a stand-in picture" in out
    pixels = np.array(Image.open(workdir / PICTURE))  # (240, 320, 3)
    img_tensor = names["img_tensor"]
    # ToTensor: PIL (W, H) 0..255 -> float [C, H, W] 0..1, from a PIL image or an ndarray alike
    assert img_tensor.shape == (3, 240, 320) and img_tensor.dtype == torch.float32
    assert torch.equal(img_tensor, torch.from_numpy(pixels).permute(2, 0, 1) / 255)
    assert torch.equal(transforms.ToTensor()(names["img_array"]), img_tensor)
    # ToPILImage: back to the same picture
    assert names["img_PIL"].size == (320, 240) and np.array_equal(np.array(names["img_PIL"]), pixels)
    # Normalize(0.5, 0.5): [0, 1] -> [-1, 1]
    assert torch.allclose(names["img_norm"], (img_tensor - 0.5) / 0.5)
    # Resize(512): the shorter side 240 -> 512, 320 -> 320 * 512 / 240 = 682
    assert names["img_resize"].size == (682, 512)
    assert "(320, 240) -> (512, 512)" in out  # Resize((512, 512))
    assert names["trans_compose"](names["img_PIL"]).shape == (3, 512, 682)
    # RandomCrop(100): a 100x100 piece of the picture, where get_params puts it
    torch.manual_seed(0)
    top, left, height, width = transforms.RandomCrop.get_params(Image.open(workdir / PICTURE), (100, 100))
    assert np.array_equal(np.array(names["img_crop"]), pixels[top : top + 100, left : left + 100])
    # CIFAR10(transform=ToTensor()), FakeData offline: every item is already a Tensor
    dataset = names["dataset"]
    assert len(dataset) == 200
    img, target = dataset[0]
    assert isinstance(img, torch.Tensor) and img.shape == (3, 32, 32) and 0 <= target < 10


def test_the_learners_own_picture_is_used_as_it_is(workdir, run_lesson):
    (workdir / "data" / "train" / "ants").mkdir(parents=True)
    Image.new("RGB", (150, 120), (10, 200, 30)).save(workdir / PICTURE)
    before = (workdir / PICTURE).read_bytes()
    names, out = run_lesson()
    assert (workdir / PICTURE).read_bytes() == before and "drew" not in out
    assert names["img_tensor"].shape == (3, 120, 150)
    assert names["img_resize"].size == (640, 512)
