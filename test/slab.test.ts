// Tensors carved from shared slabs must behave exactly like tensors with buffers of their own: zero-filled, never
// overlapping, and moved between threads without taking their neighbours along.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { carve, setSlabs } from "../src/backends/host/slab.js";
import { pack, unpack } from "../src/data/pack.js";

test("carved arrays are zero-filled, aligned and disjoint", () => {
  const sizes = [17, 17, 300, 17, 18816, 300, 18816, 18816, 4704, 17, 300, 18816];
  const got = sizes.map((n) => carve("float32", n));
  for (const a of got) {
    assert.ok(a, "mid-size arrays come from slabs");
    assert.equal(a.byteOffset % 64, 0);
    assert.ok(a.every((v) => v === 0));
  }
  got.forEach((a, i) => a!.fill(i + 1));
  got.forEach((a, i) => assert.ok(a!.every((v) => v === i + 1), `array ${i} was overwritten by a neighbour`));
  assert.ok(got.some((a) => a!.buffer.byteLength > a!.byteLength), "some arrays share a slab");
});

test("tiny and large arrays are not carved; every dtype carves its own element size", () => {
  assert.equal(carve("float32", 16), null); // 64 bytes: V8's own heap
  assert.equal(carve("float32", 40000), null); // 160 KB: more than half a slab
  const d = carve("float64", 100)!;
  assert.ok(d instanceof Float64Array && d.length === 100);
  const b = carve("uint8", 1000)!;
  assert.ok(b instanceof Uint8Array && b.length === 1000);
});

test("setSlabs(false) hands out buffers of their own", () => {
  setSlabs(false);
  try {
    assert.equal(carve("float32", 300), null);
    const t = torch.zeros(300);
    assert.equal(t.dataSync().buffer.byteLength, 300 * 4);
  } finally {
    setSlabs(true);
  }
});

test("a tensor over a slab is copied, not moved, when packed for another thread", () => {
  const neighbour = torch.full([300], 7);
  const t = torch.arange(300, { dtype: torch.float32 }).add(1);
  const transfer = new Set<ArrayBuffer>();
  const packed = pack(t, transfer);
  const moved = structuredClone(packed, { transfer: [...transfer] }); // as postMessage moves it: the sender loses it
  assert.deepEqual(Array.from((unpack(moved) as torch.Tensor).dataSync().subarray(0, 3)), [1, 2, 3]);
  assert.equal(t.dataSync()[299], 300, "the packed tensor itself is intact");
  assert.ok(neighbour.dataSync().every((v) => v === 7), "the tensors sharing its slab are intact");
});

test("training on slabs matches training on buffers of their own, bitwise", () => {
  const run = (slabs: boolean): number[] => {
    setSlabs(slabs);
    try {
      torch.manualSeed(5);
      const net = new torch.nn.Sequential(new torch.nn.Linear(30, 20), new torch.nn.ReLU(), new torch.nn.Linear(20, 5));
      const opt = new torch.optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
      for (let i = 0; i < 20; i++) {
        opt.zeroGrad();
        const loss = torch.nn.functional.crossEntropy(net.forward(torch.randn(8, 30)) as torch.Tensor, torch.randint(0, 5, [8]));
        loss.backward();
        opt.step();
      }
      return net.parameters().flatMap((p) => Array.from(p.dataSync()));
    } finally {
      setSlabs(true);
    }
  };
  assert.deepEqual(run(true), run(false));
});
