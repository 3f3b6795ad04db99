"""Every lesson, copied alone into an empty folder (with nn_CIFAR10.py where it imports it), runs on its
offline flags and prints the notes' numbers; a failed CIFAR-10 download is one line naming the offline options."""

from __future__ import annotations

import ast
import sys

import pytest
from conftest import ROOT, assert_clean_error, assert_ok, run_copied, run_in_process

LESSONS = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py") if p.name != "10_train_cifar10.py") + ["nn_CIFAR10.py"]
ALLOWED = {"torch", "torchvision", "PIL", "numpy", "nn_CIFAR10"} | set(sys.stdlib_module_names)

# lesson -> (offline flags, fragments of the notes' numbers its output must hold)
SMOKE = {
    "01_dataset.py": (
        ["--demo"],
        ["ants_dataset: 3 images", "bees_dataset: 2 images", "train_dataset: 5 images in a ConcatDataset"],
    ),
    "02_dataloader.py": (["--fake-data"], ["torch.Size([3, 32, 32])", "3 batches", "torch.Size([64, 3, 32, 32])"]),
    "03_tensorboard.py": ([], ["(240, 320, 3)", "y=x^2"]),
    "04_transforms.py": (
        ["--fake-data"],
        [
            "torch.Size([3, 240, 320])",
            "(320, 240) -> (512, 512)",
            "torch.Size([3, 512, 682])",
            "(320, 240) -> (100, 100)",
            "Tensor torch.Size([3, 32, 32])",
        ],
    ),
    "05_conv.py": (
        ["--fake-data"],
        [
            "[[[[ 1,  3,  4, 10,  8],",
            "[[[[10, 12, 12],",
            "[18, 16, 16],",
            "[[[[10, 12],",
            "torch.Size([64, 6, 30, 30])",
        ],
    ),
    "06_pool.py": (
        ["--fake-data"],
        ["[[[[2., 3.],", "[5., 1.]]]])", "tensor([[[[2.]]]])", "torch.Size([64, 3, 11, 11])"],
    ),
    "07_activation.py": (["--fake-data"], ["tensor([1.5410, 0.0000])", "torch.Size([20, 100, 35, 45])", "std 1.0000"]),
    "08_linear.py": (["--fake-data"], ["torch.Size([196608]) torch.Size([10])", "torch.Size([64, 10])"]),
    "09_loss.py": (["--fake-data"], ["tensor(0.6667)", "tensor(1.3333)", "tensor(1.1019", "epoch: 19, sum_loss:"]),
    "nn_CIFAR10.py": ([], ["torch.Size([64, 10])", "tensor(2.)", "145578 145578"]),
    "11_save_load.py": ([], ["MyModel, same weights: True", "weights_only=True)) -> same weights: True"]),
    "13_pretrained.py": (
        [],
        [
            "(add_linear): Linear(in_features=1000, out_features=10, bias=True)",
            "(6): Linear(in_features=4096, out_features=10, bias=True)",
            "parameters: 138,357,544",
            "parameters: 134,301,514",
            "output torch.Size([1, 10])",
        ],
    ),
    "14_more_layers.py": (
        [],
        [
            "output torch.Size([5, 3, 20]) hn torch.Size([2, 3, 20])",
            "-> out torch.Size([32, 10, 512])",
            "kept values == 2 * input: True",
            "-> output torch.Size([2, 4, 3])",
            "tensor([5.0000, 1.7320]) | by hand: tensor([5.0000, 1.7321])",
            "tensor([0.0000, 1.0000, 0.9600]) | by hand: tensor([0.0000, 1.0000, 0.9600])",
        ],
    ),
    "15_finetune_resnet18.py": (
        ["--fake-data"],
        [
            "Linear(in_features=512, out_features=1000, bias=True)",
            "trainable parameters: 5,130 of 11,181,642",
            "epoch: 0, sum_loss:",
            "test accuracy:",
        ],
    ),
}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR_LESSONS = [
    "02_dataloader.py",
    "04_transforms.py",
    "05_conv.py",
    "06_pool.py",
    "07_activation.py",
    "08_linear.py",
    "09_loss.py",
    "15_finetune_resnet18.py",
]


def top_level_imports(script: str) -> set[str]:
    """The modules a script imports at module level (11 and 12 may import the training tool inside functions)."""
    names = set()
    for node in ast.parse((ROOT / script).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    return names


def test_every_lesson_has_a_smoke_run():
    assert sorted(SMOKE) == sorted(set(LESSONS) - {"12_predict.py"})  # 12 needs a model: see below


@pytest.mark.parametrize("script", LESSONS)
def test_lessons_import_only_torch_torchvision_pil_numpy_and_the_standard_library(script):
    assert top_level_imports(script) <= ALLOWED, top_level_imports(script) - ALLOWED


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_a_lesson_copied_alone_runs_and_prints_the_notes_numbers(script, tmp_path):
    flags, fragments = SMOKE[script]
    result = run_copied(script, *flags, tmp_path=tmp_path)
    assert_ok(result)
    for fragment in fragments:
        assert fragment in result.stdout, f"{fragment!r} not in the output of {script}:\n{result.stdout}"


def test_12_copied_alone_predicts_with_the_state_dict_that_11_writes(tmp_path):
    assert_ok(run_copied("11_save_load.py", tmp_path=tmp_path))
    (tmp_path / "copied" / "plane.png").write_bytes((ROOT / "images" / "plane.png").read_bytes())
    result = run_copied(
        "12_predict.py", "plane.png", "--checkpoint", "saved_models/mymodel_method2.pth", tmp_path=tmp_path
    )
    assert_ok(result)
    assert "MyModel state_dict" in result.stdout
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("plane.png: ")]
    name, percent = line.split(": ", 1)[1].rsplit(" ", 1)
    assert name in CIFAR10_CLASSES and 10 <= float(percent.rstrip("%")) <= 100  # the top class of ten: >= 10%


@pytest.mark.parametrize("script", CIFAR_LESSONS)
def test_a_failed_download_is_one_line_naming_the_offline_options(script, tmp_path, monkeypatch):
    # A proxy nothing listens on: the download fails at once, online or not.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    result = run_in_process(script, cwd=tmp_path)  # the same code as a subprocess, quicker
    assert result.returncode != 0
    assert_clean_error(result, "cifar-10-python.tar.gz", "./dataset", "--fake-data")


def test_12_copied_alone_says_what_a_training_tool_checkpoint_needs(tmp_path):
    import torch

    from training.checkpoints import RunProgress, save_checkpoint
    from training.models import MyModelBN
    from training.settings import Settings

    model = MyModelBN()  # a mymodel checkpoint loads copied alone; the tool's other models need training/
    (tmp_path / "copied" / "checkpoints" / "run").mkdir(parents=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    save_checkpoint(
        tmp_path / "copied" / "checkpoints" / "run" / "best.pt",
        model,
        optimizer,
        Settings(model="mymodel-bn"),
        RunProgress(),
    )
    (tmp_path / "copied" / "plane.png").write_bytes((ROOT / "images" / "plane.png").read_bytes())
    result = run_copied("12_predict.py", "plane.png", tmp_path=tmp_path)
    assert_clean_error(result, "written by 10_train_cifar10.py", "training/", "mymodel_method2.pth")
