"""14_more_layers.py: Dropout's scaling, Embedding lookups, distances by hand, RNN/LSTM and Transformer shapes."""

import importlib
import math

import pytest
import torch
from conftest import assert_clean_error, assert_ok, run_copied, run_in_process

SCRIPT = "14_more_layers.py"


@pytest.fixture(scope="module")
def lesson():
    return importlib.import_module("14_more_layers")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dropout_scales_kept_values_in_train_and_does_nothing_in_eval(lesson, seed):
    torch.manual_seed(seed)
    x, train_output, eval_output = lesson.dropout_demo()
    assert x.tolist() == [float(v) for v in range(1, 11)]
    kept = train_output != 0
    assert 0 < int(kept.sum()) < 10  # some zeroed, some kept (for these seeds)
    assert torch.equal(train_output[kept], 2 * x[kept])  # x / (1 - p) with p = 0.5
    assert torch.equal(eval_output, x)


def test_embedding_is_a_lookup_table(lesson):
    ids, output, embedding = lesson.embedding_demo()
    assert ids.shape == (2, 4) and output.shape == (2, 4, 3)
    assert embedding.weight.shape == (10, 3)
    assert torch.equal(output, embedding.weight[ids])  # row i of the table for id i
    assert torch.equal(output[0, 2], output[1, 0])  # id 4 twice
    assert torch.equal(output[0, 1], output[1, 2])  # id 2 twice


def test_distances_match_the_hand_computed_values(lesson):
    results = lesson.distances()
    expected = {
        "nn.PairwiseDistance(p=2)": [5.0, math.sqrt(3)],
        "nn.PairwiseDistance(p=1)": [7.0, 3.0],
        "nn.CosineSimilarity(dim=1)": [0.0, 1.0, 0.96],
    }
    assert set(results) == set(expected)
    for name, (layer_values, by_hand) in results.items():
        assert by_hand.tolist() == pytest.approx(expected[name], abs=1e-6), name
        assert layer_values.tolist() == pytest.approx(expected[name], abs=1e-5), name
    five = results["nn.PairwiseDistance(p=2)"][0][0].item()
    assert 4.99999 < five < 5.0  # eps=1e-6 is added to x1 - x2 = (-3, -4, 0)


def test_recurrent_shapes(lesson):
    torch.manual_seed(0)
    x, (rnn_output, rnn_h), (lstm_output, lstm_h, lstm_c) = lesson.recurrent_demo()
    assert x.shape == (2, 5, 4)
    assert rnn_output.shape == (2, 5, 8) and rnn_h.shape == (1, 2, 8)  # h_n is not batch-first
    assert lstm_output.shape == (2, 5, 8) and lstm_h.shape == (2, 2, 8) and lstm_c.shape == (2, 2, 8)
    assert torch.allclose(rnn_output[:, -1], rnn_h[-1])
    assert torch.allclose(lstm_output[:, -1], lstm_h[-1])


def test_transformer_keeps_the_shape_and_the_mask_hides_padding(lesson):
    torch.manual_seed(0)
    x, mask, output, output_other_pads, output_no_mask = lesson.transformer_demo()
    assert x.shape == output.shape == (2, 5, 16)
    assert mask.tolist()[1] == [False, False, False, True, True]
    assert not torch.allclose(output[1, 3:], output_other_pads[1, 3:], atol=1e-5)  # the padded positions differ
    assert torch.allclose(output[:, :3], output_other_pads[:, :3], atol=1e-5)  # the real tokens do not
    assert torch.allclose(output[0], output_other_pads[0], atol=1e-5)  # nor the unpadded first sequence
    assert not torch.allclose(output[1, :3], output_no_mask[1, :3], atol=1e-3)  # without the mask pads leak in


def test_runs_alone_and_prints_the_facts(tmp_path):
    result = run_copied(SCRIPT, tmp_path=tmp_path)  # no flags, offline
    assert_ok(result)
    out = result.stdout
    assert result.stderr == ""  # no warnings (the Transformer's nested-tensor fast path is off)
    assert "= 2x: True" in out and "(unchanged: True)" in out
    assert "ids (2, 4): [[1, 2, 4, 5], [4, 3, 2, 9]] -> output (2, 4, 3)" in out
    assert "[4.9999986, 1.7320491] | [5.0000000, 1.7320508]" in out
    assert "[0.0000000, 0.9999999, 0.9600000] | [0.0000000, 1.0000000, 0.9600000]" in out
    assert "output (2, 5, 8), h_n (2, 2, 8), c_n (2, 2, 8)" in out
    assert "input (2, 5, 16) -> output (2, 5, 16)" in out
    assert "unchanged: True; without the mask they change: True" in out


def test_help_and_bad_seed(tmp_path):
    result = run_in_process(SCRIPT, "--help", cwd=tmp_path)
    assert_ok(result)
    assert "Transformer" in result.stdout and "--seed" in result.stdout
    assert_clean_error(run_in_process(SCRIPT, "--seed", "x", cwd=tmp_path), "--seed")
