"""TensorBoard 的使用 / TensorBoard.

SummaryWriter writes event files into a log folder; the `tensorboard` command
reads that folder and shows it in the browser.

  add_scalar(tag, y, x)      one point of a curve: here y = x^2 (and y = 2x) for x = 0..99
  add_image(tag, img, step)  one picture; a numpy image from PIL is (H, W, C), so it needs
                             dataformats="HWC" (the default is (C, H, W))

    python 03_tensorboard.py                        # draws its own picture
    python 03_tensorboard.py --image data/train/ants_image/0013035.jpg
    python 03_tensorboard.py --image other.jpg --image-step 2   # a second picture: drag the step slider
    tensorboard --logdir logs/03_tensorboard --port 6007

Run it twice and the curves are drawn on top of each other: use a new
--logdir per run, or delete the old folder.
"""

import argparse
from pathlib import Path

import numpy as np

from common import (
    UserError,
    add_logdir_arg,
    load_rgb,
    make_writer,
    non_negative_int,
    positive_int,
    run_main,
    tensorboard_hint,
)

PORT = 6007


def draw_image(height: int = 240, width: int = 320) -> np.ndarray:
    """A (H, W, 3) uint8 picture: a colour gradient with a yellow disc, made with numpy."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 160)], axis=-1)
    disc = (x - width * 0.6) ** 2 + (y - height * 0.45) ** 2 < (height * 0.25) ** 2
    image[disc] = (250, 220, 40)
    return image.astype(np.uint8)


def read_image(path: str) -> np.ndarray:
    """An image file as a (H, W, 3) uint8 numpy array, or a UserError naming the file."""
    if not Path(path).is_file():
        raise UserError(f"--image {path} is not a file (give the path of a .jpg or .png file)")
    return np.array(load_rgb(path))  # RGB, so grayscale/RGBA files become 3 channels too


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_logdir_arg(parser, "03_tensorboard")
    parser.add_argument("--image", metavar="PATH", help="picture to log (default: one drawn with numpy)")
    parser.add_argument(
        "--image-step", type=non_negative_int, default=1, help="step to log the picture at (default: 1)"
    )
    parser.add_argument("--steps", type=positive_int, default=100, help="points on each curve (default: 100)")
    args = parser.parse_args()

    img_array = read_image(args.image) if args.image else draw_image()
    source = args.image or "drawn with numpy"
    print(f"image ({source}): type {type(img_array).__name__}, shape {img_array.shape} (H, W, C), {img_array.dtype}")

    writer = make_writer(args.logdir)
    writer.add_image("image", img_array, args.image_step, dataformats="HWC")
    for i in range(args.steps):
        writer.add_scalar("y=x^2", i**2, i)
        writer.add_scalar("y=2x", 2 * i, i)
    writer.close()

    last = args.steps - 1
    print(f"wrote 'image' at step {args.image_step}, and 'y=x^2', 'y=2x' for x = 0..{last} (y=x^2 ends at {last**2})")
    print(f"{tensorboard_hint(args.logdir)} --port {PORT}")
    print(f"then open http://localhost:{PORT}. If the port is busy, see which program holds it:")
    print(f"  Linux/macOS: lsof -i :{PORT}")
    print(f"  Windows:     netstat -ano | findstr {PORT}   then   tasklist | findstr <PID>")
    print(f"or use another port: --port {PORT + 1}")


if __name__ == "__main__":
    run_main(main)
