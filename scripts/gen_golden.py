#!/usr/bin/python3
"""Write kindling's golden fixtures from real PyTorch (1.13, CPU) into test/golden/.

Run from anywhere with the system Python that has torch:

    /usr/bin/python3 scripts/gen_golden.py

The output is deterministic (fixed seeds, one thread) and is committed; CI never needs Python.

Tensor encoding (every tensor in every file):

    {"shape": [..], "dtype": "float32"|"float64"|"int64"|"bool", "data": [flat row-major]}

Large float tensors (more than B64_MIN elements) carry "b64" instead of "data": the base64 of the raw little-endian
bytes (float32: 4 bytes per element, float64: 8), which is exact and ~2.5x smaller than decimal text. Integer and
bool tensors are always "data" (bool as 0/1). Float32 decimal values are written with the shortest repr that
round-trips the float32 (at most 9 significant digits); float64 with Python's repr. Nothing is rounded: decoding
yields exactly PyTorch's values. A tensor may also carry "rowIndex": [i, ...], meaning it holds only those rows
(indices along dim 0) of the full tensor — used for the largest weight in the optimizer snapshots, see below.

Op case (files elementwise.json, reductions.json, matmul.json, conv.json, pool.json, loss.json, norm.json,
indexing.json):

    {"name": unique case name, "op": kindling op name, "args": {non-tensor attributes, camelCase},
     "inputs": [tensor, ...], "output": tensor | [tensor, ...], "gradOutput": tensor | null,
     "grads": [tensor | null per input], "extra": {name: tensor} (optional)}

grads[i] = d(sum(output * gradOutput)) / d(inputs[i]) (null for integer inputs and non-differentiable ops). For ops
with several outputs (max/min with dim, maxPool2d with returnIndices) output is a list and only output[0] gets the
gradOutput.

tutorial_step.json: the CIFAR-10 tutorial Net, see gen_tutorial().
"""

import base64
import copy
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "golden")
B64_MIN = 256

DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.int64: "int64",
    torch.int32: "int32",
    torch.uint8: "uint8",
    torch.bool: "bool",
}


def f32_num(v):
    """The double nearest the shortest decimal that round-trips this float32 (json writes it back as that decimal)."""
    if not math.isfinite(v):
        raise ValueError("non-finite value in fixture: %r" % v)
    return float(np.format_float_positional(np.float32(v), unique=True, trim="-")) if v != 0 else (
        -0.0 if math.copysign(1.0, v) < 0 else 0.0)


def enc(t, row_index=None):
    t = t.detach().contiguous().cpu()
    if row_index is not None:
        t = t[list(row_index)].contiguous()
    d = {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype]}
    if row_index is not None:
        d["rowIndex"] = list(row_index)
    flat = t.reshape(-1)
    if t.dtype in (torch.float32, torch.float64):
        if not torch.isfinite(flat).all():
            raise ValueError("non-finite value in fixture")
        if t.numel() > B64_MIN:
            np_dtype = "<f4" if t.dtype == torch.float32 else "<f8"
            d["b64"] = base64.b64encode(flat.numpy().astype(np_dtype).tobytes()).decode("ascii")
        elif t.dtype == torch.float32:
            d["data"] = [f32_num(v) for v in flat.tolist()]
        else:
            d["data"] = [float(v) for v in flat.tolist()]
    elif t.dtype == torch.bool:
        d["data"] = [1 if v else 0 for v in flat.tolist()]
    else:
        d["data"] = [int(v) for v in flat.tolist()]
    return d


# ---------------------------------------------------------------------------------------------------------------
# random inputs (one generator for everything, so the files are reproducible run to run)

GEN = torch.Generator().manual_seed(20240601)


def randn(*shape, dtype=torch.float32):
    return torch.randn(tuple(shape), generator=GEN, dtype=torch.float64).to(dtype)


