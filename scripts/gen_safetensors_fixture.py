#!/usr/bin/env python3
"""Writes test/fixtures/torch_state.safetensors and test/fixtures/torch_io.safetensors with PyTorch (1.13 here).

Needs only torch: the safetensors container is written by hand with struct + json, exactly as the reference
implementation lays it out (8-byte LE header length, JSON header padded with spaces to 8 bytes, raw LE data), so
the `safetensors` Python package is not required.

  torch_state.safetensors  the tutorial Net's state_dict (torch.manual_seed(0)), PyTorch key names
  torch_io.safetensors     "input" (2x3x32x32, float32) and "output" = net(input) computed by PyTorch

Run from the repository root: /usr/bin/python3 scripts/gen_safetensors_fixture.py
"""
import json
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32", torch.int64: "I64",
          torch.uint8: "U8", torch.bool: "BOOL"}
ALIGN = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "U8": 1, "BOOL": 1}


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


def save_file(tensors, path, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-ALIGN[DTYPES[kv[1].dtype]], kv[0]))
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in items:
        b = t.detach().contiguous().cpu().numpy().tobytes()  # little-endian hosts only
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    js = json.dumps(header, separators=(",", ":")).encode("utf-8")
    js += b" " * ((8 - len(js) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(0)
    net = Net()
    sd = net.state_dict()
    save_file(sd, "test/fixtures/torch_state.safetensors",
              {"format": "pt", "source": "PyTorch %s, scripts/gen_safetensors_fixture.py" % torch.__version__})
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        y = net(x)
    save_file({"input": x, "output": y}, "test/fixtures/torch_io.safetensors", {"format": "pt"})
    print("output[0]:", y[0].tolist())


if __name__ == "__main__":
    main()
