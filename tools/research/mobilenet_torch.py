"""MobileNetV1 alpha=0.75 in PyTorch, reading the TF.js layers model (model.json + shards).

Research tool only: extracts CIFAR-10 teacher features fast for prototyping the student.
Matches the TS teacher (packages/vit-teacher LayersModelTeacher): [0,1] pixels resized
bilinearly with half-pixel centres (torch align_corners=False), mapped to [-1, 1], run to
a named layer; TF 'same' padding (asymmetric for stride 2) reproduced with explicit pads.

Usage:
  /usr/bin/python3 tools/research/mobilenet_torch.py extract --size 128 \
      --layers conv_pw_11_relu conv_pw_13_relu
  /usr/bin/python3 tools/research/mobilenet_torch.py check   # vs the TS feature cache at 64 px
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

MODEL_DIR = "/work/shared/models/mobilenet_v1_0.75_224"
PIXEL_DIR = "/work/main/.cache/symseq/pixels"


def pixel_cache(split):
    """The trainer's decoded-pixel cache of a CIFAR-10 split (its file name is a hash of the source):
    the one whose count is 50,000 (train) or 10,000 (test)."""
    want = {"train": 50000, "test": 10000}[split]
    for name in sorted(os.listdir(PIXEL_DIR)):
        if name.endswith(".json") and json.load(open(os.path.join(PIXEL_DIR, name)))["count"] == want:
            return os.path.join(PIXEL_DIR, name[:-5])
    raise FileNotFoundError(f"{PIXEL_DIR}: no pixel cache with {want} images; run `symseq features` first")


OUT_DIR = "/work/main/.cache/research"


def load_weights(model_dir=MODEL_DIR):
    """name -> float32 array, in manifest order (each group's shards concatenated)."""
    with open(os.path.join(model_dir, "model.json")) as f:
        model = json.load(f)
    weights = {}
    for group in model["weightsManifest"]:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            if spec["dtype"] != "float32":
                raise ValueError(f"{model_dir}/model.json: weight {spec['name']} has dtype {spec['dtype']}, expected float32")
            n = int(np.prod(spec["shape"])) if spec["shape"] else 1
            weights[spec["name"]] = np.frombuffer(buf, "<f4", n, offset).reshape(spec["shape"])
            offset += 4 * n
    topology = model["modelTopology"]
    layers = (topology.get("model_config") or topology)["config"]["layers"]
    return weights, layers


def same_pad(x, k, s):
    """TF 'same' padding: total max(k - s, 0) (for even sizes), extra on bottom/right."""
    h = x.shape[2]
    total = max(k - s, 0) if h % s == 0 else max(k - (h % s), 0)
    lo = total // 2
    return F.pad(x, (lo, total - lo, lo, total - lo))


class MobileNetTorch:
    def __init__(self, model_dir=MODEL_DIR):
        weights, layers = load_weights(model_dir)
        self.ops = []  # (layer name, fn)
        for layer in layers:
            cls, cfg = layer["class_name"], layer["config"]
            name = cfg["name"]
            if cls == "Conv2D":
                w = torch.from_numpy(weights[f"{name}/kernel"].copy()).permute(3, 2, 0, 1).contiguous()
                k, s = cfg["kernel_size"][0], cfg["strides"][0]
                self.ops.append((name, ("conv", w, k, s, 1)))
            elif cls == "DepthwiseConv2D":
                # tf depthwise kernel [kh, kw, in, mult] -> torch [in*mult, 1, kh, kw]
                w = weights[f"{name}/depthwise_kernel"]
                kh, kw, cin, mult = w.shape
                wt = torch.from_numpy(w.copy()).permute(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw).contiguous()
                self.ops.append((name, ("conv", wt, kh, cfg["strides"][0], cin)))
            elif cls == "BatchNormalization":
                g = weights[f"{name}/gamma"]
                b = weights[f"{name}/beta"]
                m = weights[f"{name}/moving_mean"]
                v = weights[f"{name}/moving_variance"]
                scale = g / np.sqrt(v + cfg["epsilon"])
                shift = b - m * scale
                self.ops.append((name, ("affine", torch.from_numpy(scale.astype(np.float32)).view(1, -1, 1, 1),
                                        torch.from_numpy(shift.astype(np.float32)).view(1, -1, 1, 1))))
            elif cls in ("Activation", "ReLU"):
                self.ops.append((name, ("relu6",)))
            elif cls == "InputLayer":
                continue
            else:
                break  # global pool / classifier: not needed for features

    @torch.no_grad()
    def run(self, x, outputs):
        """x: [B, 3, H, W] in [-1, 1]. Returns {layer: NCHW map} for the requested layers."""
        want = set(outputs)
        got = {}
        for name, op in self.ops:
            if op[0] == "conv":
                _, w, k, s, groups = op
                x = F.conv2d(same_pad(x, k, s), w, stride=s, groups=groups)
            elif op[0] == "affine":
                x = x * op[1] + op[2]
            else:
                x = x.clamp(0, 6)
            if name in want:
                got[name] = x
                if len(got) == len(want):
                    return got
        missing = want - set(got)
        raise ValueError(f"MobileNetTorch: no layer(s) {sorted(missing)}")


def load_pixels(split):
    base = pixel_cache(split)
    meta = json.load(open(base + ".json"))
    n, h, w = meta["count"], meta["height"], meta["width"]
    px = np.fromfile(base + ".bin", np.uint8)
    if px.size != n * h * w * 3:
        raise ValueError(f"{base}.bin: {px.size} bytes, expected {n}x{h}x{w}x3")
    return px.reshape(n, h, w, 3), np.asarray(meta["labels"], np.int64)


def preprocess(px_uint8, size):
    x = torch.from_numpy(px_uint8).float().div_(255).permute(0, 3, 1, 2)
    if x.shape[2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x * 2 - 1


def extract(size, layers, pooled_layer, batch=250, stride=1):
    net = MobileNetTorch()
    os.makedirs(OUT_DIR, exist_ok=True)
    want = sorted(set(layers) | {pooled_layer})
    for split in ("train", "test"):
        px, labels = load_pixels(split)
        # stride > 1: every stride-th image (the splits are class-sorted, so this keeps the balance)
        px, labels = px[::stride], labels[::stride]
        suffix = f"-every{stride}" if stride > 1 else ""
        np.save(f"{OUT_DIR}/{split}_labels{suffix}.npy", labels)
        outs = {l: None for l in layers}
        pooled = np.zeros((len(px), 0), np.float16)
        t0 = time.time()
        for i in range(0, len(px), batch):
            maps = net.run(preprocess(px[i:i + batch], size), want)
            for l in layers:
                m = maps[l].permute(0, 2, 3, 1)  # NHWC, row-major cells like the TS teacher
                tok = m.reshape(m.shape[0], -1, m.shape[3]).numpy().astype(np.float16)
                if outs[l] is None:
                    outs[l] = np.zeros((len(px),) + tok.shape[1:], np.float16)
                outs[l][i:i + batch] = tok
            p = maps[pooled_layer].mean(dim=(2, 3)).numpy().astype(np.float16)
            if pooled.shape[1] == 0:
                pooled = np.zeros((len(px), p.shape[1]), np.float16)
            pooled[i:i + batch] = p
            if i % 5000 == 0:
                print(f"{split} {size}px {i}/{len(px)} {time.time() - t0:.0f}s", flush=True)
        for l in layers:
            np.save(f"{OUT_DIR}/{split}_{l}@{size}{suffix}.npy", outs[l])
        np.save(f"{OUT_DIR}/{split}_pooled_{pooled_layer}@{size}{suffix}.npy", pooled)
        print(f"{split} {size}px done in {time.time() - t0:.0f}s", flush=True)


def check():
    """Compare with the TS cache (tfjs wasm teacher) on its first shard of 64 px train features."""
    d = "/work/main/.cache/symseq/features/mobilenet_v1_0.75_conv_pw_13_relu@64/train-50000-v0-989bf24a49cf"
    man = json.load(open(d + "/manifest.json"))
    n = min(man["key"]["shardSize"], man["key"]["count"])
    raw = np.fromfile(d + "/shard-00000.bin", np.float16).astype(np.float32)
    dim = man["shapes"]["pooled"][-1]
    ntok = man["shapes"]["tokens"][2]
    pooled_ts = raw[: n * dim].reshape(n, dim)
    tokens_ts = raw[n * dim:].reshape(n, ntok, dim)
    px, _ = load_pixels("train")
    net = MobileNetTorch()
    m = net.run(preprocess(px[:64], 64), ["conv_pw_13_relu"])["conv_pw_13_relu"].permute(0, 2, 3, 1)
    tok = m.reshape(64, -1, dim).numpy()
    err_t = np.abs(tok - tokens_ts[:64])
    err_p = np.abs(tok.mean(1) - pooled_ts[:64])
    scale = np.abs(tokens_ts[:64]).max()
    print(f"tokens max|diff| {err_t.max():.2e} (max |value| {scale:.2f}, float16 cache), "
          f"pooled max|diff| {err_p.max():.2e}, mean rel {err_t.mean() / np.abs(tokens_ts[:64]).mean():.2e}")
    return err_t.max(), scale


if __name__ == "__main__":
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["extract", "check"])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--layers", nargs="+", default=["conv_pw_13_relu"])
    ap.add_argument("--pooled", default="conv_pw_13_relu")
    ap.add_argument("--stride", type=int, default=1, help="keep every stride-th image of each split")
    a = ap.parse_args()
    if a.cmd == "check":
        check()
    else:
        extract(a.size, a.layers, a.pooled, stride=a.stride)
    sys.exit(0)
