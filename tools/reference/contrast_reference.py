"""Reference fixture for @symseq/loss's `contrast` objective (symmetric in-batch InfoNCE), with PyTorch.

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 tools/reference/contrast_reference.py
Writes packages/loss/test/fixtures/contrast_reference.json.

The loss is CLIP's: s = F.normalize(student), t = F.normalize(teacher.detach()), logits = s @ t.T / tau,
loss = (F.cross_entropy(logits, arange B) + F.cross_entropy(logits.T, arange B)) / 2. Inputs are drawn
in float32 (the TypeScript side sees exactly the same numbers), the reference computes in float64, and
the gradient w.r.t. the student comes from autograd.
"""

import os

import torch
import torch.nn.functional as F
from torch_fixture import f32, host, randn, write_fixture

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "loss", "test", "fixtures",
                   "contrast_reference.json")


def contrast(student, teacher, tau):
    s = F.normalize(student, dim=-1)
    t = F.normalize(teacher.detach(), dim=-1)
    logits = s @ t.T / tau
    labels = torch.arange(student.shape[0])
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def single(batch, dim, tau, scale):
    student = randn(batch, dim, scale=scale).requires_grad_(True)
    # teacher = a noisy copy of the student for half the rows, so positives and negatives differ
    teacher = randn(batch, dim, scale=scale)
    teacher[: batch // 2] += student.detach()[: batch // 2]
    teacher = f32(teacher)
    loss = contrast(student, teacher, tau)
    (grad,) = torch.autograd.grad(loss, student)
    return {"temperature": tau, "student": host(student), "teacher": host(teacher),
            "loss": float(loss), "gradStudent": host(grad)}


def multi_length(batch, dim, tau, lengths):
    """The objective: mean over prefix lengths (MultiLengthLoss's default equal weights 1/n)."""
    students = {l: randn(batch, dim).requires_grad_(True) for l in lengths}
    teacher = randn(batch, dim, scale=3.0)
    per_length = {l: contrast(students[l], teacher, tau) for l in lengths}
    total = sum(per_length.values()) / len(lengths)
    grads = torch.autograd.grad(total, [students[l] for l in lengths])
    return {"temperature": tau, "lengths": lengths, "teacher": host(teacher),
            "students": {str(l): host(students[l]) for l in lengths},
            "total": float(total), "perLength": {str(l): float(v) for l, v in per_length.items()},
            "gradStudents": {str(l): host(g) for l, g in zip(lengths, grads)}}


def expected_first(batch, vocab, dim, tau, center):
    """expectedFirstSymbolContrast: mean_i sum_c p_ic (logsumexp_j(e_c.t_j/tau) - e_c.t_i/tau), p = softmax(logits),
    written as a loop over the V candidate symbols (each one the row InfoNCE of the batch with every image on it),
    so it shares no algebra with the TypeScript."""
    proj = randn(vocab, dim).requires_grad_(True)
    logits = randn(batch, vocab, scale=2.0).requires_grad_(True)
    teacher = randn(batch, dim, scale=2.0)
    t = teacher - center if center is not None else teacher
    p = F.softmax(logits, -1)
    tn = F.normalize(t, dim=-1)
    labels = torch.arange(batch)
    loss = 0
    for c in range(vocab):
        s = F.normalize(proj[c], dim=-1).expand(batch, dim)  # every image on symbol c
        row = F.cross_entropy(s @ tn.T / tau, labels, reduction="none")  # [B]
        loss = loss + (p[:, c] * row).sum() / batch
    g_proj, g_logits = torch.autograd.grad(loss, [proj, logits])
    out = {"temperature": tau, "symbolProjections": host(proj), "logits": host(logits), "teacher": host(teacher),
           "loss": float(loss), "gradSymbolProjections": host(g_proj), "gradLogits": host(g_logits)}
    if center is not None:
        out["center"] = host(center)
    return out


def objective_exact_first(batch, vocab, dim, tau):
    """The contrast objective with exactFirstSymbol and center: lengths [1, 2] with weights 0.6 / 0.4."""
    case = expected_first(batch, vocab, dim, tau, f32(randn(dim)))
    student2 = randn(batch, dim).requires_grad_(True)
    teacher = torch.tensor(case["teacher"]["data"], dtype=torch.float64).reshape(batch, dim)
    center = torch.tensor(case["center"]["data"], dtype=torch.float64)
    l2 = contrast(student2, teacher - center, tau)
    (g2,) = torch.autograd.grad(l2, student2)
    case.update(student2=host(student2), len2=float(l2), total=0.6 * case["loss"] + 0.4 * float(l2),
                gradStudent2=host(0.4 * g2), weights=[0.6, 0.4])
    return case


def main():
    torch.manual_seed(0)
    fixture = {
        "source": "tools/reference/contrast_reference.py (torch %s, float64)" % torch.__version__,
        "tau01": single(6, 5, 0.1, 1.0),
        "tau05": single(4, 3, 0.5, 2.0),
        "objective": multi_length(5, 4, 0.1, [1, 2, 4]),
        "expectedFirst": expected_first(6, 5, 4, 0.1, None),
        "expectedFirstTau05": expected_first(3, 7, 2, 0.5, None),
        "objectiveExactFirst": objective_exact_first(5, 4, 3, 0.1),
    }
    write_fixture(OUT, fixture)


if __name__ == "__main__":
    main()
