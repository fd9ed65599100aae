#!/usr/bin/env python3
"""Reference values for @symseq/nn layers, computed with PyTorch (Debian python3-torch).

Run: /usr/bin/python3 tools/reference/nn_reference.py
Writes packages/nn/test/fixtures/{layers.json, mixed_dtypes.safetensors}.
"""
import json
import struct
from pathlib import Path

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = Path(__file__).resolve().parents[2] / "packages/nn/test/fixtures"
OUT.mkdir(parents=True, exist_ok=True)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


B, T, S, D, H, DKV = 2, 4, 5, 8, 2, 6
hd = D // H


def linear_params(i, o):
    return torch.randn(o, i) * 0.3, torch.randn(o) * 0.1


def mha(x, ctx, p, causal):
    q = F.linear(x, *p["q"]).view(B, x.shape[1], H, hd).transpose(1, 2)
    k = F.linear(ctx, *p["k"]).view(B, ctx.shape[1], H, hd).transpose(1, 2)
    v = F.linear(ctx, *p["v"]).view(B, ctx.shape[1], H, hd).transpose(1, 2)
    s = q @ k.transpose(-1, -2) * hd**-0.5
    if causal:
        tq, tk = s.shape[-2:]
        m = torch.ones(tq, tk).tril(diagonal=tk - tq).bool()
        s = s.masked_fill(~m, float("-inf"))
    a = s.softmax(-1)
    o = (a @ v).transpose(1, 2).reshape(B, x.shape[1], D)
    return F.linear(o, *p["proj"]), a


fx = {}
# LayerNorm (eps 1e-6) and exact GELU
x = torch.randn(B, T, D, requires_grad=True)
w, b = torch.randn(D), torch.randn(D)
ln = F.layer_norm(x, (D,), w, b, eps=1e-6)
(g,) = torch.autograd.grad((ln * torch.linspace(-1, 1, D)).sum(), x)
fx["layerNorm"] = {"x": t(x), "weight": t(w), "bias": t(b), "y": t(ln), "gradX": t(g)}
gx = torch.linspace(-4, 4, 17, requires_grad=True)
gy = F.gelu(gx)
(gg,) = torch.autograd.grad(gy.sum(), gx)
fx["gelu"] = {"x": t(gx), "y": t(gy), "grad": t(gg)}

# Multi-head attention: causal self-attention and cross-attention (kv from a different width)
for name, causal, ctx_dim, ctx_len in [("selfCausal", True, D, T), ("cross", False, DKV, S)]:
    x = torch.randn(B, T, D, requires_grad=True)
    ctx = x if name == "selfCausal" else torch.randn(B, ctx_len, ctx_dim, requires_grad=True)
    p = {"q": linear_params(D, D), "k": linear_params(ctx_dim, D), "v": linear_params(ctx_dim, D), "proj": linear_params(D, D)}
    y, a = mha(x, ctx, p, causal)
    weight = torch.randn_like(y)
    grads = torch.autograd.grad((y * weight).sum(), [x] + ([] if ctx is x else [ctx]))
    fx[name] = {
        "x": t(x),
        "context": None if ctx is x else t(ctx),
        # torch stores Linear weights [out, in]; the fixture stores them as torch has them.
        "params": {k: {"weight": t(v[0]), "bias": t(v[1])} for k, v in p.items()},
        "y": t(y),
        "probs": t(a),
        "lossWeight": t(weight),
        "gradX": t(grads[0]),
        "gradContext": t(grads[1]) if len(grads) > 1 else None,
    }

(OUT / "layers.json").write_text(json.dumps(fx))

# A safetensors file written independently of our writer: F32, F16 and BF16 tensors plus metadata.
tensors = {
    "a.f32": torch.tensor([[1.5, -2.25, 3.0], [0.0, 1e-3, -7.0]], dtype=torch.float32),
    "b.f16": torch.tensor([0.5, -1.0, 65504.0, 6.1e-5, 3.14159], dtype=torch.float16),
    "c.bf16": torch.tensor([1.0, -3.5, 1e10, 0.0078125], dtype=torch.bfloat16),
}
names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
header, blobs, off = {"__metadata__": {"made_by": "nn_reference.py"}}, [], 0
for k, v in tensors.items():
    raw = v.contiguous().view(torch.uint8).numpy().tobytes() if v.dtype != torch.bfloat16 else v.view(torch.int16).numpy().tobytes()
    header[k] = {"dtype": names[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
    blobs.append(raw)
    off += len(raw)
h = json.dumps(header).encode()
(OUT / "mixed_dtypes.safetensors").write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))
(OUT / "mixed_dtypes.expected.json").write_text(
    json.dumps({k: {"shape": list(v.shape), "data": v.float().tolist()} for k, v in tensors.items()})
)
print("wrote", OUT)
