"""Minimal PyTorch re-implementation of the symseq student (packages/decoder) and the trainer's
`features` objective, for fast recipe search. Not a product: the TS packages are.

  /usr/bin/python3 tools/research/student.py --size 64 --tokens conv_pw_13_relu --tag sanity

Student (as in TS): teacher tokens -> Linear+LN memory; decoder = start token + positions, pre-norm
block (causal self-attn, cross-attn to memory, MLP x4), LN, head -> V logits; temperature softmax
with straight-through hard one-hot, fed back through an embedding table. Encoder: its own symbol
table, CLS + positions, one pre-norm block, LN -> h_l (the k-NN embedding). Projector: DINO head
(Linear-GELU-Linear, L2 norm, weight-normalised linear with frozen gain) -> s_l.
"""

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import fmt, knn_accuracy, log, residual_kmeans_table, load_features


def trunc_(w, std=0.02):
    nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std)
    return w


class Lin(nn.Linear):
    def __init__(self, i, o, bias=True):
        super().__init__(i, o, bias)
        trunc_(self.weight)
        if bias:
            nn.init.zeros_(self.bias)


class MHA(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h, self.q, self.k, self.v, self.proj = h, Lin(d, d), Lin(d, d), Lin(d, d), Lin(d, d)

    def split(self, x):
        b, t, d = x.shape
        return x.view(b, t, self.h, d // self.h).transpose(1, 2)

    def forward(self, x, mem=None, causal=False, kv=None):
        q = self.split(self.q(x))
        if kv is None:
            src = x if mem is None else mem
            kv = (self.split(self.k(src)), self.split(self.v(src)))
        k, v = kv
        s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if causal:
            t = x.shape[1]
            s = s.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
        p = s.softmax(-1)
        o = (p @ v).transpose(1, 2).reshape(x.shape)
        return self.proj(o), p


class Mlp(nn.Module):
    def __init__(self, d, r=4):
        super().__init__()
        self.fc1, self.fc2 = Lin(d, d * r), Lin(d * r, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class DecBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.n1, self.sa, self.n2, self.ca, self.n3, self.mlp = (
            nn.LayerNorm(d), MHA(d, h), nn.LayerNorm(d), MHA(d, h), nn.LayerNorm(d), Mlp(d))

    def forward(self, x, mem_kv, cache):
        """One new position x [B, 1, d]; cache holds earlier self-attention keys/values (exact)."""
        h = self.n1(x)
        k, v = self.sa.split(self.sa.k(h)), self.sa.split(self.sa.v(h))
        if cache:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        x = x + self.sa(h, kv=(k, v))[0]
        a, p = self.ca(self.n2(x), kv=mem_kv)
        x = x + a
        return x + self.mlp(self.n3(x)), p, (k, v)


class EncBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.n1, self.attn, self.n2, self.mlp = nn.LayerNorm(d), MHA(d, h), nn.LayerNorm(d), Mlp(d)

    def forward(self, x):
        x = x + self.attn(self.n1(x))[0]
        return x + self.mlp(self.n2(x))


class Student(nn.Module):
    def __init__(self, teacher_dim, out_dim, d=128, heads=4, V=128, L=8, proj_hidden=512, bottleneck=128,
                 per_position_heads=False, global_dim=0, books=None, code_tau=0.02):
        super().__init__()
        self.V, self.L, self.d = V, L, d
        self.global_dim = global_dim
        if global_dim:
            self.global_proj, self.global_norm = Lin(global_dim, d), nn.LayerNorm(d)
        # code head: symbol t = nearest of codebook C_t (init: residual k-means) to a predicted residual q_t
        self.books = nn.Parameter(torch.stack(books).clone()) if books is not None else None
        if books is not None:
            self.q_head = Lin(d, books[0].shape[1])
            self.code_tau = code_tau
        self.token_proj, self.token_norm = Lin(teacher_dim, d), nn.LayerNorm(d)
        self.start = nn.Parameter(trunc_(torch.empty(1, 1, d)))
        self.dec_pos = nn.Parameter(trunc_(torch.empty(L, d)))
        self.block = DecBlock(d, heads)
        self.norm = nn.LayerNorm(d)
        # per-position vocabularies: one head (and one feed-back table) per position
        nh = L if per_position_heads else 1
        self.heads = nn.ModuleList([Lin(d, V) for _ in range(nh)])
        self.dec_embed = nn.Parameter(trunc_(torch.empty(nh, V, d)))
        self.enc_embed = nn.Parameter(trunc_(torch.empty(nh, V, d)))
        self.cls = nn.Parameter(trunc_(torch.empty(1, 1, d)))
        self.enc_pos = nn.Parameter(trunc_(torch.empty(L + 1, d)))
        self.enc_block = EncBlock(d, heads)
        self.enc_norm = nn.LayerNorm(d)
        self.p1, self.p2 = Lin(d, proj_hidden), Lin(proj_hidden, bottleneck)
        self.last_v = nn.Parameter(trunc_(torch.empty(out_dim, bottleneck)))

    def table(self, t, emb):
        return emb[t if emb.shape[0] > 1 else 0]

    def generate(self, tokens, tau=1.0, hard=True, steps=None, gumbel=0.0, pooled=None):
        steps = steps or self.L
        mem = self.token_norm(self.token_proj(tokens))
        if self.global_dim:
            g = self.global_norm(self.global_proj(F.normalize(pooled, dim=1)))[:, None]
            mem = torch.cat([mem, g], 1)
        self.q = []
        kv = (self.block.ca.split(self.block.ca.k(mem)), self.block.ca.split(self.block.ca.v(mem)))
        b = tokens.shape[0]
        x = (self.start + self.dec_pos[0]).expand(b, 1, self.d)
        fed, logits, attn = [], [], []
        cache = None
        for t in range(steps):
            h, p, cache = self.block(x, kv, cache)
            if self.books is not None:
                q = self.q_head(self.norm(h[:, -1]))
                C = self.books[t]
                lg = (2 * q @ C.T - (C * C).sum(1)) / self.code_tau
                self.q.append(q)
            else:
                lg = self.heads[t if len(self.heads) > 1 else 0](self.norm(h[:, -1]))
            noisy = lg + gumbel * -torch.log(-torch.log(torch.rand_like(lg).clamp_min(1e-9))) if gumbel else lg
            soft = F.softmax(noisy / tau, -1)
            idx = noisy.argmax(-1)
            z = F.one_hot(idx, self.V).float()
            if getattr(self, "vq", False):
                z = z + self.vq_st * (soft - soft.detach())
            else:
                z = z + soft - soft.detach() if hard else soft
            fed.append(z)
            logits.append(lg)
            attn.append(p[:, :, -1])
            if t == 0 and getattr(self, "detach1", False):
                fed[-1] = z.detach()
            if t + 1 < steps:
                x = (z @ self.table(t, self.dec_embed) + self.dec_pos[t + 1])[:, None]
        return torch.stack(fed, 1), torch.stack(logits, 1), attn

    def encode(self, fed):
        """fed [B, l, V] -> CLS embedding [B, d]."""
        b, l, _ = fed.shape
        if self.enc_embed.shape[0] > 1:
            e = torch.einsum("blv,lvd->bld", fed, self.enc_embed[:l])
        else:
            e = fed @ self.enc_embed[0]
        x = torch.cat([self.cls.expand(b, 1, self.d), e], 1) + self.enc_pos[: l + 1]
        return self.enc_norm(self.enc_block(x)[:, 0])

    def project(self, h):
        z = F.normalize(self.p2(F.gelu(self.p1(h))), dim=-1)
        return z @ F.normalize(self.last_v, dim=1).T


def sinkhorn(logits, iters=3, eps=0.05):
    """Balanced soft assignment (SwAV): rows are samples, columns symbols."""
    q = torch.exp((logits - logits.max()) / eps).T
    q /= q.sum()
    k, b = q.shape
    for _ in range(iters):
        q /= q.sum(1, keepdim=True) * k
        q /= q.sum(0, keepdim=True) * b
    return (q * b).T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--tokens", default="conv_pw_13_relu")
    ap.add_argument("--pooled", default="conv_pw_13_relu")
    ap.add_argument("--epochs", type=float, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--wd", type=float, default=0.04)
    ap.add_argument("--clip", type=float, default=3.0)
    ap.add_argument("--tau", type=float, default=1.0)
    ap.add_argument("--usage", type=float, default=0.1)
    ap.add_argument("--objective", default="features",
                    choices=["features", "contrast", "residual", "dino"])
    ap.add_argument("--target", default="self", choices=["self", "nbr-random", "nbr-mean"])
    ap.add_argument("--nbr-k", type=int, default=20)
    ap.add_argument("--ctemp", type=float, default=0.1, help="contrastive temperature")
    ap.add_argument("--lengths", default="1,2,4,8")
    ap.add_argument("--weights", default=None, help="comma list of per-length loss weights")
    ap.add_argument("--per-position", action="store_true")
    ap.add_argument("--sinkhorn", type=float, default=0.0, help="weight of a Sinkhorn-target CE on logits")
    ap.add_argument("--prototypes", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subset", type=int, default=0)
    ap.add_argument("--stride", type=int, default=1, help="features extracted with --stride (a subset)")
    ap.add_argument("--gumbel", type=float, default=0.0)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--scan", type=float, default=0.0, help="SCAN neighbour-consistency weight on symbol 1")
    ap.add_argument("--rkm-pretrain", type=float, default=0.0,
                    help="fraction of training with a CE pull of the logits towards residual k-means codes")
    ap.add_argument("--assign1", type=float, default=0.0,
                    help="CE weight pulling symbol 1's logits to the symbol whose own prefix-1 output best matches the target")
    ap.add_argument("--assign-temp", type=float, default=0.0, help="0: hard argmax label; >0 soft label softmax(cos/T)")
    ap.add_argument("--infomax", type=float, default=0.0, help="H(per-sample) - H(marginal) weight")
    ap.add_argument("--std-tokens", action="store_true")
    ap.add_argument("--center-target", action="store_true")
    ap.add_argument("--gumbel-anneal", action="store_true", help="Gumbel noise scale falls linearly to 0")
    ap.add_argument("--global-token", action="store_true")
    ap.add_argument("--code-head", action="store_true", help="codebook head init from residual k-means")
    ap.add_argument("--code-tau", type=float, default=0.02)
    ap.add_argument("--res-weight", type=float, default=1.0, help="residual regression of q_t (code head)")
    ap.add_argument("--book-weight", type=float, default=1.0, help="VQ codebook loss (code head)")
    ap.add_argument("--contrast-weight", type=float, default=1.0)
    ap.add_argument("--vq", action="store_true",
                    help="code head as vector quantisation: hard nearest-codeword symbols (no straight-through), "
                         "q_t regressed on the residual, codebooks updated by EMA k-means of the residuals")
    ap.add_argument("--vq-st", type=float, default=0.0, help="with --vq: keep this much straight-through gradient")
    ap.add_argument("--book-ema", type=float, default=0.99)
    ap.add_argument("--dead-restart", type=float, default=0.0,
                    help="with --vq: a codeword whose EMA usage falls below this fraction of the uniform share "
                         "is moved onto a random prediction of the batch (k-means dead-cluster restart)")
    ap.add_argument("--vq-select", default="r", choices=["r", "q"],
                    help="q: symbols are picked by a second codebook that follows the predictions q_t (k-means "
                         "of the predictions); the residual book still follows the true residuals")
    ap.add_argument("--exact1", action="store_true",
                    help="length-1 loss as its exact expectation over the V choices of symbol 1 (no straight-through)")
    ap.add_argument("--exact1-detach", action="store_true",
                    help="with --exact1: longer lengths feed symbol 1 without a straight-through gradient")
    ap.add_argument("--exact1-tau", type=float, default=1.0, help="with --exact1: softmax temperature of p(symbol 1)")
    ap.add_argument("--exact2", type=int, default=0,
                    help="length-2 loss as its expectation over the top-K choices of symbol 2 (renormalised)")
    ap.add_argument("--tag", default="")
    ap.add_argument("--baseline", action="store_true", help="also compute residual k-means")
    a = ap.parse_args()
    if a.vq:
        a.code_head = True
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    t_start = time.time()
    feats = load_features(a.size, a.tokens, a.pooled, stride=a.stride)
    tok_tr, pool_tr, y_tr = feats["train"]
    tok_te, pool_te, y_te = feats["test"]
    if a.subset:
        tok_tr, pool_tr, y_tr = tok_tr[: a.subset], pool_tr[: a.subset], y_tr[: a.subset]
    n, N, Dt = tok_tr.shape
    if a.std_tokens:
        # per-channel standardisation of the teacher tokens with training-set statistics
        mu = torch.zeros(Dt, dtype=torch.float64); sq = torch.zeros(Dt, dtype=torch.float64)
        for i in range(0, n, 1000):
            x = tok_tr[i:i + 1000].double().reshape(-1, Dt)
            mu += x.sum(0); sq += (x * x).sum(0)
        mu /= n * N; sd = (sq / (n * N) - mu * mu).clamp_min(0).sqrt() + 1e-3
        mu, sd = mu.float(), sd.float()
        tok_tr = ((tok_tr.float() - mu) / sd).half() if tok_tr.dtype == torch.float16 else (tok_tr - mu) / sd
        tok_te = (tok_te.float() - mu) / sd
        feats["train"] = (tok_tr, pool_tr, y_tr); feats["test"] = (tok_te, pool_te, y_te)
    raw_tr = pool_tr
    if a.center_target:
        pm = pool_tr.mean(0)
        pool_tr = pool_tr - pm
        pool_te = pool_te - pm
    lengths = [int(x) for x in a.lengths.split(",")]
    wts = [float(x) for x in a.weights.split(",")] if a.weights else [1 / len(lengths)] * len(lengths)
    target_tr = pool_tr
    nbrs = None
    if a.target != "self" or a.objective == "dino":
        pn = F.normalize(pool_tr, dim=1)
        nbrs = torch.empty(n, a.nbr_k, dtype=torch.long)
        for i in range(0, n, 2000):
            nbrs[i:i + 2000] = (pn[i:i + 2000] @ pn.T).topk(a.nbr_k + 1, dim=1).indices[:, 1:]
        if a.target == "nbr-mean":
            target_tr = F.normalize(pn + pn[nbrs].sum(1), dim=1)  # self + neighbours, averaged
    rkm_codes = None
    if a.rkm_pretrain or a.baseline or a.code_head:
        b = residual_kmeans_table(feats, cache_key=f"{a.size}-{a.pooled}-every{a.stride}")
        rkm_codes = b["codes_train"]
    if a.scan and nbrs is None:
        pn = F.normalize(pool_tr, dim=1)
        nbrs = torch.empty(n, a.nbr_k, dtype=torch.long)
        for i in range(0, n, 2000):
            nbrs[i:i + 2000] = (pn[i:i + 2000] @ pn.T).topk(a.nbr_k + 1, dim=1).indices[:, 1:]
    out_dim = a.prototypes if a.objective == "dino" else pool_tr.shape[1]
    books = None
    if a.code_head:
        books = b["books"]
    model = Student(Dt, out_dim, d=a.d, per_position_heads=a.per_position,
                    global_dim=pool_tr.shape[1] if a.global_token else 0, books=books, code_tau=a.code_tau)
    model.detach1 = a.exact1_detach
    if a.vq:
        model.vq, model.vq_st = True, a.vq_st
        model.books.requires_grad_(False)
        model.rbooks = model.books.detach().clone()
        usage_ema = torch.full((model.L, model.V), a.batch / model.V)
    if a.objective == "dino":
        from common import kmeans
        protos, _ = kmeans(F.normalize(pool_tr, dim=1), a.prototypes, iters=10, seed=a.seed)
        protos = F.normalize(protos, dim=1)
        center = torch.zeros(a.prototypes)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "pos" not in name and "start" not in name and "cls" not in name and "books" not in name
         else no_decay).append(p)
    opt = torch.optim.Adam([{"params": decay}, {"params": no_decay}], lr=a.lr)
    steps_per_epoch = n // a.batch
    total = int(a.epochs * steps_per_epoch)
    warm = int(a.warmup * steps_per_epoch)
    g = torch.Generator().manual_seed(a.seed)
    step = 0
    t0 = time.time()
    while step < total:
        perm = torch.randperm(n, generator=g)
        for bi in range(steps_per_epoch):
            if step >= total:
                break
            lr = a.lr * (step + 1) / warm if step < warm else a.min_lr + 0.5 * (a.lr - a.min_lr) * (
                1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
            for grp in opt.param_groups:
                grp["lr"] = lr
            idx = perm[bi * a.batch:(bi + 1) * a.batch]
            tokens = tok_tr[idx].float()
            if a.target == "nbr-random":
                pick = nbrs[idx, torch.randint(a.nbr_k, (len(idx),), generator=g)]
                tgt = torch.where(torch.rand(len(idx), generator=g)[:, None] < 0.5, pool_tr[idx], pool_tr[pick])
            else:
                tgt = target_tr[idx]
            gs = a.gumbel * (1 - step / total) if a.gumbel_anneal else a.gumbel
            fed, logits, _ = model.generate(tokens, tau=a.tau, gumbel=gs, pooled=pool_tr[idx])
            loss = 0
            pending = []
            if a.vq:
                r = F.normalize(raw_tr[idx], dim=1)  # the space residual k-means' books live in
                for t, q in enumerate(model.q):
                    k = fed[:, t].argmax(-1).detach()
                    loss = loss + a.res_weight * ((q - r) ** 2).sum(1).mean() / len(model.q)
                    pending.append((t, k, r.detach(), q.detach()))  # EMA after backward (books are read by it)
                    r = (r - (model.rbooks[t][k] if a.vq_select == "q" else model.books[t][k])).detach()
            elif a.code_head:
                r = F.normalize(tgt, dim=1)
                for t, q in enumerate(model.q):
                    k = fed[:, t].argmax(-1)
                    c = model.books[t][k]
                    loss = loss + a.res_weight * ((q - r) ** 2).sum(1).mean() / len(model.q)
                    loss = loss + a.book_weight * ((c - r) ** 2).sum(1).mean() / len(model.q)
                    r = (r - c).detach()
            hs = [model.encode(fed[:, :l]) for l in lengths]
            ss = model.project(torch.cat(hs, 0)).split(len(idx))
            tn = F.normalize(tgt, dim=1)
            if a.objective == "dino":
                tl = tn @ protos.T
                pt = F.softmax((tl - center) / 0.04, -1)
                center = 0.9 * center + 0.1 * tl.mean(0)
            for l, w, s in zip(lengths, wts, ss):
                if a.exact1 and l == 1:
                    # every one-symbol sequence is the same for all images: score each image under each
                    # of the V choices and take the expectation under p(symbol 1) -- an exact gradient
                    eye = torch.eye(model.V)[:, None]
                    e1 = F.normalize(model.project(model.encode(eye)), dim=1)  # [V, D]
                    S = e1 @ tn.T / a.ctemp  # [V, B]
                    Lic = (-S + torch.logsumexp(S, 1, keepdim=True)).T  # [B, V]: row InfoNCE if i wrote c
                    p1 = F.softmax(logits[:, 0] / a.exact1_tau, -1)
                    loss = loss + a.contrast_weight * w * (p1 * Lic).sum(1).mean()
                    continue
                if a.exact2 and l == 2:
                    # symbol 1 as written (straight-through); symbol 2 over its top-K candidates
                    K = a.exact2
                    top = logits[:, 1].topk(K, dim=1).indices  # [B, K]
                    pk = F.softmax(logits[:, 1].gather(1, top) / a.exact1_tau, -1)  # [B, K]
                    s1 = fed[:, :1].expand(-1, K, -1).reshape(-1, 1, model.V)  # [B*K, 1, V]
                    s2 = F.one_hot(top.reshape(-1), model.V).float()[:, None]
                    ek = F.normalize(model.project(model.encode(torch.cat([s1, s2], 1))), dim=1)  # [B*K, D]
                    S = ek @ tn.T / a.ctemp  # [B*K, B]
                    own = S.reshape(len(idx), K, -1)[torch.arange(len(idx)), :, torch.arange(len(idx))]  # [B, K]
                    Lik = torch.logsumexp(S, 1).reshape(len(idx), K) - own
                    loss = loss + a.contrast_weight * w * (pk * Lik).sum(1).mean()
                    continue
                if a.objective == "features":
                    loss = loss + w * (1 - F.cosine_similarity(s, tgt, dim=1)).mean()
                elif a.objective == "contrast":
                    sn = F.normalize(s, dim=1)
                    lg = sn @ tn.T / a.ctemp
                    lab = torch.arange(len(idx))
                    loss = loss + a.contrast_weight * w * 0.5 * (F.cross_entropy(lg, lab) + F.cross_entropy(lg.T, lab))
                elif a.objective == "dino":
                    loss = loss + w * -(pt * F.log_softmax(s / 0.1, -1)).sum(1).mean()
            if a.usage:
                m = F.softmax(logits, -1).mean(0)  # [L, V]
                loss = loss + a.usage * (m * m.clamp_min(1e-8).log()).sum(-1).mean()
            if a.infomax:
                pr = F.softmax(logits, -1)  # [B, L, V]
                m = pr.mean(0)
                hm = -(m * m.clamp_min(1e-8).log()).sum(-1).mean()
                hs = -(pr * pr.clamp_min(1e-8).log()).sum(-1).mean()
                loss = loss + a.infomax * (hs - hm)
            if a.sinkhorn:
                with torch.no_grad():
                    q = torch.stack([sinkhorn(logits[:, t]) for t in range(logits.shape[1])], 1)
                loss = loss + a.sinkhorn * -(q * F.log_softmax(logits / 0.1, -1)).sum(-1).mean()
            if a.assign1:
                # online k-means through the student itself: the V one-symbol sequences' outputs are
                # its centroids; symbol 1 learns to pick the one that best explains the target
                eye = torch.eye(model.V)[:, None]
                cent = F.normalize(model.project(model.encode(eye)), dim=1)
                with torch.no_grad():
                    cs = tn @ cent.T
                if a.assign_temp:
                    lab = F.softmax(cs / a.assign_temp, -1)
                    loss = loss + a.assign1 * -(lab * F.log_softmax(logits[:, 0], -1)).sum(-1).mean()
                else:
                    loss = loss + a.assign1 * F.cross_entropy(logits[:, 0], cs.argmax(1))
            if a.scan:
                pick = nbrs[idx, torch.randint(a.nbr_k, (len(idx),), generator=g)]
                _, lg_n, _ = model.generate(tok_tr[pick].float(), tau=a.tau, steps=1)
                p_i, p_j = F.softmax(logits[:, 0], -1), F.softmax(lg_n[:, 0], -1)
                loss = loss + a.scan * -((p_i * p_j).sum(-1).clamp_min(1e-8).log()).mean()
            if a.rkm_pretrain and step < a.rkm_pretrain * total:
                w_ce = 1 - step / (a.rkm_pretrain * total)
                ce = F.cross_entropy(logits.reshape(-1, model.V), rkm_codes[idx].reshape(-1))
                loss = loss + w_ce * ce
            opt.zero_grad()
            loss.backward()
            if a.clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            with torch.no_grad():
                for t, k, r, q in pending:
                    cnt = torch.bincount(k, minlength=model.V).float()
                    used = cnt > 0
                    pairs = [(model.books, q), (model.rbooks, r)] if a.vq_select == "q" else [(model.books, r)]
                    for book, x in pairs:
                        sums = torch.zeros_like(book[t]).index_add_(0, k, x)
                        book[t][used] = a.book_ema * book[t][used] + (1 - a.book_ema) * sums[used] / cnt[used, None]
                    if a.dead_restart:
                        share = len(k) / model.V
                        usage_ema[t] = a.book_ema * usage_ema[t] + (1 - a.book_ema) * cnt
                        dead = (usage_ema[t] < a.dead_restart * share).nonzero().flatten()
                        if len(dead):
                            pick = torch.randint(len(k), (len(dead),), generator=g)
                            for book, x in pairs:
                                book[t][dead] = x[pick]
                            usage_ema[t][dead] = share
            with torch.no_grad():
                for p in decay:
                    p.mul_(1 - lr * a.wd)
            if step % 50 == 0:
                print(f"step {step}/{total} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
            step += 1
    train_s = time.time() - t0
    res = evaluate(model, feats, lengths=(1, 2, 4, 8), subset=a.subset, use_pooled=a.global_token)
    res.update(tag=a.tag, args=vars(a), train_s=round(train_s), total_s=round(time.time() - t_start))
    if a.baseline:
        b = residual_kmeans_table(feats, cache_key=f"{a.size}-{a.pooled}-every{a.stride}")
        res["rkm"] = b["residual_kmeans"]
        res["teacher"] = b["teacher"]
    log(f"[{a.tag}] emb {fmt(res['emb'])} | proj {fmt(res['proj'])} | ppl {res['ppl_min']:.1f}-{res['ppl_max']:.1f}"
        f" distinct {res['distinct']:.2f} | H(p) {res['entropy'][0]:.2f}/{res['entropy'][-1]:.2f} gumbel-agree {res['gumbel_agree'][0]:.2f}/{res['gumbel_agree'][-1]:.2f} | train {train_s:.0f}s" + (f" | rkm {fmt(res['rkm'])} teacher {res['teacher']:.2f}" if a.baseline else ""))
    log("    " + json.dumps({k: v for k, v in res.items() if k not in ("args",)}) + " ARGS " + json.dumps(vars(a)))


@torch.no_grad()
def evaluate(model, feats, lengths=(1, 2, 4, 8), subset=0, use_pooled=False):
    model.eval()
    outs = {}
    q1 = {}
    for split in ("train", "test"):
        tok, pooled, y = feats[split]
        if subset and split == "train":
            tok, y = tok[:subset], y[:subset]
        embs = {l: [] for l in lengths}
        projs = {l: [] for l in lengths}
        syms = []
        ents, agree = [], []
        qs = []
        for i in range(0, len(tok), 1000):
            fed, logits, _ = model.generate(tok[i:i + 1000].float(), tau=1.0, pooled=pooled[i:i + 1000])
            if model.books is not None:
                qs.append(model.q[0])
            syms.append(fed.argmax(-1))
            pr = F.softmax(logits, -1)
            ents.append(-(pr * pr.clamp_min(1e-12).log()).sum(-1).mean(0))  # [L] per-sample entropy
            g = -torch.log(-torch.log(torch.rand_like(logits).clamp_min(1e-9)))
            agree.append(((logits + g).argmax(-1) == logits.argmax(-1)).float().mean(0))
            for l in lengths:
                h = model.encode(fed[:, :l])
                embs[l].append(h)
                projs[l].append(model.project(h))
        if split == "test":
            ent_test = torch.stack(ents).mean(0).tolist()
            agree_test = torch.stack(agree).mean(0).tolist()
        outs[split] = ({l: torch.cat(v) for l, v in embs.items()}, {l: torch.cat(v) for l, v in projs.items()},
                       torch.cat(syms), y)
        q1[split] = torch.cat(qs) if qs else None
    (etr, ptr, str_, ytr), (ete, pte, ste, yte) = outs["train"], outs["test"]
    emb = {l: knn_accuracy(etr[l], ytr, ete[l], yte) for l in lengths}
    # k-NN on the 768-d projector output costs 6x the embedding's: only lengths 1 and 8
    proj = {l: knn_accuracy(ptr[l], ytr, pte[l], yte) for l in (lengths[0], lengths[-1])}
    L = ste.shape[1]
    ppl = []
    for t in range(L):
        c = torch.bincount(ste[:, t], minlength=model.V).float()
        p = c / c.sum()
        ppl.append(math.exp(-(p[p > 0] * p[p > 0].log()).sum().item()))
    distinct = float(np.mean([len(set(r.tolist())) for r in ste]))
    qdiag = {}
    if q1.get("train") is not None:
        from common import kmeans
        qtr, qte = F.normalize(q1["train"], dim=1), F.normalize(q1["test"], dim=1)
        C, asg = kmeans(qtr, model.V)
        bte = torch.cdist(qte, C).argmin(1)
        qdiag = {"q1_knn": knn_accuracy(qtr, ytr, qte, yte), "q1_kmeans_len1": knn_accuracy(C[asg], ytr, C[bte], yte),
                 "q1_cos": F.cosine_similarity(q1["test"], F.normalize(feats["test"][1], dim=1), dim=1).mean().item()}
        print("q diagnostics", qdiag, flush=True)
    model.train()
    return {"emb": emb, "proj": proj, "ppl": [round(x, 1) for x in ppl], "ppl_min": min(ppl), "ppl_max": max(ppl),
            "distinct": distinct, "example": ste[:3].tolist(), **qdiag,
            "entropy": [round(x, 2) for x in ent_test], "gumbel_agree": [round(x, 3) for x in agree_test]}


if __name__ == "__main__":
    main()
