"""How good can a 1-symbol code (128 clusters) of the teacher's pooled features be? k-means on the L2-normalised
features against k-means after PCA (plain and whitened) and after k-NN smoothing over the train bank (a
feature averaged with its k nearest train neighbours, the idea behind SCAN/TEMI positives). k-NN top-1 on the
one-hot code, the protocol of `symseq eval` at length 1. 128 px subset (every 5th image: 10k/2k).

  OPENBLAS_NUM_THREADS=1 nice /usr/bin/python3 tools/research/length1_ceiling.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, torch, torch.nn.functional as F
torch.set_num_threads(1)
from common import knn_accuracy, kmeans, CACHE
sfx='-every5'
tr=torch.from_numpy(np.load(f"{CACHE}/train_pooled_conv_pw_13_relu@128{sfx}.npy")).float()
te=torch.from_numpy(np.load(f"{CACHE}/test_pooled_conv_pw_13_relu@128{sfx}.npy")).float()
ytr=torch.from_numpy(np.load(f"{CACHE}/train_labels{sfx}.npy")); yte=torch.from_numpy(np.load(f"{CACHE}/test_labels{sfx}.npy"))
print('teacher', knn_accuracy(tr,ytr,te,yte))
def code_acc(xtr, xte, K=128, seed=0):
    C,a=kmeans(xtr,K,seed=seed)
    at=((xte*xte).sum(1,keepdim=True)-2*xte@C.T+(C*C).sum(1)).argmin(1)
    # length-1 embedding: one-hot code (equivalent up to tie-breaking to centroid embedding)
    return knn_accuracy(F.one_hot(a,K).float(),ytr,F.one_hot(at,K).float(),yte)
n=lambda x: F.normalize(x,dim=1)
print('kmeans l2', code_acc(n(tr),n(te)))
# PCA whitening
mu=n(tr).mean(0); U,S,V=torch.linalg.svd(n(tr)-mu, full_matrices=False)
for d in (64,128,256):
    P=V[:d].T/ S[:d]*np.sqrt(len(tr))
    print('pca-white',d, code_acc(n((n(tr)-mu)@P), n((n(te)-mu)@P)))
    P2=V[:d].T
    print('pca',d, code_acc(n((n(tr)-mu)@P2), n((n(te)-mu)@P2)))
# kNN smoothing with train bank
for kk in (5,10,20):
    B=n(tr)
    def smooth(q, self_in_bank):
        out=[]
        for i in range(0,len(q),1000):
            s,idx=(q[i:i+1000]@B.T).topk(kk+ (1 if self_in_bank else 0),dim=1)
            out.append(B[idx].mean(1))
        return n(torch.cat(out))
    print('smooth',kk, code_acc(smooth(n(tr),True), smooth(n(te),False)))
