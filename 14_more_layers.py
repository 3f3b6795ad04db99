"""循环层、Transformer 层、Dropout、Embedding 与距离函数 / The layers the notes only link to.

The notes list these layers (2.5 Recurrent, 2.6 Transformer, 2.8 Dropout, 2.9 Sparse/Embedding,
2.10 Distance functions) with a link to the docs. One short section each, with the shapes and the
one behaviour to remember:

  nn.Dropout(p=0.5)         train(): zeroes about half the values, multiplies the rest by 2; eval(): does nothing
  nn.Embedding(10, 3)       a lookup table: (batch, sequence) of ids -> (batch, sequence, 3); same id, same row
  nn.PairwiseDistance       ||x1 - x2||, and nn.CosineSimilarity, on vectors you can check by hand
  nn.RNN / nn.LSTM          batch_first=True is for input and output only: h_n stays (layers, batch, hidden)
  nn.TransformerEncoder     (batch, sequence, d_model) keeps its shape; src_key_padding_mask hides padding

    python 14_more_layers.py            # offline, a couple of seconds
    python 14_more_layers.py --seed 1   # other random numbers, same facts
"""

import argparse

import torch
from torch import nn


def dropout_demo():
    """nn.Dropout(p=0.5) on 1..10 in train() and in eval() mode; returns (x, train output, eval output)."""
    x = torch.arange(1.0, 11.0)
    dropout = nn.Dropout(p=0.5)
    dropout.train()  # a new layer is in training mode: each value is zeroed with probability p
    train_output = dropout(x)
    dropout.eval()  # model.eval() switches every Dropout inside a model off
    eval_output = dropout(x)
    return x, train_output, eval_output


def embedding_demo():
    """nn.Embedding(10, 3) looks ids up in a 10x3 table; returns (ids, output, embedding)."""
    embedding = nn.Embedding(num_embeddings=10, embedding_dim=3)  # ids 0..9, 3 numbers each (trainable)
    ids = torch.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])  # (batch=2, sequence=4), whole numbers (int64)
    return ids, embedding(ids), embedding


