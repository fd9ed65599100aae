#!/usr/bin/python3
"""Teacher extraction speed in PyTorch: MobileNetV1 alpha=0.75 (tools/research/mobilenet_torch.py, the
cached TF.js weights, BatchNorm folded) run to conv_pw_13_relu on random [B, 3, S, S] images, images/s
at each size, with THREADS torch threads. Prints JSON, including the parameter count of the layers run
(from the weights it read) to compare with the TF.js model's.

  BENCH_THREADS=1 /usr/bin/python3 bench/teacher_torch.py --sizes 64 128 --batch 100 --reps 3
"""
import os
import sys

THREADS = os.environ.get("BENCH_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

torch.set_num_threads(int(THREADS))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "research"))
from mobilenet_torch import MobileNetTorch, load_weights  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    model = MobileNetTorch()
    weights, _ = load_weights()
    layers = {name for name, _ in model.ops}
    params = sum(w.size for k, w in weights.items() if k.split("/")[0] in layers)
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "params": params, "sizes": {}}
    for size in a.sizes:
        x = torch.rand(a.batch, 3, size, size) * 2 - 1
        model.run(x, ["conv_pw_13_relu"])  # warm-up
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            model.run(x, ["conv_pw_13_relu"])
            times.append(time.perf_counter() - t0)
        times.sort()
        out["sizes"][str(size)] = {"imagesPerSecond": a.batch / times[len(times) // 2]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
