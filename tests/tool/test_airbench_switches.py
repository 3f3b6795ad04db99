"""The airbench switches of 10_train_cifar10.py (--ema, --bn-bias-lr, --stem-bias-epochs, --dirac-init,
--flip alternate, --tta-crops, --amp on bf16 CPUs, --recipe gpu): each does what it says, and only when asked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import assert_clean_error, assert_ok, run_in_process
from torch import nn

import training.augment
import training.data
import training.device
import training.models
from nn_CIFAR10 import MyModel
from training.augment import alternating_flips, augment_images
from training.averaging import WeightAverage
from training.checkpoints import restore_model
from training.data import cifar10_tensors
from training.device import amp_active, amp_note, autocast, cpu_has_bf16
from training.errors import UserError
from training.evaluation import evaluate, tta_logits
from training.models import MODELS, FastNet, dirac_init
from training.optimizer import freeze_batchnorm_scales, lr_factor, param_groups, set_learning_rates
from training.recipes import recipe as recipe_settings
from training.settings import Settings, describe, parse_settings

TRAIN = "10_train_cifar10.py"
FAST = ("--fake-data", "--compile", "off", "--device", "cpu")
FAKE = type("Source", (), {"fake_data": True, "image_folder": None, "data_root": ""})()
TRAIN_SIZE, TEST_SIZE = 256, 100  # --fake-data made smaller here: 4 steps of 64 per epoch


@pytest.fixture(scope="module", autouse=True)
def small_fake_data():
    """The tool's runs here train on a quarter of --fake-data's 1000 images: the same code, 4x faster."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training.data, "FAKE_TRAIN_SIZE", TRAIN_SIZE)
        patch.setattr(training.data, "FAKE_TEST_SIZE", TEST_SIZE)
        yield


