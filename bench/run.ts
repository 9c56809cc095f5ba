// `npm run bench`: kindling's training-step and GEMM throughput, beside PyTorch's when /usr/bin/python3 has torch.
// Every figure is the median of several timed runs after a warm-up. Options: --runs N, --only a,b, --no-torch,
// --device cuda (kindling and PyTorch on the GPU; the airbench-shaped net at batch 512; PyTorch from `python3` on
// PATH unless --python says which), --json.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";
import { TutorialNet, airbenchFlopsPerImage, airbenchNet } from "./models.js";
import { median } from "./stats.js";
import { AirbenchNet } from "../src/models/airbench_net.js";
import { AIRBENCH94, makeOptimizer } from "../src/recipes/airbench94.js";

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const runs = Number(opt("--runs") ?? 5);
const only = opt("--only")?.split(",");
const want = (k: string) => !only || only.includes(k);
const device = opt("--device") ?? "cpu";
const onGpu = device.startsWith("cuda");
/** Waits for queued GPU work, so a timer measures work done, not work queued. */
const sync = () => {
  if (onGpu) torch.cuda.synchronize(device);
};

/** Median seconds per step of SGD-momentum training on random batches. */
function trainSteps(net: torch.nn.Module, batch: number, steps: number, warmup = Math.max(3, Math.floor(steps / 10))): number {
  const opt = new torch.optim.SGD(net.parameters(), { lr: 0.001, momentum: 0.9 });
  const crit = new torch.nn.CrossEntropyLoss();
  if (onGpu) net.to(device);
  const xs = Array.from({ length: 8 }, () => torch.randn(batch, 3, 32, 32).to(device));
  const ys = Array.from({ length: 8 }, () => torch.randint(0, 10, [batch]).to(device));
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      opt.zeroGrad();
      const loss = crit.forward(net.forward(xs[i % 8]) as torch.Tensor, ys[i % 8]);
      loss.backward();
      opt.step();
    }
  };
  run(warmup);
  sync();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    run(steps);
    sync();
    times.push((performance.now() - t) / 1000 / steps);
  }
  return median(times);
}

function gemm(n: number): number {
  const a = torch.randn(n, n).to(device);
  const b = torch.randn(n, n).to(device);
  a.mm(b);
  sync();
  const reps = onGpu ? 50 : n <= 512 ? 20 : 2;
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) a.mm(b);
    sync();
    times.push((performance.now() - t) / 1000 / reps);
  }
  return (2 * n ** 3) / median(times) / 1e9;
}

const ours: Record<string, number> = {};
torch.manualSeed(0);
const backend = torch.backends.cpu.current();
const slow = backend === "ref";
if (want("tutorial4")) ours.tutorial_b4_ms = trainSteps(new TutorialNet(), 4, slow ? 20 : 500) * 1e3;
if (want("tutorial128")) ours.tutorial_b128_img_s = 128 / trainSteps(new TutorialNet(), 128, slow ? 1 : 20);
if (want("airbench") && onGpu) {
  // The GPU target: batch 512, float32.
  const s = trainSteps(airbenchNet(), 512, 20, 5);
  ours.airbench_b512_img_s = 512 / s;
  ours.airbench_gflops = (3 * airbenchFlopsPerImage() * 512) / s / 1e9;
} else if (want("airbench") && !slow) {
  // Big activations make the first steps pay for fresh memory; time the steady state.
  const s = trainSteps(airbenchNet(), 128, 3, 6);
  ours.airbench_b128_img_s = 128 / s;
  // Training costs about 3x the forward pass (forward, input grads, weight grads).
  ours.airbench_gflops = (3 * airbenchFlopsPerImage() * 128) / s / 1e9;
}
if (want("airbench94") && !slow) {
  // The recipe's own step at its batch size: the real net (whitening, GELU, BatchNorm eps 1e-12, dirac init, 1/9
  // output), label-smoothed summed loss, two-group Nesterov SGD. One warm-up step, then one timed step per run.
  const net = new AirbenchNet();
  const opt = makeOptimizer(net, AIRBENCH94);
  const x = torch.randn(1024, 3, 32, 32);
  const y = torch.randint(0, 10, [1024]);
  const step = () => {
    const loss = torch.nn.functional.crossEntropy(net.forward(x), y, { labelSmoothing: 0.2, reduction: "none" }).sum();
    opt.zeroGrad();
    loss.backward();
    opt.step();
  };
  step();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    step();
    times.push((performance.now() - t) / 1000);
  }
  ours.airbench94_b1024_img_s = 1024 / median(times);
}
if (want("gemm")) {
  ours.gemm512_gflops = gemm(512);
  if (!slow) ours.gemm2048_gflops = gemm(2048);
}

let theirs: Record<string, number> | null = null;
const script = fileURLToPath(new URL("../../bench/torch_bench.py", import.meta.url));
// PyTorch for the CPU comparison is the one /usr/bin/python3 has; on a GPU machine it is the CUDA build on PATH.
const python = opt("--python") ?? (onGpu ? "python3" : "/usr/bin/python3");
if (!args.includes("--no-torch") && (onGpu || existsSync(python)) && existsSync(script)) {
  try {
    const env = { ...process.env, OMP_NUM_THREADS: String(os.availableParallelism()) };
    const out = execFileSync(python, [script, "--runs", String(runs), "--device", device, ...(only ? ["--only", only.join(",")] : [])], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    theirs = JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    console.log(`(PyTorch comparison skipped: ${(e as Error).message.split("\n")[0]})`);
  }
}

const rows: [string, string, boolean][] = [
  ["tutorial_b4_ms", "tutorial net train step, batch 4 (ms/step)", false],
  ["tutorial_b128_img_s", "tutorial net training, batch 128 (images/s)", true],
  ["airbench_b128_img_s", "airbench-shaped net training, batch 128 (images/s)", true],
  ["airbench_b512_img_s", "airbench-shaped net training, batch 512 (images/s)", true],
  ["airbench_gflops", "airbench-shaped net training (GFLOP/s achieved)", true],
  ["airbench94_b1024_img_s", "airbench94 recipe train step, batch 1024 (images/s)", true],
  ["gemm512_gflops", "GEMM 512^3 (GFLOP/s)", true],
  ["gemm2048_gflops", "GEMM 2048^3 (GFLOP/s)", true],
];
const where = onGpu ? `${device} (${torch.cuda.getDeviceName(device)})` : `backend=${backend}, ${os.availableParallelism()} cores`;
console.log(`kindling bench: ${where}, median of ${runs} runs`);
for (const [k, label, higherBetter] of rows) {
  if (ours[k] === undefined) continue;
  const t = theirs?.[k];
  const ratio = t === undefined ? "" : `  PyTorch ${t.toFixed(2)}  → ${(higherBetter ? ours[k] / t : t / ours[k]).toFixed(2)}x`;
  console.log(`${label.padEnd(52)} ${ours[k].toFixed(2).padStart(10)}${ratio}`);
}
if (args.includes("--json")) console.log(JSON.stringify({ backend, device, kindling: ours, pytorch: theirs }));
