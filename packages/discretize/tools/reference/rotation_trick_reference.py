#!/usr/bin/env python3
"""Reference gradients of the rotation trick, computed with PyTorch autograd (Debian python3-torch).

The transform is written as in lucidrains/vector-quantize-pytorch (`rotate_to`,
`efficient_rotation_trick_transform`, after Fifty et al. 2024, §4.2): the output is
s·R·e with R, s built from detached tensors, so autograd gives dL/dx = s·Rᵀ·dL/dout.

Run: /usr/bin/python3 packages/discretize/tools/reference/rotation_trick_reference.py
Writes packages/discretize/test/fixtures/rotation_trick.json.
"""
import json
from pathlib import Path

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = Path(__file__).resolve().parents[2] / "test/fixtures"
OUT.mkdir(parents=True, exist_ok=True)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


def safe_div(num, den, eps=1e-6):
    return num / den.clamp(min=eps)


def efficient_rotation_trick_transform(u, q, e):
    e = e.unsqueeze(1)  # b 1 d
    w = F.normalize(u + q, dim=1).detach()
    return (
        e
        - 2 * (e @ w.unsqueeze(2) @ w.unsqueeze(1))
        + 2 * (e @ u.unsqueeze(2).detach() @ q.unsqueeze(1).detach())
    )


def rotate_to(src, tgt):
    norm_src = src.norm(dim=-1, keepdim=True)
    norm_tgt = tgt.norm(dim=-1, keepdim=True)
    rotated_tgt = efficient_rotation_trick_transform(
        safe_div(src, norm_src), safe_div(tgt, norm_tgt), src
    ).squeeze(1)
    return rotated_tgt * safe_div(norm_tgt, norm_src).detach()


N, D = 6, 5
x = torch.randn(N, D, dtype=torch.float64)
q = torch.randn(N, D, dtype=torch.float64) * 1.5
q[4] = -2.0 * x[4]  # antiparallel: û + q̂ = 0, w = 0
q[5] = 0.5 * x[5]  # parallel: R = I
dy = torch.randn(N, D, dtype=torch.float64)

xr = x.clone().requires_grad_(True)
out = rotate_to(xr, q)
(out * dy).sum().backward()

json.dump(
    {"x": t(x), "q": t(q), "dy": t(dy), "out": t(out), "gradX": t(xr.grad)},
    open(OUT / "rotation_trick.json", "w"),
    indent=1,
)
print("wrote", OUT / "rotation_trick.json")
