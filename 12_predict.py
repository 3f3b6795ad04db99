"""完整的模型验证套路 / Using the trained model: the class of your own images.

The notes' test routine: open an image, make it RGB and 32x32 like CIFAR-10's, turn it into a tensor,
put the model in eval mode, and under torch.no_grad() take the argmax of its output. Any size and
colour mode works (RGBA, grayscale, palette PNG, JPEG). Prints the top 3 classes with probabilities.

    python 12_predict.py images/plane.png                   # the newest checkpoints/*/best.pt
    python 12_predict.py my_cat.jpg --checkpoint checkpoints/<run-name>/best.pt
    python 12_predict.py my_cat.jpg --checkpoint saved_models/mymodel_method2.pth   # a MyModel state_dict (11)
"""

import argparse
import sys
from pathlib import Path

import torch
import torchvision
from PIL import Image, UnidentifiedImageError

from nn_CIFAR10 import MyModel

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files to classify")
    parser.add_argument("--checkpoint", help="a checkpoint of 10_train_cifar10.py or a MyModel state_dict (.pth)")
    parser.add_argument("--top", type=int, default=3, choices=range(1, 11), metavar="K", help="classes shown (1-10)")
    args = parser.parse_args()

    model, normalize = load_model(parser, args.checkpoint)
    # The notes' transform: Resize((32, 32)) then ToTensor; a model trained with --normalize also needs Normalize.
    steps = [torchvision.transforms.Resize((32, 32)), torchvision.transforms.ToTensor()]
    transform = torchvision.transforms.Compose(
        steps + [torchvision.transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)] * normalize
    )
    model.eval()
    failures = 0
    for path in args.images:
        try:
            image = Image.open(path).convert("RGB")  # PNGs may have 4 channels (RGBA): keep 3
        except (OSError, UnidentifiedImageError) as error:
            missing = "is a folder, not an image" if Path(path).is_dir() else "does not exist"
            reason = missing if not Path(path).is_file() else f"cannot be read ({error})"
            print(f"error: {path} {reason}", file=sys.stderr)
            failures += 1
            continue
        image = torch.reshape(transform(image), (1, 3, 32, 32))  # a batch of one
        with torch.no_grad():
            output = model(image)
        probabilities = torch.softmax(output, dim=1)[0]
        values, indices = probabilities.topk(args.top)  # indices[0] == output.argmax(1)
        print(
            f"{path}: " + ", ".join(f"{CLASSES[i]} {100 * p:.1f}%" for i, p in zip(indices.tolist(), values.tolist()))
        )
    sys.exit(2 if failures else 0)  # 2, like every other user error


def load_model(parser, path):
    """(model, normalize) from a tool checkpoint (via the project's training/ package) or a MyModel state_dict."""
    if path is None:
        found = sorted(Path("checkpoints").glob("*/best.pt"), key=lambda p: p.stat().st_mtime)
        if not found:
            parser.exit(
                2,
                "error: no checkpoint found in checkpoints/; train first with python 10_train_cifar10.py, "
                "or pass --checkpoint saved_models/mymodel_method2.pth (written by 11_save_load.py)\n",
            )
        path = found[-1]
    print(f"checkpoint: {path}")
    if Path(path).is_dir() or not Path(path).is_file():
        problem = "is a folder, not a checkpoint file" if Path(path).is_dir() else "does not exist"
        parser.exit(2, f"error: {path} {problem}; train first with python 10_train_cifar10.py\n")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        parser.exit(2, f"error: cannot read {path}: truncated or not a checkpoint ({type(error).__name__})\n")
    if isinstance(saved, dict) and "format" in saved:  # written by 10_train_cifar10.py
        try:
            from training.checkpoints import load_checkpoint, restore_model
            from training.cli import UserError
            from training.models import MODELS
        except ImportError:
            parser.exit(
                2,
                f"error: {path} was written by 10_train_cifar10.py: reading it needs the project's training/ folder "
                "beside this script, or pass a MyModel state_dict (--checkpoint saved_models/mymodel_method2.pth)\n",
            )
        try:
            checkpoint = load_checkpoint(path)
            model = MODELS[checkpoint["model_name"]]()
            print(f"weights: {restore_model(model, checkpoint, path, averaged=True)}")
        except UserError as error:
            parser.exit(2, f"error: {error}\n")
        return model, checkpoint["settings"]["normalize"]
    model = MyModel()
    try:
        model.load_state_dict(saved)
    except Exception:
        parser.exit(2, f"error: {path} is not a checkpoint written by 10_train_cifar10.py nor a MyModel state_dict\n")
    print("weights: the trained weights (a MyModel state_dict)")
    return model, False


if __name__ == "__main__":
    main()
