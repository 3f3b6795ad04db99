"""14_more_layers.py: RNN/LSTM and Transformer shapes, Dropout in train and eval, Embedding lookups, distances by hand."""

import math
import re

import pytest
from conftest import assert_ok, run_in_process

SCRIPT = "14_more_layers.py"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    result = run_in_process(SCRIPT, cwd=tmp_path_factory.mktemp("layers"))
    assert_ok(result)
    assert result.stderr == ""  # no warnings
    return result.stdout


def line(out, start):
    (found,) = [text for text in out.splitlines() if text.startswith(start)]
    return found


def tensors(text):
    """The numbers of each tensor([...]) printed on a line, as lists of floats."""
    return [[float(v) for v in inside.split(",")] for inside in re.findall(r"tensor\(\[([^\]]*)\]\)", text)]


def test_recurrent_shapes(out):
    size = "torch.Size"
    assert f"input {size}([5, 3, 10]) -> output {size}([5, 3, 20]) hn {size}([2, 3, 20])" in line(out, "nn.RNN(")
    assert f"-> output {size}([5, 3, 20]) hn {size}([2, 3, 20]) cn {size}([2, 3, 20])" in line(out, "nn.LSTM(")
    # batch_first=True turns input and output around, not hn
    assert f"input {size}([3, 5, 10]) -> output {size}([3, 5, 20]) hn {size}([2, 3, 20])" in line(out, "batch_first")
    assert line(out, "  output[-1] == hn[-1]:").endswith("True")


def test_transformer_encoder_keeps_the_shape(out):
    assert "src torch.Size([32, 10, 512]) -> out torch.Size([32, 10, 512])" in out
    assert "parameters: 18,914,304" in out  # 6 layers of d_model=512, dim_feedforward=2048


def test_dropout_zeroes_and_scales_in_train_and_does_nothing_in_eval(out):
    (x,) = tensors(line(out, "nn.Dropout(p=0.5)"))
    (train,) = tensors(line(out, "train():"))
    (evaluated,) = tensors(line(out, "eval():"))
    assert x == [float(v) for v in range(1, 11)]
    zeroed = [i for i, v in enumerate(train) if v == 0]
    assert 0 < len(zeroed) < 10
    assert all(train[i] == 2 * x[i] for i in range(10) if i not in zeroed)  # x / (1 - p)
    assert f"zeroed {len(zeroed)} of 10" in out
    assert 0.45 < float(line(out, "  zeroed on 10000 ones:").split()[-1]) < 0.55
    assert evaluated == x


def test_embedding_is_a_lookup_table(out):
    assert "input torch.Size([2, 4]) -> output torch.Size([2, 4, 3])" in line(out, "nn.Embedding(10, 3)")
    assert line(out, "  output[0, 2] == output[1, 0] == embedding.weight[4]:").endswith("True")


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        ("nn.PairwiseDistance(p=2):", [5.0, math.sqrt(3)]),
        ("nn.PairwiseDistance(p=1):", [7.0, 3.0]),
        ("nn.CosineSimilarity(dim=1):", [0.0, 1.0, 0.96]),
    ],
)
def test_distances_match_the_formula_by_hand(out, layer, expected):
    layer_values, by_hand = tensors(line(out, layer))
    assert layer_values == pytest.approx(expected, abs=1e-4)
    assert by_hand == pytest.approx(expected, abs=1e-4)
