"""Dataset：提供一种方式，获取data及其label / Dataset: a way to get each sample (data) and its label.

The notes' 【数据准备】1.1: MyDataset reads one folder of pictures, the folder's name being their label; item
`index` is (the picture, the folder's name). The notes read data/train/ants/0013031.jpg (their 2.1 and 3.1):
ants and bees pictures, such as the hymenoptera set's (https://download.pytorch.org/tutorial/hymenoptera_data.zip
unzipped, its folder hymenoptera_data renamed data), go in data/train/ants and data/train/bees.

    python 01_dataset.py --demo   # first draws 3 ants and 2 bees pictures there, where missing
    python 01_dataset.py          # reads your own pictures in data/train/ants and data/train/bees
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--demo', action='store_true', help='draw a few pictures into data/train/ants and data/train/bees')
args = parser.parse_args()


class MyDataset(Dataset):
    def __init__(self, root_dir, label_dir):
        self.root_dir = root_dir
        self.label_dir = label_dir
        path = os.path.join(self.root_dir, self.label_dir)
        self.img_name_list = os.listdir(path)

    def __getitem__(self, index):
        img_name = self.img_name_list[index]
        img_path = os.path.join(self.root_dir, self.label_dir, img_name)
        img = Image.open(img_path)
        label = self.label_dir
        return img, label

    def __len__(self):
        return len(self.img_name_list)


if args.demo:  # the pictures are not included: draw 320x240 colour gradients, never over a file already there
    img_names = ['ants/0013031.jpg', 'ants/0013035.jpg', 'ants/5650366.jpg', 'bees/16838648.jpg', 'bees/17209602.jpg']
    y, x = np.mgrid[0:240, 0:320]
    for i, img_name in enumerate(img_names):
        img_path = os.path.join('data/train', img_name)
        os.makedirs(os.path.dirname(img_path), exist_ok=True)
        if not os.path.exists(img_path):
            img_array = np.stack([x * 255 // 320, y * 255 // 240, np.full_like(x, 160 - 40 * i)], axis=-1)
            Image.fromarray(img_array.astype(np.uint8)).save(img_path)
elif not (os.path.isdir('data/train/ants') and os.path.isdir('data/train/bees')):
    sys.exit('error: no data/train/ants or data/train/bees: put ants and bees pictures there, or run with --demo')

root_dir = 'data/train'
ants_dataset = MyDataset(root_dir, 'ants')
bees_dataset = MyDataset(root_dir, 'bees')
print('ants_dataset:', len(ants_dataset), 'images')  # __len__: 3 with --demo
print('bees_dataset:', len(bees_dataset), 'images')  # 2 with --demo
img, label = ants_dataset[0]  # __getitem__(0): the first name os.listdir gave
print(img.size, img.mode, label)  # a PIL image, (W, H) and mode as the file has them: (320, 240) RGB ants with --demo

# The course's code (read_data.py) adds two datasets: that gives a ConcatDataset, the ants first, then the bees.
train_dataset = ants_dataset + bees_dataset
print('train_dataset:', len(train_dataset), 'images in a', type(train_dataset).__name__)  # 5 with --demo
img, label = train_dataset[len(ants_dataset)]  # the first bee
print(img.size, img.mode, label)
