"""Reference fixtures for @symseq/loss, computed with PyTorch.

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 tools/reference/loss_reference.py
Writes packages/loss/test/fixtures/loss_reference.json.

The DINO part copies facebookresearch/dino's `DINOLoss` (main_dino.py) verbatim, minus
torch.distributed (one process: all_reduce is the identity and world size is 1). Everything
else is a direct torch transcription of the formulas in the package README. Inputs are drawn
in float32 (so the TypeScript side sees exactly the same numbers), the reference computes in
float64, and gradients come from autograd.
"""

import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_fixture import f32, host, randn, write_fixture

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "loss", "test", "fixtures", "loss_reference.json")


class DINOLoss(nn.Module):
    """facebookresearch/dino main_dino.py, single process."""

    def __init__(self, out_dim, ncrops, warmup_teacher_temp, teacher_temp,
                 warmup_teacher_temp_epochs, nepochs, student_temp=0.1,
                 center_momentum=0.9):
        super().__init__()
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.ncrops = ncrops
        self.register_buffer("center", torch.zeros(1, out_dim, dtype=torch.float64))
        # we apply a warm up for the teacher temperature because
        # a too high temperature makes the training instable at the beginning
        self.teacher_temp_schedule = np.concatenate((
            np.linspace(warmup_teacher_temp,
                        teacher_temp, warmup_teacher_temp_epochs),
            np.ones(nepochs - warmup_teacher_temp_epochs) * teacher_temp
        ))

    def forward(self, student_output, teacher_output, epoch):
        student_out = student_output / self.student_temp
        student_out = student_out.chunk(self.ncrops)

        # teacher centering and sharpening
        temp = self.teacher_temp_schedule[epoch]
        teacher_out = F.softmax((teacher_output - self.center) / temp, dim=-1)
        teacher_out = teacher_out.detach().chunk(2)

        total_loss = 0
        n_loss_terms = 0
        for iq, q in enumerate(teacher_out):
            for v in range(len(student_out)):
                if v == iq:
                    # we skip cases where student and teacher operate on the same view
                    continue
                loss = torch.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1)
                total_loss += loss.mean()
                n_loss_terms += 1
        total_loss /= n_loss_terms
        self.update_center(teacher_output)
        return total_loss

    @torch.no_grad()
    def update_center(self, teacher_output):
        batch_center = torch.sum(teacher_output, dim=0, keepdim=True)
        batch_center = batch_center / len(teacher_output)
        # ema update
        self.center = self.center * self.center_momentum + batch_center * (1 - self.center_momentum)


def soft_ce(q, student_logits, student_temp):
    return torch.sum(-q * F.log_softmax(student_logits / student_temp, dim=-1), dim=-1).mean()


def dino_multicrop():
    """DINO verbatim: 2 teacher (global) views, 4 student crops, cross pairing, warm-up over 3 epochs."""
    cfg = dict(outDim=7, batch=3, studentViews=4, teacherViews=2, warmupTeacherTemp=0.04, teacherTemp=0.07,
               warmupTeacherTempSteps=3, studentTemp=0.1, centerMomentum=0.9)
    nepochs = 6
    ref = DINOLoss(cfg["outDim"], cfg["studentViews"], cfg["warmupTeacherTemp"], cfg["teacherTemp"],
                   cfg["warmupTeacherTempSteps"], nepochs, cfg["studentTemp"], cfg["centerMomentum"])
    steps = []
    for epoch in range(nepochs):
        student = randn(cfg["studentViews"] * cfg["batch"], cfg["outDim"], scale=2.0).requires_grad_(True)
        # teacher logits with a per-class offset, so the centre has something to remove
        teacher = f32(randn(cfg["teacherViews"] * cfg["batch"], cfg["outDim"], scale=0.3) + torch.linspace(-0.2, 0.3, cfg["outDim"]))
        loss = ref(student, teacher, epoch)
        (grad,) = torch.autograd.grad(loss, student)
        steps.append({
            "step": epoch,
            "teacherTemp": float(ref.teacher_temp_schedule[epoch]),
            "studentViews": host(student),
            "teacherViews": host(teacher),
            "loss": float(loss),
            "gradStudent": host(grad),
            "centerAfter": host(ref.center),
        })
    return {"config": cfg, "steps": steps}


def pairing(mode, n_student, n_teacher):
    if mode == "cross":
        return [(s, t) for t in range(n_teacher) for s in range(n_student) if s != t]
    return [(i, i) for i in range(n_teacher)]


def dino_general(mode, n_student, n_teacher, cfg, steps_n, seed_scale):
    """Same-view and single-pair DINO: the loop of DINOLoss.forward with a different pair list."""
    center = torch.zeros(1, cfg["outDim"], dtype=torch.float64)
    W = cfg["warmupTeacherTempSteps"]
    sched = np.concatenate((np.linspace(cfg["warmupTeacherTemp"], cfg["teacherTemp"], W), np.ones(steps_n - W) * cfg["teacherTemp"]))
    steps = []
    for step in range(steps_n):
        student = randn(n_student * cfg["batch"], cfg["outDim"], scale=seed_scale).requires_grad_(True)
        teacher = f32(randn(n_teacher * cfg["batch"], cfg["outDim"], scale=0.5) + 0.1 * torch.arange(cfg["outDim"]))
        temp = sched[step]
        q = F.softmax((teacher - center) / temp, dim=-1).detach().chunk(n_teacher)
        s = student.chunk(n_student)
        pairs = pairing(mode, n_student, n_teacher)
        loss = sum(soft_ce(q[t], s[si], cfg["studentTemp"]) for si, t in pairs) / len(pairs)
        (grad,) = torch.autograd.grad(loss, student)
        center = center * cfg["centerMomentum"] + teacher.mean(0, keepdim=True) * (1 - cfg["centerMomentum"])
        steps.append({
            "step": step,
            "teacherTemp": float(temp),
            "studentViews": host(student),
            "teacherViews": host(teacher),
            "loss": float(loss),
            "gradStudent": host(grad),
            "centerAfter": host(center),
        })
    return {"config": dict(cfg, studentViews=n_student, teacherViews=n_teacher, pairing=mode), "steps": steps}