def train_here(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """A tool run inside the test process (no interpreter start-up)."""
    return run_in_process(TRAIN, *FAST, *args, cwd=workdir)


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def float_keys(state: dict) -> list[str]:
    return [key for key, value in state.items() if value.is_floating_point()]


def batchnorm_names(model: nn.Module) -> list[str]:
    return [name for name, module in model.named_modules() if isinstance(module, nn.BatchNorm2d)]


# --- --ema ------------------------------------------------------------------------------------------


class Tiny(nn.Module):
    """A Linear layer and a BatchNorm1d: parameters, float buffers and an integer buffer."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.bn(self.linear(x))


def test_weight_average_update_follows_the_ramp_then_the_decay():
    torch.manual_seed(0)
    model = Tiny()
    average = WeightAverage(model, 0.9)
    assert average.updates == 0 and not average.model.training
    assert all(not p.requires_grad for p in average.model.parameters()), "the average never trains"
    assert all(p.requires_grad for p in model.parameters()), "the trained model is left as it was"
    for key, value in model.state_dict().items():
        assert torch.equal(average.model.state_dict()[key], value), f"starts as a copy: {key}"
    floats = float_keys(model.state_dict())
    assert {"linear.weight", "linear.bias", "bn.weight", "bn.running_mean", "bn.running_var"} <= set(floats)
    for n in range(1, 121):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        model.train()(torch.randn(8, 4))  # moves BatchNorm's running statistics too
        old = {k: v.clone() for k, v in average.model.state_dict().items()}
        new = model.state_dict()
        average.update(model)
        assert average.updates == n
        decay = min(0.9, (1 + n) / (10 + n))
        assert decay == pytest.approx(2 / 11) if n == 1 else (decay == 0.9) == (n >= 80)
        after = average.model.state_dict()
        for key in floats:
            expected = old[key] + (1 - decay) * (new[key] - old[key])
            assert torch.allclose(after[key], expected, atol=1e-6), (n, key)
        # The integer buffer (num_batches_tracked) is not averaged: it keeps its starting value.
        assert after["bn.num_batches_tracked"] == 0 and new["bn.num_batches_tracked"] == n
    saved = average.state_dict()
    again = WeightAverage(Tiny(), 0.9)
    again.load_state_dict(saved)
    assert again.updates == 120
    for key, value in average.model.state_dict().items():
        assert torch.equal(again.model.state_dict()[key], value), key


EMA_FLAGS = ("--model", "mymodel-bn", "--ema", "0.9", "--epochs", "2", "--seed", "3", "--momentum", "0.9")


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory):
    """One two-epoch --ema run shared by the tests that read its outputs."""
    workdir = tmp_path_factory.mktemp("ema")
    result = train_here(workdir, *EMA_FLAGS, "--run-name", "whole", "--metrics-json", "whole.json")
    assert_ok(result)
    return workdir, result


def fresh(name: str, state: dict) -> nn.Module:
    model = MODELS[name]().to(memory_format=torch.channels_last)
    model.load_state_dict(state)
    return model


def test_ema_weights_are_saved_and_are_what_the_run_tests(ema_run):
    workdir, result = ema_run
    saved = load(workdir / "checkpoints" / "whole" / "last.pt")
    assert saved["ema"]["updates"] == 2 * 4, "one update per optimizer step (256 images, batch 64)"
    raw, averaged = saved["model"], saved["ema"]["model"]
    assert raw.keys() == averaged.keys()
    differing = [k for k in float_keys(raw) if not torch.allclose(raw[k], averaged[k])]
    assert "conv1.weight" in differing and "bn1.running_mean" in differing, "weights and BN statistics averaged"

    images, labels = cifar10_tensors(FAKE, train=False)
    settings = Settings(**saved["settings"])
    cpu = torch.device("cpu")
    ema_loss, ema_accuracy, _ = evaluate(fresh("mymodel-bn", averaged), images, labels, settings, device=cpu)
    raw_loss, _, _ = evaluate(fresh("mymodel-bn", raw), images, labels, settings, device=cpu)
    assert ema_loss != pytest.approx(raw_loss, rel=1e-3), "the two sets of weights test differently"

    metrics = json.loads((workdir / "whole.json").read_text())
    assert metrics["test_loss"] == pytest.approx(ema_loss, rel=1e-6), "the final test pass used the average"
    assert metrics["test_accuracy"] == ema_accuracy
    assert saved["progress"]["history"][-1]["test_accuracy"] == ema_accuracy
    assert f"{100 * ema_accuracy:.2f}%" in result.stdout.split("test accuracy")[-1], "the final line reports it"


def test_restore_model_averaged_loads_the_average(ema_run):
    workdir, _ = ema_run
    path = workdir / "checkpoints" / "whole" / "last.pt"
    saved = load(path)
    for averaged, expected in ((True, saved["ema"]["model"]), (False, saved["model"])):
        model = MODELS["mymodel-bn"]()
        which = restore_model(model, saved, path, averaged=averaged)
        assert ("average" in which and "--ema 0.9" in which) if averaged else "average" not in which, which
        for key, value in expected.items():
            assert torch.equal(model.state_dict()[key], value), (averaged, key)
    no_average = {**saved, "ema": None}  # a run without --ema: averaged=True falls back to the weights
    model = MODELS["mymodel-bn"]()
    restore_model(model, no_average, path, averaged=True)
    for key, value in saved["model"].items():
        assert torch.equal(model.state_dict()[key], value), key


def test_resume_restores_the_average_and_its_update_count(ema_run):
    workdir, _ = ema_run
    assert_ok(train_here(workdir, *EMA_FLAGS, "--run-name", "parts", "--stop-after", "1"))
    last = workdir / "checkpoints" / "parts" / "last.pt"
    halfway = load(last)
    assert halfway["ema"]["updates"] == 4
    for ema in ("0", "0.5"):  # dropping or restarting the average halfway would test other weights
        assert_clean_error(train_here(workdir, "--resume", str(last), "--ema", ema), "--ema", "cannot change")
    images, labels = cifar10_tensors(FAKE, train=False)
    settings, cpu = Settings(**halfway["settings"]), torch.device("cpu")
    loss, _, _ = evaluate(fresh("mymodel-bn", halfway["ema"]["model"]), images, labels, settings, device=cpu)
    assert halfway["progress"]["history"][0]["test_loss"] == pytest.approx(loss, rel=1e-6), (
        "each epoch tests the average"
    )
    resumed = train_here(workdir, "--resume", str(last), "--metrics-json", "parts.json")
    assert_ok(resumed)
    parts, whole = load(last), load(workdir / "checkpoints" / "whole" / "last.pt")
    assert parts["ema"]["updates"] == 8, "the count goes on from the checkpoint's (the ramp depends on it)"
    for key in float_keys(whole["ema"]["model"]):
        assert torch.allclose(parts["ema"]["model"][key], whole["ema"]["model"][key], atol=1e-6), key
    a, b = (json.loads((workdir / f"{n}.json").read_text()) for n in ("whole", "parts"))
    assert a["test_loss"] == pytest.approx(b["test_loss"], rel=1e-5)


# --- --flip alternate -------------------------------------------------------------------------------


def test_alternating_flips_switch_every_image_every_epoch():
    masks = [alternating_flips(10_000, 5, epoch) for epoch in range(6)]
    assert all(m.dtype == torch.bool and m.shape == (10_000,) for m in masks)
    for before, after in zip(masks, masks[1:]):
        assert torch.equal(after, ~before), "each image the other way round in the next epoch"
    assert abs(masks[0].float().mean().item() - 0.5) < 0.03, "about half mirrored in epoch 0"
    assert torch.equal(alternating_flips(10_000, 5, 0), masks[0]), "the same seed, the same mask"
    assert not torch.equal(alternating_flips(10_000, 6, 0), masks[0]), "another seed, another mask"
    assert torch.equal(alternating_flips(10, 5, 0), masks[0][:10]), "image i's coin does not depend on n"


def test_augment_images_mirrors_exactly_the_given_images():
    images = torch.randint(0, 256, (200, 3, 32, 32), dtype=torch.uint8)
    mask = alternating_flips(200, 1, 0)
    # pad 0: no shift at all, so the output is the image or its mirror image, as the mask says.
    out = augment_images(images, torch.Generator().manual_seed(0), pad=0, flips=mask)
    for image, flipped, result in zip(images, mask, out):
        assert torch.equal(result, image.flip(-1) if flipped else image)
    # pad 2: the same generator gives the same crops whatever the flips; the mask only mirrors them.
    crops = augment_images(images, torch.Generator().manual_seed(7), pad=2, flips=torch.zeros(200, dtype=torch.bool))
    out = augment_images(images, torch.Generator().manual_seed(7), pad=2, flips=mask)
    for crop, flipped, result in zip(crops, mask, out):
        assert torch.equal(result, crop.flip(-1) if flipped else crop)
    assert len({c.numpy().tobytes() for c in crops[:50]}) == 50 and not torch.equal(crops, images), "shifted"


def test_the_tool_passes_the_alternating_mask_each_epoch(tmp_path, monkeypatch):
    seen = []
    original = training.augment.augment_images

    def recording(images, generator, pad=4, flips=None):
        seen.append(flips)
        return original(images, generator, pad, flips)

    monkeypatch.setattr(training.augment, "augment_images", recording)
    flags = ("--epochs", "2", "--augment", "--seed", "4", "--lr", "0")
    assert_ok(train_here(tmp_path, *flags, "--flip", "alternate", "--run-name", "alternate"))
    assert len(seen) == 2
    assert torch.equal(seen[0], alternating_flips(TRAIN_SIZE, 4, 0)) and torch.equal(seen[1], ~seen[0])
    seen.clear()
    assert_ok(train_here(tmp_path, *flags, "--run-name", "random"))
    assert seen == [None, None], "without --flip alternate the flips stay random"


# --- --tta-crops ------------------------------------------------------------------------------------


class Recorder(nn.Module):
    """Records every batch it is called with; its logits are a fixed linear map of the pixels, so any
    shift or mirror image gives other logits."""

    def __init__(self, size: int):
        super().__init__()
        self.weight = torch.randn(3 * size * size, 10, generator=torch.Generator().manual_seed(0))
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        self.seen.append(x.clone())
        return x.reshape(len(x), -1) @ self.weight


def reflect_shift(x: torch.Tensor, down_right: bool) -> torch.Tensor:
    """The image moved one pixel, by hand: the view of x reflect-padded by 1, cropped at the top left
    (down_right=False) or at the bottom right (down_right=True)."""
    size = x.shape[-1]
    index = torch.arange(size) + (1 if down_right else -1)
    index = torch.where(index < 0, -index, index)
    index = torch.where(index >= size, 2 * (size - 1) - index, index)
    return x[..., index, :][..., index]


def contains(views: list[torch.Tensor], view: torch.Tensor) -> bool:
    return any(torch.equal(v, view) for v in views)


def test_tta_two_views_are_the_image_and_its_mirror():
    x = torch.rand(5, 3, 8, 8)
    model = Recorder(8)
    logits = tta_logits(model, x, crops=False)
    assert len(model.seen) == 2
    assert contains(model.seen, x) and contains(model.seen, x.flip(-1))
    expected = (x.reshape(5, -1) @ model.weight + x.flip(-1).reshape(5, -1) @ model.weight) / 2
    assert torch.allclose(logits, expected, atol=1e-5)


def test_tta_crops_six_views_weighted_half_quarter_quarter():
    x = torch.rand(5, 3, 8, 8)
    model = Recorder(8)
    logits = tta_logits(model, x, crops=True)
    up_left, down_right = reflect_shift(x, False), reflect_shift(x, True)
    assert torch.equal(up_left[..., 1:, 1:], x[..., :-1, :-1]) and torch.equal(
        down_right[..., :-1, :-1], x[..., 1:, 1:]
    )
    expected_views = [x, x.flip(-1), up_left, up_left.flip(-1), down_right, down_right.flip(-1)]
    assert len(model.seen) == 6
    for view in expected_views:
        assert contains(model.seen, view)

    def pair(view):
        return (view.reshape(5, -1) @ model.weight + view.flip(-1).reshape(5, -1) @ model.weight) / 2

    expected = 0.5 * pair(x) + 0.25 * pair(up_left) + 0.25 * pair(down_right)
    assert torch.allclose(logits, expected, atol=1e-5)
    assert not torch.allclose(logits, pair(x), atol=1e-3), "the shifted views count"


def test_evaluate_uses_the_six_views_only_with_tta_crops():
    images = torch.randint(0, 256, (300, 3, 32, 32), dtype=torch.uint8)
    labels = torch.randint(0, 10, (300,))
    cpu = torch.device("cpu")
    for crops, views in ((False, 2), (True, 6)):
        model = Recorder(32)
        _, accuracy, _ = evaluate(model, images, labels, Settings(tta=True, tta_crops=crops), device=cpu, tta=True)
        assert len(model.seen) == views, "one batch of 300 images, each view once"
        x = model.seen[0]
        expected = tta_logits(Recorder(32), x, crops)
        assert accuracy == pytest.approx((expected.argmax(1) == labels).double().mean().item())


# --- --bn-bias-lr and --stem-bias-epochs ------------------------------------------------------------


def test_param_groups_split_batchnorm_biases_and_the_stem_bias():
    torch.manual_seed(0)
    model = FastNet()
    settings = Settings(model="fastnet", lr=0.2, weight_decay=5e-4, bn_bias_lr=8.0, stem_bias_epochs=2)
    settings.schedule = "onecycle"
    batchnorms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(batchnorms) == 6
    param_groups(model, settings)
    assert all(m.weight.requires_grad for m in batchnorms), "param_groups leaves the model as it is"
    freeze_batchnorm_scales(model)
    groups = param_groups(model, settings)
    by_name = {group["name"]: group for group in groups}
    assert list(by_name) == ["weights", "batchnorm biases", "stem bias"]
    assert all(not m.weight.requires_grad and torch.equal(m.weight, torch.ones_like(m.weight)) for m in batchnorms)
    assert [id(p) for p in by_name["batchnorm biases"]["params"]] == [id(m.bias) for m in batchnorms]
    assert [id(p) for p in by_name["stem bias"]["params"]] == [id(model.stem.bias)]
    grouped = [id(p) for group in groups for p in group["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters() if p.requires_grad), "each trained once"
    assert id(model.stem.weight) not in grouped and not any(id(m.weight) in grouped for m in batchnorms)

    optimizer = torch.optim.SGD(groups, lr=settings.lr, momentum=0.9, weight_decay=settings.weight_decay)
    decay = {group["name"]: group["weight_decay"] for group in optimizer.param_groups}
    assert decay == {"weights": 5e-4, "batchnorm biases": pytest.approx(5e-4 / 8), "stem bias": 5e-4}
    total = 100
    for step, epoch in ((0, 0), (20, 1), (70, 1), (99, 1)):
        set_learning_rates(optimizer, settings, step, total, epoch)
        lr = {group["name"]: group["lr"] for group in optimizer.param_groups}
        expected = 0.2 * lr_factor("onecycle", step, total)
        assert lr["weights"] == pytest.approx(expected) and lr["stem bias"] == pytest.approx(expected)
        assert lr["batchnorm biases"] == pytest.approx(8 * expected)
    for epoch in (2, 3):  # from epoch index stem_bias_epochs on, the stem bias stops
        set_learning_rates(optimizer, settings, 50, total, epoch)
        lr = {group["name"]: group["lr"] for group in optimizer.param_groups}
        assert (
            lr["stem bias"] == 0.0 and lr["weights"] > 0 and lr["batchnorm biases"] == pytest.approx(8 * lr["weights"])
        )


def test_param_groups_without_the_switches():
    model = FastNet()
    groups = param_groups(model, Settings(model="fastnet"))
    assert [g["name"] for g in groups] == ["weights", "stem bias"], "no BatchNorm group without --bn-bias-lr"
    assert all(m.weight.requires_grad for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    optimizer = torch.optim.SGD(groups, lr=0.1)
    set_learning_rates(optimizer, Settings(model="fastnet", lr=0.1), 5, 10, epoch=7)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.1], "--stem-bias-epochs 0: the stem never stops"
    notes = MyModel()
    (group,) = param_groups(notes, Settings())
    assert [id(p) for p in group["params"]] == [id(p) for p in notes.parameters()], "the notes' model.parameters()"


def test_bn_bias_lr_and_stem_bias_epochs_in_a_run(tmp_path):
    flags = ("--model", "fastnet", "--bn-bias-lr", "8", "--stem-bias-epochs", "1", "--epochs", "2", "--seed", "1")
    flags += ("--momentum", "0.9", "--weight-decay", "5e-4")
    assert_ok(train_here(tmp_path, *flags, "--stop-after", "1", "--run-name", "s"))
    last = tmp_path / "checkpoints" / "s" / "last.pt"
    first = load(last)
    changed = train_here(tmp_path, "--resume", str(last), "--bn-bias-lr", "4")
    assert_clean_error(changed, "--bn-bias-lr", "cannot change when resuming")
    assert_ok(train_here(tmp_path, "--resume", str(last)))
    second = load(last)
    assert (first["progress"]["epochs_done"], second["progress"]["epochs_done"]) == (1, 2)

    torch.manual_seed(1)  # the tool seeds, then builds the model: the same starting weights
    start = FastNet().state_dict()
    names = batchnorm_names(FastNet())
    for state in (first["model"], second["model"]):
        for name in names:
            assert torch.equal(state[f"{name}.weight"], torch.ones_like(state[f"{name}.weight"])), name
    for name in names:
        assert not torch.equal(first["model"][f"{name}.bias"], start[f"{name}.bias"]), f"{name}.bias trains"
        assert not torch.equal(second["model"][f"{name}.bias"], first["model"][f"{name}.bias"]), name

    assert not torch.equal(first["model"]["stem.bias"], start["stem.bias"]), "epoch 1 trains the stem bias"
    assert torch.equal(second["model"]["stem.bias"], first["model"]["stem.bias"]), "epoch 2 leaves it"
    for key in ("block1.0.weight", "block3.4.weight", "linear.weight"):
        assert not torch.equal(second["model"][key], first["model"][key]), f"{key} still trains in epoch 2"

    def lrs(saved):
        return {group["name"]: group["lr"] for group in saved["optimizer"]["param_groups"]}

    assert lrs(first)["stem bias"] == lrs(first)["weights"] == 0.01
    assert lrs(second) == {"weights": 0.01, "batchnorm biases": pytest.approx(0.08), "stem bias": 0.0}


# --- --dirac-init -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fastnet", "mymodel"])
def test_dirac_init_makes_each_trained_conv_an_identity(name):
    torch.manual_seed(0)
    model = MODELS[name]()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    dirac_init(model)
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    trained = [(n, m) for n, m in convs if m.weight.requires_grad]
    assert len(trained) == (6 if name == "fastnet" else 3)
    for conv_name, conv in trained:
        channels = conv.in_channels
        x = torch.randn(2, channels, 9, 9)
        with torch.no_grad():
            y = conv(x)
        bias = 0 if conv.bias is None else conv.bias[:channels].view(1, -1, 1, 1)
        assert torch.allclose(y[:, :channels], x + bias, atol=1e-5), conv_name
        rest = before[f"{conv_name}.weight"][channels:]
        assert torch.equal(conv.weight[channels:], rest), "the other filters keep their random start"
    for conv_name, conv in convs:
        if not conv.weight.requires_grad:  # FastNet's stem: set by whiten_stem(), not here
            assert torch.equal(conv.weight, before[f"{conv_name}.weight"]), conv_name
    if name == "fastnet":
        assert [n for n, m in convs if not m.weight.requires_grad] == ["stem"]


def test_dirac_init_in_a_run_is_applied_once_at_the_start(tmp_path, monkeypatch):
    calls = []
    original = training.models.dirac_init

    monkeypatch.setattr(training.models, "dirac_init", lambda model: calls.append(model) or original(model))
    flags = ("--model", "fastnet", "--epochs", "2", "--dirac-init", "--lr", "0", "--run-name", "d")
    assert_ok(train_here(tmp_path, *flags, "--stop-after", "1"))
    assert len(calls) == 1
    saved = load(tmp_path / "checkpoints" / "d" / "last.pt")["model"]
    weight = saved["block1.0.weight"]  # --lr 0: still the Dirac start
    identity = torch.zeros(24, 24, 3, 3)
    identity[range(24), range(24), 1, 1] = 1
    assert torch.equal(weight[:24], identity)
    assert_ok(train_here(tmp_path, "--resume", "checkpoints/d/last.pt"))
    assert len(calls) == 1, "a resumed run keeps its weights"


# --- recipes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recipe", "model"), [("gpu", recipe_settings("gpu")["model"]), ("fast", recipe_settings("fast")["model"])]
)
def test_recipes_run_one_tiny_epoch_on_the_cpu(tmp_path, recipe, model):
    result = train_here(tmp_path, "--recipe", recipe, "--epochs", "1", "--run-name", "r")
    assert_ok(result)
    header = next(line for line in result.stdout.splitlines() if line.startswith("run r:"))
    assert f"--recipe {recipe}" in header and model in header
    for switch in ("normalize", "EMA 0.99", "BN bias lr x16", "Dirac init", "TTA (6 views)", "amp"):
        assert switch in header, f"the run's header names every switch the recipe turned on: {switch}"
    assert "stem bias" not in header, "a 1-epoch run never reaches the recipe's 3 epochs of stem bias"
    assert amp_note(True, torch.device("cpu")) in result.stdout, "--amp says what it does on this CPU"
    assert "6 views" in result.stdout.split("test accuracy")[-1], "the final accuracy with the 6-view TTA"
    assert ("sized for a GPU" in result.stdout) == (recipe == "gpu")
    saved = load(tmp_path / "checkpoints" / "r" / "last.pt")
    settings = saved["settings"]
    assert settings["epochs"] == 1, "a flag given on the command line wins over the recipe"
    assert settings["augment"] and settings["normalize"] and settings["schedule"] == "onecycle"
    assert settings["batch_size"] == {"gpu": 1024, "fast": 256}[recipe]
    assert settings["ema"] == 0.99 and settings["bn_bias_lr"] == 16.0 and settings["dirac_init"]
    assert settings["flip"] == "alternate" and settings["tta_crops"] and settings["stem_bias_epochs"] == 3
    assert settings["amp"] and saved["ema"]["updates"] == -(-TRAIN_SIZE // settings["batch_size"])


# --- bad combinations -------------------------------------------------------------------------------


def test_recipe_choices_that_cannot_apply_rest_and_named_ones_are_checked():
    settings, _ = parse_settings(["--recipe", "fast", "--momentum", "0"])
    assert settings.momentum == 0 and not settings.nesterov, "the recipe's Nesterov gives way to --momentum 0"
    with pytest.raises(UserError, match="--nesterov needs --momentum"):
        parse_settings(["--momentum", "0", "--nesterov"])
    fast = describe(parse_settings(["--recipe", "fast", "--model", "mymodel", "--epochs", "5"])[0])
    assert all(part in fast for part in ("--recipe fast", "mymodel", "lr 0.2", "momentum 0.9", "Nesterov")), fast
    assert "BN bias" not in fast and "stem bias" not in fast, "mymodel has neither BatchNorm nor a stem"
    wide = describe(parse_settings(["--recipe", "fast", "--epochs", "5"])[0])
    assert "BN bias lr x16" in wide and "stem bias frozen after 3 epochs" in wide, wide
    notes = describe(Settings())
    assert all(part in notes for part in ("mymodel", "lr 0.01", "batch 64", "20 epochs")), notes
    assert not any(extra in notes for extra in ("--recipe", "momentum", "EMA", "TTA", "amp")), "the notes', plainly"
    for name in ("../escape", "a/b", ".", ".."):
        with pytest.raises(UserError, match="--run-name"):
            parse_settings(["--run-name", name])


@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (("--flip", "alternate"), ("--flip alternate", "--augment")),
        (("--tta-crops",), ("--tta-crops", "--tta")),
        (("--stem-bias-epochs", "2"), ("--stem-bias-epochs", "mymodel")),
        (("--model", "mymodel-bn", "--stem-bias-epochs", "1"), ("--stem-bias-epochs", "mymodel-bn")),
        (("--bn-bias-lr", "4"), ("--bn-bias-lr", "mymodel has no BatchNorm")),
        (("--model", "mymodel-relu", "--bn-bias-lr", "4"), ("--bn-bias-lr", "mymodel-relu has no BatchNorm")),
        (("--ema", "1"), ("--ema",)),
        (("--ema", "1.5"), ("--ema",)),
        (("--ema", "-0.5"), ("--ema",)),
        (("--muon", "0.05"), ("--muon", "mymodel has no BatchNorm")),
        (("--model", "mymodel-relu", "--muon", "0.1"), ("--muon", "mymodel-relu has no BatchNorm")),
        (("--resize-from", "4"), ("--resize-from",)),
        (("--resize-from", "40"), ("--resize-from",)),
        (("--bn-momentum", "1"), ("--bn-momentum",)),
        (("--lookahead", "-1"), ("--lookahead",)),
    ],
)
def test_bad_combinations_are_one_line(tmp_path, flags, fragments):
    result = train_here(tmp_path, "--epochs", "1", *flags)
    assert result.returncode == 2
    assert_clean_error(result, *fragments)
    assert not (tmp_path / "checkpoints").exists(), "stopped before training"


# --- --amp ------------------------------------------------------------------------------------------


def test_amp_notes(monkeypatch):
    """--amp says what it does: bf16 where it acts, "does nothing" (float32) where it cannot, nothing without it."""
    cpu, cuda, mps = torch.device("cpu"), torch.device("cuda"), torch.device("mps")
    assert amp_note(False, cpu) is None and amp_note(False, cuda) is None
    assert amp_active(True, cuda) and "bf16" in amp_note(True, cuda)
    assert not amp_active(True, mps)
    assert "does nothing" in amp_note(True, mps) and "float32" in amp_note(True, mps)
    if cpu_has_bf16():
        assert amp_active(True, cpu) and "bf16" in amp_note(True, cpu) and "does nothing" not in amp_note(True, cpu)
    monkeypatch.setattr(training.device, "cpu_has_bf16", lambda: False)
    assert not amp_active(True, cpu)
    assert all(part in amp_note(True, cpu) for part in ("does nothing", "no native bf16", "float32"))
    conv = nn.Conv2d(3, 4, 3)
    with autocast(True, cpu):
        assert conv(torch.rand(1, 3, 8, 8)).dtype == torch.float32, "no bf16 CPU: float32"


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16")
def test_amp_on_a_bf16_cpu_runs_convolutions_in_bf16():
    conv = nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
    x = torch.rand(2, 3, 8, 8).to(memory_format=torch.channels_last)  # as the tool feeds it
    cpu = torch.device("cpu")
    with autocast(True, cpu):
        assert conv(x).dtype == torch.bfloat16
    with autocast(False, cpu):
        assert conv(x).dtype == torch.float32
    assert conv.weight.dtype == torch.float32, "the weights stay float32"


def test_a_checkpoint_of_an_older_format_is_one_line(tmp_path):
    """Format 2 kept the optimizer's parameters in another order: resuming it is refused, not crashed."""
    old = tmp_path / "old.pt"
    torch.save({"format": "pytorch-notes-cifar10-checkpoint/2", "model": {}}, old)
    result = train_here(tmp_path, "--resume", str(old))
    assert_clean_error(result, "another version of 10_train_cifar10.py", "start a new run")