def uniform(lo, hi, *shape, dtype=torch.float32):
    return (torch.rand(tuple(shape), generator=GEN, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


def away_from_zero(lo, hi, *shape, dtype=torch.float32):
    """|x| in [lo, hi] with random sign."""
    mag = uniform(lo, hi, *shape, dtype=torch.float64)
    sign = torch.where(torch.rand(tuple(shape), generator=GEN) < 0.5, -1.0, 1.0).to(torch.float64)
    return (mag * sign).to(dtype)


def distinct(*shape, dtype=torch.float32, scale=1.0):
    """Random values with no ties (a random permutation of well separated levels plus small jitter)."""
    n = int(np.prod(shape)) if shape else 1
    perm = torch.randperm(n, generator=GEN).to(torch.float64)
    jitter = torch.rand(n, generator=GEN, dtype=torch.float64) * 0.5
    v = (perm + jitter - n / 2) / max(n / 4, 1) * scale
    return v.reshape(shape).to(dtype)


def randint(lo, hi, *shape):
    return torch.randint(lo, hi, tuple(shape), generator=GEN, dtype=torch.int64)


# ---------------------------------------------------------------------------------------------------------------
# case builder


def case(name, op, inputs, fn, args=None, grad=True, no_grad_inputs=(), extra=None):
    ins = []
    for i, x in enumerate(inputs):
        x = x.clone()
        if grad and x.is_floating_point() and i not in no_grad_inputs:
            x.requires_grad_(True)
        ins.append(x)
    out = fn(*ins)
    multi = isinstance(out, (tuple, list))
    primary = out[0] if multi else out
    go = None
    grads = [None] * len(ins)
    if grad and primary.requires_grad:
        go = torch.randn(primary.shape, generator=GEN, dtype=torch.float64).to(primary.dtype)
        wrt = [x for x in ins if x.requires_grad]
        gs = torch.autograd.grad(primary, wrt, go, allow_unused=True)
        it = iter(gs)
        for i, x in enumerate(ins):
            if x.requires_grad:
                g = next(it)
                grads[i] = enc(g) if g is not None else enc(torch.zeros_like(x))
    c = {
        "name": name,
        "op": op,
        "args": args or {},
        "inputs": [enc(x) for x in inputs],
        "output": [enc(o) for o in out] if multi else enc(out),
        "gradOutput": enc(go) if go is not None else None,
        "grads": grads,
    }
    if extra:
        c["extra"] = {k: enc(v) for k, v in extra().items()}
    return c


def shape_str(*shapes):
    return "x".join("[" + ",".join(str(s) for s in sh) + "]" for sh in shapes)


# ---------------------------------------------------------------------------------------------------------------
# elementwise


def gen_elementwise():
    cases = []
    f32, f64 = torch.float32, torch.float64

    unary = {
        "neg": (torch.neg, lambda sh, dt: randn(*sh, dtype=dt)),
        "exp": (torch.exp, lambda sh, dt: uniform(-3, 3, *sh, dtype=dt)),
        "log": (torch.log, lambda sh, dt: uniform(0.05, 5, *sh, dtype=dt)),
        "sqrt": (torch.sqrt, lambda sh, dt: uniform(0.05, 5, *sh, dtype=dt)),
        "abs": (torch.abs, lambda sh, dt: away_from_zero(0.01, 3, *sh, dtype=dt)),
        "relu": (torch.relu, lambda sh, dt: away_from_zero(0.01, 3, *sh, dtype=dt)),
        "gelu": (F.gelu, lambda sh, dt: uniform(-4, 4, *sh, dtype=dt)),
        # sigmoid/tanh: y*(1-y) and 1-y*y lose precision in float32 as y nears 1, a property of the formula rather
        # than of either implementation; these ranges keep an element's gradient well conditioned (the saturating
        # cases below cover large |x|, compared relative to the tensor's gradient scale)
        "sigmoid": (torch.sigmoid, lambda sh, dt: uniform(-4, 4, *sh, dtype=dt)),
        "tanh": (torch.tanh, lambda sh, dt: uniform(-2.5, 2.5, *sh, dtype=dt)),
        "rsqrt": (torch.rsqrt, lambda sh, dt: uniform(0.05, 5, *sh, dtype=dt)),
        "reciprocal": (torch.reciprocal, lambda sh, dt: away_from_zero(0.2, 3, *sh, dtype=dt)),
    }
    for op, (fn, mk) in unary.items():
        cases.append(case(f"{op} [3,4] float32", op, [mk((3, 4), f32)], fn))
        cases.append(case(f"{op} [2,3,2] float64", op, [mk((2, 3, 2), f64)], fn))
        # a 0-d tensor has no larger elements to compare against: keep gelu away from its gradient's zero (x≈-0.75)
        x0 = uniform(0.3, 3, dtype=f32) if op == "gelu" else mk((), f32)
        cases.append(case(f"{op} 0-d float32", op, [x0], fn))
    cases.append(case("gelu tanh-approx [3,4] float32", "gelu", [uniform(-4, 4, 3, 4)],
                      lambda x: F.gelu(x, approximate="tanh"), args={"approximate": "tanh"}))
    # large-magnitude inputs: exp/sigmoid/tanh saturation must not produce NaN
    cases.append(case("sigmoid saturating [8] float32", "sigmoid", [uniform(-40, 40, 8)], torch.sigmoid))
    cases.append(case("tanh saturating [8] float32", "tanh", [away_from_zero(9.5, 20, 8)], torch.tanh))

    # pow: tensor ^ scalar
    for e, mk in [(2.0, lambda: randn(3, 4)), (3.0, lambda: randn(3, 4)), (0.5, lambda: uniform(0.1, 4, 3, 4)),
                  (-1.5, lambda: uniform(0.2, 4, 3, 4)), (2.5, lambda: uniform(0.1, 3, 3, 4)),
                  (-2.0, lambda: away_from_zero(0.3, 3, 3, 4))]:
        cases.append(case(f"pow scalar exponent={e} [3,4]", "pow", [mk()], lambda x, e=e: torch.pow(x, e),
                          args={"exponent": e}))
    cases.append(case("pow scalar exponent=2.5 [2,3] float64", "pow", [uniform(0.1, 3, 2, 3, dtype=f64)],
                      lambda x: torch.pow(x, 2.5), args={"exponent": 2.5}))
    # pow: tensor ^ tensor (positive base), with broadcasting
    cases.append(case("pow tensor [3,4]^[3,4]", "pow", [uniform(0.2, 3, 3, 4), uniform(-2, 2, 3, 4)], torch.pow))
    cases.append(case("pow tensor [3,4]^[4]", "pow", [uniform(0.2, 3, 3, 4), uniform(-2, 2, 4)], torch.pow))
    cases.append(case("pow tensor [2,1,3]^[4,1] float64", "pow",
                      [uniform(0.2, 3, 2, 1, 3, dtype=f64), uniform(-2, 2, 4, 1, dtype=f64)], torch.pow))

    # clamp (inputs kept away from the bounds so the gradient mask is unambiguous)
    def clampable(*sh):
        x = uniform(-1.5, 1.5, *sh)
        bump = lambda v, b: torch.where((v - b).abs() < 0.02, v + 0.05, v)
        return bump(bump(x, -0.5), 0.5)

    cases.append(case("clamp min=-0.5 max=0.5 [3,4]", "clamp", [clampable(3, 4)],
                      lambda x: torch.clamp(x, -0.5, 0.5), args={"min": -0.5, "max": 0.5}))
    cases.append(case("clamp min=-0.5 [3,4]", "clamp", [clampable(3, 4)],
                      lambda x: torch.clamp(x, min=-0.5), args={"min": -0.5}))
    cases.append(case("clamp max=0.5 [3,4]", "clamp", [clampable(3, 4)],
                      lambda x: torch.clamp(x, max=0.5), args={"max": 0.5}))
    cases.append(case("clamp min=-0.5 max=0.5 [2,5] float64", "clamp", [clampable(2, 5).double()],
                      lambda x: torch.clamp(x, -0.5, 0.5), args={"min": -0.5, "max": 0.5}))

    # binary with broadcasting
    binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
              "maximum": torch.maximum, "minimum": torch.minimum}
    shape_pairs = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 5), (3, 1)), ((4,), (3, 1)), ((3, 4), ()),
                   ((), (2, 3)), ((), ())]
    for op, fn in binary.items():
        for sa, sb in shape_pairs:
            if op in ("maximum", "minimum"):
                # no ties: draw both operands from one tie-free pool
                na, nb = int(np.prod(sa)), int(np.prod(sb))
                pool = distinct(na + nb)
                a, b = pool[:na].reshape(sa), pool[na:].reshape(sb)
            else:
                a = randn(*sa)
                b = away_from_zero(0.3, 2.5, *sb) if op == "div" else randn(*sb)
            cases.append(case(f"{op} {shape_str(sa, sb)}", op, [a, b], fn))
        a = randn(2, 3, dtype=f64)
        b = away_from_zero(0.3, 2.5, 3, dtype=f64) if op == "div" else randn(3, dtype=f64) + 0.01
        cases.append(case(f"{op} {shape_str((2, 3), (3,))} float64", op, [a, b], fn))
    # a JS-number operand (PyTorch: Python scalar)
    for op, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)]:
        cases.append(case(f"{op} scalar other=2.5 [3,4]", op, [randn(3, 4)], lambda x, fn=fn: fn(x, 2.5),
                          args={"other": 2.5}))
    # type promotion: int64 tensor (no grad) with float32 tensor -> float32
    cases.append(case("add int64[3,4] + float32[4] (promotion)", "add", [randint(-5, 5, 3, 4), randn(4)], torch.add))
    cases.append(case("mul float32[3,4] * int64[3,4] (promotion)", "mul", [randn(3, 4), randint(-5, 5, 3, 4)],
                      torch.mul))

    # comparisons (integer-valued floats so that ties occur)
    cmp_ops = {"eq": torch.eq, "ne": torch.ne, "gt": torch.gt, "lt": torch.lt, "ge": torch.ge, "le": torch.le}
    for op, fn in cmp_ops.items():
        for sa, sb in [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (2, 1)), ((3,), ())]:
            a = randint(-2, 3, *sa).float()
            b = randint(-2, 3, *sb).float()
            cases.append(case(f"{op} {shape_str(sa, sb)}", op, [a, b], fn, grad=False))
        cases.append(case(f"{op} scalar other=0 [3,4]", op, [randint(-2, 3, 3, 4).float()],
                          lambda x, fn=fn: fn(x, 0.0), args={"other": 0.0}, grad=False))
        cases.append(case(f"{op} int64 {shape_str((3, 4), (4,))}", op, [randint(-2, 3, 3, 4), randint(-2, 3, 4)], fn,
                          grad=False))
    return cases


