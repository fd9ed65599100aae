#!/usr/bin/env python3
"""Reference fixtures for @symseq/probe's symbol statistics, computed with scikit-learn and numpy.

Run: /usr/bin/python3 tools/reference/probe_stats_reference.py   (Debian: python3-sklearn)
Writes packages/probe/test/fixtures/stats_reference.json.

Symbols are drawn so that early positions depend on the class and later ones less, with a few
vocabulary entries never used. NMI is sklearn's normalized_mutual_info_score (arithmetic mean),
purity comes from sklearn's contingency_matrix, usage entropies from scipy-free numpy (nats),
distinct symbols per sequence with np.unique per row.
A prefix "joint code" is the row of its first l symbols, numbered with np.unique(axis=0).
"""
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

OUT = Path(__file__).resolve().parents[2] / "packages/probe/test/fixtures/stats_reference.json"


def purity(classes, clusters):
    c = contingency_matrix(classes, clusters)  # rows: classes, columns: clusters
    return float(c.max(axis=0).sum() / c.sum())


def usage(values, vocab):
    counts = np.bincount(values, minlength=vocab)
    p = counts[counts > 0] / counts.sum()
    h = float(-(p * np.log(p)).sum())
    return {"counts": counts.tolist(), "used": int((counts > 0).sum()), "entropy": h, "perplexity": float(np.exp(h))}


def distinct_per_sequence(symbols):
    """How many different symbols each sequence uses: the mean and a histogram over 1..length."""
    d = np.array([len(np.unique(row)) for row in symbols])
    return {"mean": float(d.mean()), "histogram": np.bincount(d, minlength=symbols.shape[1] + 1)[1:].tolist()}


def main():
    rng = np.random.default_rng(7)
    n, length, vocab, classes = 300, 6, 12, 4
    labels = rng.integers(0, classes, n)
    symbols = np.zeros((n, length), dtype=np.int64)
    for p in range(length):
        informative = rng.random(n) < 0.9 / (p + 1)
        # class-dependent symbols use entries 0..7, noise uses 0..9: entries 10 and 11 never occur
        symbols[:, p] = np.where(informative, (labels * 2 + p) % 8, rng.integers(0, 10, n))
    per_position = []
    for p in range(length):
        col = symbols[:, p]
        per_position.append({
            "position": p,
            "nmi": float(normalized_mutual_info_score(labels, col)),
            "purity": purity(labels, col),
            "distinctCodes": int(len(np.unique(col))),
        })
    per_prefix = []
    for l in [1, 2, 4, 6]:
        _, codes = np.unique(symbols[:, :l], axis=0, return_inverse=True)
        codes = codes.reshape(-1)
        per_prefix.append({
            "length": l,
            "nmi": float(normalized_mutual_info_score(labels, codes)),
            "purity": purity(labels, codes),
            "distinctCodes": int(len(np.unique(codes))),
        })
    special = {
        "constantBoth": float(normalized_mutual_info_score([3, 3, 3], [1, 1, 1])),
        "constantOne": float(normalized_mutual_info_score([0, 1, 0, 1], [5, 5, 5, 5])),
        "permuted": float(normalized_mutual_info_score([0, 0, 1, 1, 2, 2], [7, 7, 3, 3, 9, 9])),
        "independent": float(normalized_mutual_info_score([0, 0, 1, 1], [0, 1, 0, 1])),
    }
    fixture = {
        "vocabSize": vocab,
        "length": length,
        "symbols": symbols.flatten().tolist(),
        "labels": labels.tolist(),
        "perPosition": per_position,
        "perPrefix": per_prefix,
        "usagePerPosition": [usage(symbols[:, p], vocab) for p in range(length)],
        "usageOverall": usage(symbols.flatten(), vocab),
        "distinctPerSequence": distinct_per_sequence(symbols),
        "special": special,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture))
    for r in per_position + per_prefix:
        print(r)


if __name__ == "__main__":
    main()
