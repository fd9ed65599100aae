#!/usr/bin/python3
"""PyTorch peer of bench/student-step.mjs: the same symbolic student (CPU preset), written from
torch.nn primitives, timed with the same protocol on the same CPU, one thread. Prints JSON.

Run with Debian's python (torch 1.13 + OpenBLAS):  /usr/bin/python3 bench/student_step.py
Options: --reps N --warmup N --train-batch 256 --infer-batch 500 --matmul-reps 50
"""

import os

# BENCH_THREADS threads (default one) everywhere (OpenBLAS reads its variable when it is loaded, i.e.
# before `import torch`).
# BENCH_BLAS_THREADS (default BENCH_THREADS) sets OpenBLAS's own pool apart from torch's intra-op one.
THREADS = os.environ.get("BENCH_THREADS", "1")
BLAS_THREADS = os.environ.get("BENCH_BLAS_THREADS", THREADS)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = BLAS_THREADS if _var == "OPENBLAS_NUM_THREADS" else THREADS

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(int(THREADS))
torch.set_num_interop_threads(1)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

def preset_shapes(preset):
    """Tokens, token and pooled sizes of the preset's teacher layers (bench/mobilenet-layers.json, as student-setup.mjs)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "mobilenet-layers.json")) as f:
        layers = json.load(f)
    t = preset["teacher"]
    tok = layers[t.get("tokensLayer", "conv_pw_13_relu")]
    pooled = layers[t.get("pooledLayer") or t.get("tokensLayer", "conv_pw_13_relu")]
    side = -(-t["inputSize"] // tok["stride"])
    return side * side, tok["channels"], pooled["channels"]
LN_EPS = 1e-6  # @symseq/nn LayerNorm default


def trunc_normal(*shape):
    """DINO/timm trunc_normal_(std=.02), truncated at ±2 std, as @symseq/nn init.truncNormal."""
    return nn.init.trunc_normal_(torch.empty(*shape), std=0.02, a=-0.04, b=0.04)


def linear(d_in, d_out, bias=True):
    layer = nn.Linear(d_in, d_out, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(trunc_normal(d_out, d_in))
        if bias:
            layer.bias.zero_()
    return layer


class Attention(nn.Module):
    """Multi-head attention with separate q, k, v, proj (as @symseq/nn MultiHeadAttention)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim**-0.5
        self.q, self.k, self.v, self.proj = (linear(dim, dim) for _ in range(4))

    def split(self, x):  # [B, T, d] → [B, h, T, hd]
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def merge(self, x):  # [B, h, T, hd] → [B, T, d]
        b, _, t, _ = x.shape
        return x.transpose(1, 2).reshape(b, t, self.heads * self.head_dim)

    def keys_values(self, source):
        return self.split(self.k(source)), self.split(self.v(source))

    def attend(self, q, k, v):
        probs = torch.softmax(q @ k.transpose(-2, -1) * self.scale, dim=-1)
        return probs @ v, probs


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = linear(dim, hidden), nn.GELU(), linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class DecoderBlock(nn.Module):
    """Pre-norm: x + causal self-attn (KV cache), x + cross-attn to teacher tokens, x + MLP."""

    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1, self.self_attn = nn.LayerNorm(dim, eps=LN_EPS), Attention(dim, heads)
        self.norm2, self.cross_attn = nn.LayerNorm(dim, eps=LN_EPS), Attention(dim, heads)
        self.norm3, self.mlp = nn.LayerNorm(dim, eps=LN_EPS), Mlp(dim, round(dim * mlp_ratio))

    def cached(self, x, cache, memory):
        """One new position x [B, 1, d] after the cached keys/values; returns (out, cache, cross probs)."""
        sa = self.self_attn
        h = self.norm1(x)
        q = sa.split(sa.q(h))
        k, v = sa.keys_values(h)
        if cache is not None:  # a single new query sees every cached key: no mask needed
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        o, _ = sa.attend(q, k, v)
        x = x + sa.proj(sa.merge(o))
        ca = self.cross_attn
        o, probs = ca.attend(ca.split(ca.q(self.norm2(x))), *memory)
        x = x + ca.proj(ca.merge(o))
        return x + self.mlp(self.norm3(x)), (k, v), probs


class StraightThrough(torch.autograd.Function):
    """Forward exactly `hard`; the gradient goes to `soft` unchanged (as @symseq/discretize)."""

    @staticmethod
    def forward(ctx, soft, hard):
        return hard

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def temperature_softmax(logits, temperature=1.0):
    """Hard straight-through: one-hot(argmax) forward, gradient of softmax(logits / τ) backward."""
    indices = logits.argmax(-1)
    soft = torch.softmax(logits / temperature, dim=-1)
    hard = F.one_hot(indices, logits.shape[-1]).to(soft.dtype)
    return indices, StraightThrough.apply(soft, hard)


