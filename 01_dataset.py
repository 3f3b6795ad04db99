"""Dataset：提供一种方式，获取data及其label / Dataset: a way to get each sample (data) and its label.

The notes' 1.1: MyDataset reads one label folder; item number `index` is (the picture, the folder's name).
The notes assume the ants and bees pictures in data/train/ants and data/train/bees: the hymenoptera set,
https://download.pytorch.org/tutorial/hymenoptera_data.zip unzipped, its folder hymenoptera_data renamed data.

    python 01_dataset.py --demo   # first draws 3 ants and 2 bees pictures there (the missing ones only)
    python 01_dataset.py          # reads your own pictures in data/train/ants and data/train/bees
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--demo", action="store_true", help="draw a few pictures into data/train/ants and data/train/bees")
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


if args.demo:  # the notes' pictures are not included: draw 320x240 colour gradients, never over a file already there
    demo_pictures = {
        "ants": ["0013031.jpg", "0013035.jpg", "5650366_e22b7e1065.jpg"],
        "bees": ["16838648.jpg", "17209602.jpg"],
    }
    for label_dir, img_names in demo_pictures.items():
        os.makedirs(os.path.join("data/train", label_dir), exist_ok=True)
        for i, img_name in enumerate(img_names):
            img_path = os.path.join("data/train", label_dir, img_name)
            if not os.path.exists(img_path):
                y, x = np.mgrid[0:240, 0:320]
                img_array = np.stack([x * 255 // 320, y * 255 // 240, np.full_like(x, 160 - 60 * i)], axis=-1)
                Image.fromarray(img_array.astype(np.uint8)).save(img_path)
elif not (os.path.isdir("data/train/ants") and os.path.isdir("data/train/bees")):
    sys.exit("error: no data/train/ants or data/train/bees: put ants and bees pictures there, or run with --demo")

root_dir = "data/train"
ants_dataset = MyDataset(root_dir, "ants")
bees_dataset = MyDataset(root_dir, "bees")
print("ants_dataset:", len(ants_dataset), "images")  # __len__: 3 with --demo
print("bees_dataset:", len(bees_dataset), "images")  # 2 with --demo
img, label = ants_dataset[0]  # __getitem__(0): the first name os.listdir gave
print(img.size, img.mode, label)  # a PIL image, (W, H) and mode as the file has them: (320, 240) RGB ants with --demo

# The course's code (read_data.py) adds two datasets: that gives a ConcatDataset, the ants first, then the bees.
train_dataset = ants_dataset + bees_dataset
print("train_dataset:", len(train_dataset), "images in a", type(train_dataset).__name__)  # 5 with --demo
img, label = train_dataset[len(ants_dataset)]  # the first bee
print(img.size, img.mode, label)
