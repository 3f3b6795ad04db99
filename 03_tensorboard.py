"""TensorBoard 的使用 / TensorBoard.

SummaryWriter writes event files into a log folder; the `tensorboard` command reads that
folder and shows it in the browser.

  add_scalar(tag, y, x)      one point of a curve: here y = x^2 (and y = 2x) for x = 0..99
  add_image(tag, img, step)  one picture; a numpy image from PIL is (H, W, C), so it needs
                             dataformats="HWC" (the default is (C, H, W))

    python 03_tensorboard.py                        # draws its own picture
    python 03_tensorboard.py --image data/train/ants_image/0013035.jpg
    python 03_tensorboard.py --image other.jpg --image-step 2   # a second picture: drag the step slider
    tensorboard --logdir logs/03_tensorboard --port 6007

Run it twice and the curves are drawn on top of each other: use a new --logdir per run,
or delete the old folder.
"""

import argparse
import os

import numpy as np
from PIL import Image
from torch.utils.tensorboard import SummaryWriter

PORT = 6007


def positive_int(text):
    """argparse type: a whole number >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text):
    """argparse type: a whole number >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def draw_image(height=240, width=320):
    """A (H, W, 3) uint8 picture: a colour gradient with a yellow disc, made with numpy."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 160)], axis=-1)
    image[(x - width * 0.6) ** 2 + (y - height * 0.45) ** 2 < (height * 0.25) ** 2] = (250, 220, 40)
    return image.astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logdir", default="logs/03_tensorboard", help="TensorBoard log folder (default: %(default)s)")
    parser.add_argument("--image", metavar="PATH", help="picture file to log (default: one drawn with numpy)")
    parser.add_argument("--image-step", type=non_negative_int, default=1, help="step of the picture (default: 1)")
    parser.add_argument("--steps", type=positive_int, default=100, help="points on each curve (default: 100)")
    args = parser.parse_args()

    if args.image is None:
        img_array = draw_image()
    else:
        image_path = args.image
        if os.path.isdir(image_path):
            parser.exit(2, f"error: --image {image_path} is a folder; give the path of one .jpg or .png file\n")
        if not os.path.isfile(image_path):
            parser.exit(2, f"error: --image {image_path} does not exist; give the path of a .jpg or .png file\n")
        try:
            # The notes use Image.open(image_path) as it is; a grayscale file then gives an (H, W) array that
            # dataformats="HWC" refuses, so here convert("RGB") always gives (H, W, 3).
            img_PIL = Image.open(image_path).convert("RGB")
        except OSError as error:  # not really a picture, or a truncated one
            parser.exit(2, f"error: cannot read image {image_path} ({error})\n")
        img_array = np.array(img_PIL)
    print(type(img_array))
    print(img_array.shape, img_array.dtype, "(H, W, C)")

    try:
        writer = SummaryWriter(args.logdir)  # the notes: SummaryWriter("logs")
    except OSError as error:  # --logdir names a file, or a folder you may not write to
        parser.exit(2, f"error: cannot write TensorBoard logs to --logdir {args.logdir} ({error.strerror or error})\n")
    writer.add_image("train", img_array, args.image_step, dataformats="HWC")
    for i in range(args.steps):
        writer.add_scalar("y=x^2", i**2, i)
        writer.add_scalar("y=2x", 2 * i, i)
    writer.close()

    last = args.steps - 1
    print(f"wrote 'train' at step {args.image_step}, and 'y=x^2', 'y=2x' for x = 0..{last} (y=x^2 ends at {last**2})")
    print(f"see them in TensorBoard: tensorboard --logdir {args.logdir} --port {PORT}")
    print(f"then open http://localhost:{PORT}. If the port is busy, see which program holds it:")
    print(f"  Linux/macOS: lsof -i :{PORT}")
    print(f"  Windows:     netstat -ano | findstr {PORT}   then   tasklist | findstr <PID>")
    print(f"or use another port: --port {PORT + 1}")


if __name__ == "__main__":
    main()