class SymbolDecoder(nn.Module):
    def __init__(self, teacher_dim, dim, heads, layers, mlp_ratio, max_length, vocab):
        super().__init__()
        self.dim = dim
        self.token_proj, self.token_norm = linear(teacher_dim, dim), nn.LayerNorm(dim, eps=LN_EPS)
        self.start_token = nn.Parameter(trunc_normal(1, 1, dim))
        self.pos_embed = nn.Parameter(trunc_normal(max_length, dim))
        self.blocks = nn.ModuleList(DecoderBlock(dim, heads, mlp_ratio) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(dim, eps=LN_EPS), linear(dim, vocab)
        self.symbol_embed = nn.Parameter(trunc_normal(vocab, dim))  # one-hot · E, a matMul

    def generate(self, tokens, steps):
        batch = tokens.shape[0]
        m = self.token_norm(self.token_proj(tokens))
        memory = [b.cross_attn.keys_values(m) for b in self.blocks]  # once per forward
        x = (self.start_token + self.pos_embed[0:1]).expand(batch, 1, self.dim)
        caches = [None] * len(self.blocks)
        symbols, fed, cross, all_logits = [], [], [], []
        for t in range(steps):
            h, probs = x, []
            for i, block in enumerate(self.blocks):
                h, caches[i], p = block.cached(h, caches[i], memory[i])
                probs.append(p.squeeze(2))
            logits = self.head(self.norm(h).reshape(batch, self.dim))
            indices, z = temperature_softmax(logits)
            all_logits.append(logits)
            symbols.append(indices)
            fed.append(z)
            cross.append(probs)
            if t + 1 < steps:
                x = (z @ self.symbol_embed + self.pos_embed[t + 1]).unsqueeze(1)
        return torch.stack(symbols, 1), fed, cross, torch.stack(all_logits, 1)


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=LN_EPS), Attention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim, eps=LN_EPS), Mlp(dim, round(dim * mlp_ratio))

    def forward(self, x):
        h = self.norm1(x)
        o, _ = self.attn.attend(self.attn.split(self.attn.q(h)), *self.attn.keys_values(h))
        x = x + self.attn.proj(self.attn.merge(o))
        return x + self.mlp(self.norm2(x))


class SymbolEncoder(nn.Module):
    """Symbols (one-hots [B, T, V]) · E, CLS prepended, learned positions, bidirectional blocks."""

    def __init__(self, vocab, dim, heads, layers, mlp_ratio, max_length):
        super().__init__()
        self.dim = dim
        self.symbol_embed = nn.Parameter(trunc_normal(vocab, dim))
        self.cls_token = nn.Parameter(trunc_normal(1, 1, dim))
        self.pos_embed = nn.Parameter(trunc_normal(max_length + 1, dim))
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, mlp_ratio) for _ in range(layers))
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)

    def forward(self, z):
        batch, length, _ = z.shape
        x = torch.cat([self.cls_token.expand(batch, 1, self.dim), z @ self.symbol_embed], 1)
        x = x + self.pos_embed[: length + 1]
        for block in self.blocks:
            x = block(x)
        return self.norm(x[:, 0])


class Projector(nn.Module):
    """DINO head: Linear–GELU–…–Linear → L2 normalise → weight-normalised Linear (g frozen at 1)."""

    def __init__(self, in_dim, layers, hidden_dim, bottleneck_dim, out_dim, norm_last_layer=True):
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (layers - 1) + [bottleneck_dim]
        mods = []
        for i in range(layers):
            mods.append(linear(dims[i], dims[i + 1]))
            if i < layers - 1:
                mods.append(nn.GELU())
        self.mlp = nn.Sequential(*mods) if layers > 1 else mods[0]
        last = linear(bottleneck_dim, out_dim, bias=False)
        self.last_layer = nn.utils.weight_norm(last)
        self.last_layer.weight_g.data.fill_(1)
        if norm_last_layer:
            self.last_layer.weight_g.requires_grad = False

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1, p=2))


