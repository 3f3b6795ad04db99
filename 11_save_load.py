"""网络模型的保存与读取 / Saving and loading models.

The notes show two ways to save a model:

  way 1  torch.save(model, path)               the whole object, pickled
  way 2  torch.save(model.state_dict(), path)  only the tensors (recommended)

This script does both, loads each back, shows why way 2 is the safe one
(since torch 2.6, torch.load defaults to weights_only=True, which refuses a
pickled model: loading it needs weights_only=False, and that runs whatever
code the file contains), and finally loads a checkpoint written by
10_train_cifar10.py and evaluates it on the test set.

    python 11_save_load.py
    python 11_save_load.py --checkpoint checkpoints/<run>/best.pt --fake-data
"""

import argparse
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from torchvision import transforms

from common import (
    UserError,
    add_data_args,
    cifar10_dataset,
    ensure_writable_dir,
    error_summary,
    load_checkpoint,
    newest_checkpoint,
    pick_device,
    restore_model,
    run_main,
    to_model_input,
)
from nn_CIFAR10 import MODELS, MyModel


def save_whole_model(model: torch.nn.Module, path: Path) -> None:
    """Way 1: pickle the whole model object (class name, module path and tensors)."""
    torch.save(model, path)


def save_state_dict(model: torch.nn.Module, path: Path) -> None:
    """Way 2: save only the parameters and buffers, a plain dict of tensors."""
    torch.save(model.state_dict(), path)


def load_whole_model(path: Path) -> torch.nn.Module:
    """Way 1 back. Only for files you made yourself: weights_only=False runs the file's pickled code,
    and the class (MyModel) must be importable here, exactly where it was when saved."""
    return torch.load(path, weights_only=False)


def load_state_dict_into_new_model(path: Path) -> torch.nn.Module:
    """Way 2 back: build the model from code, then pour the saved tensors into it."""
    model = MyModel()
    model.load_state_dict(torch.load(path, weights_only=True))
    return model


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def evaluate_checkpoint(path: Path, args) -> float:
    """Load a 10_train_cifar10.py checkpoint (weights_only=True) and measure its test accuracy."""
    checkpoint = load_checkpoint(path)
    saved_args = checkpoint["args"]
    model = MODELS[checkpoint["model_name"]]()
    restore_model(model, checkpoint, path)
    device = pick_device(args.device)
    model.to(device).eval()
    test_set = cifar10_dataset(args, train=False, transform=transforms.PILToTensor())
    correct = total = 0
    with torch.inference_mode():
        for images, labels in DataLoader(test_set, batch_size=500):
            x = to_model_input(images.to(device), saved_args.get("normalize", False), False)
            correct += (model(x).argmax(1) == labels.to(device)).sum().item()
            total += len(labels)
    print(
        f"checkpoint {path}: {checkpoint['model_name']}, {checkpoint['epoch']} epochs, "
        f"test accuracy now {100 * correct / total:.2f}% on {total} images "
        f"(saved with it: {100 * checkpoint['metrics'][-1]['test_accuracy']:.2f}%)"
        if checkpoint["metrics"]
        else f"checkpoint {path}: test accuracy {100 * correct / total:.2f}% on {total} images"
    )
    return correct / total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default="saved_models", help="where the two saved files go")
    parser.add_argument(
        "--checkpoint",
        help="a 10_train_cifar10.py checkpoint to evaluate (default: the newest checkpoints/*/best.pt)",
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="cpu")
    add_data_args(parser)
    args = parser.parse_args()

    out_dir = ensure_writable_dir(args.out_dir, "--out-dir")
    torch.manual_seed(0)
    model = MyModel()

    print("== way 1: save the whole model ==")
    whole_path = out_dir / "mymodel_method1.pth"
    save_whole_model(model, whole_path)
    print(f"torch.save(model, {whole_path!s})")
    try:
        torch.load(whole_path)  # the default since torch 2.6 is weights_only=True
    except Exception as error:
        print(f"torch.load(path) refuses it: {type(error).__name__}: {error_summary(error)}")
    print("safe fix: save the state_dict instead (way 2); use weights_only=False only for files you made yourself")
    loaded = load_whole_model(whole_path)
    print(
        f"torch.load(path, weights_only=False) -> {type(loaded).__name__}, same weights: {same_weights(model, loaded)}"
    )

    print("\n== way 2: save the state_dict (recommended) ==")
    state_path = out_dir / "mymodel_method2.pth"
    save_state_dict(model, state_path)
    print(f"torch.save(model.state_dict(), {state_path!s}): keys {list(model.state_dict())[:4]} ...")
    restored = load_state_dict_into_new_model(state_path)
    print(
        f"MyModel().load_state_dict(torch.load(path, weights_only=True)) -> same weights: {same_weights(model, restored)}"
    )
    for path in (whole_path, state_path):
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")

    print("\n== a checkpoint from 10_train_cifar10.py ==")
    checkpoint = Path(args.checkpoint) if args.checkpoint else newest_checkpoint()
    if checkpoint is None:
        print("no checkpoint yet: train first with python 10_train_cifar10.py (or pass --checkpoint PATH)")
        return
    if not checkpoint.is_file():
        raise UserError(f"--checkpoint {checkpoint} does not exist; train first with python 10_train_cifar10.py")
    evaluate_checkpoint(checkpoint, args)


if __name__ == "__main__":
    run_main(main)
