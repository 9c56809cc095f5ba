// Gradient buffers recycled by the backward pass must never be memory that something still reads: training with
// recycling on and off gives bitwise-identical results, and gradients handed to the caller never change later.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { poolStats, setRecycling } from "../src/backends/host/buffer_pool.js";

const { nn } = torch;
const F = nn.functional;

class Net extends nn.Module {
  conv1 = new nn.Conv2d(3, 6, 5);
  pool = new nn.MaxPool2d(2, 2);
  conv2 = new nn.Conv2d(6, 16, 5);
  fc1 = new nn.Linear(400, 120);
  fc2 = new nn.Linear(120, 84);
  fc3 = new nn.Linear(84, 10);
  forward(x: torch.Tensor): torch.Tensor {
    x = this.pool.forward(F.relu(this.conv1.forward(x)));
    x = this.pool.forward(F.relu(this.conv2.forward(x)));
    // A diamond, a view chain and a shared gradient (add's backward hands g to both inputs).
    const flat = x.view(-1, 400);
    const h = F.relu(this.fc1.forward(flat.add(flat.mul(0.5))));
    const k = F.relu(this.fc2.forward(h));
    return this.fc3.forward(k.add(k.transpose(0, 1).transpose(0, 1)));
  }
}

function train(recycle: boolean, steps: number): Float32Array[] {
  setRecycling(recycle);
  try {
    torch.manualSeed(3);
    const net = new Net();
    const opt = new torch.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    const crit = new nn.CrossEntropyLoss();
    for (let i = 0; i < steps; i++) {
      const x = torch.randn(4, 3, 32, 32);
      const y = torch.randint(0, 10, [4]);
      opt.zeroGrad();
      crit.forward(net.forward(x), y).backward();
      opt.step();
    }
    return net.parameters().map((p) => p.toTypedArray() as Float32Array);
  } finally {
    setRecycling(true);
  }
}

test("training with recycled gradient buffers is bitwise identical to training without", () => {
  const a = train(true, 40);
  const b = train(false, 40);
  a.forEach((p, i) => assert.deepEqual(p, b[i], `parameter ${i} differs`));
});

test("the backward pass does recycle (the pool fills) and gradients kept by the caller never change", () => {
  setRecycling(true);
  const w = torch.randn(64, 64, { requiresGrad: true });
  const kept: [torch.Tensor, Float32Array][] = [];
  for (let i = 0; i < 20; i++) {
    w.grad = null;
    const h = w.mul(2).relu().add(w.view(-1).view(64, 64)).tanh();
    h.sum().backward();
    kept.push([w.grad!, (w.grad!.toTypedArray() as Float32Array).slice()]);
  }
  assert.ok(poolStats().buffers > 0, "intermediate gradients should be recycled");
  for (const [g, copy] of kept) assert.deepEqual(g.toTypedArray(), copy);
});

test("retainGrad and retainGraph keep their gradients intact while later passes recycle", () => {
  const x = torch.randn(32, 32, { requiresGrad: true });
  const mid = x.exp().retainGrad();
  const y = mid.mul(mid).sum();
  y.backward(undefined, { retainGraph: true });
  const first = (mid.grad!.toTypedArray() as Float32Array).slice();
  for (let i = 0; i < 5; i++) x.sin().mul(3).sum().backward();
  assert.deepEqual(mid.grad!.toTypedArray(), first);
});
