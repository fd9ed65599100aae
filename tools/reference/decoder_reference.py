#!/usr/bin/env python3
"""Reference values for @symseq/decoder's Student, computed with PyTorch (Debian python3-torch).

Run: /usr/bin/python3 tools/reference/decoder_reference.py
Writes packages/decoder/test/fixtures/student_reference.json.

An independent float64 implementation of the student, written from the architecture description
(not from the TypeScript): the decoder re-runs the whole prefix at every step (no key/value cache),
the symbol encoder re-reads each prefix, the projector is DINO's head. Parameters are stored in the
TypeScript layout (Linear weights [in, out]) under the TypeScript names, so the test loads them as is.

Cases:
- `hard`: straight-through one-hots, temperature 1. Forward = one-hot(argmax) exactly (also the
  inference-mode output); backward = gradient of softmax(logits / tau).
- `soft`: softmax(logits / 0.7) fed back (temperature softmax with hard: false).
For each: symbols, head logits and cross-attention per step, encoder embedding and projector
output per prefix length, and the gradient of sum_l <projection_l, W_l> for every parameter.
"""
import json
from pathlib import Path

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = Path(__file__).resolve().parents[2] / "packages/decoder/test/fixtures"
OUT.mkdir(parents=True, exist_ok=True)

CFG = {
    "teacherDim": 6,
    "dModel": 8,
    "heads": 2,
    "vocabSize": 7,
    "maxLength": 4,
    "decoder": {"layers": 2, "mlpRatio": 2},
    "encoder": {"layers": 1, "mlpRatio": 2},
    "projector": {"layers": 3, "hiddenDim": 16, "bottleneckDim": 6, "outDim": 10},
    "lengths": [1, 2, 4],
}
B, N = 2, 5
Dt, D, H, V, L = CFG["teacherDim"], CFG["dModel"], CFG["heads"], CFG["vocabSize"], CFG["maxLength"]
HD = D // H
EPS = 1e-6


def make_params(gen):
    """Random parameters: float32 values (what the test loads), used here in float64."""
    p = {}

    def rnd(name, shape, std=0.5, mean=0.0):
        p[name] = (torch.randn(*shape, generator=gen, dtype=torch.float32) * std + mean).double()

    def linear(name, i, o):
        rnd(f"{name}.weight", (i, o), std=i**-0.5)
        rnd(f"{name}.bias", (o,), std=0.1)

    def norm(name):
        rnd(f"{name}.weight", (D,), std=0.2, mean=1.0)
        rnd(f"{name}.bias", (D,), std=0.1)

    linear("decoder.token_proj", Dt, D)
    norm("decoder.token_norm")
    rnd("decoder.start_token", (1, 1, D))
    rnd("decoder.pos_embed", (L, D))
    for i in range(CFG["decoder"]["layers"]):
        b = f"decoder.blocks.{i}"
        norm(f"{b}.norm1")
        for a in ("self_attn", "cross_attn"):
            for m in ("q", "k", "v", "proj"):
                linear(f"{b}.{a}.{m}", D, D)
        norm(f"{b}.norm2")
        norm(f"{b}.norm3")
        linear(f"{b}.mlp.fc1", D, D * CFG["decoder"]["mlpRatio"])
        linear(f"{b}.mlp.fc2", D * CFG["decoder"]["mlpRatio"], D)
    norm("decoder.norm")
    linear("decoder.head", D, V)
    # Large enough that the argmax has a clear margin at every step.
    rnd("decoder.head.weight", (D, V), std=1.5)
    rnd("decoder.symbol_embed", (V, D))
    rnd("encoder.symbol_embed", (V, D))
    rnd("encoder.cls_token", (1, 1, D))
    rnd("encoder.pos_embed", (L + 1, D))
    for i in range(CFG["encoder"]["layers"]):
        b = f"encoder.blocks.{i}"
        norm(f"{b}.norm1")
        for m in ("q", "k", "v", "proj"):
            linear(f"{b}.attn.{m}", D, D)
        norm(f"{b}.norm2")
        linear(f"{b}.mlp.fc1", D, D * CFG["encoder"]["mlpRatio"])
        linear(f"{b}.mlp.fc2", D * CFG["encoder"]["mlpRatio"], D)
    norm("encoder.norm")
    pc = CFG["projector"]
    dims = [D] + [pc["hiddenDim"]] * (pc["layers"] - 1) + [pc["bottleneckDim"]]
    for i in range(pc["layers"]):
        linear(f"projector.mlp.{2 * i}", dims[i], dims[i + 1])
    rnd("projector.last_layer.weight_v", (pc["bottleneckDim"], pc["outDim"]))
    # weight_g is frozen (DINO's norm_last_layer) but not 1 here, so the test sees it is used.
    p["projector.last_layer.weight_g"] = (torch.rand(1, pc["outDim"], generator=gen, dtype=torch.float32) + 0.5).double()
    return p


def layer_norm(x, p, name):
    return F.layer_norm(x, (D,), p[f"{name}.weight"], p[f"{name}.bias"], eps=EPS)


def linear(x, p, name):
    return x @ p[f"{name}.weight"] + p[f"{name}.bias"]


