#!/usr/bin/env python3
"""The reverse direction: load a safetensors file written by kindling into PyTorch (needs only torch).

  /usr/bin/python3 scripts/load_kindling_safetensors.py WEIGHTS.safetensors [IO.safetensors]

WEIGHTS may be a `kindling train` checkpoint.safetensors (optimizer state under `optim.*` is ignored) or any
saveFile() of the tutorial Net's stateDict(). With IO (a file holding "input" and "output", e.g. written by
kindling's saveFile({input, output})), the PyTorch forward pass is compared with kindling's output.
Not run by CI: kindling's tests never need Python.
"""
import json
import struct
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gen_safetensors_fixture import Net  # noqa: E402

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64,
          "U8": torch.uint8, "BOOL": torch.bool}


def load_file(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        buf = bytearray(data[base + b:base + end])
        t = torch.frombuffer(buf, dtype=DTYPES[e["dtype"]]) if buf else torch.empty(0, dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out, meta


def main():
    tensors, meta = load_file(sys.argv[1])
    print("metadata keys:", sorted(meta))
    net = Net()
    sd = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    net.load_state_dict(sd)
    print("loaded into PyTorch Net:", ", ".join(sorted(sd)))
    if len(sys.argv) > 2:
        io, _ = load_file(sys.argv[2])
        with torch.no_grad():
            y = net(io["input"])
        diff = (y - io["output"]).abs().max().item()
        print("max |torch - kindling| =", diff)
        sys.exit(0 if diff < 1e-4 else 1)


if __name__ == "__main__":
    main()
