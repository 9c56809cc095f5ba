// A few SGD steps of the CIFAR-10 tutorial network on cuda:0 against the same steps on the CPU: losses and final
// parameters agree to 1e-5. Without a GPU it is reported as skipped; test/cuda_emulated runs it on the emulated
// driver, which checks the whole path (module, autograd, optimizer, every kernel it launches), not GPU speed.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { TutorialNet } from "../src/models/tutorial_net.js";

const skip = torch.cuda.isAvailable() ? false : `no CUDA: ${torch.cuda.unavailableReason()}`;

function close(got: readonly number[], want: readonly number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  assert.ok(worst <= 1e-5, `${what}: differs by ${worst} (relative to 1 + |cpu|)`);
}

function train(device: string, init: torch.nn.StateDict, x: torch.Tensor, y: torch.Tensor): { losses: number[]; params: Map<string, number[]> } {
  const net = new TutorialNet();
  net.loadStateDict(init);
  net.to(device);
  const opt = new torch.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const xs = x.to(device), ys = y.to(device);
  const losses: number[] = [];
  for (let step = 0; step < 4; step++) {
    opt.zeroGrad();
    const loss = torch.nn.functional.crossEntropy(net.forward(xs), ys);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  const params = new Map<string, number[]>();
  for (const [k, v] of Object.entries(net.stateDict())) params.set(k, Array.from(v.cpu().toTypedArray(), Number));
  return { losses, params };
}

test("the tutorial network's SGD steps on cuda:0 equal the CPU's to 1e-5", { skip }, () => {
  torch.manualSeed(7);
  const init = new TutorialNet().stateDict();
  const x = torch.randn([8, 3, 32, 32]);
  const y = torch.randint(0, 10, [8]);
  const cpu = train("cpu", init, x, y);
  const gpu = train("cuda:0", init, x, y);
  close(gpu.losses, cpu.losses, "losses");
  assert.ok(cpu.losses[3] < cpu.losses[0], `the loss falls over the steps (${cpu.losses.join(", ")})`);
  for (const [k, want] of cpu.params) close(gpu.params.get(k)!, want, k);
});
