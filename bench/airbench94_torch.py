"""airbench94 in PyTorch, the anchor for `kindling train --recipe airbench94` (scripts/gpu-check.sh runs it on the
lent GPU beside kindling's run). The recipe as kindling implements it (src/recipes/airbench94.ts), written here in
plain PyTorch: whitening from 2x2 patch eigenvectors, two-group Nesterov SGD with decoupled lr and weight decay per
1024 examples, triangular schedule, Lookahead EMA every 5 steps, flips every other epoch and reflect-padded
translations on whole batches, 6-view test-time augmentation.

    python3 bench/airbench94_torch.py --data DIR [--device cuda] [--precision fp32|fp16] [--epochs 9.9] [--limit N]
        [--test-limit N] [--seed S]

DIR holds cifar-10-batches-bin/. --precision fp16 is airbench's own setting (half-precision net, float BatchNorm,
channels_last); fp32 matches kindling. Prints one JSON line: seconds of training (whitening included, data loading
and the first-step warm-up excluded as airbench does not), TTA and plain accuracy.
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = torch.tensor([0.4914, 0.4822, 0.4465])
STD = torch.tensor([0.247, 0.2435, 0.2616])


def load_bin(files):
    raw = b"".join(open(f, "rb").read() for f in files)
    rec = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32).contiguous(), rec[:, 0].long()


class BN(nn.BatchNorm2d):
    def __init__(self, c):
        super().__init__(c, eps=1e-12, momentum=1 - 0.6)
        self.weight.requires_grad = False


class Conv(nn.Conv2d):
    def __init__(self, cin, cout):
        super().__init__(cin, cout, kernel_size=3, padding="same", bias=False)

    def reset_parameters(self):
        super().reset_parameters()
        w = self.weight.data
        torch.nn.init.dirac_(w[: w.size(1)])


class Group(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1, self.pool, self.norm1 = Conv(cin, cout), nn.MaxPool2d(2), BN(cout)
        self.conv2, self.norm2, self.activ = Conv(cout, cout), BN(cout), nn.GELU()

    def forward(self, x):
        x = self.activ(self.norm1(self.pool(self.conv1(x))))
        return self.activ(self.norm2(self.conv2(x)))


class Mul(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.s = s

    def forward(self, x):
        return x * self.s


def make_net(widths=(64, 256, 256)):
    return nn.Sequential(
        nn.Conv2d(3, 24, 2, padding=0, bias=True), nn.GELU(),
        Group(24, widths[0]), Group(widths[0], widths[1]), Group(widths[1], widths[2]),
        nn.MaxPool2d(3), nn.Flatten(), nn.Linear(widths[2], 10, bias=False), Mul(1 / 9),
    )


def whitening(x, eps=5e-4):
    """The whitening conv's weights from the 2x2 patches of x, and the patches' covariance."""
    c = x.shape[1]
    patches = x.unfold(2, 2, 1).unfold(3, 2, 1).transpose(1, 3).reshape(-1, c, 2, 2).double()
    pf = patches.view(patches.shape[0], -1)
    cov = pf.T @ pf / pf.shape[0]
    w, v = torch.linalg.eigh(cov, UPLO="U")
    w, v = w.flip(0).view(-1, 1, 1, 1), v.T.reshape(c * 4, c, 2, 2).flip(0)
    vs = v / torch.sqrt(w + eps)
    return torch.cat((vs, -vs)), cov


def lr_factor(step, total):
    warm = int(total * 0.23)
    if step < warm:
        f = step / warm
        return 0.2 * (1 - f) + f
    f = (step - warm) / (total - warm)
    return (1 - f) + 0.07 * f


def tta(net, x):
    mirror = lambda t: 0.5 * (net(t) + net(t.flip(-1)))
    p = F.pad(x, (1, 1, 1, 1), mode="reflect")
    h, w = x.shape[2:]
    shifted = 0.5 * (mirror(p[:, :, :h, :w]) + mirror(p[:, :, 2:h + 2, 2:w + 2]))
    return 0.5 * mirror(x) + 0.5 * shifted


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--precision", choices=["fp32", "fp16"], default="fp32")
    ap.add_argument("--epochs", type=float, default=9.9)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only (a smoke test)")
    ap.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images only")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    dev = torch.device(a.device)
    half = a.precision == "fp16"
    torch.manual_seed(a.seed)
    torch.backends.cudnn.benchmark = True
    d = os.path.join(a.data, "cifar-10-batches-bin")
    xtr, ytr = load_bin([os.path.join(d, f"data_batch_{i}.bin") for i in range(1, 6)])
    xte, yte = load_bin([os.path.join(d, "test_batch.bin")])
    if a.limit:
        xtr, ytr = xtr[: a.limit], ytr[: a.limit]
    if a.test_limit:
        xte, yte = xte[: a.test_limit], yte[: a.test_limit]
    mean, std = MEAN.view(1, 3, 1, 1).to(dev), STD.view(1, 3, 1, 1).to(dev)
    norm = lambda u8: ((u8.float() / 255 - mean) / std)
    xtr, ytr, xte, yte = xtr.to(dev), ytr.to(dev), xte.to(dev), yte.to(dev)
    bs, n = 1024, xtr.shape[0]
    steps_per_epoch = n // bs
    total = int(steps_per_epoch * a.epochs + 0.999999)

    net = make_net().to(dev)
    if half:
        net = net.half().to(memory_format=torch.channels_last)
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.float()
    cast = (lambda t: t.half().to(memory_format=torch.channels_last)) if half else (lambda t: t)
    lr, wd, mom = 11.5, 0.0153, 0.85
    kilostep = 1024 * (1 + 1 / (1 - mom))
    lr_, wd_ = lr / kilostep, wd * bs / kilostep
    named = [(k, p) for k, p in net.named_parameters() if k != "0.weight"]
    norm_b = [p for k, p in named if "norm" in k and p.requires_grad]
    other = [p for k, p in named if "norm" not in k and p.requires_grad]
    opt = torch.optim.SGD([dict(params=norm_b, lr=lr_ * 64, weight_decay=wd_ / (lr_ * 64)),
                           dict(params=other, lr=lr_, weight_decay=wd_ / lr_)], momentum=mom, nesterov=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, total))

    def lookahead(decay):
        for k, v in net.state_dict().items():
            if v.dtype.is_floating_point:
                ema[k].lerp_(v, 1 - decay)
                v.copy_(ema[k])

    gen = torch.Generator(device=dev).manual_seed(a.seed + 1)
    flipmask = torch.rand(n, device=dev, generator=gen) < 0.5
    flipped = torch.where(flipmask.view(-1, 1, 1, 1), xtr.flip(-1), xtr)
    padded = F.pad(flipped.float(), (2, 2, 2, 2), mode="reflect").to(torch.uint8)

    def crop(p):
        dx = torch.randint(0, 5, (p.shape[0],), device=dev, generator=gen)
        dy = torch.randint(0, 5, (p.shape[0],), device=dev, generator=gen)
        out = torch.empty_like(p[:, :, :32, :32])
        for sx in range(5):
            for sy in range(5):
                m = (dx == sx) & (dy == sy)
                out[m] = p[m][:, :, sy:sy + 32, sx:sx + 32]
        return out

    # Warm-up outside the timing (cuDNN autotuning), then the net is reset.
    init_state = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()
    warm_x = cast(norm(xtr[:bs]))
    F.cross_entropy(net(warm_x), ytr[:bs], label_smoothing=0.2, reduction="none").sum().backward()
    net.zero_grad(set_to_none=True)
    net.load_state_dict(init_state)
    if dev.type == "cuda":
        torch.cuda.synchronize()

    t0 = time.perf_counter()
    with torch.no_grad():
        net[0].weight.copy_(whitening(norm(xtr[:5000]).cpu())[0].to(dev).to(net[0].weight.dtype))
    net[0].weight.requires_grad = False
    ema = {k: v.detach().clone() for k, v in net.state_dict().items()}
    step, epoch = 0, 0
    while step < total:
        net[0].bias.requires_grad = epoch < 3
        imgs = crop(padded)
        if epoch % 2 == 1:
            imgs = imgs.flip(-1)
        order = torch.randperm(n, device=dev, generator=gen)
        for i in range(steps_per_epoch):
            idx = order[i * bs:(i + 1) * bs]
            x, y = cast(norm(imgs[idx])), ytr[idx]
            loss = F.cross_entropy(net(x), y, label_smoothing=0.2, reduction="none").sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 5 == 0:
                lookahead(0.95 ** 5 * (step / total) ** 3)
            if step >= total:
                lookahead(1.0)
                break
        epoch += 1
    if dev.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0

    net.eval()
    with torch.no_grad():
        xt = cast(norm(xte))
        plain = torch.cat([net(xt[s:s + 2000]).argmax(1) for s in range(0, xt.shape[0], 2000)])
        aug = torch.cat([tta(net, xt[s:s + 2000]).argmax(1) for s in range(0, xt.shape[0], 2000)])
    print(json.dumps({
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu", "torch": torch.__version__,
        "precision": a.precision, "epochs": a.epochs, "steps": step, "train_images": n, "seconds": round(seconds, 3),
        "val_acc": (plain == yte).float().mean().item(), "tta_val_acc": (aug == yte).float().mean().item(),
    }))


if __name__ == "__main__":
    main()
