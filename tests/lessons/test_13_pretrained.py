"""13_pretrained.py: VGG16's two classifier edits, weights= offline, --weights-file, fine-tuning with --freeze."""

import re
import urllib.error

import pytest
import torch
import torchvision
from conftest import all_tags, assert_clean_error, assert_ok, read_tensorboard, run_in_process
from torch import nn

SCRIPT = "13_pretrained.py"
VGG16_PARAMETERS = 138_357_544  # torchvision's VGG16 with its 1000-class ImageNet head


@pytest.fixture(scope="module")
def vgg_run(tmp_path_factory):
    result = run_in_process(SCRIPT, cwd=tmp_path_factory.mktemp("vgg"))  # no flags: random weights, offline
    assert_ok(result)
    return result.stdout.split("\n\n")  # sections: the model, edit 1, edit 2, weights= and transforms()


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory):
    """A resnet18 state_dict as torchvision ships it (1000-class head), with non-default BatchNorm statistics."""
    torch.manual_seed(123)
    model = torchvision.models.resnet18(weights=None)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """An empty hub folder (TORCH_HOME) in tmp_path, and any download fails as it does offline."""

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return tmp_path / "torch-home" / "hub" / "checkpoints"


def parameters(section: str) -> int:
    return int(re.search(r"^parameters: ([\d,]+)", section, re.MULTILINE).group(1).replace(",", ""))


def layer_names(section: str) -> list[str]:
    return re.findall(r"^  \((\w+)\): ", section, re.MULTILINE)


def test_vgg16_classifier_and_its_parameters(vgg_run):
    model = vgg_run[0]
    assert layer_names(model) == ["0", "1", "2", "3", "4", "5", "6"]
    assert "(6): Linear(in_features=4096, out_features=1000, bias=True)" in model
    assert parameters(model) == VGG16_PARAMETERS


def test_add_module_appends_a_layer_named_add_linear(vgg_run):
    edit = vgg_run[1]
    assert edit.startswith("classifier.add_module('add_linear', nn.Linear(1000, 10))")
    assert layer_names(edit) == ["0", "1", "2", "3", "4", "5", "6", "add_linear"]  # the name given, not (7)
    assert "(6): Linear(in_features=4096, out_features=1000" in edit  # still there, now feeding the new layer
    assert "(add_linear): Linear(in_features=1000, out_features=10, bias=True)" in edit
    assert parameters(edit) == VGG16_PARAMETERS + 1000 * 10 + 10
    assert "(1, 3, 224, 224) -> (1, 10), (4, 3, 32, 32) -> (4, 10)" in edit


def test_replacing_the_last_layer(vgg_run):
    edit = vgg_run[2]
    assert edit.startswith("classifier[6] = nn.Linear(4096, 10)")
    assert layer_names(edit) == ["0", "1", "2", "3", "4", "5", "6"]
    assert "(6): Linear(in_features=4096, out_features=10, bias=True)" in edit
    assert parameters(edit) == VGG16_PARAMETERS - (4096 * 1000 + 1000) + (4096 * 10 + 10)
    assert "(1, 3, 224, 224) -> (1, 10), (4, 3, 32, 32) -> (4, 10)" in edit


def test_weights_and_transforms_explained(vgg_run):
    explained = vgg_run[3]
    assert "vgg16-397923af.pth" in explained
    pretrained = re.search(r"^pretrained=True \(the notes\): (.*)$", explained, re.MULTILINE).group(1)
    assert "deprecated" in pretrained or "removed" in pretrained  # what this torchvision really does
    assert "crop_size=[224]" in explained and "resize_size=[256]" in explained
    assert "mean=[0.485, 0.456, 0.406]" in explained


def test_weights_default_offline_is_one_line(offline_hub, tmp_path):
    result = run_in_process(SCRIPT, "--weights", "DEFAULT", cwd=tmp_path)
    assert result.returncode == 2
    line = assert_clean_error(result, "vgg16-397923af.pth", str(offline_hub), "TORCH_HOME")
    assert "https://download.pytorch.org/models/vgg16-397923af.pth" in line


