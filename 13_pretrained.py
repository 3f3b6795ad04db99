"""现有网络模型的使用及修改 / Using and modifying a torchvision model.

torchvision.models builds well-known networks in one call. With no flags this script builds
VGG16 with random weights (weights=None: no download), prints its classifier (7 layers, (0)-(6),
the last one giving 1000 ImageNet scores) and makes the notes' two edits for CIFAR-10's 10 classes:
  classifier.add_module('add_linear', nn.Linear(1000, 10))   append a layer, named (add_linear)
  classifier[6] = nn.Linear(4096, 10)                         replace the last layer
Both give 10 scores for a 224x224 image and for a 32x32 CIFAR-10 image.

--weights DEFAULT loads the ImageNet weights (downloaded once into torch.hub.get_dir()/checkpoints);
--weights-file PATH loads a state_dict you have (torch.load(PATH, weights_only=True)). Both apply to
the model the run builds: VGG16, or ResNet-18 with --finetune, which trains ResNet-18 with a new
10-class head (model.fc) on CIFAR-10; with loaded weights, --freeze trains only that head.

    python 13_pretrained.py                                   # offline, a few seconds
    python 13_pretrained.py --weights DEFAULT                 # ImageNet weights (528 MB download once)
    python 13_pretrained.py --finetune --fake-data            # ResNet-18 from scratch, no dataset
    python 13_pretrained.py --finetune --weights DEFAULT --freeze --epochs 3
    tensorboard --logdir logs/13_pretrained
"""

import argparse
import copy
import os
import pickle
import warnings

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

# What building a model with weights= can raise: no internet, a firewall (URLError is an OSError),
# or a damaged file in the hub folder.
LOAD_ERRORS = (OSError, RuntimeError, EOFError, pickle.UnpicklingError)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--weights",
        choices=("DEFAULT", "IMAGENET1K_V1"),
        help="load torchvision's ImageNet weights (downloaded once into torch.hub.get_dir()/checkpoints): "
        "for vgg16, or resnet18 with --finetune",
    )
    source.add_argument(
        "--weights-file",
        metavar="PATH",
        help="load a local state_dict with torch.load(PATH, weights_only=True): "
        "a vgg16 one, or a resnet18 one (1000-class head) with --finetune",
    )
    parser.add_argument("--finetune", action="store_true", help="train resnet18 with a new 10-class head on CIFAR-10")
    parser.add_argument("--freeze", action="store_true", help="with --finetune and weights: train only the new head")
    parser.add_argument("--epochs", type=positive(int), default=1, help="--finetune epochs (default: 1)")
    parser.add_argument("--batch-size", type=positive(int), default=64, help="--finetune batch size (default: 64)")
    parser.add_argument("--lr", type=positive(float), default=0.01, help="--finetune SGD learning rate (default: 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --finetune (default: 0)")
    parser.add_argument("--save", metavar="PATH", help="--finetune: save the trained model's state_dict to PATH")
    parser.add_argument("--data-root", default="./dataset", help="CIFAR-10 folder (default: ./dataset)")
    parser.add_argument("--image-folder", metavar="DIR", help="read DIR/train/<class>/*.png and DIR/test/<class>/*.png")
    parser.add_argument("--fake-data", action="store_true", help="random CIFAR-shaped images: no files, no network")
    parser.add_argument(
        "--logdir", default="logs/13_pretrained", help="TensorBoard folder (default: logs/13_pretrained)"
    )
    args = parser.parse_args()
    check_flags(args, parser)
    state_dict = load_weights_file(args.weights_file, parser) if args.weights_file else None
    if args.finetune:
        return finetune(args, parser, state_dict)

    # The notes write vgg16(pretrained=True/False); torchvision 0.13 replaced that with weights=
    # (None = random weights, no download; VGG16_Weights.DEFAULT = the best ImageNet weights).
    weights = torchvision.models.VGG16_Weights[args.weights] if args.weights else None
    try:
        vgg16 = torchvision.models.vgg16(weights=weights)
    except LOAD_ERRORS as error:
        parser.exit(2, download_error(weights, error))
    if state_dict is not None:
        load_into(vgg16, "vgg16", state_dict, args.weights_file, parser)
    print(f"vgg16 ({weights or args.weights_file or 'weights=None: random weights'}), classifier:\n{vgg16.classifier}")
    print(f"parameters: {count(vgg16):,}\n")
    # The notes build a second VGG16 for the second edit; a copy of the untouched model is the same
    # thing without another ~1.5 s of random initialisation (and, with --weights, another load).
    vgg16_replaced = copy.deepcopy(vgg16)

    # Edit 1 (the notes do it on vgg16_true, the pretrained one): append a layer after (6). It is
    # named (add_linear), not (7); classifier[7] and classifier[-1] still reach it by position.
    vgg16.classifier.add_module("add_linear", nn.Linear(1000, 10))
    print(f"classifier.add_module('add_linear', nn.Linear(1000, 10)):\n{vgg16.classifier}")
    print(f"parameters: {count(vgg16):,}; outputs: {output_shapes(vgg16)}\n")

    # Edit 2 (the notes do it on vgg16_false, the random one): replace the last layer, 4096 -> 10.
    vgg16_replaced.classifier[6] = nn.Linear(4096, 10)
    print(f"classifier[6] = nn.Linear(4096, 10):\n{vgg16_replaced.classifier}")
    print(f"parameters: {count(vgg16_replaced):,}; outputs: {output_shapes(vgg16_replaced)}\n")

    # weights= against the notes' pretrained=, and the preprocessing a pretrained model expects.
    default = torchvision.models.VGG16_Weights.DEFAULT
    print(
        f"weights=None: random weights. weights=VGG16_Weights.DEFAULT ({default.name}): ImageNet weights, "
        f"downloaded once to {os.path.join(torch.hub.get_dir(), 'checkpoints', os.path.basename(default.url))}"
    )
    print(f"pretrained=True (the notes): {pretrained_argument_status()}")
    print(
        f"a pretrained model expects its training's preprocessing, VGG16_Weights.DEFAULT.transforms():\n"
        f"{default.transforms()}"
    )


