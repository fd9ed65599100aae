#!/usr/bin/env python3
"""Reference fixture for @symseq/probe's no-learning code baselines and mAP@R retrieval.

Run: /usr/bin/python3 tools/reference/baselines_reference.py
Writes packages/probe/test/fixtures/baselines_reference.json.

- Residual k-means: rows L2-normalised (float64), then for each stage sklearn's KMeans (Lloyd, given
  initial centres = the rows `init_rows[s]` of that stage's residual, n_init=1, tol=0, max_iter=iters)
  and the residual minus each row's nearest centroid. A plain numpy Lloyd loop is run beside sklearn
  and must agree (so sklearn's empty-cluster relocation, which the TypeScript k-means does not do,
  never happened). Test rows are encoded stage by stage by the nearest centroid; prefix l decodes to
  the sum of the first l centroids.
- Product quantization: the normalised feature cut into slices with numpy.array_split (D = 13 into 3:
  widths 5, 4, 4), one KMeans per slice.
- mAP@R: cosine ranking, equal similarities ordered by `tie_order` (a permutation of the database:
  earlier first), AP over the top R as DeepHash-pytorch's CalcTopMap (queries without a hit count 0).
  At R = N on continuous features (no ties) it is checked against sklearn's average_precision_score
  (here only: such a full ranking has near-ties that float32 may order differently).
  Rankings whose AP would hinge on float rounding (neighbours in the ranking of different relevance
  whose similarities differ by less than 1e-5) are rejected, so float32 (TypeScript) and float64
  (here) must give the same AP.
"""
import json
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import average_precision_score

OUT = Path(__file__).resolve().parents[2] / "packages/probe/test/fixtures/baselines_reference.json"
rng = np.random.default_rng(15)

N_TRAIN, N_TEST, D, CLASSES = 240, 60, 13, 4
V, L, ITERS = 6, 3, 12
R = 40


def make_split(n):
    labels = np.arange(n) % CLASSES
    centres = np.random.default_rng(3).normal(size=(CLASSES, D))
    x = centres[labels] + 1.8 * rng.normal(size=(n, D))
    return x.astype(np.float32), labels


