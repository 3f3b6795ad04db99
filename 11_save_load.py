"""模型的保存与读取 / Saving and loading a model.

The notes' chapter 【模型的保存与读取】 is a heading with no text, so this follows the course's code (its
model_save.py and model_load.py) with the notes' MyModel in place of vgg16: save a model two ways, load each
back, and the course's trap. Since torch 2.6 torch.load(path) means weights_only=True: it builds tensors and
plain containers only and runs no code from the file, so a whole model loads only once you name its classes
with torch.serialization.safe_globals. weights_only=False runs whatever the file holds: never on others' files.

    python 11_save_load.py    # writes ./saved_models/mymodel_method1.pth, mymodel_method2.pth, tudui_method1.pth

12_predict.py predicts with the two MyModel files (and with the course's own; tudui_method1.pth is no classifier);
to test a training run's checkpoint on its data: python 10_train_cifar10.py --evaluate checkpoints/<run-name>/best.pt
"""

import argparse
import os
import pickle

import torch
from torch import nn

from nn_CIFAR10 import MyModel

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.parse_args()  # no flags: only --help


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


os.makedirs('./saved_models', exist_ok=True)
model = MyModel()  # untrained: saving and loading work the same for any weights

# 保存方式1,模型结构+模型参数 / way 1: the whole model (structure and weights), pickled
torch.save(model, './saved_models/mymodel_method1.pth')

# 保存方式2，模型参数（官方推荐） / way 2: only the weights, a dict of tensors (recommended)
torch.save(model.state_dict(), './saved_models/mymodel_method2.pth')

# 方式2，加载模型 / load way 2: build the model from its code, then fill in the weights
model2 = MyModel()
model2.load_state_dict(torch.load('./saved_models/mymodel_method2.pth', weights_only=True))
print('way 2: load_state_dict(torch.load(path, weights_only=True)) -> same weights:', same_weights(model, model2))

# 方式1-》保存方式1，加载模型 / load way 1: the course's model = torch.load("vgg16_method1.pth") fails since torch 2.6
try:
    model1 = torch.load('./saved_models/mymodel_method1.pth')
except pickle.UnpicklingError as error:
    print('way 1: torch.load(path) ->', type(error).__name__, str(error).split('.')[0])  # Weights only load failed
# the file names the classes to build; weights_only=True builds them once you allow them, and nothing else
print('it names:', sorted(torch.serialization.get_unsafe_globals_in_checkpoint('./saved_models/mymodel_method1.pth')))
with torch.serialization.safe_globals([MyModel, nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear]):
    model1 = torch.load('./saved_models/mymodel_method1.pth', weights_only=True)
print('way 1: safe_globals + torch.load(path, weights_only=True) ->', type(model1).__name__, end=', ')
print('same weights:', same_weights(model, model1))


# 陷阱 / the course's trap: a whole model holds its class's name, not its code
class Tudui(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3)

    def forward(self, x):
        x = self.conv1(x)
        return x


tudui = Tudui()
torch.save(tudui, './saved_models/tudui_method1.pth')
print('it names:', sorted(torch.serialization.get_unsafe_globals_in_checkpoint('./saved_models/tudui_method1.pth')))
# __main__.Tudui: class Tudui of the script that saved it. Here that class exists, so this loads:
with torch.serialization.safe_globals([Tudui, nn.Conv2d]):
    print(torch.load('./saved_models/tudui_method1.pth', weights_only=True))
# A script without class Tudui cannot load it: torch < 2.6 (or weights_only=False) stopped with
#   AttributeError: Can't get attribute 'Tudui' on <module '__main__'>
# and today safe_globals has no class to name. The course's model_load.py imports it: from model_save import *.
# A state_dict (way 2) has no such trap: it holds tensors only, and the code that builds the model is yours.
