"""13_pretrained.py: VGG16 built without a download, its two classifier edits; PRETRAINED = True offline is one line."""

import re
import runpy
import sys
import urllib.error

import pytest
import torch
from conftest import ROOT, assert_clean_error, assert_ok, call_captured, run_in_process

SCRIPT = "13_pretrained.py"
VGG16_PARAMETERS = 138_357_544  # torchvision's VGG16 with its 1000-class ImageNet head


def refuse_downloads(monkeypatch, torch_home):
    """An empty hub folder, and any download fails as it does offline."""

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vgg")
    with pytest.MonkeyPatch.context() as monkeypatch:
        refuse_downloads(monkeypatch, folder / "torch-home")  # the default run downloads nothing
        result = run_in_process(SCRIPT, cwd=folder)
    assert_ok(result)
    return result.stdout.split("\n\n")  # the model, add_module, classifier[6] =, the output shapes


def parameters(section):
    return int(re.search(r"^parameters: ([\d,]+)$", section, re.MULTILINE).group(1).replace(",", ""))


def layer_names(section):
    return re.findall(r"^  \((\w+)\): ", section, re.MULTILINE)


def test_vgg16_as_torchvision_builds_it(sections):
    model = sections[0]
    assert "(6): Linear(in_features=4096, out_features=1000, bias=True)" in model
    assert len(re.findall(r"Conv2d\(", model)) == 13
    assert parameters(model) == VGG16_PARAMETERS
    assert "crop_size=[224]" in model and "mean=[0.485, 0.456, 0.406]" in model  # the weights' preprocessing


def test_add_module_appends_a_layer_named_add_linear(sections):
    edit = sections[1]
    assert layer_names(edit) == ["0", "1", "2", "3", "4", "5", "6", "add_linear"]  # the name given, not (7)
    assert "(6): Linear(in_features=4096, out_features=1000" in edit  # still there, now feeding the new layer
    assert "(add_linear): Linear(in_features=1000, out_features=10, bias=True)" in edit
    assert parameters(edit) == VGG16_PARAMETERS + 1000 * 10 + 10


def test_classifier_6_replaced(sections):
    edit = sections[2]
    assert layer_names(edit) == ["0", "1", "2", "3", "4", "5", "6"]
    assert "(6): Linear(in_features=4096, out_features=10, bias=True)" in edit
    assert parameters(edit) == VGG16_PARAMETERS - (4096 * 1000 + 1000) + (4096 * 10 + 10)


def test_both_give_10_scores_for_a_cifar_image(sections):
    shapes = sections[3]
    assert "input torch.Size([1, 3, 32, 32])" in shapes
    assert "vgg16_true  output torch.Size([1, 10])" in shapes
    assert "vgg16_false output torch.Size([1, 10])" in shapes


def test_pretrained_offline_is_one_line(tmp_path, monkeypatch):
    source = (ROOT / SCRIPT).read_text(encoding="utf-8")
    assert source.count("\nPRETRAINED = False") == 1
    script = tmp_path / SCRIPT
    script.write_text(source.replace("\nPRETRAINED = False", "\nPRETRAINED = True"), encoding="utf-8")
    refuse_downloads(monkeypatch, tmp_path / "torch-home")
    monkeypatch.setattr(sys, "argv", [str(script)])
    result = call_captured(lambda: runpy.run_path(str(script), run_name="__main__"), tmp_path)
    line = assert_clean_error(result, "vgg16-397923af.pth", "PRETRAINED = False")
    assert str(tmp_path / "torch-home" / "hub" / "checkpoints") in line
