"""Recurrent层、Transformer层、Dropout层、Embedding层、距离函数 / RNN, Transformer, Dropout, Embedding, distances.

In the notes' 【搭建模型】 二 Pytorch算子, sections 2.5, 2.6, 2.8, 2.9 and 2.10 have only a heading and a
link to the docs, no code. Here they are in the notes' order, each with the example of the page it links
to (with small inputs, and p=0.5 for Dropout, where a number should be checked by hand), printing
every result beside its computation.

    python 14_more_layers.py
"""

import argparse

import torch
from torch import nn

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.parse_args()  # no options: only --help
torch.manual_seed(0)  # the same random numbers on every run

# 2.5 Recurrent层：RNN算子
# https://pytorch.org/docs/stable/nn.html#recurrent-layers
rnn = nn.RNN(10, 20, 2)  # input_size=10, hidden_size=20, num_layers=2
input = torch.randn(5, 3, 10)  # (序列长度, batch_size, input_size): 默认 batch_first=False
h0 = torch.randn(2, 3, 20)  # (num_layers, batch_size, hidden_size)
output, hn = rnn(input, h0)
print('nn.RNN(10, 20, 2):  input', input.shape, '-> output', output.shape, 'hn', hn.shape)
# output [5, 3, 20]: the top layer at every step; hn [2, 3, 20]: every layer at the last step
print('  output[-1] == hn[-1]:', torch.allclose(output[-1], hn[-1]))  # True
lstm = nn.LSTM(10, 20, 2)  # an LSTM also carries a cell state c
c0 = torch.randn(2, 3, 20)
output, (hn, cn) = lstm(input, (h0, c0))
print('nn.LSTM(10, 20, 2): input', input.shape, '-> output', output.shape, 'hn', hn.shape, 'cn', cn.shape)
rnn_batch_first = nn.RNN(10, 20, 2, batch_first=True)  # batch_first=True: input and output are (batch, 序列, 特征)
output, hn = rnn_batch_first(input.transpose(0, 1))
print('batch_first=True:   input', input.transpose(0, 1).shape, '-> output', output.shape, 'hn', hn.shape)
# hn stays (num_layers, batch_size, hidden_size): batch_first changes input and output only

# 2.6 Transformer层：Transformer算子
# https://pytorch.org/docs/stable/nn.html#transformer-layers
encoder_layer = nn.TransformerEncoderLayer(d_model=512, nhead=8, batch_first=True)
transformer_encoder = nn.TransformerEncoder(encoder_layer, num_layers=6)
src = torch.rand(32, 10, 512)  # (batch_size, 序列长度, d_model)
out = transformer_encoder(src)
print('\nnn.TransformerEncoder(num_layers=6): src', src.shape, '-> out', out.shape)  # the same shape
print(f'  parameters: {sum(p.numel() for p in transformer_encoder.parameters()):,}')  # 6 x 3,152,384

# 2.8 Dropout层：防止过拟合
# https://pytorch.org/docs/stable/nn.html#dropout-layers
m = nn.Dropout(p=0.5)
input = torch.arange(1.0, 11.0)
output = m(input)  # 新建的层处于 train() 模式: 每个值以概率 p 置零, 其余乘 1 / (1 - p) = 2
print('\nnn.Dropout(p=0.5), input: ', input)
print('train():', output)
kept = output != 0
print('  zeroed', int((~kept).sum()), 'of 10; kept values == 2 * input:', torch.equal(output[kept], 2 * input[kept]))
print(f'  zeroed on 10000 ones: {(m(torch.ones(10000)) == 0).float().mean():.3f}')  # about p = 0.5
m.eval()  # model.eval() 关闭模型里所有的 Dropout
output = m(input)
print('eval(): ', output, '== input:', torch.equal(output, input))  # True: nothing dropped, nothing scaled

# 2.9 Embedding层：NLP算子
# https://pytorch.org/docs/stable/nn.html#sparse-layers
embedding = nn.Embedding(10, 3)  # a table of 10 vectors of size 3 (num_embeddings=10, embedding_dim=3)
input = torch.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])  # 2 samples of 4 indices each (int64, 0..9)
output = embedding(input)
print('\nnn.Embedding(10, 3): input', input.shape, '-> output', output.shape)  # [2, 4, 3]
print('  index 4 at [0, 2] and at [1, 0] -> embedding.weight[4]:', embedding.weight[4].detach())
print(
    '  output[0, 2] == output[1, 0] == embedding.weight[4]:',
    torch.equal(output[0, 2], output[1, 0]) and torch.equal(output[0, 2], embedding.weight[4]),
)  # True

# 2.10 距离函数：计算两个值之间的误差
# https://pytorch.org/docs/stable/nn.html#distance-functions
input1 = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
input2 = torch.tensor([[4.0, 6.0, 3.0], [1.0, 1.0, 1.0]])  # 每一行与 input1 的同一行比较
pdist = nn.PairwiseDistance(p=2)
output = pdist(input1, input2)
by_hand = ((input1 - input2) ** 2).sum(dim=1).sqrt()  # sqrt(3² + 4² + 0²) = 5, sqrt(1 + 1 + 1) = 1.7321
print('\nnn.PairwiseDistance(p=2):', output, '| by hand:', by_hand)
# PairwiseDistance computes ||input1 - input2 + eps|| with eps=1e-6: 4.9999986, 1.7320491
print('  equal to 1e-5:', torch.allclose(output, by_hand, atol=1e-5))  # True
pdist = nn.PairwiseDistance(p=1)
output = pdist(input1, input2)
by_hand = (input1 - input2).abs().sum(dim=1)  # 3 + 4 + 0 = 7, 1 + 1 + 1 = 3
print('nn.PairwiseDistance(p=1):', output, '| by hand:', by_hand)
input1 = torch.tensor([[1.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
input2 = torch.tensor([[0.0, 1.0], [2.0, 4.0], [4.0, 3.0]])
cos = nn.CosineSimilarity(dim=1, eps=1e-6)
output = cos(input1, input2)
by_hand = (input1 * input2).sum(dim=1) / (input1.norm(dim=1) * input2.norm(dim=1))  # 直角 0, 同向 1, 24/25 = 0.96
print('nn.CosineSimilarity(dim=1):', output, '| by hand:', by_hand)
print('  equal to 1e-6:', torch.allclose(output, by_hand, atol=1e-6))  # True
