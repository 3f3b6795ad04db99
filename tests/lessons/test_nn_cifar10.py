"""nn_CIFAR10.py: the notes' model gives (64, 10) and keeps the names checkpoints use; 1.1's template adds 1;
1.2's nn.Sequential forms run; the course's Tudui is the same network; the graph lands in ./logs."""

import pytest
import torch
from conftest import all_tags, assert_ok, run_in_process

import nn_CIFAR10

# conv1 3*32*25+32, conv2 32*32*25+32, conv3 32*64*25+64, linear1 1024*64+64, linear2 64*10+10
PARAMETERS = 2432 + 25632 + 51264 + 65600 + 650  # 145,578
# What the training tool's checkpoints, 11 and 12 load: these names and shapes.
STATE_DICT = {
    "conv1.weight": (32, 3, 5, 5),
    "conv1.bias": (32,),
    "conv2.weight": (32, 32, 5, 5),
    "conv2.bias": (32,),
    "conv3.weight": (64, 32, 5, 5),
    "conv3.bias": (64,),
    "linear1.weight": (64, 1024),
    "linear1.bias": (64,),
    "linear2.weight": (10, 64),
    "linear2.bias": (10,),
}


@pytest.fixture(scope="module")
def model_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("model")
    result = run_in_process("nn_CIFAR10.py", cwd=tmp_path)
    assert_ok(result)
    return result, tmp_path


def test_prints_the_notes_shapes_and_the_template(model_run):
    out = model_run[0].stdout
    assert "torch.Size([64, 10])" in out  # 输出应为: (batch_size, 10)
    assert "(conv1): Conv2d(3, 32, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))" in out
    assert "tensor(2.)" in out  # AddOne: input + 1
    assert "torch.Size([1, 64, 24, 24])" in out  # 1.2: two 5x5 convolutions on 32x32
    assert "(relu2): ReLU()" in out  # the OrderedDict form names its layers
    assert f"{PARAMETERS} {PARAMETERS}" in out  # MyModel and Tudui


def test_graph_in_the_notes_logs_folder(model_run):
    assert all_tags(model_run[1] / "logs")["graph"] == {"graph"}


def test_mymodel_keeps_the_checkpoint_names_and_shapes():
    model = nn_CIFAR10.MyModel()
    assert {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()} == STATE_DICT
    assert list(model.state_dict()) == list(STATE_DICT)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_addone_adds_one():
    assert nn_CIFAR10.AddOne()(torch.tensor([1.0, -2.0])).tolist() == [2.0, -1.0]


def test_tudui_is_mymodel_in_one_sequential():
    model, tudui = nn_CIFAR10.MyModel(), nn_CIFAR10.Tudui()
    assert list(tudui.state_dict()) == [f"model.{i}.{kind}" for i in (0, 2, 4, 7, 8) for kind in ("weight", "bias")]
    tudui.load_state_dict(dict(zip(tudui.state_dict(), model.state_dict().values())))  # the same layers, in order
    images = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(tudui(images), model(images), atol=1e-6)
