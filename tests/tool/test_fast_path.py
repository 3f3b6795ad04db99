"""The fast training path: same math as the notes' loop, the decoded-image cache, torchrun."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, assert_clean_error, assert_ok, run_in_process, script_env
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

import training.data
from nn_CIFAR10 import MyModel
from training.augment import epoch_batches, epoch_generator
from training.data import cifar10_tensors, fake_cifar10_arrays, to_model_input
from training.device import maybe_compile


def fake_args(**overrides) -> argparse.Namespace:
    values = {"fake_data": True, "image_folder": None, "data_root": "unused"}
    values.update(overrides)
    return argparse.Namespace(**values)


def test_fast_batches_equal_to_tensor_and_give_the_same_loss():
    args = fake_args()
    arrays, targets = fake_cifar10_arrays(train=True)
    reference_set = [(transforms.ToTensor()(Image.fromarray(a)), t) for a, t in zip(arrays[:64], targets[:64])]
    reference_x, reference_y = next(iter(DataLoader(reference_set, batch_size=64, shuffle=False)))
    images, labels = cifar10_tensors(args, train=True)
    fast_x = to_model_input(images[:64], normalize=False, channels_last=True)
    assert torch.equal(fast_x, reference_x)  # x / 255 is exactly ToTensor
    assert torch.equal(labels[:64], reference_y)

    torch.manual_seed(0)
    reference_model = MyModel()
    fast_model = MyModel().to(memory_format=torch.channels_last)
    fast_model.load_state_dict(reference_model.state_dict())
    loss_fn = nn.CrossEntropyLoss()
    reference_loss = loss_fn(reference_model(reference_x), reference_y)
    reference_loss.backward()
    fast_loss = loss_fn(fast_model(fast_x), labels[:64])  # the training loop's step, channels_last
    fast_loss.backward()
    assert fast_loss.item() == pytest.approx(reference_loss.item(), rel=1e-5)
    for (name, p), q in zip(fast_model.named_parameters(), reference_model.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5), name


def test_epoch_batches_cover_every_image_once_and_repeat_with_the_seed():
    images = torch.arange(100, dtype=torch.uint8).view(100, 1, 1, 1).expand(100, 3, 32, 32)
    labels = torch.arange(100)

    def order(seed, epoch):
        batches = epoch_batches(images, labels, 16, epoch_generator(seed, epoch))
        return torch.cat([y for _, y in batches])

    assert sorted(order(0, 0).tolist()) == list(range(100))
    assert torch.equal(order(0, 0), order(0, 0))
    assert not torch.equal(order(0, 0), order(0, 1))


def test_under_torchrun_a_last_batch_smaller_than_the_process_count_is_skipped():
    images, labels = torch.zeros(9, 3, 32, 32, dtype=torch.uint8), torch.arange(9)
    for rank in (0, 1):
        batches = list(epoch_batches(images, labels, 4, epoch_generator(0, 0), rank=rank, world_size=2))
        assert [len(y) for _, y in batches] == [2, 2], "9 = 4 + 4 + 1: the lone last image has no partner"
    assert [len(y) for _, y in epoch_batches(images, labels, 4, epoch_generator(0, 0))] == [4, 4, 1]


def make_image_folder(root: Path, per_class: int = 3) -> Path:
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for name in ("cat", "dog"):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
            (folder / "Thumbs.db").write_bytes(b"not an image")
    return root


@pytest.fixture
def image_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return make_image_folder(tmp_path / "cifar")


def count_decodes(monkeypatch) -> list[int]:
    calls = []
    original = training.data.decode_images

    def counting(samples):
        calls.append(len(samples))
        return original(samples)

    monkeypatch.setattr(training.data, "decode_images", counting)
    return calls


def test_image_folder_cache_is_reused_and_rebuilt_when_stale(image_folder, monkeypatch):
    calls = count_decodes(monkeypatch)
    args = fake_args(fake_data=False, image_folder=str(image_folder))
    images, labels = cifar10_tensors(args, train=True)
    assert images.shape == (6, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    expected = np.asarray(Image.open(image_folder / "train" / "dog" / "0.png"))
    assert np.array_equal(images[3].permute(1, 2, 0).numpy(), expected)
    assert calls == [6]
    assert len(list((image_folder / ".tensor-cache").glob("train-*.pt"))) == 1

    again, _ = cifar10_tensors(args, train=True)
    assert calls == [6], "the second load must come from the cache"
    assert torch.equal(again, images)

    Image.new("RGB", (32, 32), "red").save(image_folder / "train" / "cat" / "3.png")
    changed, changed_labels = cifar10_tensors(args, train=True)
    assert calls == [6, 7], "a new file must rebuild the cache"
    assert changed.shape[0] == 7 and changed_labels.tolist().count(0) == 4
    assert len(list((image_folder / ".tensor-cache").glob("train-*.pt"))) == 1, "the stale cache is removed"


def test_corrupt_cache_is_detected_and_rebuilt(image_folder, monkeypatch, capsys):
    calls = count_decodes(monkeypatch)
    args = fake_args(fake_data=False, image_folder=str(image_folder))
    images, _ = cifar10_tensors(args, train=False)
    (cache,) = (image_folder / ".tensor-cache").glob("test-*.pt")
    blob = cache.read_bytes()
    cache.write_bytes(blob[: len(blob) // 2])  # truncated
    rebuilt, _ = cifar10_tensors(args, train=False)
    assert torch.equal(rebuilt, images) and calls == [6, 6]
    assert "damaged" in capsys.readouterr().err

    saved = torch.load(cache, weights_only=True)
    saved["images"][0, 0, 0, 0] ^= 0xFF  # one flipped pixel: the checksum catches it
    torch.save(saved, cache)
    again, _ = cifar10_tensors(args, train=False)
    assert torch.equal(again, images) and calls == [6, 6, 6]


def test_cache_falls_back_to_the_user_cache_when_the_data_folder_is_read_only(image_folder, monkeypatch, tmp_path):
    image_folder.chmod(0o555)  # like a shared, read-only copy (root could still write: it must not)
    try:
        calls = count_decodes(monkeypatch)
        args = fake_args(fake_data=False, image_folder=str(image_folder))
        cifar10_tensors(args, train=True)
        assert not (image_folder / ".tensor-cache").exists()
        assert list((tmp_path / "user-cache" / "pytorch-notes-cifar10").rglob("train-*.pt"))
        cifar10_tensors(args, train=True)
        assert calls == [6]
    finally:
        image_folder.chmod(0o755)


def test_cache_falls_back_when_the_cache_folder_cannot_be_made(image_folder, monkeypatch, tmp_path):
    (image_folder / ".tensor-cache").write_text("a file where the cache folder would go")  # mkdir fails
    calls = count_decodes(monkeypatch)
    args = fake_args(fake_data=False, image_folder=str(image_folder))
    cifar10_tensors(args, train=True)
    assert list((tmp_path / "user-cache" / "pytorch-notes-cifar10").rglob("train-*.pt"))
    cifar10_tensors(args, train=True)
    assert calls == [6]


def test_training_from_an_image_folder_reuses_the_cache(tmp_path):
    folder = make_image_folder(tmp_path / "cifar", per_class=20)
    flags = ("--image-folder", folder, "--epochs", "1", "--compile", "off", "--device", "cpu")
    assert_ok(run_in_process("10_train_cifar10.py", *flags, cwd=tmp_path))
    caches = {p.name: p.stat().st_mtime_ns for p in (folder / ".tensor-cache").iterdir()}
    assert sorted(name.split("-")[0] for name in caches) == ["test", "train"]
    assert_ok(run_in_process("10_train_cifar10.py", *flags, cwd=tmp_path))
    assert {p.name: p.stat().st_mtime_ns for p in (folder / ".tensor-cache").iterdir()} == caches, (
        "reused, not rewritten"
    )


def test_compile_auto_on_cpu_runs_eager_and_says_so(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda model, **kwargs: pytest.fail("--compile auto compiled on a CPU"))
    model = MyModel()
    same, note = maybe_compile(model, "auto", torch.device("cpu"), torch.rand(4, 3, 32, 32), torch.arange(4), None)
    assert same is model and "off" in note


def test_torchrun_two_processes_match_one(tmp_path):
    flags = ["--fake-data", "--compile", "off", "--device", "cpu", "--epochs", "2", "--seed", "4", "--lr", "0.02"]
    single = run_in_process(
        "10_train_cifar10.py", *flags, "--run-name", "one", "--metrics-json", "one.json", cwd=tmp_path
    )
    assert_ok(single)
    env = script_env(tmp_path)
    env["OMP_NUM_THREADS"] = "1"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command = [*torchrun, str(ROOT / "10_train_cifar10.py"), *flags, "--run-name", "two", "--metrics-json", "two.json"]
    double = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert_ok(double)
    assert double.stdout.count("epoch 2/2") == 1, "only rank 0 prints"
    assert "x 2 processes" in double.stdout
    one, two = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("one", "two"))
    assert two["world_size"] == 2
    for a, b in zip(one["history"], two["history"]):
        assert b["train_loss_sum"] == pytest.approx(a["train_loss_sum"], rel=1e-4)
        assert b["test_loss"] == pytest.approx(a["test_loss"], rel=1e-4)
        assert b["test_accuracy"] == pytest.approx(a["test_accuracy"], abs=0.011)
    saved = torch.load(tmp_path / "checkpoints" / "two" / "last.pt", weights_only=True)
    reference = torch.load(tmp_path / "checkpoints" / "one" / "last.pt", weights_only=True)
    for key, value in reference["model"].items():
        assert torch.allclose(saved["model"][key], value, atol=1e-4), key

    resumed = subprocess.run(
        [*torchrun, str(ROOT / "10_train_cifar10.py"), "--resume", "checkpoints/two/last.pt", "--epochs", "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_ok(resumed)
    assert torch.load(tmp_path / "checkpoints" / "two" / "last.pt", weights_only=True)["progress"]["epochs_done"] == 3


def test_a_failing_compile_falls_back_to_eager_or_stops_cleanly(tmp_path, monkeypatch):
    """Where torch.compile cannot work (no compiler, unsupported platform), auto runs eager, on says why."""

    class FailsOnFirstCall(nn.Module):  # like torch.compile's module: compiling happens on the first call
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, *args):
            raise RuntimeError("no working C++ compiler found")

    monkeypatch.setattr(torch, "compile", lambda model, **kwargs: FailsOnFirstCall(model))
    model, x, y = MyModel(), torch.rand(4, 3, 32, 32), torch.arange(4)
    # --compile auto compiles on CUDA only: the device just decides, so a CUDA device object shows the fallback.
    same, note = maybe_compile(model, "auto", torch.device("cuda"), x, y, nn.CrossEntropyLoss())
    assert same is model and "no working C++ compiler found" in note and "eager" in note
    assert all(p.grad is None for p in model.parameters()), "the example step leaves no gradients behind"

    flags = ("--fake-data", "--epochs", "1", "--compile", "on", "--run-name", "b")
    stopped = run_in_process("10_train_cifar10.py", *flags, cwd=tmp_path)  # in this process: the patch applies
    assert stopped.returncode == 2
    assert_clean_error(stopped, "no working C++ compiler found", "--compile off")


def test_compile_example_step_leaves_batchnorm_statistics_alone(monkeypatch):
    from training.models import MyModelBN

    # torch.compile itself is slow on a CPU; a stand-in that compiles nothing runs the same example step.
    monkeypatch.setattr(torch, "compile", lambda model, **kwargs: model)
    model = MyModelBN()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.rand(8, 3, 32, 32), torch.arange(8)
    compiled, note = maybe_compile(model, "on", torch.device("cpu"), x, y, nn.CrossEntropyLoss())
    assert note.startswith("compile: on") and compiled is model
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())
