"""The same workloads as bench/run.ts, in PyTorch, for side-by-side ratios. Prints one JSON object.

Run: OMP_NUM_THREADS=<cores> /usr/bin/python3 bench/torch_bench.py [--runs N] [--device cuda]
With --device cuda (PyTorch's CUDA build, eager): the nets and data live on the GPU, timers wait for it
(torch.cuda.synchronize), TF32 stays off for matmuls as PyTorch's default, and the airbench-shaped net runs at batch 512.
"""
import json, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

from airbench94_torch import make_net

runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
on_gpu = device.startswith("cuda")


def sync():
    if on_gpu:
        torch.cuda.synchronize()
torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def group(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(cout), nn.GELU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.GELU())


def airbench():
    return nn.Sequential(nn.Conv2d(3, 24, 2), group(24, 64), group(64, 256), group(256, 256),
                         nn.MaxPool2d(3), nn.Flatten(), nn.Linear(256, 10, bias=False))


def airbench94_step_seconds():
    """The airbench94 recipe's own train step at batch 1024 (float32, as kindling): see bench/run.ts."""
    net = make_net()
    net[0].weight.requires_grad = False
    kilostep = 1024 * (1 + 1 / (1 - 0.85))
    lr, wd = 11.5 / kilostep, 0.0153 * 1024 / kilostep
    named = [(k, p) for k, p in net.named_parameters() if p.requires_grad]
    # BatchNorm biases (the only trainable BatchNorm parameters) at 64x the lr.
    norm = [p for k, p in named if p.dim() == 1 and k != "0.bias"]
    other = [p for k, p in named if not (p.dim() == 1 and k != "0.bias")]
    opt = torch.optim.SGD([dict(params=norm, lr=lr * 64, weight_decay=wd / (lr * 64)), dict(params=other, lr=lr, weight_decay=wd / lr)],
                          momentum=0.85, nesterov=True)
    x, y = torch.randn(1024, 3, 32, 32), torch.randint(0, 10, (1024,))

    def step():
        loss = F.cross_entropy(net(x), y, label_smoothing=0.2, reduction="none").sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    step()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def train_steps(net, batch, steps, lr=0.001):
    net = net.to(device)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    xs = torch.randn(8, batch, 3, 32, 32).to(device)
    ys = torch.randint(0, 10, (8, batch)).to(device)
    def run(n):
        for i in range(n):
            opt.zero_grad()
            loss = crit(net(xs[i % 8]), ys[i % 8])
            loss.backward()
            opt.step()
    run(max(3, steps // 10))
    sync()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run(steps)
        sync()
        times.append((time.perf_counter() - t) / steps)
    return statistics.median(times)


out = {"threads": torch.get_num_threads(), "version": torch.__version__, "device": device}
if on_gpu:
    out["gpu"] = torch.cuda.get_device_name(0)
if not only or "tutorial4" in only:
    out["tutorial_b4_ms"] = train_steps(Net(), 4, 500) * 1e3
if not only or "tutorial128" in only:
    out["tutorial_b128_img_s"] = 128 / train_steps(Net(), 128, 20)
if (not only or "airbench" in only) and on_gpu:
    out["airbench_b512_img_s"] = 512 / train_steps(airbench(), 512, 20)
elif not only or "airbench" in only:
    out["airbench_b128_img_s"] = 128 / train_steps(airbench(), 128, 2)
if not only or "airbench94" in only:
    out["airbench94_b1024_img_s"] = 1024 / airbench94_step_seconds()
if not only or "gemm" in only:
    for n in (512, 2048):
        a, b = torch.randn(n, n).to(device), torch.randn(n, n).to(device)
        torch.mm(a, b)
        sync()
        reps = 50 if on_gpu else 20 if n == 512 else 2
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b)
            sync()
            times.append((time.perf_counter() - t) / reps)
        out[f"gemm{n}_gflops"] = 2 * n ** 3 / statistics.median(times) / 1e9
print(json.dumps(out))
