// torch.noGrad over async functions: the mode holds across awaits inside the scope (a `for await` loop over a
// DataLoader included) and nowhere else.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { TensorDataset } from "../src/data/index.js";

const tick = () => new Promise((r) => setTimeout(r, 5));

test("noGrad(async fn): no history after awaits, and the mode is back afterwards", async () => {
  const w = torch.ones([2], { requiresGrad: true });
  const out = await torch.noGrad(async () => {
    await tick();
    const y = w.mul(2);
    await tick();
    return [y, torch.isGradEnabled()] as const;
  });
  assert.equal(out[0].requiresGrad, false);
  assert.equal(out[1], false);
  assert.equal(torch.isGradEnabled(), true);
  assert.equal(w.mul(2).requiresGrad, true);
});

test("a pending noGrad scope does not leak into code running meanwhile; enableGrad nests inside", async () => {
  const w = torch.ones([2], { requiresGrad: true });
  const pending = torch.noGrad(async () => {
    await tick();
    const inner = torch.enableGrad(() => w.mul(3));
    const innerAsync = await torch.enableGrad(async () => {
      await tick();
      return w.mul(4);
    });
    return [w.mul(2), inner, innerAsync];
  });
  const outside = w.mul(2);
  assert.equal(outside.requiresGrad, true, "outside the scope, history is recorded while the scope waits");
  const [y, inner, innerAsync] = await pending;
  assert.deepEqual([y!.requiresGrad, inner!.requiresGrad, innerAsync!.requiresGrad], [false, true, true]);
  assert.equal((await torch.noGradAsync(() => tick().then(() => w.mul(2)))).requiresGrad, false);
});

test("for await over a DataLoader inside noGrad (an evaluation loop)", async () => {
  const net = new torch.nn.Linear(2, 1);
  const loader = new torch.utils.data.DataLoader(new TensorDataset(torch.randn([8, 2])), { batchSize: 4 });
  const outs = await torch.noGrad(async () => {
    const r: torch.Tensor[] = [];
    for await (const [x] of loader) r.push(net.forward(x as torch.Tensor));
    return r;
  });
  assert.equal(outs.length, 2);
  assert.ok(outs.every((o) => !o.requiresGrad));
});

test("a promise-returning function that is not async is refused with the way out", () => {
  assert.throws(() => torch.noGrad(() => tick()), /not an async function.*torch\.noGradAsync/s);
  assert.equal(torch.isGradEnabled(), true);
});
