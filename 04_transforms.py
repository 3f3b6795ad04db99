"""Transforms 的使用 / torchvision.transforms, torchvision 中数据集的使用 / torchvision.datasets.

A transform is a class: make one (trans_totensor = transforms.ToTensor()), then call it on an
image (img_tensor = trans_totensor(img)). Each result goes to TensorBoard under its own tag:
ToTensor (PIL (W, H) -> tensor [C, H, W] in [0, 1]), ToPILImage (and back), Normalize
((x - 0.5) / 0.5 maps [0, 1] to [-1, 1]), Resize((512, 512)) (step 0) and
Compose([Resize(512), ToTensor()]) (shorter side 512, step 1), RandomCrop(512) ten times.
Last, a dataset applies a transform to every image it hands out:
CIFAR10(..., transform=Compose([ToTensor()])), its first ten test images under "test_set".

    python 04_transforms.py --fake-data     # a picture drawn with numpy; CIFAR-10 part without download
    python 04_transforms.py --image data/train/ants_image/0013035.jpg   # downloads CIFAR-10 too
    tensorboard --logdir logs/04_transforms
"""

import argparse
import os

import numpy as np
import torchvision
from PIL import Image
from torch.utils.tensorboard import SummaryWriter
from torchvision import transforms

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def positive_int(text):
    """argparse type: a whole number >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def draw_image(width=1024, height=768):
    """A colour gradient with a white grid and a red disc, so that random crops look different."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([40 + x * 200 // width, 40 + y * 200 // height, np.full_like(x, 150)], axis=-1)
    pixels[((x + 64) % 128 < 4) | ((y + 64) % 128 < 4)] = (255, 255, 255)
    pixels[(x - 250) ** 2 + (y - 200) ** 2 < 90**2] = (230, 60, 40)
    return Image.fromarray(pixels.astype(np.uint8))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", metavar="PATH", help="picture to transform (default: a 1024x768 one drawn here)")
    parser.add_argument("--crop-size", type=positive_int, default=512, help="RandomCrop size (default: 512)")
    parser.add_argument("--logdir", default="logs/04_transforms", help="TensorBoard log folder (default: %(default)s)")
    parser.add_argument("--data-root", default="./dataset", help="where CIFAR-10 is downloaded (default: ./dataset)")
    parser.add_argument("--image-folder", metavar="DIR", help="read DIR/test/<class>/*.png instead of CIFAR-10")
    parser.add_argument("--fake-data", action="store_true", help="random CIFAR-shaped images: no files, no network")
    args = parser.parse_args()

    if args.image and not os.path.isfile(args.image):
        problem = (
            "is a folder; give the path of one .jpg or .png file" if os.path.isdir(args.image) else "does not exist"
        )
        parser.exit(2, f"error: --image {args.image} {problem}\n")
    try:
        # The notes open a .png as it is; an RGBA one has 4 channels and then Normalize with 3 means fails,
        # so convert("RGB") here.
        img = Image.open(args.image).convert("RGB") if args.image else draw_image()
    except OSError as error:  # not really a picture, or a truncated one
        parser.exit(2, f"error: cannot read image {args.image} ({error})\n")
    print(f"img: PIL size {img.size} (W, H), mode {img.mode}")
    try:
        writer = SummaryWriter(args.logdir)  # the notes: SummaryWriter("logs")
    except OSError as error:  # --logdir names a file, or a folder you may not write to
        parser.exit(2, f"error: cannot write TensorBoard logs to --logdir {args.logdir} ({error.strerror or error})\n")

    # ToTensor: PIL (W, H) -> float tensor [C, H, W] in [0, 1]
    trans_totensor = transforms.ToTensor()
    img_tensor = trans_totensor(img)
    print(f"ToTensor: shape {img_tensor.shape}, values {img_tensor.min():.4f} .. {img_tensor.max():.4f}")
    writer.add_image("ToTensor", img_tensor)
    # ToPILImage: and back again, without losing a pixel
    img_back = transforms.ToPILImage()(img_tensor)
    print(f"ToPILImage: size {img_back.size}, same pixels: {np.array_equal(np.array(img_back), np.array(img))}")
    # Normalize: (x - mean) / std per channel
    trans_norm = transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    img_norm = trans_norm(img_tensor)
    print(f"Normalize: img_tensor[0][0][0] {img_tensor[0][0][0]:.6f} -> img_norm[0][0][0] {img_norm[0][0][0]:.6f}")
    writer.add_image("Normalize", img_norm, 0)  # TensorBoard shows the negative half as black
    # Resize((512, 512)): PIL -> PIL of exactly that size, then ToTensor for TensorBoard
    trans_resize = transforms.Resize((512, 512))
    img_resize = trans_resize(img)
    print(f"Resize((512, 512)): {img.size} -> {img_resize.size}")
    writer.add_image("Resize", trans_totensor(img_resize), 0)
    # Compose: Resize(512) keeps the aspect ratio (shorter side 512), then ToTensor
    trans_resize_2 = transforms.Resize(512)
    trans_compose = transforms.Compose([trans_resize_2, trans_totensor])
    img_resize_2 = trans_compose(img)
    print(f"Compose([Resize(512), ToTensor()]): {img.size} -> {img_resize_2.shape}")
    writer.add_image("Resize", img_resize_2, 1)
    # RandomCrop: a different part of the picture every call
    crop_size = min(args.crop_size, img.width, img.height)  # a crop cannot be larger than the picture
    trans_random = transforms.RandomCrop(crop_size)
    trans_compose_2 = transforms.Compose([trans_random, trans_totensor])
    for i in range(10):
        img_crop = trans_compose_2(img)
        writer.add_image("RandomCrop", img_crop, i)
    print(f"RandomCrop({crop_size}): 10 crops of shape {img_crop.shape}, steps 0..9")
    writer.flush()  # the transforms above are saved even if CIFAR-10 below cannot be had

    # torchvision.datasets with a transform: every image it hands out is already a tensor
    dataset_transform = torchvision.transforms.Compose([torchvision.transforms.ToTensor()])
    try:
        if args.fake_data:  # random CIFAR-shaped images made in memory: no files, no network
            test_set = torchvision.datasets.FakeData(200, (3, 32, 32), num_classes=10, transform=dataset_transform)
        elif args.image_folder:  # your own copy: DIR/test/<class>/*.png (class folders sorted = CIFAR-10's labels)
            test_set = torchvision.datasets.ImageFolder(os.path.join(args.image_folder, "test"), dataset_transform)
        else:
            test_set = torchvision.datasets.CIFAR10(
                root=args.data_root, train=False, transform=dataset_transform, download=True
            )
        for i in range(min(10, len(test_set))):
            img, target = test_set[i]
            writer.add_image("test_set", img, i)
    except (OSError, RuntimeError) as error:  # no internet, a firewall, an SSL error, a missing folder, a bad file
        reason = str(error).partition("\n")[0]  # one line: the message may go on over several
        parser.exit(
            2,
            f"error: no CIFAR-10 in {args.image_folder or args.data_root} ({reason}); offline: put "
            "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz in "
            f"{args.data_root}/, or use --image-folder DIR or --fake-data\n",
        )
    writer.close()
    img, target = test_set[0]
    classes = getattr(test_set, "classes", CLASSES)  # FakeData has no .classes
    print(f"test_set: {len(test_set)} images; test_set[0]: {list(img.shape)}, target {target} ({classes[target]})")
    print(f"see them in TensorBoard (IMAGES tab): tensorboard --logdir {args.logdir}")


if __name__ == "__main__":
    main()