# Small rows whose answers you can check by hand (each row of x1 against the same row of x2; a and b likewise).
X1 = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
X2 = torch.tensor([[4.0, 6.0, 3.0], [1.0, 1.0, 1.0]])  # differences (-3, -4, 0): 5; (-1, -1, -1): sqrt(3)
A = torch.tensor([[1.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
B = torch.tensor([[0.0, 1.0], [2.0, 4.0], [4.0, 3.0]])  # at right angles: 0; same direction: 1; 24/25 = 0.96


def distances():
    """Returns {name: (the layer's values, the formula's values)} for the rows above."""
    return {
        "nn.PairwiseDistance(p=2)": (nn.PairwiseDistance(p=2)(X1, X2), ((X1 - X2) ** 2).sum(dim=1).sqrt()),
        "nn.PairwiseDistance(p=1)": (nn.PairwiseDistance(p=1)(X1, X2), (X1 - X2).abs().sum(dim=1)),
        "nn.CosineSimilarity(dim=1)": (
            nn.CosineSimilarity(dim=1)(A, B),
            (A * B).sum(dim=1) / (A.norm(dim=1) * B.norm(dim=1)),
        ),
    }


def recurrent_demo():
    """nn.RNN and a 2-layer nn.LSTM over (batch=2, sequence=5, features=4); returns their outputs."""
    x = torch.randn(2, 5, 4)
    rnn = nn.RNN(input_size=4, hidden_size=8, batch_first=True)
    rnn_output, rnn_h = rnn(x)
    lstm = nn.LSTM(input_size=4, hidden_size=8, num_layers=2, batch_first=True)
    lstm_output, (lstm_h, lstm_c) = lstm(x)  # an LSTM also carries a cell state c
    return x, (rnn_output, rnn_h), (lstm_output, lstm_h, lstm_c)


def transformer_demo():
    """A 2-layer nn.TransformerEncoder and a padding mask.

    Returns x, the mask, the output, and the outputs for x with other values in the padded positions,
    with and without the mask."""
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
    # enable_nested_tensor=False: otherwise eval() takes a fast path that prints a prototype warning
    # and returns zeros at padded positions.
    encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    encoder.eval()  # its Dropout off, so the same input gives the same output
    x = torch.randn(2, 5, 16)  # (batch, sequence, d_model)
    # True = padding, to be ignored: the second sequence has 3 real tokens and 2 pads.
    mask = torch.tensor([[False, False, False, False, False], [False, False, False, True, True]])
    other_pads = x.clone()
    other_pads[1, 3:] = 100.0  # change only what sits in the padded positions
    with torch.no_grad():
        output = encoder(x, src_key_padding_mask=mask)
        return x, mask, output, encoder(other_pads, src_key_padding_mask=mask), encoder(other_pads)


def numbers(values):
    return "[" + ", ".join(f"{value:.7f}" for value in values.tolist()) + "]"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="seed for the random numbers (default: 0)")
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    print("2.8 nn.Dropout(p=0.5)")
    x, train_output, eval_output = dropout_demo()
    kept = train_output != 0
    print(f"  x:             {x.tolist()}")
    print(f"  train():       {train_output.tolist()}")
    print(
        f"  zeroed {int((~kept).sum())} of {x.numel()}; each kept value is x / (1 - p) = 2x: "
        f"{torch.equal(train_output[kept], 2 * x[kept])}  (so the expected sum stays the same)"
    )
    print(f"  eval():        {eval_output.tolist()}  (unchanged: {torch.equal(eval_output, x)})")
    many = nn.Dropout(p=0.5)(torch.ones(10000))
    print(f"  on 10000 ones: {float((many == 0).float().mean()):.3f} zeroed (about p = 0.5)")

    print("\n2.9 nn.Embedding(num_embeddings=10, embedding_dim=3)")
    ids, output, embedding = embedding_demo()
    print(f"  ids {tuple(ids.shape)}: {ids.tolist()} -> output {tuple(output.shape)}")
    print(
        f"  id 4 at [0, 2] and at [1, 0] gives the same row, embedding.weight[4]: "
        f"{torch.equal(output[0, 2], output[1, 0]) and torch.equal(output[0, 2], embedding.weight[4])}"
    )
    try:
        embedding(torch.tensor([10]))
    except IndexError as error:
        print(f"  ids run from 0 to num_embeddings - 1; id 10: IndexError: {error}")

    print("\n2.10 distance functions (layer | formula by hand)")
    print(f"  x1 = {X1.tolist()}, x2 = {X2.tolist()}\n  a = {A.tolist()}, b = {B.tolist()}")
    results = distances()
    for name, (layer_values, by_hand) in results.items():
        print(f"  {name:27} {numbers(layer_values)} | {numbers(by_hand)}")
    five = results["nn.PairwiseDistance(p=2)"][0][0]
    print(
        f"  PairwiseDistance adds eps=1e-6 to x1 - x2 (the docs: to avoid division by zero): 5 comes out as {five:.7f}"
    )

    print("\n2.5 nn.RNN / nn.LSTM (batch_first=True)")
    x, (rnn_output, rnn_h), (lstm_output, lstm_h, lstm_c) = recurrent_demo()
    print(f"  input:  {tuple(x.shape)}  (batch, sequence, features)")
    print(f"  nn.RNN(4, 8):                output {tuple(rnn_output.shape)}, h_n {tuple(rnn_h.shape)}")
    print(
        f"  nn.LSTM(4, 8, num_layers=2): output {tuple(lstm_output.shape)}, h_n {tuple(lstm_h.shape)}, "
        f"c_n {tuple(lstm_c.shape)}"
    )
    print(
        f"  h_n is (layers, batch, hidden) even with batch_first=True; output[:, -1] == h_n[-1]: "
        f"{torch.allclose(lstm_output[:, -1], lstm_h[-1])}"
    )

    print("\n2.6 nn.TransformerEncoderLayer(d_model=16, nhead=4) x 2 (batch_first=True)")
    x, mask, output, output_other_pads, output_no_mask = transformer_demo()
    print(f"  input {tuple(x.shape)} -> output {tuple(output.shape)}  (batch, sequence, d_model)")
    print(f"  src_key_padding_mask {tuple(mask.shape)}, True = padding: {mask.tolist()}")
    real = output[1, :3]  # the second sequence's 3 real tokens
    print(
        f"  other values in its padded positions: the real tokens' outputs unchanged: "
        f"{torch.allclose(real, output_other_pads[1, :3], atol=1e-5)}; "
        f"without the mask they change: {not torch.allclose(real, output_no_mask[1, :3], atol=1e-5)}"
    )


if __name__ == "__main__":
    main()
