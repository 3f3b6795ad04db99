"""完整的模型验证套路 / Using the trained model: predict the class of your own images.

Loads a checkpoint from 10_train_cifar10.py and prints the top-3 CIFAR-10
classes with probabilities for each image. Any size and colour mode works
(RGBA, grayscale, palette PNG, JPEG): each image becomes RGB, is resized to
32x32 and goes through the same preprocessing as in training.

    python 12_predict.py dog.png plane.jpg
    python 12_predict.py *.png --checkpoint checkpoints/<run>/best.pt
"""

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor

from common import (
    CIFAR10_CLASSES,
    UserError,
    load_checkpoint,
    load_rgb,
    newest_checkpoint,
    pick_device,
    restore_model,
    run_main,
    to_model_input,
)
from nn_CIFAR10 import MODELS


def load_model(path: Path, device: torch.device):
    """The model and the 'normalize' setting it was trained with."""
    checkpoint = load_checkpoint(path)
    model = MODELS[checkpoint["model_name"]]()
    restore_model(model, checkpoint, path)
    return model.to(device).eval(), bool(checkpoint["args"].get("normalize", False))


def prepare(path: str) -> torch.Tensor:
    """Any image file -> uint8 tensor (3, 32, 32), as the training images are."""
    image = load_rgb(path).resize((32, 32), Image.BILINEAR)
    return pil_to_tensor(image)


@torch.inference_mode()
def top_k(model, image: torch.Tensor, normalize: bool, device, k: int = 3):
    x = to_model_input(image.unsqueeze(0).to(device), normalize, False)
    probabilities = torch.softmax(model(x), dim=1)[0]
    values, indices = probabilities.topk(k)
    return [(CIFAR10_CLASSES[i], p) for i, p in zip(indices.tolist(), values.tolist())]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files to classify")
    parser.add_argument("--checkpoint", help="checkpoint to use (default: the newest checkpoints/*/best.pt)")
    parser.add_argument("--top", type=int, default=3, choices=range(1, 11), metavar="K", help="classes to show")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="cpu")
    args = parser.parse_args()

    checkpoint = Path(args.checkpoint) if args.checkpoint else newest_checkpoint()
    if checkpoint is None or not checkpoint.is_file():
        where = f"{checkpoint} does not exist" if checkpoint else "no checkpoint found in checkpoints/"
        raise UserError(f"{where}; train first with python 10_train_cifar10.py")
    device = pick_device(args.device)
    model, normalize = load_model(checkpoint, device)
    print(f"checkpoint: {checkpoint}")

    failures = 0
    for path in args.images:
        try:
            guesses = top_k(model, prepare(path), normalize, device, args.top)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            failures += 1
            continue
        print(f"{path}: " + ", ".join(f"{name} {100 * p:.1f}%" for name, p in guesses))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    run_main(main)
