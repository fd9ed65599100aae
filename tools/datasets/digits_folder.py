"""Writes scikit-learn's bundled handwritten digits (UCI optdigits: 1,797 grayscale 8x8 images, 10
classes; no download) as an ImageFolder: <out>/{train,test}/<digit>/<n>.png, 8-bit grayscale PNGs
upscaled to 32x32 (bicubic), a seeded stratified 80/20 split. A dataset that is not CIFAR, for
checking that a preset carries over unchanged (issue 10).

  /usr/bin/python3 tools/datasets/digits_folder.py --out .cache/datasets/digits
"""

import argparse
import os

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    d = load_digits()
    rng = np.random.default_rng(a.seed)
    counts = {"train": 0, "test": 0}
    for c in range(10):
        idx = np.flatnonzero(d.target == c)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * a.test_fraction))
        for split, part in (("test", idx[:n_test]), ("train", idx[n_test:])):
            folder = os.path.join(a.out, split, str(c))
            os.makedirs(folder, exist_ok=True)
            for i in part:
                img = Image.fromarray(np.uint8(np.round(d.images[i] * 255 / 16)), mode="L")
                img.resize((a.size, a.size), Image.BICUBIC).save(os.path.join(folder, f"{i:04d}.png"))
                counts[split] += 1
    print(f"{a.out}: {counts['train']} train, {counts['test']} test images, 10 classes, {a.size}x{a.size} grayscale")


if __name__ == "__main__":
    main()