def attention(x, ctx, p, name, causal):
    """Multi-head attention; returns the output and the probabilities [B, H, T, S]."""
    b, t, _ = x.shape
    s = ctx.shape[1]
    q = linear(x, p, f"{name}.q").view(b, t, H, HD).transpose(1, 2)
    k = linear(ctx, p, f"{name}.k").view(b, s, H, HD).transpose(1, 2)
    v = linear(ctx, p, f"{name}.v").view(b, s, H, HD).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) * HD**-0.5
    if causal:
        mask = torch.ones(t, s, dtype=torch.bool).tril(diagonal=s - t)
        scores = scores.masked_fill(~mask, float("-inf"))
    a = scores.softmax(-1)
    out = (a @ v).transpose(1, 2).reshape(b, t, D)
    return linear(out, p, f"{name}.proj"), a


def mlp(x, p, name):
    return linear(F.gelu(linear(x, p, f"{name}.fc1")), p, f"{name}.fc2")


class StraightThrough(torch.autograd.Function):
    """Forward: the hard one-hot exactly. Backward: the gradient goes to the soft probabilities."""

    @staticmethod
    def forward(ctx, soft, hard):
        return hard.clone()

    @staticmethod
    def backward(ctx, g):
        return g, None


def decode(p, tokens, hard, tau):
    memory = layer_norm(linear(tokens, p, "decoder.token_proj"), p, "decoder.token_norm")
    inputs = [p["decoder.start_token"].expand(B, 1, D) + p["decoder.pos_embed"][0]]
    symbols, logits_all, attn_all, fed = [], [], [], []
    for t in range(L):
        x = torch.cat(inputs, 1)
        attn_t = []
        for i in range(CFG["decoder"]["layers"]):
            b = f"decoder.blocks.{i}"
            x = x + attention(layer_norm(x, p, f"{b}.norm1"), layer_norm(x, p, f"{b}.norm1"), p, f"{b}.self_attn", True)[0]
            ca, a = attention(layer_norm(x, p, f"{b}.norm2"), memory, p, f"{b}.cross_attn", False)
            x = x + ca
            x = x + mlp(layer_norm(x, p, f"{b}.norm3"), p, f"{b}.mlp")
            attn_t.append(a[:, :, -1, :])
        logits = linear(layer_norm(x[:, -1], p, "decoder.norm"), p, "decoder.head")
        soft = (logits / tau).softmax(-1)
        idx = logits.argmax(-1)
        top2 = logits.topk(2, -1).values
        assert (top2[:, 0] - top2[:, 1]).min() > 1e-2, "argmax margin too small; change the seed"
        z = StraightThrough.apply(soft, F.one_hot(idx, V).double()) if hard else soft
        symbols.append(idx)
        logits_all.append(logits)
        attn_all.append(attn_t)
        fed.append(z)
        if t + 1 < L:
            inputs.append((z @ p["decoder.symbol_embed"] + p["decoder.pos_embed"][t + 1]).unsqueeze(1))
    return torch.stack(symbols, 1), logits_all, attn_all, torch.stack(fed, 1)


def encode(p, z):
    b, t, _ = z.shape
    x = torch.cat([p["encoder.cls_token"].expand(b, 1, D), z @ p["encoder.symbol_embed"]], 1)
    x = x + p["encoder.pos_embed"][: t + 1]
    for i in range(CFG["encoder"]["layers"]):
        blk = f"encoder.blocks.{i}"
        h = layer_norm(x, p, f"{blk}.norm1")
        x = x + attention(h, h, p, f"{blk}.attn", False)[0]
        x = x + mlp(layer_norm(x, p, f"{blk}.norm2"), p, f"{blk}.mlp")
    return layer_norm(x[:, 0], p, "encoder.norm")


def project(p, h):
    n = CFG["projector"]["layers"]
    for i in range(n):
        h = linear(h, p, f"projector.mlp.{2 * i}")
        if i < n - 1:
            h = F.gelu(h)
    h = F.normalize(h, dim=-1, p=2)
    v, g = p["projector.last_layer.weight_v"], p["projector.last_layer.weight_g"]
    return h @ (v * g / v.norm(dim=0, keepdim=True))


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


gen = torch.Generator().manual_seed(3)
params = make_params(gen)
tokens = torch.randn(B, N, Dt, generator=gen, dtype=torch.float32).double()
loss_weights = {l: torch.randn(B, CFG["projector"]["outDim"], generator=gen, dtype=torch.float32).double() for l in CFG["lengths"]}

cases = {}
for name, hard, tau in [("hard", True, 1.0), ("soft", False, 0.7)]:
    p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    symbols, logits, attn, fed = decode(p, tokens, hard, tau)
    embeddings, projections = {}, {}
    loss = 0.0
    for length in CFG["lengths"]:
        h = encode(p, fed[:, :length])
        s = project(p, h)
        embeddings[length], projections[length] = h, s
        loss = loss + (s * loss_weights[length]).sum()
    grads = torch.autograd.grad(loss, list(p.values()))
    cases[name] = {
        "temperature": tau,
        "hard": hard,
        "symbols": symbols.tolist(),
        "logits": [t(x) for x in logits],
        "crossAttention": [[t(a) for a in per_layer] for per_layer in attn],
        "embeddings": {str(k): t(v) for k, v in embeddings.items()},
        "projections": {str(k): t(v) for k, v in projections.items()},
        "loss": float(loss),
        "grads": {k: t(g) for k, g in zip(p.keys(), grads)},
    }

fixture = {
    "config": CFG,
    "tokens": t(tokens),
    "params": {k: t(v) for k, v in params.items()},
    "lossWeights": {str(k): t(v) for k, v in loss_weights.items()},
    "cases": cases,
}
(OUT / "student_reference.json").write_text(json.dumps(fixture))
print(f"wrote {OUT / 'student_reference.json'}: {len(params)} parameters")
