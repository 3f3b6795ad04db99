"""数据变换工具箱：Transforms, 官方数据集：torchvision.datasets / Transforms, and torchvision's datasets.

The notes' 【数据准备】三: 3.1 turns the ants picture into a Tensor; 3.2's common transforms, each on that picture
with a print of what it changed. 四: a torchvision dataset (CIFAR-10) applies its transform= to every image.

    python 04_transforms.py --fake-data   # random images in place of CIFAR-10, no download
    python 04_transforms.py               # downloads CIFAR-10 (170 MB) into ./dataset, once
"""

import argparse
import os
import sys

import numpy as np
import torchvision.datasets
from PIL import Image
from torchvision import transforms

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--fake-data', action='store_true', help='random images in place of CIFAR-10: no download')
args = parser.parse_args()

# 1. 将PIL图片转换为Tensor
img_path = "data/train/ants/0013031.jpg"
if not os.path.exists(img_path):  # the notes' ants picture is not included: draw a 320x240 stand-in there
    os.makedirs('data/train/ants', exist_ok=True)
    y, x = np.mgrid[0:240, 0:320]
    pixels = np.stack([x * 255 // 320, y * 255 // 240, np.full_like(x, 160)], axis=-1)  # a colour gradient
    Image.fromarray(pixels.astype(np.uint8)).save(img_path)
    print('no', img_path, 'here: drew a stand-in picture there')
img = Image.open(img_path)
img_tensor = transforms.ToTensor()(img)
# PIL (W, H), 0..255 -> Tensor [C, H, W], 0..1. The comments' sizes are the stand-in's: (320, 240) -> [3, 240, 320]
print('ToTensor:', img.size, '->', img_tensor.shape, img_tensor.dtype)

# 3.2 常用Transforms
# 将PIL、ndarray转化为Tensor: an ndarray (H, W, C) as cv.imread(path) gives one (OpenCV's in BGR order)
img_array = np.array(img)
print('ToTensor:', img_array.shape, '->', transforms.ToTensor()(img_array).shape)  # (240, 320, 3) -> [3, 240, 320]

# 将Tensor、ndarray转化为PIL
img_PIL = transforms.ToPILImage()(img_tensor)
print('ToPILImage:', img_tensor.shape, '->', img_PIL.size, img_PIL.mode)  # back to (320, 240) RGB

# 按通道归一化Tensor图像: (x - mean) / std for each channel, here [0, 1] -> [-1, 1]
img_norm = transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])(img_tensor)
print('Normalize:', img_tensor[0][0][0].item(), '->', img_norm[0][0][0].item())  # stand-in: (0.0 - 0.5) / 0.5 = -1.0

# 更改PIL图像大小: (h, w) gives exactly that size; one number is the shorter side, the aspect ratio kept
img_resize = transforms.Resize((512, 512))(img)
print('Resize((512, 512)):', img.size, '->', img_resize.size)  # (320, 240) -> (512, 512)
img_resize = transforms.Resize(512)(img)
print('Resize(512):', img.size, '->', img_resize.size)  # (320, 240) -> (682, 512)

# 组合多个作用: each transform gets what the one before it gave
trans_compose = transforms.Compose([transforms.Resize(512), transforms.ToTensor()])
print('Compose([Resize(512), ToTensor()]):', img.size, '->', trans_compose(img).shape)  # torch.Size([3, 512, 682])

# 随机裁剪PIL图像: a 100x100 piece from a random place, another one on each call
img_crop = transforms.RandomCrop(100)(img)
print('RandomCrop(100):', img.size, '->', img_crop.size)  # (320, 240) -> (100, 100)

# 四、官方数据集: CIFAR10 hands out each image through its transform= (without one: a PIL image)
if args.fake_data:  # 没有网络时 / offline: random 3x32x32 images with random labels
    dataset = torchvision.datasets.FakeData(
        size=200, image_size=(3, 32, 32), num_classes=10, transform=transforms.ToTensor()
    )
else:
    try:  # the notes' line (their 4.1)
        dataset = torchvision.datasets.CIFAR10(
            root='./dataset', train=False, transform=transforms.ToTensor(), download=True
        )
    except (OSError, RuntimeError) as error:  # 下载失败 / no internet, a firewall, an SSL error
        sys.exit(
            f'error: cannot download CIFAR-10 ({str(error).splitlines()[0]}); offline: put cifar-10-python.tar.gz '
            '(https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) in ./dataset, or run with --fake-data'
        )
img, target = dataset[0]
print('dataset:', len(dataset), 'images')  # 10000 (--fake-data: 200)
print('dataset[0]:', type(img).__name__, img.shape, 'target', target)  # Tensor torch.Size([3, 32, 32]), a class 0..9
