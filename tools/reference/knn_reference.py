#!/usr/bin/env python3
"""Reference fixtures for @symseq/probe's weighted k-NN, computed with PyTorch.

Run: /usr/bin/python3 tools/reference/knn_reference.py
Writes packages/probe/test/fixtures/knn_reference.json.

`knn_classifier` below is facebookresearch/dino eval_knn.py's function (features L2-normalised
first, as its extract_feature_pipeline does), changed only to also return the top-1 predictions and
to use chunks of 10 queries. Data: Gaussian clusters in float32, so the TypeScript side reads exactly
the numbers torch used. Queries whose result would depend on how ties or float rounding are broken
(k-th and (k+1)-th similarity closer than 1e-4, best two class scores within 1e-4 relative, or the
true class tied at the top-5 boundary) are left out, so the fixture is unambiguous.
"""
import json
from pathlib import Path

import torch
from torch import nn

OUT = Path(__file__).resolve().parents[2] / "packages/probe/test/fixtures/knn_reference.json"


@torch.no_grad()
def knn_classifier(train_features, train_labels, test_features, test_labels, k, T, num_classes=1000):
    top1, top5, total = 0.0, 0.0, 0
    all_predictions = []
    train_features = train_features.t()
    num_test_images, num_chunks = test_labels.shape[0], 5
    imgs_per_chunk = num_test_images // num_chunks
    retrieval_one_hot = torch.zeros(k, num_classes).to(train_features.device)
    for idx in range(0, num_test_images, imgs_per_chunk):
        features = test_features[idx : min((idx + imgs_per_chunk), num_test_images), :]
        targets = test_labels[idx : min((idx + imgs_per_chunk), num_test_images)]
        batch_size = targets.shape[0]
        similarity = torch.mm(features, train_features)
        distances, indices = similarity.topk(k, largest=True, sorted=True)
        candidates = train_labels.view(1, -1).expand(batch_size, -1)
        retrieved_neighbors = torch.gather(candidates, 1, indices)
        retrieval_one_hot.resize_(batch_size * k, num_classes).zero_()
        retrieval_one_hot.scatter_(1, retrieved_neighbors.view(-1, 1), 1)
        distances_transform = distances.clone().div_(T).exp_()
        probs = torch.sum(
            torch.mul(retrieval_one_hot.view(batch_size, -1, num_classes), distances_transform.view(batch_size, -1, 1)),
            1,
        )
        _, predictions = probs.sort(1, True)
        all_predictions.append(predictions[:, 0])
        correct = predictions.eq(targets.data.view(-1, 1))
        top1 = top1 + correct.narrow(1, 0, 1).sum().item()
        top5 = top5 + correct.narrow(1, 0, min(5, k)).sum().item()
        total += targets.size(0)
    top1 = top1 * 100.0 / total
    top5 = top5 * 100.0 / total
    return top1, top5, torch.cat(all_predictions)


def unambiguous(train, train_labels, query, label, k, T, num_classes):
    """True when no tie or near-tie can change this query's top-1 / top-5 outcome."""
    sim = (nn.functional.normalize(query[None].double(), dim=1) @ nn.functional.normalize(train.double(), dim=1).t())[0]
    s, i = sim.sort(descending=True)
    if s[k - 1] - s[k] < 1e-4:
        return False
    scores = torch.zeros(num_classes, dtype=torch.float64)
    scores.index_add_(0, train_labels[i[:k]], torch.exp(s[:k] / T))
    ranked, _ = scores.sort(descending=True)
    if ranked[0] - ranked[1] < 1e-4 * ranked[0]:
        return False
    width = min(5, k, num_classes)
    near = (scores - scores[label]).abs() <= 1e-4 * ranked[0]
    near[label] = False
    if near.any() and width < num_classes:
        # the true class ties another class: ambiguous if the tie straddles the top-5 boundary
        above = (scores > scores[label] + 1e-4 * ranked[0]).sum().item()
        if above < width <= above + near.sum().item():
            return False
    return True


def make_case(seed, n_train, n_test, dim, num_classes, k, T, spread):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_classes, dim, generator=g)
    train_labels = torch.randint(0, num_classes, (n_train,), generator=g)
    train = (centres[train_labels] + spread * torch.randn(n_train, dim, generator=g)).float()
    cand_labels = torch.randint(0, num_classes, (n_test * 3,), generator=g)
    cand = (centres[cand_labels] + spread * torch.randn(n_test * 3, dim, generator=g)).float()
    keep = [j for j in range(n_test * 3) if unambiguous(train, train_labels, cand[j], cand_labels[j], k, T, num_classes)]
    keep = keep[:n_test]
    assert len(keep) == n_test, "not enough unambiguous queries"
    test, test_labels = cand[keep], cand_labels[keep]
    top1, top5, preds = knn_classifier(
        nn.functional.normalize(train, dim=1, p=2),
        train_labels,
        nn.functional.normalize(test, dim=1, p=2),
        test_labels,
        k,
        T,
        num_classes,
    )
    return {
        "k": k,
        "T": T,
        "numClasses": num_classes,
        "dim": dim,
        "trainFeatures": train.flatten().tolist(),
        "trainLabels": train_labels.tolist(),
        "testFeatures": test.flatten().tolist(),
        "testLabels": test_labels.tolist(),
        "top1": top1,
        "top5": top5,
        "predictions": preds.tolist(),
    }


def main():
    cases = {
        "k20_T007_10classes": make_case(1, 200, 50, 16, 10, 20, 0.07, 2.2),
        "k5_T05_7classes": make_case(2, 200, 50, 16, 7, 5, 0.5, 2.0),
        "k10_T007_5classes": make_case(3, 200, 50, 16, 5, 10, 0.07, 1.8),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases))
    for name, c in cases.items():
        print(f"{name}: top1 {c['top1']:.2f}  top5 {c['top5']:.2f}")


if __name__ == "__main__":
    main()
