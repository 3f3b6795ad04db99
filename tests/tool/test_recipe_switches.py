"""The switches beyond the notes' recipe each change what they should."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import assert_ok, run_in_process

from nn_CIFAR10 import MyModel
from training.augment import augment_images
from training.data import CIFAR10_MEAN, CIFAR10_STD, cifar10_tensors, to_model_input
from training.models import BATCHNORM_MODELS, MODELS, STEM_MODELS, FastNet
from training.optimizer import lr_factor


def test_augmentation_keeps_shapes_and_labels_and_changes_pixels():
    args = type("Args", (), {"fake_data": True, "image_folder": None, "data_root": ""})()
    images, labels = cifar10_tensors(args, train=True)
    generator = torch.Generator().manual_seed(0)
    augmented = augment_images(images, generator)
    assert augmented.shape == images.shape and augmented.dtype == torch.uint8
    changed = (augmented != images).flatten(1).any(1).float().mean().item()
    assert changed > 0.8, "most images should be shifted or flipped"
    # A crop at the centre without flip gives the image back: check one by searching all 81 shifts + flips.
    one = images[:1]
    again = augment_images(one.expand(2000, -1, -1, -1).contiguous(), torch.Generator().manual_seed(1))
    assert any(torch.equal(a, one[0]) for a in again), "the identity (no shift, no flip) is one of the outcomes"
    assert any(torch.equal(a, one[0].flip(-1)) for a in again), "a plain mirror image is one of the outcomes"
    same = augment_images(images, torch.Generator().manual_seed(0))
    assert torch.equal(same, augmented), "the same generator seed gives the same augmentation"


def test_normalize_gives_about_zero_mean_and_unit_std():
    images = torch.randint(0, 256, (512, 3, 32, 32), dtype=torch.uint8)
    plain = to_model_input(images, normalize=False, channels_last=False)
    assert plain.min() >= 0 and plain.max() <= 1
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    # Pixels with exactly the CIFAR-10 mean and std give mean 0 and std 1 after normalising.
    synthetic = (mean + std * torch.randn(256, 3, 32, 32)).clamp(0, 1)
    quantised = (synthetic * 255).round().to(torch.uint8)
    normalized = to_model_input(quantised, normalize=True, channels_last=False)
    assert normalized.mean(dim=(0, 2, 3)).abs().max() < 0.1
    assert (normalized.std(dim=(0, 2, 3)) - 1).abs().max() < 0.15


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_schedules_rise_then_fall(schedule):
    total = 1000
    factors = [lr_factor(schedule, step, total) for step in range(total + 1)]
    peak = max(range(total + 1), key=factors.__getitem__)
    assert 0 < peak < total // 2
    assert factors[0] < factors[peak] == pytest.approx(1.0, abs=0.01)
    assert all(a <= b + 1e-12 for a, b in zip(factors[:peak], factors[1 : peak + 1])), "rises"
    assert all(a >= b - 1e-12 for a, b in zip(factors[peak:], factors[peak + 1 :])), "then falls"
    assert factors[-1] == pytest.approx(0.0, abs=1e-6)
    assert lr_factor("none", 500, total) == 1.0


def test_every_model_maps_a_batch_to_ten_logits():
    batch = torch.randn(4, 3, 32, 32)
    for name, model_class in MODELS.items():
        model = model_class()
        assert model(batch).shape == (4, 10), name
        has_batchnorm = any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
        assert (name in BATCHNORM_MODELS) == has_batchnorm, f"{name}: BATCHNORM_MODELS says otherwise"
        assert (name in STEM_MODELS) == isinstance(model, FastNet), f"{name}: STEM_MODELS says otherwise"
    assert sum(p.numel() for p in MyModel().parameters()) == 145_578, "the notes' model stays as it is"


def test_label_smoothing_changes_the_training_loss_only(tmp_path):
    # --lr 0: the weights never move, so both runs see the same logits; only the training loss differs.
    flags = ("--fake-data", "--compile", "off", "--device", "cpu", "--epochs", "1", "--lr", "0")
    assert_ok(run_in_process("10_train_cifar10.py", *flags, "--metrics-json", "a.json", cwd=tmp_path))
    smooth = ("--label-smoothing", "0.3", "--metrics-json", "b.json")
    assert_ok(run_in_process("10_train_cifar10.py", *flags, *smooth, cwd=tmp_path))
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert a["test_loss"] == b["test_loss"] and a["test_accuracy"] == b["test_accuracy"]
    assert abs(a["train_loss"] - b["train_loss"]) > 1e-4


def test_augment_padding_bounds_the_shift():
    image = torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8)
    padded = torch.nn.functional.pad(image.float(), (2, 2, 2, 2), mode="reflect").to(torch.uint8)
    allowed = [padded[0, :, dy : dy + 32, dx : dx + 32] for dy in range(5) for dx in range(5)]
    allowed += [crop.flip(-1) for crop in allowed]
    many = image.expand(300, -1, -1, -1).contiguous()
    out = augment_images(many, torch.Generator().manual_seed(0), pad=2)
    assert all(any(torch.equal(o, a) for a in allowed) for o in out), "every output is a shift of at most 2 (+flip)"
    assert len({o.numpy().tobytes() for o in out}) > 30, "and many different shifts occur"


def test_fastnet_stem_whitens_patches_and_stays_fixed():
    torch.manual_seed(0)
    # Correlated channels, like real images: whitening must undo the correlation.
    base = torch.rand(64, 1, 32, 32)
    images = torch.cat([base, 0.8 * base + 0.2 * torch.rand(64, 1, 32, 32), torch.rand(64, 1, 32, 32)], 1)
    model = FastNet()
    model.whiten_stem(images)
    features = torch.nn.functional.conv2d(images, model.stem.weight[:12])  # one of each +f / -f pair
    features = features.permute(0, 2, 3, 1).reshape(-1, 12)
    second_moment = features.T @ features / len(features)
    off_diagonal = second_moment - torch.diag(second_moment.diag())
    assert off_diagonal.abs().max() < 1e-3, "decorrelated"
    # Unit variance, except that eps damps the directions of tiny variance a little (here the last ones).
    assert second_moment.diag()[:6].sub(1).abs().max() < 0.01 and second_moment.diag().min() > 0.5
    assert torch.equal(model.stem.weight[12:], -model.stem.weight[:12])
    assert not model.stem.weight.requires_grad and model.stem.bias.requires_grad
    before = model.stem.weight.clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    model(images).logsumexp(1).mean().backward()
    optimizer.step()
    assert torch.equal(model.stem.weight, before), "training leaves the whitening as it is"
    assert model(images).shape == (64, 10)
    for stem in (23, 32):  # odd, or more filters than a 2x2 RGB patch has directions (2 x 12)
        with pytest.raises(ValueError, match="even and at most 24"):
            FastNet(widths=(stem, 32, 64, 128))
