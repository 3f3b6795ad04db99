"""完整的模型验证套路 (the course's title; the notes stop at 【模型的保存与读取】, a heading with no text)
/ Using a trained model: the class of your own images.

The course's test.py: open an image, make it RGB and 32x32 like CIFAR-10's, turn it into a tensor, model.eval(),
and under torch.no_grad() take output.argmax(1). The weights go into the notes' MyModel, from what learners have:
a MyModel state_dict or whole model (11_save_load.py), a checkpoint of 10_train_cifar10.py, or the course's own
files (whole Tudui models such as tudui_29_gpu.pth, CUDA tensors included, and Tudui state_dicts); one line says
which. Every file is read with torch.load(weights_only=True): it builds only the classes in SAFE_CLASSES below
and runs no code from the file.

    python 12_predict.py images/plane.png                # the newest checkpoints/*/best.pt
    python 12_predict.py my_dog.jpg --checkpoint saved_models/mymodel_method2.pth
    python 12_predict.py airplane.png dog.png --checkpoint tudui_29_gpu.pth
"""

import argparse
import re
import sys
from pathlib import Path

import torch
import torchvision
from PIL import Image
from torch import nn

from nn_CIFAR10 import MyModel, Tudui  # Tudui: the course's model.py, MyModel's layers in one nn.Sequential

CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']  # CIFAR-10's
TUDUI_KEYS = list(Tudui().state_dict())  # model.0.weight ... model.8.bias: MyModel's layers in the same order
# What a whole-model file may name: the course saved Tudui from its model.py or from the training script itself.
SAFE_CLASSES = [(Tudui, '__main__.Tudui'), (Tudui, 'model.Tudui'), MyModel, (MyModel, '__main__.MyModel')]
SAFE_CLASSES += [nn.Sequential, nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear]


def stop(message):
    print(f'error: {message}', file=sys.stderr)
    sys.exit(2)


def load_model(path):
    """(model, class names, normalize) from the file at `path`; prints what it loaded."""
    try:
        with torch.serialization.safe_globals(SAFE_CLASSES):  # map_location: CUDA tensors onto the CPU
            saved = torch.load(path, map_location=torch.device('cpu'), weights_only=True)
    except Exception as error:
        unknown = re.search(r'GLOBAL (\S+) was not an allowed global', str(error))
        if unknown:  # a whole model of another class, or an object that is not a model at all
            stop(
                f"{path} is not MyModel or the course's Tudui: it names {unknown[1]} (a whole model of another class?)"
            )
        stop(f'cannot read {path}: {error.strerror if isinstance(error, OSError) else "truncated or not a model file"}')
    form = 'whole model' if isinstance(saved, nn.Module) else 'state_dict'
    if isinstance(saved, nn.Module):  # torch.save(model, path): keep its weights
        saved = saved.state_dict()
    model, classes, normalize = MyModel(), CLASSES, False
    if isinstance(saved, dict) and 'format' in saved:  # a checkpoint of 10_train_cifar10.py
        settings, best = saved['settings'], saved['progress']['best_accuracy']
        data = settings['image_folder'] or ('--fake-data' if settings['fake_data'] else 'CIFAR-10')
        what = f'run {settings["run_name"] or Path(path).parent.name} of 10_train_cifar10.py ({saved["model_name"]}, '
        what += f'{saved["progress"]["epochs_done"]} epoch(s) on {data}, '
        what += f'best test accuracy {100 * best:.2f}%)' if best >= 0 else 'not tested yet)'
        if saved['model_name'] != 'mymodel':
            try:  # the tool's other models are defined in its training/ folder
                from training.models import MODELS
            except ImportError:
                stop(
                    f'{path} was written by 10_train_cifar10.py for --model {saved["model_name"]}: reading it needs '
                    "the project's training/ folder beside this script (or use saved_models/mymodel_method2.pth)"
                )
            model = MODELS[saved['model_name']]()
        classes, normalize = saved.get('classes') or CLASSES, settings['normalize']
        # --ema runs tested the moving average of the weights: use it
        saved = saved['ema']['model'] if saved.get('ema') else saved['model']
    elif isinstance(saved, dict) and list(saved) == TUDUI_KEYS:  # the course's Tudui: MyModel's layers, in order
        what = f"the course's Tudui ({form}), its weights put into MyModel in order (not necessarily trained)"
        saved = dict(zip(model.state_dict(), saved.values()))  # model.0.weight -> conv1.weight ...
    else:
        what = f'a MyModel {form} (not necessarily trained)'
    try:
        model.load_state_dict(saved)
    except Exception:
        stop(f"{path} holds neither MyModel's nor Tudui's weights nor a checkpoint of 10_train_cifar10.py")
    print(f'loaded {path}: {what}')
    return model, classes, normalize


parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('images', nargs='+', metavar='IMAGE', help='your images: any size and colour mode')
parser.add_argument('--checkpoint', help='weights to use (default: the newest checkpoints/*/best.pt)')
args = parser.parse_args()

checkpoint = args.checkpoint
if checkpoint is None:  # the newest best.pt that 10_train_cifar10.py wrote
    found = sorted(Path('checkpoints').glob('*/best.pt'), key=lambda p: p.stat().st_mtime)
    if not found:
        stop(
            'no checkpoints/*/best.pt: train first with python 10_train_cifar10.py, or pass '
            '--checkpoint saved_models/mymodel_method2.pth (written by 11_save_load.py)'
        )
    checkpoint = found[-1]
model, classes, normalize = load_model(checkpoint)

transform = torchvision.transforms.Compose([torchvision.transforms.Resize((32, 32)), torchvision.transforms.ToTensor()])
if normalize:  # the run trained with --normalize: its images were normalised with CIFAR-10's mean and std
    transform.transforms.append(torchvision.transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)))
model.eval()
failed = 0
for image_path in args.images:
    try:
        image = Image.open(image_path)
        if image.mode.startswith('I'):  # 16 bits (0..65535): scale to 0..255, else convert('RGB') makes it white
            image = image.convert('I').point(lambda value: value / 256)
        image = image.convert('RGB')  # PNGs may have 4 channels (RGBA) or a palette: keep the 3 colours
    except (OSError, Image.DecompressionBombError) as error:  # missing, a folder, not an image, too many pixels
        print(f'error: {image_path}: {error}', file=sys.stderr)
        failed += 1
        continue
    image = transform(image)
    image = torch.reshape(image, (1, 3, 32, 32))
    with torch.no_grad():
        output = model(image)[:, : len(classes)]  # a run on fewer classes (--image-folder) has unused outputs
    probability = torch.softmax(output, dim=1).max().item()  # how sure: the share of the top class
    print(f'{image_path}: {classes[output.argmax(1).item()]} {100 * probability:.1f}%')
sys.exit(2 if failed else 0)
