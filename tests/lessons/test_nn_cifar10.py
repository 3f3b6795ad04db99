"""nn_CIFAR10.py: the notes' model gives (64, 10), its three forms are the same network, its graph lands in TensorBoard."""

import re

import pytest
import torch
from conftest import all_tags, assert_clean_error, assert_ok, run_in_process

import nn_CIFAR10

# conv1 3*32*25+32, conv2 32*32*25+32, conv3 32*64*25+64, linear1 1024*64+64, linear2 64*10+10
PARAMETERS = 2432 + 25632 + 51264 + 65600 + 650  # 145,578


@pytest.fixture(scope="module")
def model_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("model")
    logdir = tmp_path / "tb"
    result = run_in_process("nn_CIFAR10.py", "--logdir", logdir, cwd=tmp_path)
    assert_ok(result)
    return result, logdir


def test_shapes_and_parameter_counts_printed(model_run):
    out = model_run[0].stdout
    assert "input shape:  (64, 3, 32, 32)" in out
    assert "output shape: (64, 10)" in out
    printed = re.findall(r"^(\w+): output shape \((\d+), (\d+)\), parameters ([\d,]+)$", out, re.MULTILINE)
    assert [name for name, *_ in printed] == ["MyModel", "MyModelSequential", "Sequential"]
    for _, batch, classes, count in printed:
        assert (int(batch), int(classes), int(count.replace(",", ""))) == (64, 10, PARAMETERS)


def test_addone(model_run):
    assert "AddOne()(torch.tensor(1.0)) = tensor(2.)" in model_run[0].stdout
    assert nn_CIFAR10.AddOne()(torch.tensor([1.0, -2.0])).tolist() == [2.0, -1.0]


def test_checkpoint_names_and_the_three_forms_compute_the_same():
    model = nn_CIFAR10.MyModel()
    names = ["conv1", "conv2", "conv3", "linear1", "linear2"]  # saved checkpoints depend on these names
    assert list(model.state_dict()) == [f"{name}.{kind}" for name in names for kind in ("weight", "bias")]
    ordered = nn_CIFAR10.make_ordered_model()
    ordered.load_state_dict(model.state_dict())  # the OrderedDict names the layers the same way
    sequential = nn_CIFAR10.MyModelSequential()
    sequential.load_state_dict(dict(zip(sequential.state_dict(), model.state_dict().values())))
    images = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(images)
        assert expected.shape == (4, 10)
        assert torch.allclose(ordered(images), expected, atol=1e-6)
        assert torch.allclose(sequential(images), expected, atol=1e-6)


def test_graph_in_tensorboard(model_run):
    assert all_tags(model_run[1])["graph"] == {"graph"}


def test_bad_logdir_is_one_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = run_in_process("nn_CIFAR10.py", "--logdir", tmp_path / "a-file", cwd=tmp_path)
    assert_clean_error(result, "--logdir", "a-file")
