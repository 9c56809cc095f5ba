"""Type-promotion golden cases from PyTorch 1.13 (run with /usr/bin/python3): the dtype of a + b, a * b, a / b and
torch.where(c, a, b) for every pair of kindling's dtypes as 1-d or 0-dim tensors, and of a tensor with JS-like
scalars (int, float, bool). Writes test/golden/promotion.json."""
import json
import os

import torch

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
NAME = {v: k for k, v in DTYPES.items()}


def make(dtype, ndim):
    t = torch.ones((2,) if ndim else (), dtype=DTYPES[dtype])
    return t


def main():
    tensor_cases = []
    for a in DTYPES:
        for b in DTYPES:
            for adim in (0, 1):
                for bdim in (0, 1):
                    x, y = make(a, adim), make(b, bdim)
                    c = torch.ones((), dtype=torch.bool)
                    tensor_cases.append({
                        "a": a, "adim": adim, "b": b, "bdim": bdim,
                        "add": NAME[(x + y).dtype],
                        "mul": NAME[(x * y).dtype],
                        "div": NAME[(x / y).dtype],
                        "where": NAME[torch.where(c, x, y).dtype],
                    })
    scalar_cases = []
    for a in DTYPES:
        for adim in (0, 1):
            for kind, v in (("int", 2), ("float", 2.5), ("bool", True)):
                x = make(a, adim)
                scalar_cases.append({"a": a, "adim": adim, "scalar": kind, "add": NAME[(x + v).dtype], "mul": NAME[(x * v).dtype]})
    out = {"torch": torch.__version__, "tensor": tensor_cases, "scalar": scalar_cases}
    path = os.path.join(os.path.dirname(__file__), "..", "test", "golden", "promotion.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(tensor_cases)} tensor cases, {len(scalar_cases)} scalar cases -> {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
