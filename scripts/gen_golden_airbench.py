#!/usr/bin/python3
# Golden fixtures for the airbench94 recipe's building blocks, from PyTorch 1.13 (CPU):
#   /usr/bin/python3 scripts/gen_golden_airbench.py  ->  test/golden/airbench.json
# Inputs are generated here from fixed seeds and stored in the fixture, so the tests need no Python.
import json
import math
import os
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
out = {"torch": torch.__version__}


def det(shape, seed):
    """Deterministic inputs the tests rebuild themselves (sin of a ramp), so the fixture need not store them."""
    n = math.prod(shape)
    return (torch.sin(torch.arange(n, dtype=torch.float64) * 0.7311 + seed) * 1.3).reshape(shape)


def chirp(shape, seed):
    """Like det() but with a quadratic phase: patches of a chirp are not low-rank (a whitening input)."""
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    return (torch.sin(i * i * 0.0137 + seed) * 1.3).reshape(shape)


def flat(t):
    return t.detach().double().reshape(-1).tolist()


# ---- linalg.eigh ----
eigh = []
for n, dtype, uplo in [(3, torch.float64, "L"), (6, torch.float64, "U"), (12, torch.float64, "L"), (5, torch.float32, "L"), (4, torch.float64, "U")]:
    a = torch.randn(n, n, dtype=torch.float64)
    if uplo == "U":
        # Only the upper triangle is read: scribble on the lower one to prove it.
        a = torch.triu(a) + torch.tril(torch.full((n, n), 7.0, dtype=torch.float64), -1)
        sym = torch.triu(a) + torch.triu(a, 1).T
    else:
        a = torch.tril(a) + torch.triu(torch.full((n, n), -3.0, dtype=torch.float64), 1)
        sym = torch.tril(a) + torch.tril(a, -1).T
    a = a.to(dtype)
    w, v = torch.linalg.eigh(a, UPLO=uplo)
    eigh.append({"n": n, "dtype": str(dtype).split(".")[1], "uplo": uplo, "a": flat(a), "eigenvalues": flat(w), "eigenvectors": flat(v)})
# A batch of two, and a matrix with a repeated eigenvalue.
b = torch.randn(2, 4, 4, dtype=torch.float64)
b = b + b.transpose(-1, -2)
w, v = torch.linalg.eigh(b)
eigh.append({"n": 4, "batch": [2], "dtype": "float64", "uplo": "L", "a": flat(b), "eigenvalues": flat(w), "eigenvectors": flat(v)})
q, _ = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64))
rep = q @ torch.diag(torch.tensor([2.0, 2.0, -1.0, 5.0], dtype=torch.float64)) @ q.T
w, v = torch.linalg.eigh(rep)
eigh.append({"n": 4, "dtype": "float64", "uplo": "L", "a": flat(rep), "eigenvalues": flat(w), "eigenvectors": flat(v)})
out["eigh"] = eigh


# ---- optimizer parameter groups ----
def quad_loss(ps, coef):
    return sum(((p * c) ** 2).sum() + (p * c).sum() for p, c in zip(ps, coef))


def run_opt(make, steps=4, sched=None):
    torch.manual_seed(1)
    ps = [torch.randn(3, dtype=torch.float64, requires_grad=True) for _ in range(3)]
    coef = [torch.randn(3, dtype=torch.float64) for _ in range(3)]
    init = [flat(p) for p in ps]
    opt = make(ps)
    s = sched(opt) if sched else None
    lrs = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        quad_loss(ps, coef).backward()
        opt.step()
        if s:
            s.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return {"init": init, "coef": [flat(c) for c in coef], "final": [flat(p) for p in ps], "lrs": lrs}


out["optim"] = {
    "sgd_groups_nesterov": run_opt(lambda ps: torch.optim.SGD([{"params": ps[:1], "lr": 0.3, "weight_decay": 0.5}, {"params": ps[1:], "lr": 0.05}], momentum=0.85, nesterov=True)),
    "adamw_groups": run_opt(lambda ps: torch.optim.AdamW([{"params": ps[:2], "lr": 0.01}, {"params": ps[2:], "weight_decay": 0.3}], lr=0.1)),
    "adam_groups": run_opt(lambda ps: torch.optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.02, "betas": (0.8, 0.9)}], lr=0.1)),
    "lambda_lr_per_group": run_opt(
        lambda ps: torch.optim.SGD([{"params": ps[:1], "lr": 0.2}, {"params": ps[1:], "lr": 0.1}], lr=1.0, momentum=0.5),
        steps=5,
        sched=lambda o: torch.optim.lr_scheduler.LambdaLR(o, [lambda e: 0.5 ** e, lambda e: 1.0 / (e + 1)]),
    ),
}

