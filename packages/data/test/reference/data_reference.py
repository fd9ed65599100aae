#!/usr/bin/env python3
"""Reference values for @symseq/data, from independent implementations: PIL (decoding, resizing),
Python's colorsys (hue rotation) and numpy (float16 rounding).

Run: /usr/bin/python3 packages/data/test/reference/data_reference.py
Writes packages/data/test/fixtures/{data_reference.json, images/*}.
"""
import colorsys
import json
from pathlib import Path

import numpy as np
from PIL import Image

rng = np.random.default_rng(0)
OUT = Path(__file__).resolve().parents[1] / "fixtures"
IMAGES = OUT / "images"
IMAGES.mkdir(parents=True, exist_ok=True)
ref = {}


def smooth(h, w, c):
    """A smooth random image (JPEG keeps smooth images close to the original)."""
    y, x = np.mgrid[0:h, 0:w]
    chans = [
        127 + 100 * np.sin(x / (3 + k) + rng.uniform(0, 6)) * np.cos(y / (4 + k) + rng.uniform(0, 6))
        for k in range(c)
    ]
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)


# --- decoding: each file and PIL's convert('RGB') of it -------------------------------------------
decode = {}
rgb = smooth(6, 5, 3)
gray = smooth(5, 7, 1)[..., 0]
files = {
    "rgb.png": Image.fromarray(rgb, "RGB"),
    "rgba.png": Image.fromarray(np.dstack([rgb, smooth(6, 5, 1)]), "RGBA"),
    "gray.png": Image.fromarray(gray, "L"),
    "gray_alpha.png": Image.fromarray(np.dstack([gray, 255 - gray]), "LA"),
    "palette.png": Image.fromarray(rgb, "RGB").quantize(colors=8),
    "gray16.png": Image.fromarray((gray.astype(np.uint16) * 257 + 3).astype(np.uint16), "I;16"),
    "rgb.jpg": Image.fromarray(smooth(16, 24, 3), "RGB"),
    "gray.jpg": Image.fromarray(smooth(16, 8, 1)[..., 0], "L"),
}
for name, im in files.items():
    path = IMAGES / name
    if name.endswith(".jpg"):
        im.save(path, quality=95, subsampling=0)
    else:
        im.save(path)
    if name == "gray16.png":
        # PIL converts 16-bit gray to RGB by clipping at 255, not by scaling; the reference is the 8-bit source.
        arr = np.repeat(gray[..., None], 3, -1)
    else:
        arr = np.asarray(Image.open(path).convert("RGB"))
    decode[name] = {"height": arr.shape[0], "width": arr.shape[1], "rgb": arr.reshape(-1).tolist()}
ref["decode"] = decode

# --- a few real CIFAR-10 JPEGs from the shared folder, decoded by PIL (libjpeg) ---------------------
SHARED = Path(__file__).resolve().parents[5] / "shared/data/cifar10-jpeg"
real = []
for rel in ["test/cat/0000.jpg", "test/ship/0007.jpg", "train/frog/0123.jpg"]:
    arr = np.asarray(Image.open(SHARED / rel).convert("RGB"))
    real.append({"file": rel, "height": arr.shape[0], "width": arr.shape[1], "rgb": arr.reshape(-1).tolist()})
ref["realJpeg"] = real

# --- resizing: PIL's BILINEAR (antialiased when shrinking) ----------------------------------------
src = rng.integers(0, 256, size=(9, 13, 3), dtype=np.uint8)
resize = {"src": {"height": 9, "width": 13, "rgb": src.reshape(-1).tolist()}, "cases": []}
for h, w in [(4, 5), (3, 13), (20, 17), (9, 4), (5, 30)]:
    out = np.asarray(Image.fromarray(src, "RGB").resize((w, h), Image.BILINEAR))
    resize["cases"].append({"height": h, "width": w, "rgb": out.reshape(-1).tolist()})
ref["resize"] = resize

# --- hue rotation through HSV (colorsys) ----------------------------------------------------------
pixels = rng.uniform(0, 1, size=(2, 3, 4, 3))
pixels[0, 0, 0] = [0.5, 0.5, 0.5]  # gray: hue undefined, must stay gray
pixels[0, 0, 1] = [1.0, 0.0, 0.0]  # pure red
shifts = [0.1, -0.37]
hue_out = np.zeros_like(pixels)
for b in range(2):
    for i in range(3):
        for j in range(4):
            h, s, v = colorsys.rgb_to_hsv(*pixels[b, i, j])
            hue_out[b, i, j] = colorsys.hsv_to_rgb((h + shifts[b]) % 1.0, s, v)
ref["hue"] = {"shape": [2, 3, 4, 3], "input": pixels.reshape(-1).tolist(), "shifts": shifts, "output": hue_out.reshape(-1).tolist()}

# --- float16 rounding (numpy) ---------------------------------------------------------------------
special = [0.0, -0.0, 1.0, -2.5, 65504.0, 65519.99, 65520.0, 1e6, 2**-14, 2**-24, 2**-25, 1.5 * 2**-25, 3 * 2**-26,
           6.1e-5, 1 + 2**-11, 1 + 3 * 2**-11, 1 + 2**-11 + 2**-20, 0.1, -0.333333, 1234.5678]
rand = np.concatenate([rng.normal(0, 1, 200), rng.normal(0, 300, 50), rng.uniform(-1e-4, 1e-4, 50)])
values = np.array(special + rand.tolist(), dtype=np.float32)
with np.errstate(over="ignore"):  # 1e6 and 65520 overflow to Inf on purpose
    half_bits = values.astype(np.float16).view(np.uint16)
ref["float16"] = {"values": values.astype(np.float64).tolist(), "bits": half_bits.tolist()}

(OUT / "data_reference.json").write_text(json.dumps(ref))
print("wrote", OUT / "data_reference.json", "and", len(files), "images")
