"""Shared pieces of the research scripts: feature loading, weighted k-NN, residual k-means."""

import os
import time

import numpy as np
import torch
import torch.nn.functional as F

CACHE = "/work/main/.cache/research"


def load_features(size, tokens_layer, pooled_layer="conv_pw_13_relu", stride=1):
    """float32 torch tensors: tokens [n, N, D], pooled [n, D], labels, for train and test."""
    out = {}
    sfx = f"-every{stride}" if stride > 1 else ""
    for split in ("train", "test"):
        tok = np.load(f"{CACHE}/{split}_{tokens_layer}@{size}{sfx}.npy", mmap_mode="r")
        pooled = np.load(f"{CACHE}/{split}_pooled_{pooled_layer}@{size}{sfx}.npy")
        labels = np.load(f"{CACHE}/{split}_labels{sfx}.npy")
        out[split] = (torch.from_numpy(np.ascontiguousarray(tok)), torch.from_numpy(pooled).float(),
                      torch.from_numpy(labels))
    return out


@torch.no_grad()
def knn_accuracy(train_x, train_y, test_x, test_y, k=20, T=0.07, classes=10, seed=0):
    """DINO's weighted k-NN top-1 (%) on L2-normalised rows. The bank is shuffled so that ties
    (identical codes) are broken at random, not by class-sorted index."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(train_x), generator=g)
    bank = F.normalize(train_x.float()[perm], dim=1)
    bank_y = train_y[perm]
    q = F.normalize(test_x.float(), dim=1)
    correct = 0
    for i in range(0, len(q), 1000):
        sim = q[i:i + 1000] @ bank.T
        s, idx = sim.topk(k, dim=1)
        w = (s / T).exp()
        votes = torch.zeros(len(s), classes).scatter_add_(1, bank_y[idx], w)
        correct += (votes.argmax(1) == test_y[i:i + 1000]).sum().item()
    return 100.0 * correct / len(q)


@torch.no_grad()
def kmeans(x, k, iters=25, seed=0):
    """Lloyd's algorithm with k-means++ seeding (squared Euclidean). Returns centroids, assignment."""
    g = torch.Generator().manual_seed(seed)
    n = len(x)
    sample = x[torch.randperm(n, generator=g)[:min(n, 20000)]]
    cent = [sample[torch.randint(len(sample), (1,), generator=g)].squeeze(0)]
    d2 = ((sample - cent[0]) ** 2).sum(1)
    for _ in range(1, k):
        c = sample[torch.multinomial(d2 / d2.sum(), 1, generator=g)].squeeze(0)
        cent.append(c)
        d2 = torch.minimum(d2, ((sample - c) ** 2).sum(1))
    C = torch.stack(cent)
    xx = (x * x).sum(1, keepdim=True)
    for _ in range(iters):
        a = (xx - 2 * x @ C.T + (C * C).sum(1)).argmin(1)
        cnt = torch.bincount(a, minlength=k).float()
        S = torch.zeros_like(C).index_add_(0, a, x)
        nonempty = cnt > 0
        C[nonempty] = S[nonempty] / cnt[nonempty, None]
    a = (xx - 2 * x @ C.T + (C * C).sum(1)).argmin(1)
    return C, a


@torch.no_grad()
def residual_kmeans(train, test, stages=8, k=128, seed=0):
    """Residual k-means on L2-normalised features: the codebooks and each split's codes."""
    tr = F.normalize(train, dim=1)
    te = F.normalize(test, dim=1)
    books, codes_tr, codes_te = [], [], []
    r_tr, r_te = tr.clone(), te.clone()
    for s in range(stages):
        C, a = kmeans(r_tr, k, seed=seed + s)
        b = ((r_te * r_te).sum(1, keepdim=True) - 2 * r_te @ C.T + (C * C).sum(1)).argmin(1)
        r_tr -= C[a]
        r_te -= C[b]
        books.append(C)
        codes_tr.append(a)
        codes_te.append(b)
    return books, torch.stack(codes_tr, 1), torch.stack(codes_te, 1)


def residual_kmeans_table(feats, lengths=(1, 2, 4, 8), stages=8, k=128, seed=0, cache_key=None):
    """Residual k-means k-NN table (cached on disk under cache_key, e.g. '64-conv_pw_13_relu')."""
    path = f"{CACHE}/rkm_{cache_key}_s{seed}.pt" if cache_key else None
    if path and os.path.exists(path):
        return torch.load(path)
    t0 = time.time()
    (_, ptr, ytr), (_, pte, yte) = feats["train"], feats["test"]
    books, ctr, cte = residual_kmeans(ptr, pte, stages, k, seed)
    acc = {}
    for l in lengths:
        rec_tr = sum(books[s][ctr[:, s]] for s in range(l))
        rec_te = sum(books[s][cte[:, s]] for s in range(l))
        acc[l] = knn_accuracy(rec_tr, ytr, rec_te, yte)
    teacher = knn_accuracy(ptr, ytr, pte, yte)
    out = {"residual_kmeans": acc, "teacher": teacher, "seconds": time.time() - t0,
           "books": books, "codes_train": ctr, "codes_test": cte}
    if path:
        torch.save(out, path)
    return out


def fmt(acc):
    return " / ".join(f"{acc[l]:.2f}" for l in sorted(acc))


def log(line, path="/work/main/tools/research/runs.log"):
    print(line, flush=True)
    with open(path, "a") as f:
        f.write(line + "\n")


def ensure_dir(p):
    os.makedirs(p, exist_ok=True)
    return p