def multi_length(weights, normalize):
    """Per-prefix-length CE against one teacher target; total = Σ w_l CE_l."""
    lengths = [1, 2, 4, 8]
    cfg = dict(outDim=6, batch=4, warmupTeacherTemp=0.04, teacherTemp=0.06, warmupTeacherTempSteps=2,
               studentTemp=0.1, centerMomentum=0.9)
    if weights is None:
        w = [1.0 / len(lengths)] * len(lengths)
    else:
        w = list(weights)
        if normalize:
            w = [x / sum(w) for x in w]
    center = torch.zeros(1, cfg["outDim"], dtype=torch.float64)
    W = cfg["warmupTeacherTempSteps"]
    steps = []
    for step in range(3):
        temp = cfg["warmupTeacherTemp"] + (cfg["teacherTemp"] - cfg["warmupTeacherTemp"]) * step / (W - 1) if step < W else cfg["teacherTemp"]
        students = {l: randn(cfg["batch"], cfg["outDim"], scale=1.5).requires_grad_(True) for l in lengths}
        teacher = randn(cfg["batch"], cfg["outDim"], scale=0.5)
        q = F.softmax((teacher - center) / temp, dim=-1).detach()
        per = {l: soft_ce(q, students[l], cfg["studentTemp"]) for l in lengths}
        total = sum(wi * per[l] for wi, l in zip(w, lengths))
        grads = torch.autograd.grad(total, [students[l] for l in lengths])
        center = center * cfg["centerMomentum"] + teacher.mean(0, keepdim=True) * (1 - cfg["centerMomentum"])
        steps.append({
            "step": step,
            "teacherTemp": float(temp),
            "students": {str(l): host(students[l]) for l in lengths},
            "teacher": host(teacher),
            "total": float(total),
            "perLength": {str(l): float(per[l]) for l in lengths},
            "gradStudents": {str(l): host(g) for l, g in zip(lengths, grads)},
            "centerAfter": host(center),
        })
    return {"config": dict(cfg, lengths=lengths, weights=weights, normalizeWeights=normalize, resolvedWeights=w), "steps": steps}


def feature_regression():
    student = randn(5, 9).requires_grad_(True)
    teacher = randn(5, 9)
    cos = (1 - F.cosine_similarity(student, teacher, dim=-1)).mean()
    (g_cos,) = torch.autograd.grad(cos, student)
    mse = F.mse_loss(student, teacher)
    (g_mse,) = torch.autograd.grad(mse, student)
    return {"student": host(student), "teacher": host(teacher),
            "cosine": {"loss": float(cos), "gradStudent": host(g_cos)},
            "mse": {"loss": float(mse), "gradStudent": host(g_mse)}}


def entropy(p, dim=-1):
    return -(p * torch.log(p)).sum(dim)


def regularizers():
    logits = randn(6, 3, 5, scale=1.5).requires_grad_(True)
    p = F.softmax(logits, dim=-1)
    marginal = p.mean(0)  # [L, V]
    marginal_entropy = entropy(marginal).mean()
    sample_entropy = entropy(p).mean()
    usage_loss = -marginal_entropy
    info_max = sample_entropy - marginal_entropy
    (g_usage,) = torch.autograd.grad(usage_loss, logits, retain_graph=True)
    (g_info,) = torch.autograd.grad(info_max, logits)
    return {"logits": host(logits), "marginalEntropy": float(marginal_entropy), "sampleEntropy": float(sample_entropy),
            "usageLoss": float(usage_loss), "infoMaxLoss": float(info_max),
            "gradUsageLogits": host(g_usage), "gradInfoMaxLogits": host(g_info)}


def main():
    torch.manual_seed(0)
    base = dict(outDim=5, batch=3, warmupTeacherTemp=0.04, teacherTemp=0.07, warmupTeacherTempSteps=4,
                studentTemp=0.1, centerMomentum=0.9)
    fixture = {
        "source": "tools/reference/loss_reference.py (torch %s, float64)" % torch.__version__,
        "dinoMultiCrop": dino_multicrop(),
        "dinoSameView": dino_general("same", 2, 2, base, 5, 1.0),
        "dinoSinglePair": dino_general("same", 1, 1, dict(base, studentTemp=0.2, centerMomentum=0.8), 5, 1.0),
        "multiLengthDefault": multi_length(None, False),
        "multiLengthGiven": multi_length([0.4, 0.3, 0.2, 0.1], False),
        "multiLengthNormalized": multi_length([2.0, 1.0, 1.0, 4.0], True),
        "featureRegression": feature_regression(),
        "regularizers": regularizers(),
    }
    write_fixture(OUT, fixture)


if __name__ == "__main__":
    main()
