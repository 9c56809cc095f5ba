// The nn and vision pieces airbench94 is made of, against PyTorch 1.13 where PyTorch has them
// (test/golden/airbench.json): dirac_, label-smoothed cross-entropy with reduction none/sum, padding "same",
// BatchNorm with a frozen weight, and the batch augmentations.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { transforms } from "kindling/vision";
import { assertClose, values } from "./helpers/compare.js";
import { det, golden } from "./helpers/airbench_golden.js";

const { nn } = torch;
const F = nn.functional;

test("nn.init.dirac_ matches PyTorch, with groups, non-square kernels, and on a view", () => {
  for (const c of golden.dirac) {
    const w = torch.randn(c.shape);
    nn.init.dirac_(w, c.groups);
    assert.deepEqual(values(w), c.w, `shape [${c.shape}] groups ${c.groups}`);
  }
  // airbench initialises only the first in-channels output rows: dirac_(w[:w.size(1)]).
  const w = torch.full([6, 4, 3, 3], 7);
  nn.init.dirac_(w.narrow(0, 0, 4));
  const v = values(w);
  assert.equal(v[(0 * 4 + 0) * 9 + 4], 1);
  assert.equal(v[(3 * 4 + 3) * 9 + 4], 1);
  assert.equal(v[(3 * 4 + 3) * 9 + 0], 0);
  assert.equal(v[(4 * 4 + 0) * 9 + 4], 7, "rows past the view are untouched");
  assert.throws(() => nn.init.dirac_(torch.zeros([3, 3])), /3, 4, or 5 dimensions/);
  assert.throws(() => nn.init.dirac_(torch.zeros([3, 3, 3]), 2), /divisible by groups/);
});

test("cross-entropy with label smoothing 0.2 and reduction none / sum / mean matches PyTorch (loss and grad)", () => {
  const c = golden.cross_entropy_ls;
  for (const red of ["none", "sum", "mean"] as const) {
    const x = torch.tensor(c.logits, { dtype: torch.float64 }).reshape([6, 10]).requiresGrad_();
    const t = torch.tensor(c.target, { dtype: torch.int64 });
    const loss = F.crossEntropy(x, t, { labelSmoothing: 0.2, reduction: red });
    assertClose(values(loss), c[red].loss, { rtol: 1e-10, msg: red });
    (red === "none" ? loss.sum() : loss).backward();
    assertClose(values(x.grad!), c[red].grad, { rtol: 1e-9, atol: 1e-12, msg: `${red} grad` });
  }
  const mod = new nn.CrossEntropyLoss({ labelSmoothing: 0.2, reduction: "none" });
  assert.deepEqual(mod.forward(torch.zeros([3, 10]), torch.tensor([1, 2, 3], { dtype: torch.int64 })).shape, [3]);
});

test('Conv2d padding "same" (odd, even and dilated kernels) matches PyTorch forward and backward; "valid" is 0', () => {
  for (const c of golden.conv_same) {
    const x = det([2, 3, 7, 6], 0.1).requiresGrad_();
    const w = det([4, 3, c.k, c.k], 0.2).requiresGrad_();
    const y = F.conv2d(x, w, null, { padding: "same", dilation: c.dilation });
    assert.deepEqual(y.shape, c.yshape);
    assertClose(values(y), c.y, { rtol: 1e-10, atol: 1e-10, msg: `k=${c.k}` });
    y.mul(det(c.yshape, 0.3)).sum().backward();
    assertClose(values(x.grad!), c.gx, { rtol: 1e-9, atol: 1e-10, msg: `k=${c.k} gx` });
    assertClose(values(w.grad!), c.gw, { rtol: 1e-9, atol: 1e-10, msg: `k=${c.k} gw` });
  }
  const conv = new nn.Conv2d(3, 5, 2, { padding: "valid", bias: false });
  assert.deepEqual(conv.forward(torch.zeros([1, 3, 8, 8])).shape, [1, 5, 7, 7]);
  const same = new nn.Conv2d(3, 5, 3, { padding: "same", bias: false });
  assert.deepEqual(same.forward(torch.zeros([1, 3, 8, 8])).shape, [1, 5, 8, 8]);
});

