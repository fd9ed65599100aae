#!/usr/bin/python3
"""Reference features of the real MobileNetV1 α 0.75 teacher, computed in torch, for @symseq/vit-teacher.

Rebuilds the network from the TF.js model's own model.json and weight shards (the same reading as
tools/research/mobilenet_torch.py: convolutions with TF 'same' padding, batch-norm as an affine map,
ReLU6 as a clamp; nothing folded), runs it in float64 on the first image of four CIFAR-10 test
classes at 128 px (bilinear, half-pixel centres, pixels to [-1, 1]) and writes
packages/vit-teacher/test/fixtures/mobilenet_reference.json with:

  pixels        the images as decoded here (uint8 [4, 32, 32, 3]), so the test needs no JPEG decoder agreement
  pooled        mean of conv_pw_13_relu's 4×4 cells [4, 768]
  tokensMean    mean of conv_pw_11_relu's 8×8 cells [4, 384]
  tokenCells    conv_pw_11_relu at cells 0, 27 and 63 [4, 3, 384]

Run with Debian's torch:  /usr/bin/python3 tools/reference/mobilenet_reference.py [--shared ../shared]
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "research"))
from mobilenet_torch import MobileNetTorch  # noqa: E402
from torch_fixture import write_fixture  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "vit-teacher", "test", "fixtures",
                   "mobilenet_reference.json")
CELLS = [0, 27, 63]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
    a = ap.parse_args()
    model_dir = os.path.join(a.shared, "models", "mobilenet_v1_0.75_224")
    test_dir = os.path.join(a.shared, "data", "cifar10-jpeg", "test")
    classes = sorted(os.listdir(test_dir))[:4]
    files = [os.path.join(cls, sorted(os.listdir(os.path.join(test_dir, cls)))[0]) for cls in classes]
    px = np.stack([np.asarray(Image.open(os.path.join(test_dir, f)).convert("RGB")) for f in files])
    net = MobileNetTorch(model_dir)
    # float64 throughout: the reference should be far closer to exact than the float32 code under test.
    for i, (name, op) in enumerate(net.ops):
        net.ops[i] = (name, tuple(t.double() if torch.is_tensor(t) else t for t in op))
    x = torch.from_numpy(px).double().div(255).permute(0, 3, 1, 2)
    x = F.interpolate(x, size=(128, 128), mode="bilinear", align_corners=False) * 2 - 1
    maps = net.run(x, ["conv_pw_11_relu", "conv_pw_13_relu"])
    tok = maps["conv_pw_11_relu"].permute(0, 2, 3, 1).reshape(4, 64, 384)
    pooled = maps["conv_pw_13_relu"].mean((2, 3))
    def g8(t):  # 8 significant digits: below float32's resolution, and half the file
        return [float(f"{v:.8g}") for v in t.reshape(-1).tolist()]

    write_fixture(OUT, {
        "files": files,
        "pixels": px.reshape(-1).tolist(),
        "pooled": g8(pooled),
        "tokensMean": g8(tok.mean(1)),
        "cells": CELLS,
        "tokenCells": g8(tok[:, CELLS]),
    })


if __name__ == "__main__":
    main()
