"""11_save_load.py saves MyModel both ways and loads each back; 12_predict.py predicts with every file a learner
has (11's, the training tool's, the course's whole Tudui models and state_dicts), for any image, running no code
from the file."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
import torchvision
from conftest import ROOT, assert_clean_error, assert_ok, run_in_process
from PIL import Image
from torch import nn

from nn_CIFAR10 import MyModel

PLANE = str(ROOT / "images" / "plane.png")
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

# The course's model.py, saved by its train.py (`from model import *`: pickled as model.Tudui) or by a training
# script that defines the class itself (pickled as __main__.Tudui, like the course's tudui_29_gpu.pth).
COURSE_MODEL_PY = """
from torch import nn

class Tudui(nn.Module):
    def __init__(self):
        super(Tudui, self).__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 32, 5, 1, 2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 5, 1, 2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, 1, 2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64*4*4, 64),
            nn.Linear(64, 10)
        )

    def forward(self, x):
        x = self.model(x)
        return x
"""


def sharpened(model: nn.Module, seed: int = 0) -> nn.Module:
    """Seeded weights, the last layer scaled up so that different images get clearly different answers."""
    torch.manual_seed(seed)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(30)
    return model


def course_answer(model, image_path, classes=CIFAR10_CLASSES, normalize=False) -> str:
    """What the course's test.py computes for one image: 'class percent%'."""
    steps = [torchvision.transforms.Resize((32, 32)), torchvision.transforms.ToTensor()]
    if normalize:
        steps.append(torchvision.transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)))
    image = torchvision.transforms.Compose(steps)(Image.open(image_path).convert("RGB"))
    model.eval()
    with torch.no_grad():
        output = model(torch.reshape(image, (1, 3, 32, 32)))
    return f"{classes[output.argmax(1).item()]} {100 * torch.softmax(output, dim=1).max().item():.1f}%"


def answers(result) -> dict[str, str]:
    """12's output: image path -> 'class percent%'."""
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if not line.startswith("loaded "))


def loaded_line(result) -> str:
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("loaded ")]
    return line


def test_11_saves_both_ways_and_each_file_loads_back(tmp_path):
    assert_ok(run_in_process("11_save_load.py", cwd=tmp_path))
    folder = tmp_path / "saved_models"
    state_dict = torch.load(folder / "mymodel_method2.pth", weights_only=True)
    MyModel().load_state_dict(state_dict)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(folder / "mymodel_method1.pth")  # today's default refuses a whole model
    with torch.serialization.safe_globals([MyModel, nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear]):
        whole = torch.load(folder / "mymodel_method1.pth", weights_only=True)
    assert type(whole) is MyModel
    assert all(torch.equal(whole.state_dict()[k], v) for k, v in state_dict.items())
    # the course's trap: the whole Tudui names the class of the script that saved it
    assert "__main__.Tudui" in torch.serialization.get_unsafe_globals_in_checkpoint(folder / "tudui_method1.pth")


def test_12_predicts_with_both_files_of_11(tmp_path):
    assert_ok(run_in_process("11_save_load.py", cwd=tmp_path))
    with torch.serialization.safe_globals([MyModel, nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear]):
        expected = course_answer(torch.load(tmp_path / "saved_models" / "mymodel_method1.pth"), PLANE)
    for name, kind in (("mymodel_method2.pth", "MyModel state_dict"), ("mymodel_method1.pth", "MyModel whole model")):
        result = run_in_process("12_predict.py", PLANE, "--checkpoint", f"saved_models/{name}", cwd=tmp_path)
        assert_ok(result)
        assert kind in loaded_line(result) and "not necessarily trained" in loaded_line(result)
        assert answers(result) == {PLANE: expected}


@pytest.fixture
def course_tudui(tmp_path, monkeypatch):
    """The course's class Tudui, importable as model.Tudui, and a copy of it as __main__.Tudui."""
    (tmp_path / "model.py").write_text(COURSE_MODEL_PY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "model", raising=False)
    import model

    namespace = {"__name__": "__main__"}
    exec(COURSE_MODEL_PY, namespace)
    monkeypatch.setattr(sys.modules["__main__"], "Tudui", namespace["Tudui"], raising=False)
    return model.Tudui, namespace["Tudui"]


def test_12_predicts_with_the_course_files_whole_or_state_dict_cuda_or_not(tmp_path, course_tudui):
    model_tudui, main_tudui = course_tudui
    tudui = sharpened(model_tudui())
    torch.save(tudui, tmp_path / "tudui_0.pth")  # the course's train.py: torch.save(tudui, "tudui_{}.pth")
    with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):  # saved on a GPU
        torch.save(sharpened(main_tudui()), tmp_path / "tudui_29_gpu.pth")
        torch.save(tudui.state_dict(), tmp_path / "tudui_state_dict.pth")
    with pytest.raises(RuntimeError, match="CUDA"):  # what a CPU-only machine without map_location gets
        torch.load(tmp_path / "tudui_state_dict.pth", weights_only=True)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(tmp_path / "tudui_29_gpu.pth").count("__main__.Tudui")

    expected = course_answer(tudui, PLANE)
    for name in ("tudui_0.pth", "tudui_29_gpu.pth", "tudui_state_dict.pth"):
        result = run_in_process("12_predict.py", PLANE, "--checkpoint", name, cwd=tmp_path)
        assert_ok(result)
        assert "Tudui" in loaded_line(result)
        assert answers(result) == {PLANE: expected}, name  # the same seed: the same weights