# ---- nn.init.dirac_ ----
dirac = []
for shape, groups in [((6, 4, 3, 3), 1), ((4, 6, 3, 3), 1), ((8, 2, 3, 3), 2), ((6, 3, 2, 2), 1), ((4, 2, 3, 4), 2)]:
    w = torch.empty(shape)
    nn.init.dirac_(w, groups)
    dirac.append({"shape": list(shape), "groups": groups, "w": flat(w)})
out["dirac"] = dirac

# ---- cross-entropy with label smoothing ----
logits = torch.randn(6, 10, dtype=torch.float64, requires_grad=True)
target = torch.tensor([0, 3, 9, 2, 2, 7])
ce = {"logits": flat(logits), "target": target.tolist()}
for red in ["none", "sum", "mean"]:
    l = F.cross_entropy(logits, target, label_smoothing=0.2, reduction=red)
    (g,) = torch.autograd.grad(l.sum() if red == "none" else l, logits)
    ce[red] = {"loss": flat(l), "grad": flat(g)}
out["cross_entropy_ls"] = ce

# ---- conv2d padding="same" (odd and even kernels) ----
conv = []
for k, dil in [(3, 1), (2, 1), (4, 2)]:
    x = det((2, 3, 7, 6), 0.1).requires_grad_()
    w = det((4, 3, k, k), 0.2).requires_grad_()
    y = F.conv2d(x, w, padding="same", dilation=dil)
    gy = det(tuple(y.shape), 0.3)
    gx, gw = torch.autograd.grad(y, (x, w), gy)
    conv.append({"k": k, "dilation": dil, "y": flat(y), "yshape": list(y.shape), "gx": flat(gx), "gw": flat(gw)})
out["conv_same"] = conv


# ---- the airbench94 net: whitening init and one training step (the net as bench/airbench94_torch.py builds it) ----
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from airbench94_torch import make_net, whitening  # noqa: E402

torch.manual_seed(5)
widths = [4, 8, 8]
net = make_net(widths).double()
net[0].weight.requires_grad = False
imgs = chirp((10, 3, 6, 6), 0.5)
wt, cov = whitening(imgs)
net[0].weight.data.copy_(wt)
x = det((4, 3, 25, 25), 1.5)
y = torch.tensor([1, 0, 9, 4])
state = {k: flat(v) for k, v in net.state_dict().items() if v.dtype == torch.float64}
shapes = {k: list(v.shape) for k, v in net.state_dict().items()}
net.train()
logits_ = net(x)
loss = F.cross_entropy(logits_, y, label_smoothing=0.2, reduction="none").sum()
loss.backward()
grads = {k: flat(p.grad) for k, p in net.named_parameters() if p.grad is not None}
lr, momentum, wd, bs = 11.5, 0.85, 0.0153, 1024
kilostep = 1024 * (1 + 1 / (1 - momentum))
lr_ = lr / kilostep
wd_ = wd * bs / kilostep
norm_b = [p for k, p in net.named_parameters() if "norm" in k and p.requires_grad]
other = [p for k, p in net.named_parameters() if "norm" not in k and p.requires_grad]
opt = torch.optim.SGD([dict(params=norm_b, lr=lr_ * 64, weight_decay=wd_ / (lr_ * 64)), dict(params=other, lr=lr_, weight_decay=wd_ / lr_)], momentum=momentum, nesterov=True)
opt.step()
after = {k: flat(v) for k, v in net.state_dict().items() if v.dtype == torch.float64}
out["airbench_net"] = {
    "widths": widths, "whiten_shape": list(imgs.shape), "whiten_weight": flat(wt), "patch_cov": flat(cov),
    "state": state, "shapes": shapes, "xshape": list(x.shape), "y": y.tolist(),
    "logits": flat(logits_), "loss": loss.item(), "grads": grads, "after_step": after,
}

# ---- the schedules, as airbench94 computes them ----
total = 476
warm = int(total * 0.23)


def get_lr(step):
    if step < warm:
        f = step / warm
        return 0.2 * (1 - f) + 1.0 * f
    f = (step - warm) / (total - warm)
    return 1.0 * (1 - f) + 0.07 * f


alpha = (0.95 ** 5 * (torch.arange(total + 1) / total) ** 3).tolist()
out["schedule"] = {"total": total, "lr_factor": [get_lr(s) for s in range(total + 1)], "ema_decay": alpha}
with open("test/golden/airbench.json", "w") as f:
    json.dump(out, f)
print("wrote test/golden/airbench.json")
