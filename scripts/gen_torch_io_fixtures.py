#!/usr/bin/env python3
"""torch.load / torch.save fixtures, written and checked with PyTorch (1.13 here).

  cifar_net.pth            the tutorial's `torch.save(net.state_dict(), PATH)` of its Net (torch.manual_seed(0), the
                           same weights as torch_state.safetensors)
  torch_io_torch.pt        a state dict PyTorch wrote: every common storage type, a transposed view sharing its base's
                           storage, a slice with a storage offset, nested dict/list/tuple, a float and an int outside
                           tensors
  torch_io_legacy.pt       the same object in the pre-1.6 format (_use_new_zipfile_serialization=False)
  torch_io.json            what those hold (values as float64 lists, dtypes, shapes, strides, offsets), and what
                           PyTorch read from torch_io_kindling.pt with weights_only=True

torch_io_kindling.pt is written by kindling (node scripts/write_torch_io_fixture.mjs, after tsc); this script only
reads it, so run that first. Run from the repository root: /usr/bin/python3 scripts/gen_torch_io_fixtures.py
"""
import collections
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

FIX = "test/fixtures"


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
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def describe(t):
    return {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "stride": list(t.stride()),
        "offset": t.storage_offset(),
        "values": t.double().flatten().tolist() if t.numel() else [],
    }


def plain(v):
    if isinstance(v, torch.Tensor):
        return {"tensor": describe(v)}
    if isinstance(v, dict):
        return {"dict": {k: plain(x) for k, x in v.items()}}
    if isinstance(v, list):
        return {"list": [plain(x) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [plain(x) for x in v]}
    return v


def main():
    torch.manual_seed(0)
    net = Net()
    torch.save(net.state_dict(), f"{FIX}/cifar_net.pth")

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1
    sd = collections.OrderedDict()
    sd["f32"] = base
    sd["f32T"] = base.t()  # shares base's storage, non-contiguous
    sd["row"] = base[1, 1:]  # storage offset 5
    sd["f64"] = torch.tensor([0.1, -2.5, 1e300], dtype=torch.float64)
    sd["f16"] = torch.tensor([0.5, -1.25, 65504.0, 1e-7], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.5, -3.0, 1e30], dtype=torch.bfloat16)
    sd["i64"] = torch.tensor([0, -7, 2**40, 5], dtype=torch.int64)
    sd["i32"] = torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32)
    sd["i16"] = torch.tensor([-32768, 7], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(2.5)
    obj = {
        "state": sd,
        "epoch": 7,
        "lr": 0.125,
        "name": "tutorial",
        "history": [1, 2, (3, "x")],
        "empty": torch.zeros(0, 3),
    }
    torch.save(obj, f"{FIX}/torch_io_torch.pt")
    torch.save(obj, f"{FIX}/torch_io_legacy.pt", _use_new_zipfile_serialization=False)
    # The files must load in PyTorch as they are meant to.
    for f in ["torch_io_torch.pt", "torch_io_legacy.pt"]:
        back = torch.load(f"{FIX}/{f}")
        assert back["state"]["f32T"].storage().data_ptr() == back["state"]["f32"].storage().data_ptr()

    out = {"torch_written": plain(obj)}
    kpath = f"{FIX}/torch_io_kindling.pt"
    if os.path.exists(kpath):
        k = torch.load(kpath, weights_only=True)
        assert k["conv.weightT"].storage().data_ptr() == k["conv.weight"].storage().data_ptr(), "storage not shared"
        out["kindling_written_as_torch_read_it"] = plain(k)
        print("PyTorch read torch_io_kindling.pt with weights_only=True:", sorted(k.keys()))
    else:
        print(f"{kpath} missing: run node scripts/write_torch_io_fixture.mjs first")
    with open(f"{FIX}/torch_io.json", "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print("wrote", FIX)


if __name__ == "__main__":
    main()
