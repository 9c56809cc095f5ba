# Golden fixtures for the ops of issue 14 (indexing, sorting, scans, everyday math): runs each case in PyTorch 1.13
# and writes test/golden/ops.json: inputs, the output (for a tuple, the element named by "pick"), and for float
# outputs the gradients of sum(output * gradOutput) with respect to every float input. Non-finite numbers are written
# as the strings "nan", "inf", "-inf" (JSON has no literal for them).
# Run: /usr/bin/python3 scripts/gen_golden_ops.py
import json
import math
import os

import torch

torch.manual_seed(14)
L = torch.int64


def r(*shape):
    return torch.randn(*shape)


def t(v, dtype=None):
    return torch.tensor(v, dtype=dtype)


CASES = [
    ("gather dim1", lambda: [r(3, 4), t([[0, 3], [2, 2], [1, 0]], L)], lambda x, i: torch.gather(x, 1, i)),
    ("gather dim0", lambda: [r(3, 4), t([[2, 0, 1, 1]], L)], lambda x, i: x.gather(0, i)),
    ("scatter src dim0", lambda: [r(3, 4), t([[0, 1, 2, 0], [2, 0, 1, 1]], L), r(2, 4)], lambda x, i, s: x.scatter(0, i, s)),
    ("scatter value dim1", lambda: [r(3, 4), t([[1], [0], [3]], L)], lambda x, i: x.scatter(1, i, 2.5)),
    ("scatterAdd duplicates", lambda: [r(2, 3), t([[0, 0, 2, 0], [1, 1, 1, 2]], L), r(2, 4)], lambda x, i, s: x.scatter_add(1, i, s)),
    ("take negative", lambda: [r(3, 4), t([[0, -1], [5, 11]], L)], lambda x, i: torch.take(x, i)),
    ("indexPut accumulate", lambda: [r(4, 3), t([0, 2, 0], L), r(3, 3)], lambda x, i, v: x.index_put((i,), v, accumulate=True)),
    ("indexPut two indices", lambda: [r(3, 4), t([0, 2], L), t([1, -1], L), r(2)], lambda x, i, j, v: x.index_put((i, j), v)),
    ("sort dim1", lambda: [r(3, 5)], lambda x: torch.sort(x, 1).values),
    ("sort descending dim0 indices", lambda: [r(4, 3)], lambda x: torch.sort(x, 0, descending=True).indices),
    ("sort descending values", lambda: [r(4, 3)], lambda x: torch.sort(x, 0, descending=True).values),
    ("argsort", lambda: [r(3, 5)], lambda x: torch.argsort(x, 1)),
    ("topk 2", lambda: [r(3, 5)], lambda x: torch.topk(x, 2).values),
    ("topk 2 indices", lambda: [r(3, 5)], lambda x: torch.topk(x, 2).indices),
    ("topk smallest dim0", lambda: [r(5, 3)], lambda x: torch.topk(x, 3, 0, largest=False).values),
    ("kthvalue keepdim", lambda: [r(3, 5)], lambda x: torch.kthvalue(x, 2, 1, keepdim=True).values),
    ("kthvalue indices", lambda: [r(3, 5)], lambda x: torch.kthvalue(x, 4, 1).indices),
    ("unique", lambda: [t([3, 1, 2, 3, 1, 7], L)], lambda x: torch.unique(x)),
    ("unique inverse", lambda: [t([[3, 1], [2, 3], [1, 7]], L)], lambda x: torch.unique(x, return_inverse=True)[1]),
    ("unique counts", lambda: [t([3.5, 1, 2, 3.5, 1, 1])], lambda x: torch.unique(x, return_counts=True)[1]),
    ("searchsorted", lambda: [t([1.0, 3, 5, 7, 9]), t([[3.0, 6], [9, 0]])], lambda s, v: torch.searchsorted(s, v)),
    ("searchsorted right", lambda: [t([1.0, 3, 5, 7, 9]), t([3.0, 6, 9, 10])], lambda s, v: torch.searchsorted(s, v, right=True)),
    ("searchsorted 2-D", lambda: [t([[1.0, 3, 5], [2, 4, 6]]), t([[4.0, 1], [6, 7]])], lambda s, v: torch.searchsorted(s, v)),
    ("cumprod dim1", lambda: [r(3, 4)], lambda x: torch.cumprod(x, 1)),
    ("cumprod with zeros", lambda: [t([[1.5, 0.0, 2.0, -1.0], [0.5, 2.0, 0.0, 0.0], [0.0, 3.0, 1.0, 2.0]])], lambda x: x.cumprod(1)),
    ("cumsum dim0", lambda: [r(5, 3)], lambda x: torch.cumsum(x, 0)),
    ("cumsum int", lambda: [t([[1, -2, 3], [4, 5, -6]], torch.int32)], lambda x: torch.cumsum(x, 1)),
    ("logsumexp dim1", lambda: [r(3, 4)], lambda x: torch.logsumexp(x, 1)),
    ("logsumexp dims keepdim", lambda: [r(2, 3, 4) * 30], lambda x: torch.logsumexp(x, (0, 2), keepdim=True)),
    ("norm fro", lambda: [r(3, 4)], lambda x: torch.norm(x)),
    ("norm p1 dim", lambda: [r(3, 4)], lambda x: torch.norm(x, 1, 1)),
    ("vectorNorm inf", lambda: [r(3, 4)], lambda x: torch.linalg.vector_norm(x, float("inf"))),
    ("vectorNorm -inf dim0", lambda: [r(3, 4)], lambda x: torch.linalg.vector_norm(x, float("-inf"), 0)),
    ("vectorNorm 3 keepdim", lambda: [r(3, 4)], lambda x: torch.linalg.vector_norm(x, 3, (0, 1), keepdim=True)),
    ("vectorNorm 0", lambda: [t([[1.0, 0.0, 2.0], [0.0, 0.0, -1.0]])], lambda x: torch.linalg.vector_norm(x, 0, 1)),
    ("vectorNorm 2 zero row", lambda: [t([[0.0, 0.0], [3.0, -4.0]])], lambda x: torch.linalg.vector_norm(x, 2, 1)),
    ("remainder tensor", lambda: [r(3, 4) * 3, t([[1.5, -1.5, 2.0, -0.7]])], lambda a, b: torch.remainder(a, b)),
    ("remainder scalar", lambda: [r(3, 4) * 3], lambda a: torch.remainder(a, -1.25)),
    ("remainder int", lambda: [t([-7, -3, 0, 3, 7], L), t([2, -2, 3, -4, 3], L)], lambda a, b: torch.remainder(a, b)),
    ("floorDivide", lambda: [t([-7.5, -3.0, 0.5, 3.0, 7.0]), t([2.0, -2.0, 3.0, -4.0, 3.0])], lambda a, b: torch.floor_divide(a, b).detach()),
    ("floorDivide int", lambda: [t([-7, -3, 0, 3, 7], L), t([2, -2, 3, -4, 3], L)], lambda a, b: torch.floor_divide(a, b).detach()),
    ("isnan", lambda: [t([float("nan"), float("inf"), float("-inf"), 1.0])], lambda x: torch.isnan(x)),
    ("isinf", lambda: [t([float("nan"), float("inf"), float("-inf"), 1.0])], lambda x: torch.isinf(x)),
    ("isfinite", lambda: [t([float("nan"), float("inf"), float("-inf"), 1.0])], lambda x: torch.isfinite(x)),
    ("nanToNum", lambda: [t([float("nan"), float("inf"), float("-inf"), 1.0])], lambda x: torch.nan_to_num(x)),
    ("nanToNum values", lambda: [t([float("nan"), float("inf"), float("-inf"), 1.0])], lambda x: torch.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-9.0)),
    ("logicalAnd", lambda: [t([0.0, 1.5, -2.0, 0.0]), t([1.0, 0.0, 3.0, 0.0])], lambda a, b: torch.logical_and(a, b)),
    ("logicalOr", lambda: [t([0.0, 1.5, -2.0, 0.0]), t([1.0, 0.0, 3.0, 0.0])], lambda a, b: torch.logical_or(a, b)),
    ("logicalXor", lambda: [t([0.0, 1.5, -2.0, 0.0]), t([1.0, 0.0, 3.0, 0.0])], lambda a, b: torch.logical_xor(a, b)),
    ("logicalNot", lambda: [t([0.0, 1.5, -2.0, 0.0])], lambda a: torch.logical_not(a)),
    ("bitwiseAnd int32", lambda: [t([12, -5, 7, 0], torch.int32), t([10, 3, -1, 9], torch.int32)], lambda a, b: torch.bitwise_and(a, b)),
    ("bitwiseOr int64", lambda: [t([12, -5, 7, 2**40], L), t([10, 3, -1, 9], L)], lambda a, b: torch.bitwise_or(a, b)),
    ("bitwiseXor uint8", lambda: [t([12, 250, 7, 0], torch.uint8), t([10, 3, 255, 9], torch.uint8)], lambda a, b: torch.bitwise_xor(a, b)),
    ("bitwiseNot int64", lambda: [t([12, -5, 0], L)], lambda a: torch.bitwise_not(a)),
    ("bitwiseAnd bool", lambda: [t([True, False, True]), t([True, True, False])], lambda a, b: torch.bitwise_and(a, b)),
    ("diag 1-D k=1", lambda: [r(3)], lambda x: torch.diag(x, 1)),
    ("diag 2-D k=-1", lambda: [r(3, 4)], lambda x: torch.diag(x, -1)),
    ("diag 2-D k=2", lambda: [r(3, 4)], lambda x: torch.diag(x, 2)),
    ("outer", lambda: [r(3), r(4)], lambda a, b: torch.outer(a, b)),
    ("einsum matmul", lambda: [r(3, 4), r(4, 2)], lambda a, b: torch.einsum("ij,jk->ik", a, b)),
    ("einsum batched", lambda: [r(2, 3, 4), r(2, 4, 5)], lambda a, b: torch.einsum("bij,bjk->bik", a, b)),
    ("einsum transpose", lambda: [r(3, 4)], lambda a: torch.einsum("ij->ji", a)),
    ("einsum trace", lambda: [r(4, 4)], lambda a: torch.einsum("ii", a)),
    ("einsum diagonal", lambda: [r(4, 4)], lambda a: torch.einsum("ii->i", a)),
    ("einsum outer", lambda: [r(3), r(4)], lambda a, b: torch.einsum("i,j->ij", a, b)),
    ("einsum sum axes", lambda: [r(2, 3, 4)], lambda a: torch.einsum("ijk->j", a)),
    ("einsum implicit", lambda: [r(3, 4), r(4, 5)], lambda a, b: torch.einsum("ij,jk", a, b)),
    ("einsum ellipsis", lambda: [r(2, 3, 4), r(4, 5)], lambda a, b: torch.einsum("...ij,jk->...ik", a, b)),
    ("einsum dot rows", lambda: [r(3, 4), r(3, 4)], lambda a, b: torch.einsum("bi,bi->b", a, b)),
    ("einsum chain", lambda: [r(2, 3), r(3, 4), r(4, 2)], lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c)),
    ("amax dims keepdim", lambda: [r(2, 3, 4)], lambda x: torch.amax(x, (0, 2), keepdim=True)),
    ("amin dim1", lambda: [r(3, 4)], lambda x: torch.amin(x, 1)),
    ("amax ties", lambda: [t([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], lambda x: x.amax(1)),
    ("amin all ties", lambda: [t([[1.0, 3.0, 1.0], [2.0, 1.0, 2.0]])], lambda x: x.amin()),
    ("addmm", lambda: [r(3, 2), r(3, 4), r(4, 2)], lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=2.0)),
    ("addmm broadcast bias", lambda: [r(2), r(3, 4), r(4, 2)], lambda i, a, b: torch.addmm(i, a, b)),
    ("baddbmm", lambda: [r(2, 3, 2), r(2, 3, 4), r(2, 4, 2)], lambda i, a, b: torch.baddbmm(i, a, b, beta=-1.0, alpha=0.5)),
]


def enc(x):
    def num(v):
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, float) and not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return v

    dtype = str(x.dtype).replace("torch.", "")
    return {"shape": list(x.shape), "dtype": dtype, "data": [num(v) for v in x.detach().reshape(-1).tolist()]}


def main():
    cases = []
    for name, make, fn in CASES:
        inputs = make()
        for x in inputs:
            if x.is_floating_point() and torch.isfinite(x).all():
                x.requires_grad_(True)
        out = fn(*inputs)
        case = {"name": name, "inputs": [enc(x) for x in inputs], "output": enc(out), "gradOutput": None, "grads": []}
        if out.requires_grad:
            g = torch.randn(out.shape)
            (out * g).sum().backward()
            case["gradOutput"] = enc(g)
            case["grads"] = [enc(x.grad) if x.grad is not None else None for x in inputs]
        cases.append(case)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "test", "golden", "ops.json"), "w") as f:
        json.dump({"generator": "scripts/gen_golden_ops.py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(f"wrote {len(cases)} cases")


main()
