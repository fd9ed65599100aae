"""What the torch reference scripts share: float32 draws computed in float64, tensors as JSON, the fixture write.

Imported by the scripts beside it (each is run as `/usr/bin/python3 tools/reference/<name>.py`, so this
folder is on sys.path).
"""

import json
import os

import torch


def randn(*shape, scale=1.0):
    """float32 draw, returned as float64 so the reference computes in double precision."""
    return (torch.randn(*shape, dtype=torch.float32) * scale).double()


def f32(t):
    """Rounds to float32 (kept as float64), so a derived input is exactly representable on the TS side."""
    return t.float().double()


def host(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(x) for x in t.reshape(-1).tolist()]}


def write_fixture(path, fixture):
    """Writes `fixture` as one line of compact JSON to `path` (creating its folder) and says so."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(path))
