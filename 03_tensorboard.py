"""记录日志：Tensorboard / TensorBoard: write a log, then look at it in the browser.

The notes' 【数据准备】二, 2.1: a curve (y = x^2 for x = 0..99) and a picture (the notes' ants picture, an
(H, W, C) numpy array, hence dataformats='HWC') written to ./logs. 2.2: open the log with TensorBoard.

    python 03_tensorboard.py
    tensorboard --logdir=logs --port=6007   # then http://localhost:6007, the SCALARS and IMAGES tabs

Port 6007 taken? See which process holds it (its PID), then which program that PID is (the notes' 2.2, Windows):
    netstat -ano | findstr 6007
    tasklist | findstr 20288
Linux/macOS: lsof -i :6007. Or take another port: --port=6008.
"""

import argparse
import os

import numpy as np
from PIL import Image
from torch.utils.tensorboard import SummaryWriter

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.parse_args()  # no options: only --help

writer = SummaryWriter(
    log_dir='logs'  # 存储路径, 建议每次训练使用不同的文件夹, 以免覆盖之前的训练结果
)

# 坐标轴
for i in range(100):
    writer.add_scalar(
        tag='y=x^2',  # 坐标轴名称
        scalar_value=i**2,  # Y轴值
        global_step=i,  # X轴值
    )

# 图片 (the notes' second block; it writes with the same writer, so it comes before writer.close())
img_path = 'data/train/ants/0013031.jpg'
if not os.path.exists(img_path):  # the notes' ants picture is not included: draw a 320x240 stand-in there
    os.makedirs('data/train/ants', exist_ok=True)
    y, x = np.mgrid[0:240, 0:320]
    pixels = np.stack([x * 255 // 320, y * 255 // 240, np.full_like(x, 160)], axis=-1)  # a colour gradient
    Image.fromarray(pixels.astype(np.uint8)).save(img_path)
    print('no', img_path, 'here: drew a stand-in picture there')
img_PIL = Image.open(img_path)
img_array = np.array(img_PIL)
print(type(img_array), img_array.shape)  # <class 'numpy.ndarray'> (H, W, C): (240, 320, 3) for the stand-in
writer.add_image(
    tag='test',  # 图片名称
    img_tensor=img_array,  # 图片数据
    global_step=0,  # 第几张图片
    dataformats='HWC',  # 图片数据格式(HWC:高度、宽度、通道数)
)

writer.close()
print("wrote 'y=x^2' (x = 0..99) and the picture 'test' to ./logs; see them: tensorboard --logdir=logs --port=6007")