def test_finetune_freeze_with_a_weights_file(resnet18_file, tmp_path):
    saved, logdir = tmp_path / "finetuned.pth", tmp_path / "tb"
    result = run_in_process(
        SCRIPT, "--finetune", "--fake-data", "--weights-file", resnet18_file, "--freeze",
        "--save", saved, "--logdir", logdir, cwd=tmp_path,
    )  # fmt: skip
    assert_ok(result)
    assert "5,130 of 11,181,642 parameters trainable" in result.stdout  # only fc: 512 * 10 + 10
    assert "conv1.weight changed: False" in result.stdout and "fc.weight changed: True" in result.stdout
    accuracy = float(re.search(r"^epoch 1: test accuracy (\d\.\d+)$", result.stdout, re.MULTILINE).group(1))
    assert 0 <= accuracy <= 1
    # The round trip: everything but the new head is exactly the file's, BatchNorm statistics included.
    before, after = torch.load(resnet18_file, weights_only=True), torch.load(saved, weights_only=True)
    assert after["fc.weight"].shape == (10, 512) and before["fc.weight"].shape == (1000, 512)
    backbone = [key for key in before if not key.startswith("fc.")]
    assert backbone and sorted(after) == sorted(before)
    assert [key for key in backbone if not torch.equal(before[key], after[key])] == []
    assert all_tags(logdir)["scalars"] == {"train/loss", "test/accuracy"}
    (accumulator,) = read_tensorboard(logdir).values()
    assert [event.step for event in accumulator.Scalars("train/loss")] == [0, 1]  # 128 fake images / 64
    assert accumulator.Scalars("test/accuracy")[0].value == pytest.approx(accuracy, abs=1e-4)


def test_finetune_weights_default_from_the_hub_folder_without_network(resnet18_file, offline_hub, tmp_path):
    offline_hub.mkdir(parents=True)
    (offline_hub / "resnet18-f37072fd.pth").write_bytes(resnet18_file.read_bytes())
    saved = tmp_path / "finetuned.pth"
    args = ("--finetune", "--fake-data", "--weights", "DEFAULT", "--batch-size", "128", "--save", saved)
    result = run_in_process(SCRIPT, *args, "--logdir", tmp_path / "tb", cwd=tmp_path)
    assert_ok(result)
    assert "ResNet18_Weights.IMAGENET1K_V1" in result.stdout
    assert "11,181,642 of 11,181,642 parameters trainable" in result.stdout  # no --freeze: everything trains
    assert "conv1.weight changed: True" in result.stdout
    before, after = torch.load(resnet18_file, weights_only=True), torch.load(saved, weights_only=True)
    assert not torch.equal(before["conv1.weight"], after["conv1.weight"])
    assert not torch.equal(before["bn1.running_mean"], after["bn1.running_mean"])  # train(): BatchNorm updates


def test_damaged_file_in_the_hub_folder(offline_hub, tmp_path):
    offline_hub.mkdir(parents=True)
    (offline_hub / "resnet18-f37072fd.pth").write_bytes(b"half a download")
    result = run_in_process(SCRIPT, "--finetune", "--fake-data", "--weights", "DEFAULT", cwd=tmp_path)
    assert_clean_error(result, "resnet18-f37072fd.pth", "damaged", "delete it")


def write_bad_file(kind: str, path):
    if kind == "truncated":
        torch.save(nn.Linear(50, 50).state_dict(), path)
        path.write_bytes(path.read_bytes()[:3000])
    elif kind == "whole model":
        torch.save(nn.Linear(2, 2), path)
    elif kind == "other model":
        torch.save(nn.Linear(2, 2).state_dict(), path)
    elif kind == "text":
        path.write_text("not a checkpoint")
    elif kind == "folder":
        path.mkdir()


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("missing", "No such file"),
        ("folder", "Is a directory"),
        ("truncated", "damaged or truncated"),
        ("text", "not a torch.save file"),
        ("whole model", "model.state_dict()"),
        ("other model", "not a resnet18 (1000-class head) state_dict"),
    ],
)
def test_bad_weights_file_is_one_line(kind, fragment, tmp_path):
    path = tmp_path / "weights.pth"
    write_bad_file(kind, path)
    result = run_in_process(SCRIPT, "--finetune", "--fake-data", "--weights-file", path, cwd=tmp_path)
    assert result.returncode == 2
    assert_clean_error(result, str(path), fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--finetune", "--freeze"), "--freeze needs --weights"),
        (("--freeze", "--weights", "DEFAULT"), "only applies with --finetune"),
        (("--finetune", "--save", "no/such/folder/x.pth"), "existing folder"),
        (("--finetune", "--epochs", "0"), "--epochs"),
        (("--finetune", "--lr", "-0.1"), "--lr"),
        (("--weights", "DEFAULT", "--weights-file", "x.pth"), "not allowed"),
    ],
)
def test_bad_flags_are_one_line(args, fragment, tmp_path):
    result = run_in_process(SCRIPT, *args, cwd=tmp_path)
    assert result.returncode == 2
    assert_clean_error(result, fragment)


def test_help(tmp_path):
    result = run_in_process(SCRIPT, "--help", cwd=tmp_path)
    assert_ok(result)
    assert "现有网络模型的使用及修改" in result.stdout
    for flag in ("--weights", "--weights-file", "--finetune", "--freeze", "--fake-data", "--image-folder", "--save"):
        assert flag in result.stdout