class Student(nn.Module):
    def __init__(self, c):
        super().__init__()
        p = c["projector"]
        self.max_length = c["maxLength"]
        self.decoder = SymbolDecoder(
            c["teacherDim"], c["dModel"], c["heads"], c["decoder"]["layers"],
            c["decoder"].get("mlpRatio", 4), c["maxLength"], c["vocabSize"],
        )
        self.encoder = SymbolEncoder(
            c["vocabSize"], c["dModel"], c["heads"], c["encoder"]["layers"],
            c["encoder"].get("mlpRatio", 4), c["maxLength"],
        )
        self.projector = Projector(
            c["dModel"], p["layers"], p["hiddenDim"], p["bottleneckDim"], p["outDim"],
            p.get("normLastLayer", True),
        )

    def forward(self, tokens, lengths, with_logits=False):
        """Per prefix length l: (projection s_l [B, K], embedding h_l [B, d]); the symbols (and logits [B, L, V])."""
        symbols, fed, _cross, logits = self.decoder.generate(tokens, max(lengths))
        fed = torch.stack(fed, 1)
        embeddings = [self.encoder(fed[:, :l]) for l in lengths]
        # One projector call over all prefixes, as the TS student does.
        projections = self.projector(torch.cat(embeddings, 0)).chunk(len(lengths), 0)
        out = (list(zip(projections, embeddings)), symbols)
        return (*out, logits) if with_logits else out


def student_config():
    with open(os.path.join(ROOT, "apps/trainer/configs/cpu.json")) as f:
        preset = json.load(f)
    s = dict(preset["student"])
    lengths = list(preset["objective"]["lengths"])
    tokens, token_dim, pooled_dim = preset_shapes(preset)
    s.update(teacherDim=token_dim, teacherTokens=tokens, pooledDim=pooled_dim, lengths=lengths,
             projector={**s["projector"], "outDim": pooled_dim})
    if s.get("discretizer", {}).get("kind", "temperature") != "temperature":
        raise SystemExit("student_step.py: only the `temperature` discretizer is written here")
    # MultiLengthLoss: equal weights 1 / len(lengths) unless the objective gives its own.
    weights = preset["objective"].get("weights") or [1 / len(lengths)] * len(lengths)
    return s, {"auxWeight": 1, **preset["optim"]}, weights, preset["objective"]


def prefix_loss(objective, s, target):
    """The preset objective's loss of one prefix (@symseq/loss): cosine regression or symmetric InfoNCE."""
    if objective["kind"] == "features":
        return (1 - F.cosine_similarity(s, target, dim=-1, eps=1e-8)).mean()
    if objective["kind"] == "contrast":
        tau = objective.get("contrast", {}).get("temperature", 0.1)
        logits = F.normalize(s, dim=-1) @ F.normalize(target, dim=-1).t() / tau
        labels = torch.arange(s.shape[0])
        return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))
    raise SystemExit(f"student_step.py: objective {objective['kind']!r} is not written here")


def expected_first_symbol_contrast(objective, model, logits, target):
    """@symseq/loss expectedFirstSymbolContrast (objective.contrast.exactFirstSymbol): every image scored under
    each of the V one-symbol sequences, weighted by softmax of symbol 1's logits (the InfoNCE row direction)."""
    tau = objective.get("contrast", {}).get("temperature", 0.1)
    vocab = logits.shape[-1]
    e = F.normalize(model.projector(model.encoder(torch.eye(vocab)[:, None])), dim=-1)  # [V, K]
    scores = e @ F.normalize(target, dim=-1).t() / tau  # [V, B]
    row = torch.logsumexp(scores, 1, keepdim=True) - scores
    return (torch.softmax(logits[:, 0], -1) * row.t()).sum(1).mean()


def exact_first_symbol(objective):
    return objective["kind"] == "contrast" and objective.get("contrast", {}).get("exactFirstSymbol", False)


def usage_regularizer(logits):
    """−H(batch marginal of softmax(logits)), mean over positions (@symseq/loss SymbolRegularizer, eps 1e-8)."""
    m = torch.softmax(logits, -1).mean(0)
    return (m * torch.log(m.clamp_min(1e-8))).sum(-1).mean()


def median_ms(fn, n, warmup):
    """Wall and CPU (process_time: all threads of this process) ms per call, as student-setup.mjs time()."""
    for i in range(warmup):
        fn(i)
    wall, cpu = [], []
    for i in range(n):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn(warmup + i)
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)

    def stats(xs):
        return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}

    return {**stats(wall), "n": n, "cpu": stats(cpu)}, wall, cpu


