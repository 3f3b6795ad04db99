"""Pytorch预训练模型 / Pretrained models: VGG16 from torchvision.models, edited for CIFAR-10's 10 classes.

The notes' 【搭建模型】 三 Pytorch预训练模型 has three links and no code:
  3.1 语音处理模型：torchaudio.models   https://pytorch.org/audio/stable/models.html
  3.2 文本处理模型：torchtext.models    https://pytorch.org/text/stable/models.html
  3.3 图像处理模型：torchvision.models  https://pytorch.org/vision/stable/models.html
The code below is the course's (src/model_pretrained.py, 现有网络模型的使用及修改) for 3.3: build VGG16, whose
last layer gives 1000 ImageNet scores, and make it give 10, by appending a layer (add_module) or by
replacing the last one (classifier[6] = ...). Training such a model on CIFAR-10: 15_finetune_resnet18.py.

    python 13_pretrained.py   # random weights: no download, a few seconds
"""

import argparse
import os
import sys

import torch
import torchvision
from torch import nn

# True: vgg16_true gets VGG16's ImageNet weights, a 528 MB download (once, into ~/.cache/torch/hub/checkpoints)
PRETRAINED = False

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.parse_args()  # no options: only --help

# 课程代码 / the course's code: vgg16_false = torchvision.models.vgg16(pretrained=False)
vgg16_false = torchvision.models.vgg16(weights=None)  # 随机初始化的参数, 不下载 / random weights, no download
# 课程代码 / the course's code: vgg16_true = torchvision.models.vgg16(pretrained=True)
# torchvision 0.13 replaced pretrained= with weights=. torchvision 0.29 still runs pretrained=True/False, with a
# deprecation warning, as weights=VGG16_Weights.IMAGENET1K_V1 (the same download) / weights=None. Today's way:
if PRETRAINED:
    try:
        vgg16_true = torchvision.models.vgg16(weights=torchvision.models.VGG16_Weights.DEFAULT)
    except (OSError, RuntimeError) as error:  # 下载失败 / no internet, a firewall, a broken download
        checkpoints = os.path.join(torch.hub.get_dir(), 'checkpoints')
        sys.exit(
            f"error: cannot download VGG16's weights ({str(error).splitlines()[0]}); offline: put vgg16-397923af.pth "
            f'(https://download.pytorch.org/models/vgg16-397923af.pth) in {checkpoints}, or set PRETRAINED = False'
        )
else:
    vgg16_true = torchvision.models.vgg16(weights=None)  # PRETRAINED = False: random weights here too
# (the course's code also loads CIFAR-10's train set here and does not use it)

print(vgg16_true)  # features (13 Conv2d), avgpool, classifier: (0) ... (6) Linear(4096 -> 1000)
print(f'parameters: {sum(p.numel() for p in vgg16_true.parameters()):,}')  # 138,357,544
# A pretrained model expects the preprocessing it was trained with (resize 256, crop 224, ImageNet's mean/std):
print('VGG16_Weights.DEFAULT.transforms():', torchvision.models.VGG16_Weights.DEFAULT.transforms())

# 方法一: 在 classifier 末尾加一层 / append a layer: its 1000 scores -> 10 classes
vgg16_true.classifier.add_module('add_linear', nn.Linear(1000, 10))
print("\nvgg16_true.classifier.add_module('add_linear', nn.Linear(1000, 10)):")
print(vgg16_true.classifier)  # (6) stays, (add_linear) comes after it: named by add_module, not (7)
print(f'parameters: {sum(p.numel() for p in vgg16_true.parameters()):,}')  # 138,357,544 + 1000 * 10 + 10

# 方法二: 替换最后一层 / replace the last layer: 4096 -> 10 in place of 4096 -> 1000
vgg16_false.classifier[6] = nn.Linear(4096, 10)
print('\nvgg16_false.classifier[6] = nn.Linear(4096, 10):')
print(vgg16_false.classifier)
print(f'parameters: {sum(p.numel() for p in vgg16_false.parameters()):,}')  # 138,357,544 - 4,097,000 + 40,970

# 检验模型: one CIFAR-10-sized image. 32x32 works: the 5 max-pools leave 1x1, AdaptiveAvgPool2d makes it 7x7
input = torch.ones((1, 3, 32, 32))
with torch.no_grad():  # only the shapes: no gradients needed
    print('\ninput', input.shape)  # torch.Size([1, 3, 32, 32])
    print('vgg16_true  output', vgg16_true(input).shape)  # torch.Size([1, 10])
    print('vgg16_false output', vgg16_false(input).shape)  # torch.Size([1, 10])
