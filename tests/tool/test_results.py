"""10_train_cifar10.py gives the right results: what it measures, learns and reports is what it says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_ok, run_in_process
from PIL import Image

from training.evaluation import evaluate
from training.models import MODELS
from training.settings import Settings

TRAIN = "10_train_cifar10.py"
FAST = ("--compile", "off", "--device", "cpu")


def train_here(workdir: Path, *args: str):
    """A run of the tool inside the test process (no interpreter start-up)."""
    return run_in_process(TRAIN, *FAST, *args, cwd=workdir)


def metrics(workdir: Path, *args: str) -> dict:
    """Train in-process and return the metrics JSON of the run."""
    assert_ok(train_here(workdir, *args, "--metrics-json", "m.json"))
    return json.loads((workdir / "m.json").read_text())


@pytest.mark.parametrize("tta", [False, True])
def test_evaluation_builds_no_autograd_graph(tta):
    # A graph kept per test batch is what made the test pass need 4x the memory (issue 17).
    model = MODELS["mymodel"]()
    outputs_need_grad = []
    model.register_forward_hook(lambda module, inputs, output: outputs_need_grad.append(output.requires_grad))
    images = torch.randint(0, 256, (30, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(30) % 10
    loss, accuracy, per_class = evaluate(model, images, labels, Settings(), device=torch.device("cpu"), tta=tta)
    assert outputs_need_grad and not any(outputs_need_grad)
    assert isinstance(loss, float) and len(per_class) == 10


def test_fake_data_is_learned_on_the_test_split(tmp_path):
    # Each class must look the same in both splits: before, test accuracy stayed near chance (10%).
    result = metrics(tmp_path, "--fake-data", "--epochs", "2", "--model", "mymodel-bn", "--momentum", "0.9")
    assert result["test_accuracy"] > 0.8


def save_images(folder: Path, colour, count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (32, 32), tuple(min(255, c + 3 * i) for c in colour)).save(folder / f"{i}.png")


@pytest.fixture(scope="module")
def insects(tmp_path_factory):
    """An image folder with three classes of its own; wasps has no test images."""
    folder = tmp_path_factory.mktemp("insects")
    for name, colour in (("ants", (200, 30, 30)), ("bees", (30, 200, 30)), ("wasps", (30, 30, 200))):
        save_images(folder / "train" / name, colour, 6)
        if name == "wasps":
            (folder / "test" / name).mkdir(parents=True)
        else:
            save_images(folder / "test" / name, colour, 3)
    return folder


@pytest.fixture(scope="module")
def insects_run(insects, tmp_path_factory):
    """One epoch on the insects folder (run 'r'), with the classes the labelled-predictions image was given."""
    import training.report

    workdir, shown = tmp_path_factory.mktemp("insects-run"), []
    real_grid = training.report.labelled_predictions

    def grid(images, labels, predicted, classes):
        shown.append(classes)
        return real_grid(images, labels, predicted, classes)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training.report, "labelled_predictions", grid)
        result = train_here(
            workdir, "--image-folder", str(insects), "--epochs", "1", "--run-name", "r", "--metrics-json", "m.json"
        )
    assert_ok(result)
    return workdir, result, shown


def test_an_image_folder_reports_its_own_class_names(insects_run):
    workdir, result, shown = insects_run
    table = result.stdout[result.stdout.index("class ") :]
    assert "ants" in table and "bees" in table and "airplane" not in table
    wasps = next(line for line in table.splitlines() if line.startswith("wasps"))
    assert "%" not in wasps and "no test images" in wasps  # not a misleading 0.00%
    per_class = json.loads((workdir / "m.json").read_text())["per_class_accuracy"]
    assert list(per_class) == ["ants", "bees", "wasps"] and per_class["wasps"] is None
    assert shown and list(shown[0]) == ["ants", "bees", "wasps"]
    for name in ("last.pt", "best.pt"):
        saved = torch.load(workdir / "checkpoints" / "r" / name, weights_only=True)
        assert saved["classes"] == ["ants", "bees", "wasps"]


def test_evaluate_tests_a_checkpoint_on_its_runs_data_and_writes_nothing(insects_run):
    workdir, _, _ = insects_run
    before = {path: path.stat().st_mtime_ns for path in workdir.rglob("*")}
    result = run_in_process(TRAIN, "--evaluate", "checkpoints/r/best.pt", cwd=workdir)  # no data flag
    assert_ok(result)
    accuracy = json.loads((workdir / "m.json").read_text())["test_accuracy"]
    assert f"test accuracy {100 * accuracy:.2f}%" in result.stdout, "the same weights on the same images"
    assert "ants" in result.stdout and "wasps" in result.stdout and "test loss" in result.stdout
    assert {path: path.stat().st_mtime_ns for path in workdir.rglob("*")} == before


def test_the_predictions_image_names_an_output_beyond_the_folders_classes():
    from training.report import labelled_predictions

    images = torch.zeros(2, 3, 32, 32, dtype=torch.uint8)
    grid = labelled_predictions(images, torch.tensor([0, 1]), torch.tensor([7, 1]), ["ants", "bees"])
    assert grid.shape[0] == 3


def test_a_16_bit_grayscale_png_keeps_its_brightness(tmp_path):
    from training.data import decode_images

    path = tmp_path / "grey16.png"
    Image.fromarray(np.full((32, 32), 32768, dtype=np.uint16)).save(path)  # mid-grey, mode I;16
    assert Image.open(path).mode == "I;16"
    images, _ = decode_images([(path, 0)])
    assert 120 <= images.float().mean() <= 136  # not white (255)


def test_the_benchmarks_reference_reads_a_16_bit_png_as_the_tool_does(tmp_path):
    from types import SimpleNamespace

    from training.data import pil_dataset

    for split in ("train", "test"):
        (tmp_path / split / "grey").mkdir(parents=True)
        Image.fromarray(np.full((32, 32), 32768, dtype=np.uint16)).save(tmp_path / split / "grey" / "x.png")
    source = SimpleNamespace(fake_data=False, image_folder=str(tmp_path), data_root=None)
    image, _ = pil_dataset(source, train=True)[0]
    assert image.mode == "RGB" and 120 <= np.asarray(image).mean() <= 136  # not white (255)


def test_a_run_on_fewer_classes_guesses_only_among_them():
    class Fixed(torch.nn.Module):  # the true class (0 or 1) scores 1, an output no class uses (7) scores 5
        def forward(self, x):
            logits = torch.zeros(len(x), 10)
            logits[:, 7] = 5.0
            logits[torch.arange(len(x)), x[:, 0, 0, 0].long()] = 1.0
            return logits

    labels = torch.tensor([0, 1, 1, 0])
    images = labels.view(4, 1, 1, 1).expand(4, 3, 32, 32).to(torch.uint8).contiguous()
    cpu = torch.device("cpu")
    _, accuracy, per_class = evaluate(Fixed(), images * 255, labels, Settings(), device=cpu, num_classes=2)
    assert accuracy == 1.0 and per_class[:2] == [1.0, 1.0]
    _, accuracy, _ = evaluate(Fixed(), images * 255, labels, Settings(), device=cpu)  # all ten outputs: 7 wins
    assert accuracy == 0.0
