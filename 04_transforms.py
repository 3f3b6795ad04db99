"""Transforms 的使用 / torchvision.transforms, torchvision 中数据集的使用 / torchvision.datasets.

A transform is a class: make one (tool = transforms.ToTensor()), then call it on
an image (result = tool(img)). Shown on one picture, each result logged to
TensorBoard under its own tag:

  ToTensor     PIL image (W, H) -> float tensor [C, H, W] with values in [0, 1]
  ToPILImage   tensor -> PIL image again (the same pixels)
  Normalize    per channel (x - mean) / std; mean 0.5, std 0.5 maps [0, 1] to [-1, 1]
  Resize       (512, 512) gives exactly that size; one number (512) sets the shorter side
  Compose      chains transforms: Compose([Resize(512), ToTensor()])
  RandomCrop   a random 512x512 part, ten times (steps 0..9 under "RandomCrop")

Last, as in the notes, a dataset applies a transform to every image it hands
out: CIFAR10(..., transform=Compose([ToTensor()])), its first ten test images
logged under "CIFAR10 test_set" (the data flags pick the source).

    python 04_transforms.py                          # on a picture drawn with numpy, then CIFAR-10
    python 04_transforms.py --fake-data              # CIFAR-10 part without the download
    python 04_transforms.py --image data/train/ants_image/0013035.jpg
    tensorboard --logdir logs/04_transforms
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from torchvision import transforms

from common import (
    UserError,
    add_data_args,
    add_logdir_arg,
    cifar10_dataset,
    load_rgb,
    make_writer,
    positive_int,
    run_main,
    tensorboard_hint,
)


def draw_image(width: int = 1024, height: int = 768) -> Image.Image:
    """A colour gradient with a grid and a few discs, so that random crops look different."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([40 + x * 200 // width, 40 + y * 200 // height, np.full_like(x, 150)], axis=-1)
    pixels[((x + 64) % 128 < 4) | ((y + 64) % 128 < 4)] = (255, 255, 255)
    for cx, cy, colour in ((250, 200, (230, 60, 40)), (700, 520, (40, 200, 90)), (850, 180, (250, 220, 40))):
        pixels[(x - cx) ** 2 + (y - cy) ** 2 < 90**2] = colour
    return Image.fromarray(pixels.astype(np.uint8))


def read_image(path: str) -> Image.Image:
    """An image file as an RGB PIL image, or a UserError naming the file."""
    if not Path(path).is_file():
        raise UserError(f"--image {path} is not a file (give the path of a .jpg or .png file)")
    return load_rgb(path)  # RGB, so grayscale/RGBA files become 3 channels too


def show_cifar10(args, writer) -> None:
    """torchvision.datasets.CIFAR10 with a transform: every image it hands out is already a tensor."""
    dataset_transform = transforms.Compose([transforms.ToTensor()])
    test_set = cifar10_dataset(args, train=False, transform=dataset_transform)
    img, target = test_set[0]
    print(
        f"CIFAR10 test_set: {len(test_set)} images; test_set[0] is a tensor {tuple(img.shape)}, "
        f"target {target} ({test_set.classes[target]})"
    )
    for i in range(10):
        img, target = test_set[i]
        writer.add_image("CIFAR10 test_set", img, i)
    print("CIFAR10 test_set: the first 10 images are in TensorBoard, steps 0..9")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_logdir_arg(parser, "04_transforms")
    parser.add_argument("--image", metavar="PATH", help="picture to transform (default: a 1024x768 one drawn here)")
    parser.add_argument(
        "--crop-size", type=positive_int, default=512, help="RandomCrop size, at most the shorter side (default: 512)"
    )
    add_data_args(parser)
    args = parser.parse_args()

    img = read_image(args.image) if args.image else draw_image()
    print(f"image ({args.image or 'drawn with numpy'}): PIL size {img.size} (W, H), mode {img.mode}")
    writer = make_writer(args.logdir)

    # ToTensor: PIL (W, H) -> float tensor [C, H, W] in [0, 1]
    trans_totensor = transforms.ToTensor()
    img_tensor = trans_totensor(img)
    low, high = img_tensor.min().item(), img_tensor.max().item()
    print(f"ToTensor: shape {img_tensor.shape}, dtype {img_tensor.dtype}, values {low:.4f} .. {high:.4f}")
    writer.add_image("ToTensor", img_tensor, 0)

    # ToPILImage: and back again, without losing a pixel
    img_back = transforms.ToPILImage()(img_tensor)
    same = np.array_equal(np.array(img_back), np.array(img))
    print(f"ToPILImage: PIL size {img_back.size}, mode {img_back.mode}, same pixels as the original: {same}")

    # Normalize: (x - mean) / std per channel
    trans_norm = transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    img_norm = trans_norm(img_tensor)
    before, after = img_tensor[0][0][0].item(), img_norm[0][0][0].item()
    print(f"Normalize: img_tensor[0][0][0] {before:.6f} -> img_norm[0][0][0] {after:.6f}  (= (x - 0.5) / 0.5)")
    writer.add_image("Normalize", img_norm, 0)  # TensorBoard clips the negative half to black

    # Resize((512, 512)): PIL -> PIL of exactly that size
    trans_resize = transforms.Resize((512, 512))
    img_resize = trans_resize(img)
    print(f"Resize((512, 512)): PIL size {img.size} -> {img_resize.size}")
    writer.add_image("Resize", trans_totensor(img_resize), 0)

    # Compose: Resize(512) keeps the aspect ratio (shorter side 512), then ToTensor
    trans_compose = transforms.Compose([transforms.Resize(512), trans_totensor])
    img_compose = trans_compose(img)
    print(f"Compose([Resize(512), ToTensor()]): PIL size {img.size} -> tensor shape {img_compose.shape}")
    writer.add_image("Compose", img_compose, 0)

    # RandomCrop: a different part of the picture every call
    crop_size = min(args.crop_size, img.width, img.height)
    if crop_size < args.crop_size:
        print(f"note: the image is smaller than --crop-size {args.crop_size}; cropping {crop_size} instead")
    trans_random = transforms.Compose([transforms.RandomCrop(crop_size), trans_totensor])
    for i in range(10):
        img_crop = trans_random(img)
        writer.add_image("RandomCrop", img_crop, i)
    print(f"RandomCrop({crop_size}): 10 crops, each tensor shape {img_crop.shape}, steps 0..9")
    writer.flush()  # the transforms above are saved even if the CIFAR-10 download below fails

    show_cifar10(args, writer)
    writer.close()
    print(tensorboard_hint(args.logdir), "(IMAGES tab; drag the RandomCrop step slider)")


if __name__ == "__main__":
    run_main(main)
