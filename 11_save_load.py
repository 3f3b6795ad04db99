"""网络模型的保存与读取 / Saving and loading models.

The notes save a model two ways:

  way 1  torch.save(model, path)               the whole object, pickled
  way 2  torch.save(model.state_dict(), path)  only the tensors (recommended)

This script does both and loads each back. Since torch 2.6, torch.load defaults to weights_only=True,
which refuses way 1's pickled object: loading it needs weights_only=False, and that runs whatever code
the file holds. Way 2 loads with weights_only=True into a model built from code. Last, it evaluates a
checkpoint written by 10_train_cifar10.py, on the data that run trained with unless flags say otherwise.

    python 11_save_load.py
    python 11_save_load.py --checkpoint checkpoints/<run-name>/best.pt --fake-data
"""

import argparse
import os
import re
from pathlib import Path

import torch

from nn_CIFAR10 import MyModel


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default="saved_models", help="where the two saved files go (default: %(default)s)")
    parser.add_argument("--checkpoint", help="a 10_train_cifar10.py checkpoint (default: newest checkpoints/*/best.pt)")
    data = parser.add_argument_group("data for the checkpoint's test (default: what the run trained on)")
    data.add_argument("--data-root", help="torchvision's CIFAR-10 download folder")
    data.add_argument("--image-folder", metavar="DIR", help="DIR/test/<class>/*.png")
    data.add_argument("--fake-data", action="store_true", help="the training tool's small synthetic set")
    args = parser.parse_args()

    out_dir = Path(args.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.exit(2, f"error: cannot create --out-dir {out_dir} ({error.strerror or error})\n")
    torch.manual_seed(0)
    model = MyModel()

    print("== way 1: save the whole model ==")
    torch.save(model, out_dir / "mymodel_method1.pth")
    try:
        torch.load(out_dir / "mymodel_method1.pth")  # weights_only=True is the default since torch 2.6
    except Exception as error:
        first_line = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()[0]  # without terminal colours
        print(f"torch.load(path) refuses it: {type(error).__name__}: {first_line}")
    # The notes load way 1 with a plain torch.load(path); today that needs weights_only=False, and the class
    # (MyModel) must be importable here exactly as when it was saved. Only for files you made yourself.
    model1 = torch.load(out_dir / "mymodel_method1.pth", weights_only=False)
    print(f"torch.load(path, weights_only=False) -> {type(model1).__name__}, same weights: {same(model, model1)}")

    print("\n== way 2: save the state_dict (recommended) ==")
    torch.save(model.state_dict(), out_dir / "mymodel_method2.pth")
    model2 = MyModel()
    model2.load_state_dict(torch.load(out_dir / "mymodel_method2.pth", weights_only=True))
    print(f"MyModel().load_state_dict(torch.load(path, weights_only=True)) -> same weights: {same(model, model2)}")
    for name in ("mymodel_method1.pth", "mymodel_method2.pth"):
        print(f"{name}: {os.path.getsize(out_dir / name) / 1024:.0f} KiB")

    print("\n== a checkpoint from 10_train_cifar10.py ==")
    try:  # the training tool's package reads its own checkpoints (and the data it trained on)
        from training.checkpoints import newest_checkpoint
        from training.cli import UserError
    except ImportError:
        print("this part needs the project's training/ package beside this file (the full project folder)")
        return
    checkpoint = Path(args.checkpoint) if args.checkpoint else newest_checkpoint()
    if checkpoint is None:
        print("no checkpoint yet: train first with python 10_train_cifar10.py (or pass --checkpoint PATH)")
        return
    try:
        evaluate_checkpoint(checkpoint, args)
    except UserError as error:  # a missing or foreign checkpoint, no data: one line
        parser.exit(2, f"error: {error}\n")


def same(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def evaluate_checkpoint(path: Path, args) -> None:
    """Load a 10_train_cifar10.py checkpoint (weights_only=True) and measure its test accuracy."""
    from training.checkpoints import load_checkpoint, restore_model
    from training.data import cifar10_tensors, to_model_input
    from training.models import MODELS

    checkpoint = load_checkpoint(path)
    settings = checkpoint["settings"]
    model = MODELS[checkpoint["model_name"]]()
    weights = restore_model(model, checkpoint, path, averaged=True)  # --ema runs: the averaged weights they tested
    if args.fake_data or args.image_folder or args.data_root:  # flags given now pick the data
        source = argparse.Namespace(
            fake_data=args.fake_data, image_folder=args.image_folder, data_root=args.data_root or "./dataset"
        )
    else:  # else the data the run trained with
        source = argparse.Namespace(**{k: settings[k] for k in ("fake_data", "image_folder", "data_root")})
    images, labels = cifar10_tensors(source, train=False)
    model.eval()
    with torch.no_grad():
        outputs = torch.cat([model(to_model_input(x, settings["normalize"])) for x in images.split(500)])
    accuracy = (outputs.argmax(1) == labels).float().mean().item()
    history = checkpoint["progress"]["history"]
    saved = f" (saved with it: {100 * history[-1]['test_accuracy']:.2f}%)" if history else ""
    print(
        f"checkpoint {path}: {checkpoint['model_name']}, {checkpoint['progress']['epochs_done']} epoch(s), "
        f"test accuracy now {100 * accuracy:.2f}% on {len(labels)} images{saved}; weights: {weights}"
    )


if __name__ == "__main__":
    main()