def normalize(x):
    x = x.astype(np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def nearest(x, centres):
    d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    srt = np.sort(d, axis=1)
    assert (srt[:, 1] - srt[:, 0] > 1e-6).all(), "an assignment is a near-tie"
    return d.argmin(1)


def lloyd(x, init, iters):
    c = init.copy()
    for _ in range(iters):
        a = nearest(x, c)
        counts = np.bincount(a, minlength=len(c))
        assert (counts > 0).all(), "a cluster emptied: pick other initial rows"
        c = np.stack([x[a == k].mean(0) for k in range(len(c))])
    return c


def fit_kmeans(x, init_rows):
    init = x[init_rows]
    km = KMeans(n_clusters=V, init=init, n_init=1, max_iter=ITERS, tol=0, algorithm="lloyd").fit(x)
    mine = lloyd(x, init, ITERS)
    assert np.abs(km.cluster_centers_ - mine).max() < 1e-9, "sklearn and numpy Lloyd disagree"
    return km.cluster_centers_


def residual_kmeans(train, test, init_rows):
    res_train, res_test = normalize(train), normalize(test)
    books, codes_train, codes_test = [], [], []
    for s in range(L):
        c = fit_kmeans(res_train, init_rows[s])
        a, b = nearest(res_train, c), nearest(res_test, c)
        res_train, res_test = res_train - c[a], res_test - c[b]
        books.append(c)
        codes_train.append(a)
        codes_test.append(b)
    return books, np.stack(codes_train, 1), np.stack(codes_test, 1)


def decode_residual(books, codes, length):
    return sum(books[s][codes[:, s]] for s in range(length))


def product_quantize(train, test, init_rows):
    xt, xq = normalize(train), normalize(test)
    cols = np.array_split(np.arange(D), L)
    books, ct, cq = [], [], []
    for j, idx in enumerate(cols):
        c = fit_kmeans(xt[:, idx], init_rows[j])
        books.append(c)
        ct.append(nearest(xt[:, idx], c))
        cq.append(nearest(xq[:, idx], c))
    return books, [[int(i[0]), int(i[-1]) + 1] for i in cols], np.stack(ct, 1), np.stack(cq, 1)


def decode_pq(books, codes):
    return np.concatenate([books[j][codes[:, j]] for j in range(len(books))], axis=1)


def map_at_r(query, q_labels, db, db_labels, r, tie_order, strict=True):
    q, d = normalize(query), normalize(db)
    # Similarities per distinct database row, so identical rows (repeated codes) tie exactly.
    distinct, inverse = np.unique(d, axis=0, return_inverse=True)
    sims = (q @ distinct.T)[:, inverse.ravel()]
    priority = np.empty(len(db), dtype=np.int64)
    priority[tie_order] = np.arange(len(db))
    aps = []
    for i in range(len(q)):
        s = sims[i]
        full = np.lexsort((priority, -s))
        rel_full = db_labels[full] == q_labels[i]
        m = min(r + 1, len(db))
        gap = -np.diff(s[full[:m]])
        ambiguous = (gap > 0) & (gap < 1e-5) & (rel_full[: m - 1] != rel_full[1:m])
        assert not (strict and ambiguous.any()), "two items of different relevance are within rounding of each other"
        rank = full[:r]
        rel = rel_full[:r].astype(np.float64)
        hits = rel.sum()
        aps.append(0.0 if hits == 0 else float((np.cumsum(rel) / np.arange(1, r + 1) * rel).sum() / hits))
        if r == len(db) and len(np.unique(s)) == len(db):
            assert abs(aps[-1] - average_precision_score(db_labels == q_labels[i], s)) < 1e-9
    return 100 * float(np.mean(aps))


train, y_train = make_split(N_TRAIN)
test, y_test = make_split(N_TEST)
init_rows = [sorted(rng.choice(N_TRAIN, V, replace=False).tolist()) for _ in range(L)]
pq_init_rows = [sorted(rng.choice(N_TRAIN, V, replace=False).tolist()) for _ in range(L)]
tie_order = rng.permutation(N_TRAIN)

books, codes_train, codes_test = residual_kmeans(train, test, init_rows)
pq_books, pq_slices, pq_train, pq_test = product_quantize(train, test, pq_init_rows)

fixture = {
    "note": "generated by tools/reference/baselines_reference.py (numpy + sklearn KMeans); do not edit",
    "V": V, "L": L, "iters": ITERS, "R": R,
    "train": train.ravel().tolist(), "trainLabels": y_train.tolist(),
    "test": test.ravel().tolist(), "testLabels": y_test.tolist(),
    "rows": [N_TRAIN, N_TEST], "dim": D,
    "tieOrder": tie_order.tolist(),
    "residual": {
        "initRows": init_rows,
        "codebooks": [b.ravel().tolist() for b in books],
        "trainCodes": codes_train.ravel().tolist(),
        "testCodes": codes_test.ravel().tolist(),
        "decodedTest2": decode_residual(books, codes_test, 2).ravel().tolist(),
        "mAP": {str(l): map_at_r(decode_residual(books, codes_test, l), y_test, decode_residual(books, codes_train, l), y_train, R, tie_order) for l in range(1, L + 1)},
        # the same ranking with ties broken by database index: shows that the tie rule matters
        "mAP1IndexOrder": map_at_r(decode_residual(books, codes_test, 1), y_test, decode_residual(books, codes_train, 1), y_train, R, np.arange(N_TRAIN)),
    },
    "product": {
        "initRows": pq_init_rows,
        "slices": pq_slices,
        "codebooks": [b.ravel().tolist() for b in pq_books],
        "trainCodes": pq_train.ravel().tolist(),
        "testCodes": pq_test.ravel().tolist(),
        "mAP": map_at_r(decode_pq(pq_books, pq_test), y_test, decode_pq(pq_books, pq_train), y_train, R, tie_order),
    },
    "featureMap": {
        "R": map_at_r(test, y_test, train, y_train, R, tie_order),
    },
}
# The AP formula at R = N is sklearn's average_precision_score (asserted per query inside).
map_at_r(test, y_test, train, y_train, N_TRAIN, tie_order, strict=False)
# Ties really occur in the code embeddings (this is what tieOrder decides).
assert len(np.unique(codes_train[:, :1], axis=0)) <= V
OUT.write_text(json.dumps(fixture))
print(f"wrote {OUT}: residual mAP@{R} {fixture['residual']['mAP']}, PQ {fixture['product']['mAP']:.3f}, features {fixture['featureMap']}")
