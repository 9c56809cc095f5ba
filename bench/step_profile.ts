// Where one airbench94 train step (batch 1024) spends its time, by kernel and phase (forward + loss, backward,
// optimizer): every kernel of the cpu device is wrapped in a timer for the timed steps only. Usage:
// node dist/bench/step_profile.js [--batch 1024] [--runs 2]
import * as torch from "kindling";
import { getDevice } from "../src/backends/registry.js";
import type { DeviceKernels } from "../src/backend/device.js";
import { AirbenchNet } from "../src/models/airbench_net.js";
import { AIRBENCH94, makeOptimizer } from "../src/recipes/airbench94.js";

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const batch = Number(opt("--batch") ?? 1024);
const runs = Number(opt("--runs") ?? 2);

type Phase = "forward" | "backward" | "step";
let phase: Phase = "forward";
const totals = new Map<string, { ms: number; calls: number }>();

function instrument(kernels: DeviceKernels): DeviceKernels {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(kernels as unknown as Record<string, unknown>)) {
    if (typeof fn !== "function") {
      wrapped[name] = fn;
      continue;
    }
    const f = fn as (...a: unknown[]) => unknown;
    wrapped[name] = (...a: unknown[]) => {
      const t = performance.now();
      const r = f(...a);
      const key = `${phase} ${name}`;
      const e = totals.get(key) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t;
      e.calls++;
      totals.set(key, e);
      return r;
    };
  }
  return wrapped as unknown as DeviceKernels;
}

const net = new AirbenchNet();
const optim = makeOptimizer(net, AIRBENCH94);
const x = torch.randn(batch, 3, 32, 32);
const y = torch.randint(0, 10, [batch]);
const wall: Record<Phase, number> = { forward: 0, backward: 0, step: 0 };
const timed = <T>(p: Phase, f: () => T): T => {
  phase = p;
  const t = performance.now();
  const r = f();
  wall[p] += performance.now() - t;
  return r;
};
const step = () => {
  const loss = timed("forward", () => torch.nn.functional.crossEntropy(net.forward(x), y, { labelSmoothing: 0.2, reduction: "none" }).sum());
  timed("backward", () => {
    optim.zeroGrad();
    loss.backward();
  });
  timed("step", () => optim.step());
};
step();
const dev = getDevice("cpu");
const plain = dev.kernels;
dev.kernels = instrument(plain);
for (const p of Object.keys(wall) as Phase[]) wall[p] = 0;
// CPU time (all threads, user + system) is steadier than wall time on a shared machine: report both.
const cpu0 = process.cpuUsage();
for (let r = 0; r < runs; r++) step();
const cpu = process.cpuUsage(cpu0);
dev.kernels = plain;

const total = Object.values(wall).reduce((a, b) => a + b, 0) / runs;
console.log(`airbench94 step, batch ${batch}: ${total.toFixed(0)} ms per step (mean of ${runs}), ${((batch / total) * 1000).toFixed(1)} img/s`);
console.log(`  cpu time ${((cpu.user + cpu.system) / 1000 / runs).toFixed(0)} ms per step (system ${(cpu.system / 1000 / runs).toFixed(0)} ms)`);
for (const p of Object.keys(wall) as Phase[]) console.log(`  ${p.padEnd(9)} ${(wall[p] / runs).toFixed(0).padStart(6)} ms wall`);
let inKernels = 0;
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
console.log("phase     kernel                      ms/step  calls/step  share");
for (const [k, v] of rows) {
  const [p, name] = k.split(" ");
  inKernels += v.ms / runs;
  if (v.ms / runs < 1) continue;
  console.log(`${p!.padEnd(9)} ${name!.padEnd(27)} ${(v.ms / runs).toFixed(1).padStart(7)} ${String(v.calls / runs).padStart(11)} ${((100 * v.ms) / runs / total).toFixed(1).padStart(5)}%`);
}
console.log(`in kernels ${inKernels.toFixed(0)} ms, outside kernels (JS, allocation, autograd) ${(total - inKernels).toFixed(0)} ms`);