# ---------------------------------------------------------------------------------------------------------------
# reductions, softmax


def gen_reductions():
    cases = []
    f64 = torch.float64
    for op, fn in [("sum", torch.sum), ("mean", torch.mean)]:
        cases.append(case(f"{op} all [3,4]", op, [randn(3, 4)], fn))
        cases.append(case(f"{op} all [2,3,4] float64", op, [randn(2, 3, 4, dtype=f64)], fn))
        cases.append(case(f"{op} all 0-d", op, [randn()], fn))
        for sh, dim, keep in [((3, 4), 0, False), ((3, 4), 1, False), ((3, 4), 1, True), ((2, 3, 4), -1, False),
                              ((2, 3, 4), -2, True), ((2, 3, 4), 0, True), ((2, 3, 4), [0, 2], False),
                              ((2, 3, 4), [-1, 0], True)]:
            args = {"dim": dim, "keepdim": keep}
            cases.append(case(f"{op} dim={dim} keepdim={keep} {shape_str(sh)}", op, [randn(*sh)],
                              lambda x, d=dim, k=keep: fn(x, d, keepdim=k), args=args))
        cases.append(case(f"{op} dim=1 {shape_str((2, 3, 4))} float64", op, [randn(2, 3, 4, dtype=f64)],
                          lambda x: fn(x, 1), args={"dim": 1, "keepdim": False}))
    # a long sum (accumulation order / precision)
    cases.append(case("sum all [1000]", "sum", [randn(1000)], torch.sum))
    cases.append(case("mean dim=1 [4,500]", "mean", [randn(4, 500)], lambda x: torch.mean(x, 1),
                      args={"dim": 1, "keepdim": False}))
    cases.append(case("sum all int64 [3,4]", "sum", [randint(-10, 10, 3, 4)], torch.sum, grad=False))

    for op, fn in [("max", torch.max), ("min", torch.min)]:
        cases.append(case(f"{op} all [3,4]", op, [distinct(3, 4)], fn))
        cases.append(case(f"{op} all [2,3,4] float64", op, [distinct(2, 3, 4, dtype=f64)], fn))
        for sh, dim, keep in [((3, 4), 1, False), ((3, 4), 0, False), ((2, 3, 4), -1, True), ((2, 3, 4), 1, False)]:
            cases.append(case(f"{op} dim={dim} keepdim={keep} {shape_str(sh)}", op, [distinct(*sh)],
                              lambda x, d=dim, k=keep: tuple(fn(x, d, keepdim=k)), args={"dim": dim, "keepdim": keep}))
    for op, fn in [("argmax", torch.argmax), ("argmin", torch.argmin)]:
        cases.append(case(f"{op} all [3,4]", op, [distinct(3, 4)], fn, grad=False))
        for sh, dim, keep in [((3, 4), 1, False), ((3, 4), 0, True), ((2, 3, 4), -1, False)]:
            cases.append(case(f"{op} dim={dim} keepdim={keep} {shape_str(sh)}", op, [distinct(*sh)],
                              lambda x, d=dim, k=keep: fn(x, d, keepdim=k), args={"dim": dim, "keepdim": keep},
                              grad=False))

    for op, fn in [("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)]:
        for sh, dim in [((3, 5), 1), ((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), -1)]:
            cases.append(case(f"{op} dim={dim} {shape_str(sh)}", op, [randn(*sh)], lambda x, d=dim: fn(x, d),
                              args={"dim": dim}))
        cases.append(case(f"{op} dim=1 large logits {shape_str((3, 5))}", op, [randn(3, 5) * 40 + 30],
                          lambda x: fn(x, 1), args={"dim": 1}))
        cases.append(case(f"{op} dim=-1 {shape_str((2, 6))} float64", op, [randn(2, 6, dtype=f64)],
                          lambda x: fn(x, -1), args={"dim": -1}))
    return cases


# ---------------------------------------------------------------------------------------------------------------
# matmul, linear


def gen_matmul():
    cases = []
    for sa, sb in [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (2, 4, 5)),
                   ((2, 3, 4), (4, 5)), ((4,), (2, 4, 3)), ((2, 1, 3, 4), (3, 4, 2)), ((16, 33), (33, 17))]:
        cases.append(case(f"matmul {shape_str(sa, sb)}", "matmul", [randn(*sa), randn(*sb)], torch.matmul))
    cases.append(case("matmul [3,4]x[4,5] float64", "matmul",
                      [randn(3, 4, dtype=torch.float64), randn(4, 5, dtype=torch.float64)], torch.matmul))
    cases.append(case("linear x[4,6] w[5,6] b[5]", "linear", [randn(4, 6), randn(5, 6), randn(5)], F.linear))
    cases.append(case("linear x[4,6] w[5,6] no bias", "linear", [randn(4, 6), randn(5, 6)], F.linear))
    cases.append(case("linear x[2,3,6] w[5,6] b[5]", "linear", [randn(2, 3, 6), randn(5, 6), randn(5)], F.linear))
    cases.append(case("linear x[6] w[5,6] b[5]", "linear", [randn(6), randn(5, 6), randn(5)], F.linear))
    # (the tutorial's fc1/fc2/fc3 shapes run in tutorial_step.json)
    cases.append(case("linear x[4,40] w[12,40] b[12]", "linear",
                      [randn(4, 40), uniform(-0.15, 0.15, 12, 40), uniform(-0.15, 0.15, 12)], F.linear))
    return cases


# ---------------------------------------------------------------------------------------------------------------
# conv2d


def gen_conv():
    cases = []

    def conv(name, xs, ws, bias=True, **kw):
        ins = [randn(*xs), randn(*ws) * 0.3]
        if bias:
            ins.append(randn(ws[0]))
        args = {k: v for k, v in kw.items()}
        full = {"stride": kw.get("stride", 1), "padding": kw.get("padding", 0), "dilation": kw.get("dilation", 1),
                "groups": kw.get("groups", 1)}
        cases.append(case(f"conv2d {name} x{list(xs)} w{list(ws)}{'' if bias else ' no bias'}", "conv2d", ins,
                          lambda x, w, b=None: F.conv2d(x, w, b, **full), args=args))

    # the tutorial's conv1 (the full batch of 4 runs in tutorial_step.json; one image here keeps the file small)
    conv("tutorial conv1", (1, 3, 32, 32), (6, 3, 5, 5))
    conv("tutorial conv2 shape", (1, 6, 14, 14), (16, 6, 5, 5))
    conv("basic", (2, 3, 6, 6), (4, 3, 3, 3))
    conv("no bias", (2, 3, 6, 6), (4, 3, 3, 3), bias=False)
    conv("stride=2", (2, 3, 9, 9), (4, 3, 3, 3), stride=2)
    conv("padding=1", (2, 3, 6, 6), (4, 3, 3, 3), padding=1)
    conv("dilation=2", (2, 3, 9, 9), (4, 3, 3, 3), dilation=2)
    conv("groups=2", (2, 4, 7, 7), (6, 2, 3, 3), groups=2)
    conv("depthwise groups=3", (1, 3, 6, 6), (3, 1, 3, 3), groups=3)
    conv("stride=2 padding=1 dilation=2", (2, 3, 10, 10), (4, 3, 3, 3), stride=2, padding=1, dilation=2)
    conv("stride=[2,1] padding=[1,0]", (1, 2, 7, 6), (3, 2, 3, 2), stride=[2, 1], padding=[1, 0])
    conv("1x1 kernel", (2, 5, 4, 4), (3, 5, 1, 1))
    conv("stride=3 leftover", (1, 2, 8, 8), (2, 2, 2, 2), stride=3)
    return cases


# ---------------------------------------------------------------------------------------------------------------
# pooling


def gen_pool():
    cases = []

    def mp(name, xs, k, **kw):
        args = {"kernelSize": k}
        for key, camel in [("stride", "stride"), ("padding", "padding"), ("dilation", "dilation"),
                           ("ceil_mode", "ceilMode"), ("return_indices", "returnIndices")]:
            if key in kw:
                args[camel] = kw[key]
        fn = lambda x: F.max_pool2d(x, k, **kw)
        if kw.get("return_indices"):
            fn = lambda x: tuple(F.max_pool2d(x, k, **kw))
        cases.append(case(f"maxPool2d {name} x{list(xs)}", "maxPool2d", [distinct(*xs)], fn, args=args))

    mp("k=2 s=2", (2, 3, 8, 8), 2, stride=2)
    mp("k=2 (stride defaults to kernel)", (1, 2, 6, 6), 2)
    mp("k=3 s=2 p=1", (2, 2, 7, 7), 3, stride=2, padding=1)
    mp("k=2 s=2 ceilMode", (1, 2, 7, 7), 2, stride=2, ceil_mode=True)
    mp("k=3 s=2 p=1 ceilMode", (1, 2, 8, 8), 3, stride=2, padding=1, ceil_mode=True)
    mp("k=2 s=1 dilation=2", (1, 2, 6, 6), 2, stride=1, dilation=2)
    mp("k=[2,3] s=[2,1]", (1, 2, 6, 7), [2, 3], stride=[2, 1])
    mp("k=2 s=2 returnIndices", (1, 2, 6, 6), 2, stride=2, return_indices=True)
    mp("k=3 s=1 overlapping", (1, 1, 5, 5), 3, stride=1)
    mp("tutorial pool after conv2", (1, 16, 10, 10), 2, stride=2)

    def ap(name, xs, k, **kw):
        args = {"kernelSize": k}
        for key, camel in [("stride", "stride"), ("padding", "padding"), ("ceil_mode", "ceilMode"),
                           ("count_include_pad", "countIncludePad")]:
            if key in kw:
                args[camel] = kw[key]
        cases.append(case(f"avgPool2d {name} x{list(xs)}", "avgPool2d", [randn(*xs)],
                          lambda x: F.avg_pool2d(x, k, **kw), args=args))

    ap("k=2 s=2", (2, 3, 6, 6), 2, stride=2)
    ap("k=2 (stride defaults to kernel)", (1, 2, 6, 6), 2)
    ap("k=3 s=2 p=1 countIncludePad=true", (1, 2, 7, 7), 3, stride=2, padding=1, count_include_pad=True)
    ap("k=3 s=2 p=1 countIncludePad=false", (1, 2, 7, 7), 3, stride=2, padding=1, count_include_pad=False)
    ap("k=2 s=2 ceilMode", (1, 2, 7, 7), 2, stride=2, ceil_mode=True)
    ap("k=3 s=2 p=1 ceilMode countIncludePad=true", (1, 2, 8, 8), 3, stride=2, padding=1, ceil_mode=True,
       count_include_pad=True)
    ap("k=3 s=2 p=1 ceilMode countIncludePad=false", (1, 2, 8, 8), 3, stride=2, padding=1, ceil_mode=True,
       count_include_pad=False)
    ap("k=[3,2] s=[1,2] p=[1,0]", (1, 2, 5, 6), [3, 2], stride=[1, 2], padding=[1, 0])
    return cases


# ---------------------------------------------------------------------------------------------------------------
# losses


def gen_loss():
    cases = []
    N, C = 6, 5

    def targets_with(ignore, n=N, c=C, count=2):
        t = randint(0, c, n)
        t[torch.randperm(n, generator=GEN)[:count]] = ignore
        return t

    for red in ["mean", "sum", "none"]:
        cases.append(case(f"crossEntropy reduction={red}", "crossEntropy", [randn(N, C) * 2, randint(0, C, N)],
                          lambda x, t, r=red: F.cross_entropy(x, t, reduction=r), args={"reduction": red}))
    for red in ["mean", "sum", "none"]:
        cases.append(case(f"crossEntropy default ignoreIndex=-100 reduction={red}", "crossEntropy",
                          [randn(N, C), targets_with(-100)], lambda x, t, r=red: F.cross_entropy(x, t, reduction=r),
                          args={"reduction": red}))
    cases.append(case("crossEntropy ignoreIndex=2 mean", "crossEntropy", [randn(N, C), targets_with(2)],
                      lambda x, t: F.cross_entropy(x, t, ignore_index=2), args={"ignoreIndex": 2, "reduction": "mean"}))
    for red in ["mean", "sum", "none"]:
        cases.append(case(f"crossEntropy labelSmoothing=0.1 reduction={red}", "crossEntropy",
                          [randn(N, C), randint(0, C, N)],
                          lambda x, t, r=red: F.cross_entropy(x, t, reduction=r, label_smoothing=0.1),
                          args={"reduction": red, "labelSmoothing": 0.1}))
    cases.append(case("crossEntropy labelSmoothing=0.1 ignoreIndex=-100 mean", "crossEntropy",
                      [randn(N, C), targets_with(-100)],
                      lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
                      args={"reduction": "mean", "labelSmoothing": 0.1}))
    cases.append(case("crossEntropy tutorial shape [4,10]", "crossEntropy", [randn(4, 10), randint(0, 10, 4)],
                      F.cross_entropy, args={"reduction": "mean"}))
    cases.append(case("crossEntropy large logits", "crossEntropy", [randn(N, C) * 50, randint(0, C, N)],
                      F.cross_entropy, args={"reduction": "mean"}))
    cases.append(case("crossEntropy float64", "crossEntropy", [randn(N, C, dtype=torch.float64), randint(0, C, N)],
                      F.cross_entropy, args={"reduction": "mean"}))
    cases.append(case("crossEntropy spatial x[2,3,2,2] t[2,2,2]", "crossEntropy", [randn(2, 3, 2, 2),
                      randint(0, 3, 2, 2, 2)], F.cross_entropy, args={"reduction": "mean"}))

    for red in ["mean", "sum", "none"]:
        cases.append(case(f"nllLoss reduction={red}", "nllLoss", [torch.log_softmax(randn(N, C), 1), randint(0, C, N)],
                          lambda x, t, r=red: F.nll_loss(x, t, reduction=r), args={"reduction": red}))
    cases.append(case("nllLoss ignoreIndex=1 mean", "nllLoss", [randn(N, C), targets_with(1)],
                      lambda x, t: F.nll_loss(x, t, ignore_index=1), args={"ignoreIndex": 1, "reduction": "mean"}))
    cases.append(case("nllLoss default ignoreIndex=-100 sum", "nllLoss", [randn(N, C), targets_with(-100)],
                      lambda x, t: F.nll_loss(x, t, reduction="sum"), args={"reduction": "sum"}))

    for red in ["mean", "sum", "none"]:
        cases.append(case(f"mseLoss reduction={red} [3,4]", "mseLoss", [randn(3, 4), randn(3, 4)],
                          lambda x, y, r=red: F.mse_loss(x, y, reduction=r), args={"reduction": red}))
    cases.append(case("mseLoss target without grad [2,5]", "mseLoss", [randn(2, 5), randn(2, 5)], F.mse_loss,
                      args={"reduction": "mean"}, no_grad_inputs=(1,)))
    return cases


# ---------------------------------------------------------------------------------------------------------------
# batchNorm


def gen_norm():
    cases = []

    def bn(name, xs, training, affine=True, momentum=0.1, eps=1e-5, random_stats=False):
        C = xs[1]
        x = randn(*xs) * 1.5 + 0.7
        rm = randn(C) * 0.3 if random_stats else torch.zeros(C)
        rv = uniform(0.5, 2.0, C) if random_stats else torch.ones(C)
        ins = [x, rm, rv]
        if affine:
            ins += [uniform(0.5, 1.5, C), randn(C) * 0.5]
        state = {}

        def fn(x, rm_, rv_, w=None, b=None):
            # the running stats are buffers: updated in place, never differentiated
            state["rm"] = rm_.detach().clone()
            state["rv"] = rv_.detach().clone()
            return F.batch_norm(x, state["rm"], state["rv"], w, b, training=training, momentum=momentum, eps=eps)

        cases.append(case(f"batchNorm {name} x{list(xs)}", "batchNorm", ins, fn,
                          args={"training": training, "momentum": momentum, "eps": eps},
                          no_grad_inputs=(1, 2),
                          extra=lambda: {"runningMean": state["rm"], "runningVar": state["rv"]}))

    bn("training affine", (4, 3, 5, 5), True)
    bn("training affine random running stats momentum=0.2", (2, 3, 4, 4), True, momentum=0.2, random_stats=True)
    bn("training no affine", (4, 2, 3, 3), True, affine=False)
    bn("training 2-D input", (6, 4), True)
    bn("eval affine", (2, 3, 4, 4), False, random_stats=True)
    bn("eval no affine eps=1e-3", (2, 3, 3, 3), False, affine=False, random_stats=True, eps=1e-3)
    return cases


# ---------------------------------------------------------------------------------------------------------------
# the tutorial net


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
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
        x = self.fc3(x)
        return x


# In the optimizer snapshots the two big Linear weights (fc1.weight [120,400] and fc2.weight [84,120], 94% of all
# 62006 parameters) are stored only for 8 rows (first four, two middle, last two) to keep the fixtures small: the
# update rules are elementwise and the full gradients are checked separately. Everything else is stored whole.
SNAPSHOT_ROWS_MIN = 4000


def snapshot_rows(t):
    if t.dim() != 2 or t.numel() < SNAPSHOT_ROWS_MIN:
        return None
    n = t.shape[0]
    return [0, 1, 2, 3, n // 2, n // 2 + 1, n - 2, n - 1]


def weights_snapshot(net):
    return {k: enc(v, snapshot_rows(v)) for k, v in net.state_dict().items()}


def gen_tutorial():
    torch.manual_seed(0)
    net0 = Net()
    init_sd = {k: v.clone() for k, v in net0.state_dict().items()}

    g = torch.Generator().manual_seed(7)
    batches = []
    for _ in range(2):
        x = torch.rand(4, 3, 32, 32, generator=g) * 2 - 1
        y = torch.randint(0, 10, (4,), generator=g, dtype=torch.int64)
        batches.append((x, y))

    criterion = nn.CrossEntropyLoss()

    def run(make_opt, nsteps, record_grads=True):
        net = Net()
        net.load_state_dict(init_sd)
        opt = make_opt(net.parameters())
        steps = []
        for i in range(nsteps):
            x, y = batches[i]
            opt.zero_grad()
            out = net(x)
            loss = criterion(out, y)
            loss.backward()
            st = {"logits": enc(out), "loss": enc(loss)}
            if record_grads and i == 0:
                st["grads"] = {k: enc(p.grad) for k, p in net.named_parameters()}
            opt.step()
            st["weightsAfter"] = weights_snapshot(net)
            steps.append(st)
        return steps

    runs = {
        "sgd_momentum": {
            "optimizer": "SGD", "options": {"lr": 0.001, "momentum": 0.9},
            "steps": run(lambda p: optim.SGD(p, lr=0.001, momentum=0.9), 2),
        },
        "sgd_nesterov_wd": {
            "optimizer": "SGD", "options": {"lr": 0.01, "momentum": 0.9, "weightDecay": 5e-4, "nesterov": True},
            "steps": run(lambda p: optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True), 1,
                         record_grads=False),
        },
        "adam": {
            "optimizer": "Adam", "options": {"lr": 1e-3},
            "steps": run(lambda p: optim.Adam(p, lr=1e-3), 2, record_grads=False),
        },
        "adamw": {
            "optimizer": "AdamW", "options": {"lr": 1e-3, "weightDecay": 1e-2},
            "steps": run(lambda p: optim.AdamW(p, lr=1e-3, weight_decay=1e-2), 2, record_grads=False),
        },
    }
    # the loss/logits of the other runs' first steps equal sgd_momentum's: keep only the weights
    for name in ("sgd_nesterov_wd", "adam", "adamw"):
        for st in runs[name]["steps"]:
            del st["logits"]
    return {
        "description": "CIFAR-10 tutorial Net: weights from torch.manual_seed(0) default init (state_dict keys), "
                       "two batches of 4 images in [-1,1) with int64 labels, nn.CrossEntropyLoss. Each run loads "
                       "initialStateDict, then per step: zero_grad, forward batches[i], loss, backward, step. "
                       "weightsAfter holds fc1.weight and fc2.weight only for their rowIndex rows.",
        "initialStateDict": {k: enc(v) for k, v in init_sd.items()},
        "batches": [{"inputs": enc(x), "labels": enc(y)} for x, y in batches],
        "runs": runs,
    }



# ---------------------------------------------------------------------------------------------------------------
# reordering, padding, masks (flip, roll, F.pad, maskedFill/Select, mask indexing, nonzero, where(cond), lerp,
# tril/triu, cumsum). Drawn from a generator of their own, so adding cases here leaves the other files unchanged.


def gen_indexing():
    global GEN
    saved, GEN = GEN, torch.Generator().manual_seed(20261127)
    try:
        return _gen_indexing()
    finally:
        GEN = saved


def _gen_indexing():
    cases = []
    f64 = torch.float64
    for sh, dims in [((3, 4), [0]), ((3, 4), [1]), ((2, 3, 4), [0, 2]), ((2, 3, 4), [-1, 0, 1]), ((5,), [0])]:
        cases.append(case(f"flip dims={dims} {shape_str(sh)}", "flip", [randn(*sh)], lambda x, d=dims: torch.flip(x, d),
                          args={"dims": dims}))
    cases.append(case("flip int64 dims=[1]", "flip", [randint(-5, 5, 2, 3)], lambda x: torch.flip(x, [1]), args={"dims": [1]},
                      grad=False))
    for sh, shifts, dims in [((3, 4), 1, None), ((3, 4), -5, None), ((3, 4), 1, 0), ((3, 4), [2, -1], [1, 0]),
                             ((2, 3, 4), [7, 1], [-1, 1]), ((2, 3, 4), 3, 2)]:
        cases.append(case(f"roll shifts={shifts} dims={dims} {shape_str(sh)}", "roll", [randn(*sh)],
                          lambda x, s=shifts, d=dims: torch.roll(x, s, d) if d is not None else torch.roll(x, s),
                          args={"shifts": shifts, "dims": dims}))
    pads = [
        ((2, 3, 5), (1, 2), "constant", 0.0), ((2, 3, 5), (2, 0, 1, 1), "constant", 1.5),
        ((2, 2, 3, 4), (1, 1, 0, 2, 1, 0), "constant", -0.5), ((3, 5), (-1, 2), "constant", 0.0),
        ((2, 3, 5), (-2, -1, 1, -1), "constant", 2.0),
        ((2, 3, 5), (2, 3), "reflect", None), ((3, 5), (4, 1), "reflect", None), ((2, 3, 4, 5), (2, 2, 1, 3), "reflect", None),
        ((2, 3, 4, 5), (-1, 2, 1, 0), "reflect", None), ((1, 2, 3, 4, 3), (1, 1, 2, 1, 2, 0), "reflect", None),
        ((2, 3, 5), (2, 3), "replicate", None), ((2, 3, 4, 5), (3, 1, 0, 2), "replicate", None),
        ((2, 2, 3, 4), (1, 2, 2, 0, 1, 1), "replicate", None), ((2, 3, 5), (-2, 1), "replicate", None),
        ((2, 3, 5), (2, 3), "circular", None), ((2, 3, 4, 5), (5, 1, 2, 4), "circular", None),
        ((1, 2, 3, 4, 3), (1, 2, 1, 0, 3, 1), "circular", None), ((2, 3, 5), (2, -1), "circular", None),
        ((2, 3, 5), (-1, 2), "circular", None),
    ]
    for sh, p, mode, value in pads:
        kw = {"mode": mode} if value is None else {"mode": mode, "value": value}
        cases.append(case(f"pad {mode} {list(p)} {shape_str(sh)}" + ("" if value is None else f" value={value}"), "pad",
                          [randn(*sh)], lambda x, p=p, kw=kw: F.pad(x, p, **kw), args={"pad": list(p), **kw}))
    cases.append(case("pad reflect [2,2,2,2] float64", "pad", [randn(1, 2, 4, 3, dtype=f64)],
                      lambda x: F.pad(x, (2, 2, 2, 2), mode="reflect"), args={"pad": [2, 2, 2, 2], "mode": "reflect"}))
    cases.append(case("pad constant int64", "pad", [randint(-5, 5, 2, 3)], lambda x: F.pad(x, (1, 1), value=7),
                      args={"pad": [1, 1], "mode": "constant", "value": 7}, grad=False))

    def mask(*sh):
        return torch.rand(tuple(sh), generator=GEN) < 0.4

    cases.append(case("maskedFill value=-1.5 [3,4]", "maskedFill", [randn(3, 4), mask(3, 4)],
                      lambda x, m: x.masked_fill(m, -1.5), args={"value": -1.5}))
    cases.append(case("maskedFill broadcast mask [4] value=2", "maskedFill", [randn(3, 4), mask(4)],
                      lambda x, m: x.masked_fill(m, 2.0), args={"value": 2.0}))
    cases.append(case("maskedFill 0-d tensor value [2,3,4]", "maskedFill", [randn(2, 3, 4), mask(3, 1), randn()],
                      lambda x, m, v: x.masked_fill(m, v)))
    cases.append(case("maskedFill int64 value=9", "maskedFill", [randint(-5, 5, 3, 4), mask(3, 4)],
                      lambda x, m: x.masked_fill(m, 9), args={"value": 9}, grad=False))
    cases.append(case("maskedSelect [3,4]", "maskedSelect", [randn(3, 4), mask(3, 4)], torch.masked_select))
    cases.append(case("maskedSelect broadcast x[4] mask[3,4]", "maskedSelect", [randn(4), mask(3, 4)], torch.masked_select))
    cases.append(case("maskedSelect broadcast x[2,3,4] mask[3,1]", "maskedSelect", [randn(2, 3, 4), mask(3, 1)],
                      torch.masked_select))
    cases.append(case("maskedSelect none selected", "maskedSelect", [randn(2, 3), torch.zeros(2, 3, dtype=torch.bool)],
                      torch.masked_select))
    cases.append(case("index mask [3,4][mask[3,4]]", "indexMask", [randn(3, 4), mask(3, 4)], lambda x, m: x[m],
                      args={"dim": 0}))
    cases.append(case("index mask [3,4,2][mask[3]]", "indexMask", [randn(3, 4, 2), mask(3)], lambda x, m: x[m],
                      args={"dim": 0}))
    cases.append(case("index mask [2,3,4][:, mask[3,4]]", "indexMask", [randn(2, 3, 4), mask(3, 4)],
                      lambda x, m: x[:, m], args={"dim": 1}))
    cases.append(case("index mask [2,5,3][:, mask[5]]", "indexMask", [randn(2, 5, 3), mask(5)], lambda x, m: x[:, m],
                      args={"dim": 1}))
    for sh in [(3, 4), (2, 3, 4), (6,)]:
        x = randn(*sh) * (torch.rand(sh, generator=GEN) < 0.5)
        cases.append(case(f"nonzero {shape_str(sh)}", "nonzero", [x], torch.nonzero, grad=False))
        cases.append(case(f"where(cond) {shape_str(sh)}", "whereCond", [x != 0], lambda c: tuple(torch.where(c)), grad=False))
    cases.append(case("nonzero int64 [3,3]", "nonzero", [randint(-1, 2, 3, 3)], torch.nonzero, grad=False))
    for w in [0.3, 0.75, -0.2, 1.0]:
        cases.append(case(f"lerp weight={w} [3,4]", "lerp", [randn(3, 4), randn(3, 4)], lambda a, b, w=w: torch.lerp(a, b, w),
                          args={"weight": w}))
    cases.append(case("lerp broadcast end[4] weight=0.6", "lerp", [randn(3, 4), randn(4)],
                      lambda a, b: torch.lerp(a, b, 0.6), args={"weight": 0.6}))
    cases.append(case("lerp tensor weight [3,4]", "lerp", [randn(3, 4), randn(3, 4), uniform(-0.5, 1.5, 3, 4)], torch.lerp))
    cases.append(case("lerp tensor weight broadcast [2,3]", "lerp", [randn(2, 3), randn(1, 3), uniform(0, 1, 2, 1)], torch.lerp))
    cases.append(case("lerp float64", "lerp", [randn(5, dtype=f64), randn(5, dtype=f64)], lambda a, b: torch.lerp(a, b, 0.4),
                      args={"weight": 0.4}))
    for op, fn in [("tril", torch.tril), ("triu", torch.triu)]:
        for sh, dg in [((4, 4), 0), ((3, 5), 1), ((5, 3), -1), ((2, 3, 4), 2), ((2, 4, 3), -2)]:
            cases.append(case(f"{op} diagonal={dg} {shape_str(sh)}", op, [randn(*sh)], lambda x, fn=fn, dg=dg: fn(x, dg),
                              args={"diagonal": dg}))
    for sh, dim in [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 7, 3), 1), ((9,), 0), ((100,), 0)]:
        cases.append(case(f"cumsum dim={dim} {shape_str(sh)}", "cumsum", [randn(*sh)], lambda x, d=dim: torch.cumsum(x, d),
                          args={"dim": dim}))
    cases.append(case("cumsum float64 dim=1", "cumsum", [randn(2, 5, dtype=f64)], lambda x: torch.cumsum(x, 1), args={"dim": 1}))
    cases.append(case("cumsum int64 dim=0", "cumsum", [randint(-5, 5, 4, 3)], lambda x: torch.cumsum(x, 0), args={"dim": 0},
                      grad=False))
    cases.append(case("cumsum bool dim=1", "cumsum", [mask(3, 4)], lambda x: torch.cumsum(x, 1), args={"dim": 1}, grad=False))
    return cases

# ---------------------------------------------------------------------------------------------------------------


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    return os.path.getsize(path)


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {
        "elementwise.json": gen_elementwise,
        "reductions.json": gen_reductions,
        "matmul.json": gen_matmul,
        "conv.json": gen_conv,
        "pool.json": gen_pool,
        "loss.json": gen_loss,
        "norm.json": gen_norm,
    }
    total = 0
    for fname, gen in files.items():
        cases = gen()
        names = [c["name"] for c in cases]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            sys.exit(f"{fname}: duplicate case names {sorted(dup)}")
        meta = {"generator": "scripts/gen_golden.py", "torch": torch.__version__, "cases": cases}
        size = write(fname, meta)
        total += size
        print(f"{fname}: {len(cases)} cases, {size} bytes")
    tut = gen_tutorial()
    tut = {"generator": "scripts/gen_golden.py", "torch": torch.__version__, **tut}
    size = write("tutorial_step.json", tut)
    total += size
    print(f"tutorial_step.json: {size} bytes")
    cases = gen_indexing()
    size = write("indexing.json", {"generator": "scripts/gen_golden.py", "torch": torch.__version__, "cases": cases})
    total += size
    print(f"indexing.json: {len(cases)} cases, {size} bytes")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