test("BatchNorm2d as airbench sets it: momentum 0.4, eps 1e-12, weight frozen at 1 and skipped by SGD", () => {
  const bn = new nn.BatchNorm2d(2, { momentum: 0.4, eps: 1e-12 });
  bn.weight!.requiresGrad_(false);
  const x = det([3, 2, 2, 2], 0.7).float();
  const opt = new torch.optim.SGD(bn.parameters().filter((p) => p.requiresGrad), { lr: 1, momentum: 0.85, nesterov: true });
  assert.equal(opt.paramGroups[0]!.params.length, 1, "only the bias is optimized");
  bn.forward(x).mul(torch.tensor([1, -2]).reshape([1, 2, 1, 1])).sum().backward();
  assert.equal(bn.weight!.grad, null);
  opt.step();
  assert.deepEqual(values(bn.weight!), [1, 1]);
  // running_mean = 0.6 * 0 + 0.4 * batch mean
  const xs = values(x);
  const mean0 = [0, 1, 2].flatMap((n) => xs.slice(n * 8, n * 8 + 4)).reduce((a, b) => a + b) / 12;
  assertClose([values(bn.runningMean!)[0]!], [0.4 * mean0], { rtol: 1e-6 });
});

test("batch augmentations: flip per image, crop windows, reflect translation, alternating flip", () => {
  const n = 64;
  const imgs = torch.fromTypedArray(Uint8Array.from({ length: n * 50 }, (_, i) => (i * 7) % 251), [n, 2, 5, 5]);
  const src = values(imgs);
  const g = new torch.Generator(3);
  const flipped = transforms.batchFlipLR(imgs, { generator: g });
  assert.equal(flipped.dtype, torch.uint8);
  const f = values(flipped);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const row = (a: number[]) => a.slice(i * 50, i * 50 + 5);
    const same = row(f).join() === row(src).join();
    const mirror = row(f).join() === row(src).reverse().join();
    assert.ok(same || mirror, `image ${i} is either kept or mirrored`);
    if (mirror) count++;
  }
  assert.ok(count > 16 && count < 48, `about half flipped (${count}/64)`);
  assert.deepEqual(values(transforms.batchFlipLR(imgs, { p: 0 })), src);

  const crops = transforms.batchCrop(imgs, 3, { generator: new torch.Generator(1) });
  assert.deepEqual(crops.shape, [n, 2, 3, 3]);
  const c = values(crops);
  const offsets = new Set<string>();
  for (let i = 0; i < n; i++) {
    let found = "";
    for (let y0 = 0; y0 <= 2 && !found; y0++) {
      for (let x0 = 0; x0 <= 2 && !found; x0++) {
        let ok = true;
        for (let ch = 0; ch < 2 && ok; ch++) for (let y = 0; y < 3 && ok; y++) for (let x = 0; x < 3 && ok; x++) ok = c[((i * 2 + ch) * 3 + y) * 3 + x] === src[((i * 2 + ch) * 5 + y0 + y) * 5 + x0 + x];
        if (ok) found = `${y0},${x0}`;
      }
    }
    assert.ok(found, `crop ${i} is a window of its image`);
    offsets.add(found);
  }
  assert.equal(offsets.size, 9, "every offset occurs");

  const x = det([4, 3, 6, 6], 0.4).float();
  const t = transforms.batchTranslate(x, 2, { generator: new torch.Generator(2) });
  assert.deepEqual(t.shape, x.shape);
  const padded = F.pad(x, [2, 2, 2, 2], { mode: "reflect" });
  assert.deepEqual(values(transforms.batchReflectPad(x, 2)), values(padded));
  const again = transforms.batchCrop(padded, 6, { generator: new torch.Generator(2) });
  assert.deepEqual(values(t), values(again), "translate = crop of the reflect-padded copy");
  assert.deepEqual(values(transforms.batchReflectPad(imgs, 1)), values(F.pad(imgs.float(), [1, 1, 1, 1], { mode: "reflect" }).to(torch.uint8)));

  assert.deepEqual(values(transforms.alternatingFlip(x, 0)), values(x));
  assert.deepEqual(values(transforms.alternatingFlip(x, 1)), values(x.flip(-1)));
  assert.deepEqual(values(transforms.alternatingFlip(x, 2)), values(x));
  assert.throws(() => transforms.batchCrop(x, 7), /within the images' 6 x 6/);
  assert.throws(() => transforms.batchFlipLR(x.reshape([4, 108])), /N x C x H x W/);
});