def test_12_runs_no_code_from_the_file_and_names_a_foreign_class(tmp_path, monkeypatch):
    (tmp_path / "nets.py").write_text("from torch import nn\n\nclass Net(nn.Module):\n    pass\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "nets", raising=False)
    import nets

    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "ran"), "w"))  # creates the file ran if unpickled

    torch.save(nets.Net(), tmp_path / "net.pth")
    torch.save({"conv1.weight": Payload()}, tmp_path / "payload.pth")
    for name, fragment in (("net.pth", "nets.Net"), ("payload.pth", "open")):
        assert_clean_error(run_in_process("12_predict.py", PLANE, "--checkpoint", name, cwd=tmp_path), name, fragment)
    assert not (tmp_path / "ran").exists()


def save_run(folder: Path, run_name: str, weights, best_accuracy: float, average=None, **settings) -> Path:
    from training.checkpoints import RunProgress, save_checkpoint
    from training.settings import Settings

    path = folder / "checkpoints" / run_name / "best.pt"
    path.parent.mkdir(parents=True)
    progress = RunProgress(epochs_done=3, best_accuracy=best_accuracy)
    optimizer = torch.optim.SGD(weights.parameters(), lr=0.01)
    save_checkpoint(path, weights, optimizer, Settings(run_name=run_name, **settings), progress, average)
    return path


def test_12_picks_the_newest_run_and_uses_what_it_tested(tmp_path):
    from training.averaging import WeightAverage

    old = save_run(tmp_path, "old", MyModel(), 0.5)
    os.utime(old, (1, 1))
    model, average_of = sharpened(MyModel(), seed=1), sharpened(MyModel(), seed=2)
    average = WeightAverage(average_of, 0.9)
    newest = save_run(tmp_path, "new", model, 0.25, average, ema=0.9, normalize=True, fake_data=True)
    checkpoint = torch.load(newest, weights_only=True)
    checkpoint["classes"] = [f"class {i}" for i in range(10)]  # an --image-folder's own class names
    torch.save(checkpoint, newest)

    result = run_in_process("12_predict.py", PLANE, cwd=tmp_path)
    assert_ok(result)
    assert all(fragment in loaded_line(result) for fragment in ("run new", "--fake-data", "25.00%"))
    assert answers(result) == {PLANE: course_answer(average_of, PLANE, checkpoint["classes"], normalize=True)}


def test_12_answers_with_a_class_of_a_run_on_fewer_classes(tmp_path):
    model = sharpened(MyModel())
    with torch.no_grad():
        model.linear2.bias[2:] = 1000.0  # outputs 2..9, which a run on two classes never trains, win the argmax
    path = save_run(tmp_path, "ab", model, 0.5, image_folder="ants_bees")
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["classes"] = ["ants", "bees"]
    torch.save(checkpoint, path)

    result = run_in_process("12_predict.py", PLANE, cwd=tmp_path)
    assert_ok(result)
    with torch.no_grad():
        model.linear2.bias[2:] = -1000.0  # the same model with only the two trained outputs in the race
    assert answers(result) == {PLANE: course_answer(model, PLANE, ["ants", "bees"])}


def test_12_reads_a_run_of_another_model_with_the_training_folder(tmp_path):
    from training.models import MyModelBN

    model = sharpened(MyModelBN())
    save_run(tmp_path, "bn", model, 0.5, model="mymodel-bn")
    result = run_in_process("12_predict.py", PLANE, cwd=tmp_path)
    assert_ok(result)
    assert "mymodel-bn" in loaded_line(result)
    assert answers(result) == {PLANE: course_answer(model, PLANE)}


def test_12_without_weights_or_with_foreign_ones_is_one_line(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "x.png")
    assert_clean_error(run_in_process("12_predict.py", "x.png", cwd=tmp_path), "train first", "mymodel_method2.pth")
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "weights.pth")
    (tmp_path / "garbage.pth").write_bytes(b"not a model")
    for name in ("weights.pth", "garbage.pth", "missing.pth"):
        assert_clean_error(run_in_process("12_predict.py", "x.png", "--checkpoint", name, cwd=tmp_path), name)


def test_12_reads_any_image_and_names_each_bad_one_in_one_line(tmp_path, monkeypatch):
    assert_ok(run_in_process("11_save_load.py", cwd=tmp_path))
    model = sharpened(MyModel())
    torch.save(model.state_dict(), tmp_path / "sharp.pth")
    pixels = np.random.default_rng(1).integers(0, 256, (50, 70, 4), dtype=np.uint8)
    Image.fromarray(pixels, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(pixels[..., :3]).convert("P").save(tmp_path / "palette.png")
    Image.fromarray(pixels[..., :3]).save(tmp_path / "photo.jpg")
    Image.fromarray(pixels[..., 0]).save(tmp_path / "gray8.png")
    Image.fromarray(pixels[..., 0].astype(np.uint16) * 257).save(tmp_path / "gray16.png")  # 0..65535
    Image.new("L", (50, 70), 255).save(tmp_path / "white.png")
    Image.new("RGB", (1, 1), "red").save(tmp_path / "tiny.png")
    Image.new("RGB", (100, 100)).save(tmp_path / "huge.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    (tmp_path / "folder").mkdir()
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)  # huge.png: over twice the limit; the others under it

    good = ["rgba.png", "palette.png", "photo.jpg", "gray8.png", "gray16.png", "white.png", "tiny.png"]
    bad = ["huge.png", "broken.png", "folder", "missing.png"]
    result = run_in_process("12_predict.py", *good, *bad, "--checkpoint", "sharp.pth", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(bad) and all(line.startswith("error: ") for line in errors)
    assert all(any(name in line for line in errors) for name in bad)
    found = answers(result)
    assert sorted(found) == sorted(good)
    monkeypatch.undo()
    assert found["rgba.png"] == course_answer(model, tmp_path / "rgba.png")
    assert found["gray16.png"] == found["gray8.png"] != found["white.png"]  # scaled to 8 bits, not clipped white