def finetune(args, parser, state_dict):
    """ResNet-18 with a new 10-class head, trained on CIFAR-10 (only the head with --freeze)."""
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    weights = torchvision.models.ResNet18_Weights[args.weights] if args.weights else None
    try:
        model = torchvision.models.resnet18(weights=weights)
    except LOAD_ERRORS as error:
        parser.exit(2, download_error(weights, error))
    if state_dict is not None:
        load_into(model, "resnet18 (1000-class head)", state_dict, args.weights_file, parser)
    if args.freeze:
        model.requires_grad_(False)  # the backbone: no gradients, so nothing in it can change
    model.fc = nn.Linear(model.fc.in_features, 10)  # the new head (512 -> 10) is a fresh, trainable layer
    model.to(device)
    optim = torch.optim.SGD(model.fc.parameters() if args.freeze else model.parameters(), lr=args.lr)
    trainable = sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
    print(
        f"resnet18 ({weights or args.weights_file or 'random weights'}), fc = {model.fc}: "
        f"{trainable:,} of {count(model):,} parameters trainable"
    )
    if weights is None and state_dict is None:
        print("training from scratch (random weights); a pretrained start needs --weights DEFAULT or --weights-file")

    # The pretrained weights expect ResNet18_Weights.DEFAULT.transforms(): its mean/std are used here, but
    # not its resize to 256 and crop to 224 (~50x slower on a CPU); 32x32 works (adaptive average pooling).
    preprocess = torchvision.models.ResNet18_Weights.DEFAULT.transforms()
    normalize = torchvision.transforms.Normalize(mean=preprocess.mean, std=preprocess.std)
    transform = torchvision.transforms.Compose([torchvision.transforms.ToTensor(), normalize])
    try:
        if args.fake_data:  # random CIFAR-shaped images made in memory: no files, no network (random labels)
            train_data = torchvision.datasets.FakeData(
                size=128, image_size=(3, 32, 32), num_classes=10, transform=transform, random_offset=1000
            )
            test_data = torchvision.datasets.FakeData(
                size=32, image_size=(3, 32, 32), num_classes=10, transform=transform
            )
        elif args.image_folder:  # your own copy: DIR/<split>/<class>/*.png (class folders sorted = CIFAR-10's labels)
            train_data = torchvision.datasets.ImageFolder(os.path.join(args.image_folder, "train"), transform=transform)
            test_data = torchvision.datasets.ImageFolder(os.path.join(args.image_folder, "test"), transform=transform)
        else:
            train_data = torchvision.datasets.CIFAR10(
                root=args.data_root, train=True, transform=transform, download=True
            )
            test_data = torchvision.datasets.CIFAR10(
                root=args.data_root, train=False, transform=transform, download=True
            )
    except (OSError, RuntimeError) as error:  # no internet, a firewall, an SSL error, a missing folder
        parser.exit(
            2,
            f"error: no CIFAR-10 ({one_line(error)}); offline: put cifar-10-python.tar.gz from "
            f"https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz in {args.data_root}/, "
            "or use --image-folder DIR or --fake-data\n",
        )
    train_loader = DataLoader(dataset=train_data, batch_size=args.batch_size, shuffle=True, num_workers=0)
    test_loader = DataLoader(dataset=test_data, batch_size=args.batch_size, num_workers=0)

    loss_fn = nn.CrossEntropyLoss()
    try:
        writer = SummaryWriter(args.logdir)
    except OSError as error:  # a file where the folder should be, no permission
        parser.exit(2, f"error: cannot write to --logdir {args.logdir} ({error.strerror or error})\n")
    before = {"conv1.weight": model.conv1.weight.detach().clone(), "fc.weight": model.fc.weight.detach().clone()}
    total_train_step = 0
    for epoch in range(1, args.epochs + 1):
        # requires_grad_(False) stops gradients, but BatchNorm still updates its running mean/var in
        # train(): a frozen backbone stays in eval() (the fc head behaves the same in both modes).
        model.train(not args.freeze)
        for step, (imgs, targets) in enumerate(read_or_exit(train_loader, parser)):
            imgs, targets = imgs.to(device), targets.to(device)
            result_loss = loss_fn(model(imgs), targets)
            optim.zero_grad()
            result_loss.backward()
            optim.step()
            writer.add_scalar("train/loss", result_loss.item(), total_train_step)
            total_train_step += 1
            if step % max(1, len(train_loader) // 10) == 0:
                print(f"epoch {epoch} [{step * args.batch_size}/{len(train_data)}] loss {result_loss.item():.4f}")
        model.eval()
        total_accuracy = 0
        with torch.no_grad():
            for imgs, targets in read_or_exit(test_loader, parser):
                outputs = model(imgs.to(device))
                total_accuracy += (outputs.argmax(1) == targets.to(device)).sum().item()
        writer.add_scalar("test/accuracy", total_accuracy / len(test_data), epoch)
        print(f"epoch {epoch}: test accuracy {total_accuracy / len(test_data):.4f}")
    writer.close()
    for name, value in before.items():
        print(f"{name} changed: {not torch.equal(value, model.get_parameter(name).detach())}")
    if args.save:
        torch.save(model.state_dict(), args.save)
        print(f"saved the state_dict to {args.save}")
    print(f"tensorboard --logdir {args.logdir}")


def read_or_exit(loader, parser):
    """The loader's batches; an image file that cannot be read (corrupt, not an image) ends in one line."""
    try:
        yield from loader
    except OSError as error:  # PIL's UnidentifiedImageError is an OSError
        parser.exit(2, f"error: cannot read an image ({one_line(error)}); remove or replace that file\n")


def check_flags(args, parser):
    if not args.finetune:
        for flag in ("freeze", "save", "fake_data", "image_folder"):
            if getattr(args, flag):
                parser.error(f"--{flag.replace('_', '-')} only applies with --finetune")
    # Decided: a frozen *random* backbone would leave a linear head on random features, so it is refused.
    if args.freeze and not (args.weights or args.weights_file):
        parser.error(
            "--freeze needs --weights DEFAULT or --weights-file: freezing random weights trains nothing useful"
        )
    if args.save and (os.path.isdir(args.save) or not os.path.isdir(os.path.dirname(os.path.abspath(args.save)))):
        parser.error(f"--save {args.save}: give a file name in an existing folder")


def load_weights_file(path, parser):
    """torch.load(path, weights_only=True): a dict of tensors, or one clear line and exit 2."""
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as error:  # missing, a folder, no permission
        parser.exit(2, f"error: cannot read --weights-file {path}: {error.strerror or error}\n")
    except Exception as error:  # torch.load raises many kinds (UnpicklingError, RuntimeError, EOFError, KeyError)
        if "Unsupported global" in str(error):  # weights_only=True refuses pickled classes
            parser.exit(
                2,
                f"error: --weights-file {path} holds pickled objects (torch.save(model)?), which "
                "weights_only=True refuses: save model.state_dict() instead\n",
            )
        parser.exit(
            2,
            f"error: --weights-file {path} is not a torch.save file, or is damaged or truncated "
            f"({type(error).__name__}: {one_line(error)})\n",
        )
    if not isinstance(state_dict, dict):
        parser.exit(2, f"error: --weights-file {path} holds a {type(state_dict).__name__}, not a state_dict\n")
    return state_dict


def load_into(model, name, state_dict, path, parser):
    try:
        model.load_state_dict(state_dict)
    except (RuntimeError, TypeError) as error:  # other keys, other shapes
        parser.exit(2, f"error: --weights-file {path} is not a {name} state_dict: {one_line(error)}\n")


def download_error(weights, error):
    folder = os.path.join(torch.hub.get_dir(), "checkpoints")
    file = os.path.basename(weights.url)
    if os.path.isfile(os.path.join(folder, file)):
        return f"error: {os.path.join(folder, file)} is damaged ({one_line(error)}); delete it and run again\n"
    return (
        f"error: could not download {file} ({one_line(error)}); offline: put {file} from {weights.url} in "
        f"{folder}/ (torch.hub.get_dir()/checkpoints: $TORCH_HOME/hub/checkpoints, TORCH_HOME defaults to "
        "~/.cache/torch), or run without --weights\n"
    )


def pretrained_argument_status():
    """What this torchvision does with the old pretrained= argument (tried on resnet18: small, no download)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            torchvision.models.resnet18(pretrained=False)
        except TypeError:
            return f"removed in torchvision {torchvision.__version__}: use weights="
    if caught:
        return f"torchvision {torchvision.__version__} still accepts it, warning: {caught[0].message}"
    return f"torchvision {torchvision.__version__} accepts it silently; prefer weights="


def output_shapes(model):
    """Shapes out for an ImageNet-sized and a CIFAR-10-sized batch (eval: Dropout off; no_grad: no graph)."""
    model.eval()
    shapes = []
    with torch.no_grad():
        # 32x32 works too: VGG16's 5 max-pools leave 1x1, and AdaptiveAvgPool2d((7, 7)) spreads it to 7x7.
        for x in (torch.rand(1, 3, 224, 224), torch.rand(4, 3, 32, 32)):
            shapes.append(f"{tuple(x.shape)} -> {tuple(model(x).shape)}")
    return ", ".join(shapes)


def count(model):
    return sum(parameter.numel() for parameter in model.parameters())


def one_line(error):
    """An exception's text on one line, cut to 200 characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= 200 else text[:197] + "..."


def positive(kind):
    """argparse type: a positive int or float."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' * (kind is int)}number, got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


if __name__ == "__main__":
    main()