def blas_library():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    return sorted(os.path.basename(x) for x in libs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--train-batch", type=int, default=256)
    ap.add_argument("--infer-batch", type=int, default=500)
    ap.add_argument("--matmul-reps", type=int, default=50)
    a = ap.parse_args()
    for name in ("reps", "warmup", "train_batch", "infer_batch", "matmul_reps"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be a positive integer")

    torch.manual_seed(0)
    cfg, optim, weights, objective = student_config()
    usage_weight = objective.get("regularizer", {}).get("usageWeight", 0)
    lengths = cfg["lengths"]
    model = Student(cfg)
    trainable = [p for p in model.parameters() if p.requires_grad]
    decayed = [p for p in trainable if p.dim() >= 2]  # matrices only, as the trainer
    params = {
        "trainable": sum(p.numel() for p in trainable),
        "total": sum(p.numel() for p in model.parameters()),
        "byName": {n: p.numel() for n, p in model.named_parameters()},
    }
    opt = torch.optim.Adam(trainable, lr=optim["lr"], betas=(0.9, 0.999), eps=1e-8)

    g = torch.Generator().manual_seed(1)
    tokens, token_dim, pooled_dim = cfg["teacherTokens"], cfg["teacherDim"], cfg["pooledDim"]
    train_tokens = torch.rand(a.train_batch, tokens, token_dim, generator=g)
    train_targets = torch.randn(a.train_batch, pooled_dim, generator=g)
    infer_tokens = torch.rand(a.infer_batch, tokens, token_dim, generator=g)
    losses = []

    def train_step(_i):
        model.train()
        opt.zero_grad(set_to_none=True)
        prefixes, _, logits = model(train_tokens, lengths, with_logits=True)
        target = train_targets.detach()
        loss = sum(
            w * (expected_first_symbol_contrast(objective, model, logits, target)
                 if l == 1 and exact_first_symbol(objective) else prefix_loss(objective, s, target))
            for l, w, (s, _) in zip(lengths, weights, prefixes))
        if usage_weight > 0:
            loss = loss + usage_weight * usage_regularizer(logits)
        # (The TS step also adds auxWeight · the discretizer's aux loss: 0 for `temperature`.)
        loss.backward()
        if optim["clipGrad"] > 0:
            nn.utils.clip_grad_norm_(trainable, optim["clipGrad"])
        opt.step()
        if optim["weightDecay"] > 0:  # decoupled, after the Adam update, as the trainer
            with torch.no_grad():
                for p in decayed:
                    p.mul_(1 - optim["lr"] * optim["weightDecay"])
        losses.append(loss.item())

    def inference(_i):
        model.eval()
        with torch.no_grad():
            prefixes, symbols = model(infer_tokens, lengths)
        return prefixes, symbols

    train, train_samples, train_cpu = median_ms(train_step, a.reps, a.warmup)
    infer, infer_samples, infer_cpu = median_ms(inference, a.reps, a.warmup)

    # Op microbenchmarks, shared with student-step.mjs. A transpose flag is a strided view here
    # (BLAS reads it directly); a transpose is materialised with .contiguous() to match tfjs.
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "micro-ops.json")) as f:
        micro_ops = json.load(f)
    micro = {}
    for op in micro_ops:
        x = torch.randn(*op["a"], generator=g)
        if op["kind"] == "matmul":
            y = torch.randn(*op["b"], generator=g)
            xa = x.t() if op.get("transposeA") else x
            yb = y.t() if op.get("transposeB") else y
            fn = lambda _i, xa=xa, yb=yb: xa @ yb  # noqa: E731
        elif op["kind"] == "transpose":
            fn = lambda _i, x=x: x.t().contiguous()  # noqa: E731
        elif op["kind"] == "erf":
            fn = lambda _i, x=x: torch.erf(x)  # noqa: E731
        else:
            raise SystemExit(f"bench/micro-ops.json: unknown kind {op['kind']!r} in {op['name']}")
        micro[op["name"]] = median_ms(fn, a.matmul_reps, 5)[0]

    print(json.dumps({
        "side": "torch",
        "threads": torch.get_num_threads(),
        "blasThreads": int(BLAS_THREADS),
        "interopThreads": torch.get_num_interop_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "blas": blas_library(),
        "loadavg": list(os.getloadavg()),
        "config": {**cfg, "objective": objective, "trainBatch": a.train_batch,
                   "inferBatch": a.infer_batch, "optim": optim},
        "params": params,
        "losses": losses,
        "ms": {"trainStep": train, "inference": infer, **micro},
        "samples": {"trainStep": train_samples, "inference": infer_samples},
        "cpuSamples": {"trainStep": train_cpu, "inference": infer_cpu},
    }, indent=2))


if __name__ == "__main__":
    main()
