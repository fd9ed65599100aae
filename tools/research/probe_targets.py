"""Teacher-side ceilings: k-NN of pooled features, of neighbour-smoothed features, residual k-means."""
import sys
import torch, torch.nn.functional as F
from common import load_features, knn_accuracy, residual_kmeans_table, fmt, log
torch.set_num_threads(1)
size = int(sys.argv[1]); layer = sys.argv[2] if len(sys.argv) > 2 else "conv_pw_13_relu"
f = load_features(size, layer)
(_, ptr, ytr), (_, pte, yte) = f["train"], f["test"]
b = residual_kmeans_table(f)
log(f"[teacher {size}px] pooled kNN {b['teacher']:.2f} | residual k-means {fmt(b['residual_kmeans'])} ({b['seconds']:.0f}s)")
pn = F.normalize(ptr, dim=1)
nb = torch.empty(len(pn), 20, dtype=torch.long)
for i in range(0, len(pn), 2000):
    nb[i:i+2000] = (pn[i:i+2000] @ pn.T).topk(21, dim=1).indices[:, 1:]
log(f"[teacher {size}px] train 20-NN label agreement {(ytr[nb] == ytr[:, None]).float().mean()*100:.2f}")
sm = F.normalize(pn + pn[nb].sum(1), dim=1)
log(f"[teacher {size}px] kNN with train bank smoothed by 20 neighbours (test raw) {knn_accuracy(sm, ytr, pte, yte):.2f}")
