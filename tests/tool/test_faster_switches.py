"""The switches of 10_train_cifar10.py that make training faster (--muon, --lookahead with --bn-momentum,
--resize-epochs with --resize-from, --model fastnet-cpu): each does what it says, a resumed run ends as an
uninterrupted one, and a switch that cannot apply is one error line."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import assert_clean_error, assert_ok

# The helpers of the airbench switches' tests, shared (train_here runs the tool in this process).
from test_airbench_switches import Tiny, float_keys, load, train_here  # noqa: E402
from torch import nn

import training.data
import training.models
import training.report
from training.augment import epoch_image_size, resize_batch
from training.averaging import Lookahead
from training.models import MODELS, FastNet, set_batchnorm_momentum
from training.muon import SGDMuon, orthogonalize
from training.optimizer import (
    freeze_batchnorm_scales,
    lr_factor,
    make_optimizer,
    param_groups,
    set_learning_rates,
    stop_frozen_gradients,
)
from training.settings import MIN_IMAGE_SIZE, Settings

TRAIN_SIZE, TEST_SIZE = 128, 50  # --fake-data made smaller here; with --batch-size 32: 4 steps per epoch
BATCH = ("--batch-size", "32")


@pytest.fixture(scope="module", autouse=True)
def small_fake_data():
    """The tool's runs here train on an eighth of --fake-data's 1000 images, and leave out TensorBoard's
    graph (a jit trace of the model, over a second a run on 2 cores; no test here reads it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training.data, "FAKE_TRAIN_SIZE", TRAIN_SIZE)
        patch.setattr(training.data, "FAKE_TEST_SIZE", TEST_SIZE)
        patch.setattr(training.report, "add_graph", lambda writer, model, example: None)
        yield


def assert_same_weights(a: dict, b: dict, atol: float = 1e-6) -> None:
    assert a.keys() == b.keys()
    for key in float_keys(a):
        assert torch.allclose(a[key], b[key], atol=atol), key


def record_models(monkeypatch, name: str = "fastnet") -> tuple[list[nn.Module], list[tuple[bool, tuple]]]:
    """Every `name` model the tool builds from now on, and every input it is called with:
    (model.training, input shape), in order."""
    built, inputs = [], []
    original = MODELS[name]

    def build():
        model = original()
        model.register_forward_pre_hook(lambda module, args: inputs.append((module.training, tuple(args[0].shape))))
        built.append(model)
        return model

    monkeypatch.setitem(training.models.MODELS, name, build)  # the tool's MODELS is this same dict
    return built, inputs


def batchnorms(model: nn.Module) -> list[nn.BatchNorm2d]:
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


# --- --muon: SGDMuon and its param groups -----------------------------------------------------------

MUON_MOMENTUM = 0.6  # airbench94_muon's momentum, which SGDMuon uses for the filters
OUT, FAN_IN = 32, 24 * 3 * 3  # a 3x3 convolution from 24 to 32 channels: its filters as a 32 x 216 matrix


