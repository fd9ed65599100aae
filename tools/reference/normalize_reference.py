#!/usr/bin/env python3
"""Reference values for @symseq/nn's l2Normalize: torch.nn.functional.normalize(x, dim=-1), eps 1e-12.

Run: /usr/bin/python3 tools/reference/normalize_reference.py
Writes packages/nn/test/fixtures/l2_normalize.json.
Rows: random, scaled large, one below the epsilon (output x / 1e-12) and an exact zero (torch's
gradient there is w / 1e-12: the norm is clamped, so only the division by ε carries gradient).
"""
import json
from pathlib import Path

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = Path(__file__).resolve().parents[2] / "packages/nn/test/fixtures"
OUT.mkdir(parents=True, exist_ok=True)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


D = 6
rows = torch.randn(3, D, dtype=torch.float64)
rows[1] *= 1e3
tiny = torch.full((1, D), 1e-13, dtype=torch.float64)
tiny[0, ::2] = -1e-13
zero = torch.zeros(1, D, dtype=torch.float64)
x = torch.cat([rows, tiny, zero], 0).reshape(1, 5, D).requires_grad_(True)
y = F.normalize(x, dim=-1, eps=1e-12)
w = torch.randn(1, 5, D, dtype=torch.float64)
(g,) = torch.autograd.grad((y * w).sum(), x)
fx = {"x": t(x), "w": t(w), "y": t(y), "gradX": t(g)}
(OUT / "l2_normalize.json").write_text(json.dumps(fx))
print("wrote", OUT / "l2_normalize.json")