def filter_gradient(singular_values: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """An OUT x FAN_IN gradient with these singular values, along random orthonormal directions."""
    generator = torch.Generator().manual_seed(seed)
    left, _ = torch.linalg.qr(torch.randn(OUT, OUT, generator=generator))
    right, _ = torch.linalg.qr(torch.randn(FAN_IN, OUT, generator=generator))
    return left @ torch.diag(singular_values) @ right.T


SPECTRA = {
    # 1 down to 0.03: one and a half orders of magnitude
    "spread": torch.logspace(0, -1.5, OUT),
    # one direction dominates the others 33 to 1
    "dominated": torch.cat([torch.ones(1), torch.full((OUT - 1,), 0.03)]),
}


@pytest.mark.parametrize("spectrum", SPECTRA.values(), ids=SPECTRA.keys())
def test_muon_step_moves_a_filter_by_an_orthogonalised_update(spectrum):
    torch.manual_seed(0)
    weight = nn.Conv2d(24, OUT, 3, bias=False).weight
    lr = 0.05
    optimizer = SGDMuon([{"params": [weight], "muon": True, "weight_decay": 0}], lr=lr, momentum=0.9)
    gradient = filter_gradient(spectrum)
    raw = torch.linalg.svdvals(gradient)
    assert raw.max() / raw.min() > 30, "the raw gradient's singular values spread far"

    start = weight.detach().clone()
    assert abs(start.norm() - OUT**0.5) > 1, "PyTorch's start is far from the norm Muon gives"
    weight.grad = gradient.view_as(weight).clone()
    optimizer.step()
    rescaled = start * OUT**0.5 / start.norm()  # first scaled back to norm sqrt(out_channels)
    update = ((rescaled - weight.detach()) / lr).reshape(OUT, -1)  # then moved by -lr x update
    values = torch.linalg.svdvals(update)
    assert 0.4 < values.min() and values.max() < 1.6, f"every singular value near 1: {values}"
    # It keeps the gradient's directions (gradient = P S Q^T, update ~ P D Q^T with D > 0), not its scale.
    p, _, qt = torch.linalg.svd(gradient, full_matrices=False)
    inner = p.T @ update @ qt.T
    assert torch.diagonal(inner).min() > 0.4
    assert (inner - torch.diag(torch.diagonal(inner))).abs().max() < 0.1
    assert torch.linalg.norm(update - p @ inner @ qt) < 0.1 * torch.linalg.norm(update), "nothing outside them"
    assert abs(weight.norm() - OUT**0.5) <= lr * torch.linalg.norm(update) + 1e-5

    # Nesterov momentum (Muon's own 0.6), kept in the optimizer's state.
    buffer = optimizer.state[weight]["momentum_buffer"]
    assert torch.equal(buffer, gradient.view_as(weight)), "the first buffer is the gradient"
    direction = gradient.add(gradient, alpha=MUON_MOMENTUM)
    assert torch.allclose(update, orthogonalize(direction).float(), atol=1e-4)

    second = filter_gradient(torch.rand(OUT), seed=1)
    before = weight.detach().clone()
    weight.grad = second.view_as(weight).clone()
    optimizer.step()
    expected_buffer = gradient * MUON_MOMENTUM + second
    assert torch.allclose(buffer.reshape(OUT, -1), expected_buffer, atol=1e-6)
    direction = second.add(expected_buffer, alpha=MUON_MOMENTUM)  # Nesterov: the gradient plus 0.6 x the buffer
    update = ((before * OUT**0.5 / before.norm() - weight.detach()) / lr).reshape(OUT, -1)
    assert torch.allclose(update, orthogonalize(direction).float(), atol=1e-4)
    assert not torch.allclose(update, orthogonalize(expected_buffer).float(), atol=1e-2), "not the buffer alone"

    optimizer.param_groups[0]["lr"] = 0.0  # lr 0: the step only rescales the filter to norm sqrt(out_channels)
    before = weight.detach().clone()
    weight.grad = gradient.view_as(weight).clone()
    optimizer.step()
    assert weight.norm().item() == pytest.approx(OUT**0.5, rel=1e-6)
    assert torch.allclose(weight / weight.norm(), before / before.norm(), atol=1e-7)


def test_orthogonalize_lifts_a_low_rank_gradients_directions_to_about_one():
    """A rank-4 gradient (the other 28 singular values 0): its four directions come out near 1, and no
    more than rounding (bf16 where the CPU has it) appears outside them."""
    values = torch.zeros(OUT)
    values[:4] = torch.tensor([1.0, 0.3, 0.1, 0.05])
    out = torch.linalg.svdvals(orthogonalize(filter_gradient(values)).float())
    assert 0.4 < out[:4].min() and out[:4].max() < 1.6, out
    assert out[4:].max() < 0.1, out


def test_sgd_muon_leaves_the_other_groups_to_plain_sgd():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    twin = copy.deepcopy(model)
    filters = model[0].weight
    rest = [p for name, p in model.named_parameters() if name != "0.weight"]
    twin_rest = [p for name, p in twin.named_parameters() if name != "0.weight"]
    settings = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    muon = SGDMuon([{"params": rest}, {"params": [filters], "muon": True, "weight_decay": 0, "lr": 0.05}], **settings)
    plain = torch.optim.SGD(twin_rest, **settings)
    gradients = []
    for _ in range(3):
        for p, q in zip(rest, twin_rest):
            p.grad = torch.randn_like(p)
            q.grad = p.grad.clone()
        gradients.append(torch.randn_like(filters))
        filters.grad = gradients[-1].clone()
        muon.step()
        plain.step()
        for p, q in zip(rest, twin_rest):
            assert torch.equal(p, q), "SGD's own step, to the last bit"
            assert torch.equal(muon.state[p]["momentum_buffer"], plain.state[q]["momentum_buffer"])
    assert not torch.equal(filters, twin[0].weight), "the filters took Muon's step"
    a, b, c = gradients
    expected = MUON_MOMENTUM * (MUON_MOMENTUM * a + b) + c
    assert torch.allclose(muon.state[filters]["momentum_buffer"], expected, atol=1e-6), "Muon's momentum, 0.6"
    assert set(muon.state_dict()["state"]) == set(range(len(rest) + 1)), "every parameter's buffer is saved"


def test_param_groups_put_the_trained_filters_in_a_muon_group():
    torch.manual_seed(0)
    model = FastNet()
    settings = Settings(model="fastnet", lr=0.2, muon=0.05, weight_decay=5e-4, bn_bias_lr=8.0, schedule="onecycle")
    freeze_batchnorm_scales(model)
    groups = param_groups(model, settings)
    assert [g["name"] for g in groups if g.get("muon")] == ["filters (Muon)"]
    muon_group = next(g for g in groups if g.get("muon"))
    names = {id(p): name for name, p in model.named_parameters()}
    expected = [f"block{b}.{i}.weight" for b in (1, 2, 3) for i in (0, 4)]
    assert [names[id(p)] for p in muon_group["params"]] == expected, "the six trained 3x3 convolutions"
    assert id(model.stem.weight) not in {id(p) for p in muon_group["params"]}, "the frozen stem stays out"
    grouped = [id(p) for g in groups for p in g["params"]]
    assert len(grouped) == len(set(grouped)), "nothing in two groups"
    assert sorted(grouped) == sorted(id(p) for p in model.parameters() if p.requires_grad), "each trained once"
    assert not any(p.dim() == 4 for g in groups if not g.get("muon") for p in g["params"])

    optimizer = make_optimizer(model, settings)
    assert isinstance(optimizer, SGDMuon)
    decay = {g["name"]: g["weight_decay"] for g in optimizer.param_groups}
    assert decay["filters (Muon)"] == 0 and decay["weights"] == 5e-4
    total = 100
    for step in (0, 20, 70, 99):
        set_learning_rates(optimizer, settings, step, total, epoch=0)
        lr = {g["name"]: g["lr"] for g in optimizer.param_groups}
        factor = lr_factor("onecycle", step, total)
        assert lr["filters (Muon)"] == pytest.approx(0.05 * factor), "--muon x the schedule, not --lr"
        assert lr["weights"] == pytest.approx(0.2 * factor)
        assert lr["batchnorm biases"] == pytest.approx(8 * 0.2 * factor)

    plain = make_optimizer(FastNet(), Settings(model="fastnet"))
    assert type(plain) is torch.optim.SGD, "without --muon: the notes' SGD"
    assert not any(g.get("muon") for g in plain.param_groups)


# --- --muon in a run --------------------------------------------------------------------------------

MUON_FLAGS = ("--model", "fastnet", "--muon", "0.05", "--epochs", "2", "--seed", "2", *BATCH)


@pytest.fixture(scope="module")
def muon_whole(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("muon")
    assert_ok(train_here(workdir, *MUON_FLAGS, "--run-name", "whole"))
    return workdir


def test_muon_run_trains_the_filters_and_resumes_as_an_uninterrupted_run(muon_whole):
    workdir = muon_whole
    assert_ok(train_here(workdir, *MUON_FLAGS, "--run-name", "parts", "--stop-after", "1"))
    last = workdir / "checkpoints" / "parts" / "last.pt"
    halfway = load(last)
    groups = {g["name"]: g for g in halfway["optimizer"]["param_groups"]}
    assert groups["filters (Muon)"]["lr"] == 0.05 and groups["weights"]["lr"] == 0.01
    assert groups["filters (Muon)"]["weight_decay"] == 0
    for index in groups["filters (Muon)"]["params"]:
        assert halfway["optimizer"]["state"][index]["momentum_buffer"].dim() == 4, "Muon's momentum is saved"
    for key, value in halfway["model"].items():
        if key.endswith(".weight") and value.dim() == 4 and not key.startswith("stem"):
            # rescaled to norm sqrt(out_channels), then one step of lr 0.05 x singular values below 1.6
            assert abs(value.norm() / len(value) ** 0.5 - 1) < 1.6 * 0.05, key
    assert halfway["lookahead"] is None, "no --lookahead, no slow weights"

    for muon in ("0.1", "0"):
        refused = train_here(workdir, "--resume", str(last), "--muon", muon)
        assert refused.returncode == 2
        assert_clean_error(refused, "--muon", "cannot change")
    assert_ok(train_here(workdir, "--resume", str(last)))
    parts, whole = load(last), load(workdir / "checkpoints" / "whole" / "last.pt")
    assert parts["progress"]["global_step"] == whole["progress"]["global_step"] == 8
    assert_same_weights(parts["model"], whole["model"])


# --- --lookahead ------------------------------------------------------------------------------------


def test_lookahead_syncs_every_k_steps_and_hands_over_the_slow_weights_at_the_end():
    torch.manual_seed(0)
    model = Tiny()
    k, total = 3, 10
    lookahead = Lookahead(model, k)
    keys = float_keys(model.state_dict())
    assert set(keys) == {"linear.weight", "linear.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}

    def slow() -> dict:
        assert len(lookahead.slow) == len(keys)
        return {key: t.clone() for key, t in zip(keys, lookahead.slow)}

    for key, value in slow().items():
        assert torch.equal(value, model.state_dict()[key]), f"starts as a copy: {key}"
    synced = []
    for step in range(1, total + 1):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        model.train()(torch.randn(8, 4))  # moves BatchNorm's running statistics too
        fast = {key: value.clone() for key, value in model.state_dict().items()}
        before = slow()
        lookahead.update(model, step, total)
        after, now = slow(), model.state_dict()
        assert now["bn.num_batches_tracked"] == step, "the integer buffer is left alone"
        if step % k and step < total:
            for key in keys:
                assert torch.equal(now[key], fast[key]), f"step {step}: the optimizer's weights as they are"
                assert torch.equal(after[key], before[key]), f"step {step}: the slow copy waits"
            continue
        synced.append(step)
        decay = 1.0 if step == total else 0.95**k * (step / total) ** 3
        for key in keys:
            expected = torch.lerp(before[key], fast[key], 1 - decay)
            assert torch.allclose(after[key], expected, atol=1e-6), (step, key)
            assert torch.equal(now[key], after[key]), f"step {step}: the weights become the slow copy ({key})"
            if step == total:
                assert torch.equal(now[key], before[key]), "the last step hands over the slow weights unchanged"
    assert synced == [3, 6, 9, 10]

    again = Lookahead(Tiny(), k)
    again.load_state_dict(lookahead.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(again.slow, lookahead.slow))


LOOKAHEAD_FLAGS = ("--model", "fastnet", "--lookahead", "3", "--bn-momentum", "0.4", "--epochs", "2", "--seed", "5")
LOOKAHEAD_FLAGS += (*BATCH, "--momentum", "0.9")


@pytest.fixture(scope="module")
def lookahead_whole(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lookahead")
    assert_ok(train_here(workdir, *LOOKAHEAD_FLAGS, "--run-name", "whole"))
    return workdir


def test_lookahead_run_saves_the_slow_weights_and_resumes_as_an_uninterrupted_run(lookahead_whole, monkeypatch):
    """--lookahead 3 with 4 steps an epoch: the stop after epoch 1 (step 4) falls between two syncs
    (steps 3 and 6), so the resumed run needs the slow weights from the checkpoint."""
    workdir = lookahead_whole
    built, _ = record_models(monkeypatch)
    assert_ok(train_here(workdir, *LOOKAHEAD_FLAGS, "--run-name", "parts", "--stop-after", "1"))
    last = workdir / "checkpoints" / "parts" / "last.pt"
    halfway = load(last)
    keys = float_keys(halfway["model"])
    slow = dict(zip(keys, halfway["lookahead"]["slow"], strict=True))
    assert not torch.allclose(slow["block1.0.weight"], halfway["model"]["block1.0.weight"]), "step 4: apart"
    assert not torch.allclose(slow["block1.2.running_mean"], halfway["model"]["block1.2.running_mean"])

    assert_ok(train_here(workdir, "--resume", str(last)))
    assert len(built) == 2 and all(m.momentum == 0.4 for model in built for m in batchnorms(model)), (
        "--bn-momentum in both parts of the run"
    )
    parts, whole = load(last), load(workdir / "checkpoints" / "whole" / "last.pt")
    for saved in (parts, whole):
        for key, value in zip(keys, saved["lookahead"]["slow"], strict=True):
            assert torch.equal(saved["model"][key], value), f"the last step ends on the slow weights: {key}"
    assert_same_weights(parts["model"], whole["model"])
    assert_same_weights(dict(zip(keys, parts["lookahead"]["slow"])), dict(zip(keys, whole["lookahead"]["slow"])))


# --- --bn-momentum ----------------------------------------------------------------------------------


def test_set_batchnorm_momentum_sets_how_fast_the_running_statistics_follow():
    torch.manual_seed(0)
    model = FastNet()
    assert [m.momentum for m in batchnorms(model)] == [0.1] * 6, "PyTorch's default"
    set_batchnorm_momentum(model, 0.4)
    assert [m.momentum for m in batchnorms(model)] == [0.4] * 6
    inputs = {}
    for m in batchnorms(model):
        m.register_forward_pre_hook(lambda module, args: inputs.__setitem__(module, args[0].detach().clone()))
    with torch.no_grad():
        model.train()(torch.rand(16, 3, 32, 32))
    for m in batchnorms(model):
        x = inputs[m]
        mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=True)
        assert torch.allclose(m.running_mean, 0.4 * mean, atol=1e-5)  # from 0: (1 - 0.4) x 0 + 0.4 x mean
        assert torch.allclose(m.running_var, 0.6 + 0.4 * var, atol=1e-4)  # from 1


# --- --resize-epochs and --resize-from --------------------------------------------------------------


def test_epoch_image_size_grows_to_full_size_in_even_steps():
    sizes = [epoch_image_size(Settings(resize_epochs=4, resize_from=16), epoch) for epoch in range(7)]
    assert sizes == [16, 20, 24, 28, 32, 32, 32]
    assert [epoch_image_size(Settings(resize_epochs=2), epoch) for epoch in range(4)] == [16, 24, 32, 32]
    assert [epoch_image_size(Settings(resize_epochs=3), epoch) for epoch in range(4)] == [16, 22, 26, 32]
    assert [epoch_image_size(Settings(), epoch) for epoch in range(3)] == [32, 32, 32], "off by default"
    assert epoch_image_size(Settings(resize_epochs=2, resize_from=24), 1, full_size=40) == 32


def test_resize_batch_scales_a_batch_down_smoothly():
    x = torch.rand(5, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    assert resize_batch(x, 32) is x, "full size: the batch as it is"
    for size in (16, 20, 24, 28):
        y = resize_batch(x, size)
        assert y.shape == (5, 3, size, size) and y.is_contiguous(memory_format=torch.channels_last)
    flat = torch.full((2, 3, 32, 32), 0.25).contiguous(memory_format=torch.channels_last)
    assert torch.allclose(resize_batch(flat, 24), torch.full((2, 3, 24, 24), 0.25))
    checks = torch.zeros(2, 3, 32, 32)
    checks[..., ::2, ::2] = checks[..., 1::2, 1::2] = 1
    for size in (16, 24):  # antialiased: a one-pixel checkerboard becomes grey, not a pattern of its samples
        y = resize_batch(checks.contiguous(memory_format=torch.channels_last), size)
        assert (y - 0.5).abs().max() < 0.1, size


def test_resize_epochs_in_a_run_feed_the_model_each_epochs_size(tmp_path, monkeypatch):
    built, inputs = record_models(monkeypatch)
    flags = ("--model", "fastnet", "--resize-epochs", "2", "--epochs", "3", *BATCH, "--run-name", "r")
    result = train_here(tmp_path, *flags)
    assert_ok(result)
    epochs, current = [], []
    for training_mode, shape in inputs:
        if training_mode:
            current.append(shape)
        elif current:  # a test pass ends each epoch
            epochs.append(current)
            current = []
    assert epochs == [[(32, 3, 16, 16)] * 4, [(32, 3, 24, 24)] * 4, [(32, 3, 32, 32)] * 4]
    tested = [shape for training_mode, shape in inputs if not training_mode]
    assert len(tested) >= 3 and all(shape[-2:] == (32, 32) for shape in tested), "the test pass sees 32x32"
    assert all(m.momentum == 0.1 for m in batchnorms(built[0])), "--bn-momentum: PyTorch's 0.1 by default"
    assert "at 16x16" in result.stderr + result.stdout and "at 24x24" in result.stderr + result.stdout


def test_resize_epochs_with_a_model_that_needs_32x32_is_one_line(tmp_path):
    result = train_here(tmp_path, "--epochs", "1", *BATCH, "--resize-epochs", "1")
    assert result.returncode == 2
    assert_clean_error(result, "--resize-epochs")


def test_the_smallest_resize_from_allowed_trains_fastnet(tmp_path):
    flags = ("--model", "fastnet", "--epochs", "1", *BATCH, "--resize-epochs", "1")
    assert_ok(train_here(tmp_path, *flags, "--resize-from", str(MIN_IMAGE_SIZE)))
    assert_clean_error(train_here(tmp_path, *flags, "--resize-from", str(MIN_IMAGE_SIZE - 1)), "--resize-from")


def test_an_odd_resize_from_is_the_first_size():
    sizes = [epoch_image_size(Settings(resize_epochs=4, resize_from=13), epoch) for epoch in range(5)]
    assert sizes == [13, 17, 23, 27, 32], "the first epoch at --resize-from, then even steps up"


# --- --model fastnet-cpu ----------------------------------------------------------------------------


def test_fastnet_cpu_maps_a_batch_of_any_size_from_16_to_32_to_ten_logits():
    torch.manual_seed(0)
    model = MODELS["fastnet-cpu"]().eval()
    assert isinstance(model, FastNet) and isinstance(model.pool, nn.AdaptiveMaxPool2d)
    widths = [model.stem.out_channels, model.block1[0].out_channels, model.block2[0].out_channels]
    assert widths + [model.block3[0].out_channels] == [24, 48, 128, 256]
    assert model.linear.in_features == 256
    with torch.no_grad():
        for size in range(16, 33):
            x = torch.rand(3, 3, size, size).contiguous(memory_format=torch.channels_last)
            assert model(x).shape == (3, 10), size
        x = torch.rand(3, 3, 32, 32)
        features = model.block3(model.block2(model.block1(torch.relu(model.stem(x)))))
        assert features.shape[-2:] == (3, 3)
        expected = model.linear(features.amax((2, 3))) * 0.125  # at 32x32: the old MaxPool2d(3) over 3x3
        assert torch.allclose(model(x), expected, atol=1e-6)


def test_a_frozen_stem_bias_gets_no_gradient_and_the_filters_still_do():
    model = FastNet()
    optimizer = make_optimizer(model, Settings(model="fastnet", stem_bias_epochs=2))
    x = torch.rand(4, 3, 32, 32)
    for epoch, trains in ((0, True), (1, True), (2, False), (5, False)):
        stop_frozen_gradients(optimizer, epoch)
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()
        assert (model.stem.bias.grad is not None) == trains, epoch
        assert model.block1[0].weight.grad is not None, "the first convolution's filters train on"
    model = FastNet()
    optimizer = make_optimizer(model, Settings(model="fastnet", stem_bias_epochs=0))  # never frozen
    stop_frozen_gradients(optimizer, 9)
    assert model.stem.bias.requires_grad


def test_the_fast_recipe_takes_its_float32_size_where_bf16_is_not_native(monkeypatch):
    import training.device
    from training.recipes import FLOAT32_SIZE, RECIPES, size_note
    from training.settings import parse_settings

    monkeypatch.setattr(training.device, "cpu_has_bf16", lambda: True)
    native, _ = parse_settings(["--recipe", "fast", "--device", "cpu"])
    assert native.model == RECIPES["fast"]["model"] and size_note(native, "cpu") is None
    monkeypatch.setattr(training.device, "cpu_has_bf16", lambda: False)
    plain, _ = parse_settings(["--recipe", "fast", "--device", "cpu"])
    assert plain.model == FLOAT32_SIZE["model"] != native.model
    assert "float32" in size_note(plain, "cpu")
    given, _ = parse_settings(["--recipe", "fast", "--device", "cpu", "--model", "fastnet-wide"])
    assert given.model == "fastnet-wide", "a flag given still wins"
    notes, _ = parse_settings(["--device", "cpu"])
    assert notes.model == "mymodel" and size_note(notes, "cpu") is None


def test_bf16_counts_as_native_only_with_the_cpu_flags(monkeypatch, tmp_path):
    import training.device

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    for flags, native in (("fpu avx512f avx512bw", False), ("fpu avx512_bf16", True), ("fpu amx_bf16", True)):
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(f"flags\t\t: {flags}\n")
        monkeypatch.setattr(training.device, "Path", lambda _, file=cpuinfo: file)
        training.device.cpu_has_bf16.cache_clear()
        assert training.device.cpu_has_bf16() is native, flags
    training.device.cpu_has_bf16.cache_clear()


def test_a_short_run_of_the_recipe_still_ends_at_full_size():
    from training.settings import parse_settings

    assert parse_settings(["--recipe", "fast"])[0].resize_epochs == 4, "the recipe's own"
    assert parse_settings(["--recipe", "fast", "--epochs", "2"])[0].resize_epochs == 1
    assert parse_settings(["--recipe", "fast", "--epochs", "1"])[0].resize_epochs == 0
    assert parse_settings(["--model", "fastnet", "--epochs", "2", "--resize-epochs", "3"])[0].resize_epochs == 3, (
        "a number named on the command line stays"
    )
