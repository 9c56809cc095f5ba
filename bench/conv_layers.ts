// Per-layer convolution throughput on airbench94's shapes (and the tutorial net's), forward, input gradient (dgrad)
// and weight gradient (wgrad) timed apart through the native addon, as GFLOP/s and % of a given FMA peak; with
// --torch, PyTorch 1.13 (/usr/bin/python3, torch.set_num_threads = ours) on the same shapes in the same session.
//   node dist/bench/conv_layers.js [--batch 128] [--runs 5] [--threads N] [--cpu] [--peak GFLOPS] [--torch]
//                                  [--only fwd,dgrad,wgrad]
// --peak: the FMA peak to compare against (measure it with native/dev/fma_peak.cc); without it no % column.
// --cpu: rates per CPU-second of this process instead of per wall-clock second. On a machine shared with other
// work, wall-clock rates measure the load as much as the kernels; with --threads 1 the CPU-time rate is the
// kernel's own (compare with fma_peak's per-CPU-second figure). PyTorch's side is timed the same way.
// KINDLING_CONV=im2col selects the earlier im2col + GEMM convolution path, for before/after tables.
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadAddon } from "../src/backends/cpu/addon.js";
import { median } from "./stats.js";

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const batch = Number(opt("--batch") ?? 128);
const runs = Number(opt("--runs") ?? 5);
const peak = opt("--peak") ? Number(opt("--peak")) : undefined;
const dirs = (opt("--only") ?? "fwd,dgrad,wgrad").split(",");
const cpu = args.includes("--cpu");

interface Layer { name: string; n: number; c: number; h: number; oc: number; k: number; pad: number }
// airbench94 on 32x32 inputs: the 2x2 whitening conv leaves 31x31, each group's maxpool halves (floor) the side
const layers: Layer[] = [
  { name: "air whiten 3->24 2x2 @32", n: batch, c: 3, h: 32, oc: 24, k: 2, pad: 0 },
  { name: "air 24->64 3x3 @31", n: batch, c: 24, h: 31, oc: 64, k: 3, pad: 1 },
  { name: "air 64->64 3x3 @15", n: batch, c: 64, h: 15, oc: 64, k: 3, pad: 1 },
  { name: "air 64->256 3x3 @15", n: batch, c: 64, h: 15, oc: 256, k: 3, pad: 1 },
  { name: "air 256->256 3x3 @7", n: batch, c: 256, h: 7, oc: 256, k: 3, pad: 1 },
  { name: "air 256->256 3x3 @3", n: batch, c: 256, h: 3, oc: 256, k: 3, pad: 1 },
  { name: "tutorial 3->6 5x5 @32 b4", n: 4, c: 3, h: 32, oc: 6, k: 5, pad: 0 },
  { name: "tutorial 6->16 5x5 @14 b4", n: 4, c: 6, h: 14, oc: 16, k: 5, pad: 0 },
];

const a = loadAddon();
if (!a) throw new Error("the native addon did not load: build it with `npm run build`");
if (opt("--threads")) a.setNumThreads(Number(opt("--threads")));
const threads = a.getNumThreads();
const clock = () => {
  if (!cpu) return performance.now() / 1000;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);

/** Median seconds (wall or CPU) of f over `runs` timed batches, each long enough (>= 50 ms) to swamp timer noise. */
function time(f: () => void): number {
  f();
  let reps = 1;
  for (let t = clock(); clock() - t < 0.05; reps++) f();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = clock();
    for (let i = 0; i < reps; i++) f();
    times.push((clock() - t) / reps);
  }
  return median(times);
}

type Row = { layer: string; dir: string; gflops: number };
const rows: Row[] = [];
for (const L of layers) {
  const oh = L.h + 2 * L.pad - L.k + 1;
  const x = rnd(L.n * L.c * L.h * L.h), w = rnd(L.oc * L.c * L.k * L.k), y = new Float32Array(L.n * L.oc * oh * oh);
  const gy = rnd(y.length), gx = new Float32Array(x.length), gw = new Float32Array(w.length);
  const dims = [L.n, L.c, L.h, L.h, L.oc, L.k, L.k, 1, 1, L.pad, L.pad, 1, 1, 1, oh, oh] as const;
  const flops = 2 * L.n * L.oc * oh * oh * L.c * L.k * L.k;
  const run: Record<string, () => void> = {
    fwd: () => a.conv2d(x, 0, w, 0, null, 0, y, 0, ...dims),
    dgrad: () => a.conv2dBackward(gy, 0, null, 0, w, 0, gx, 0, null, 0, null, 0, ...dims),
    wgrad: () => a.conv2dBackward(gy, 0, x, 0, null, 0, null, 0, gw, 0, null, 0, ...dims),
  };
  for (const d of dirs) rows.push({ layer: L.name, dir: d, gflops: flops / time(run[d]!) / 1e9 });
}

let theirs: Map<string, number> | null = null;
if (args.includes("--torch") && existsSync("/usr/bin/python3")) {
  const script = path.join(os.tmpdir(), `kindling_conv_layers_${process.pid}.py`);
  writeFileSync(script, torchScript(layers, dirs));
  const out = execFileSync("/usr/bin/python3", [script, String(threads), String(runs), cpu ? "cpu" : "wall"], { encoding: "utf8" });
  theirs = new Map(JSON.parse(out.trim().split("\n").pop()!) as [string, number][]);
}

const conv = process.env.KINDLING_CONV ?? "default";
console.log(`conv layers: isa=${a.isa()} threads=${threads} batch=${batch} (tutorial rows batch 4) conv path=${conv}, ` +
  `GFLOP per ${cpu ? "CPU" : "wall-clock"} second, median of ${runs}` +
  (peak ? `, peak ${peak} GFLOP/s` : ""));
console.log(["layer".padEnd(28), "dir".padEnd(6), "GFLOP/s".padStart(8), peak ? "% peak".padStart(7) : "",
  theirs ? "torch".padStart(8) : "", theirs && peak ? "% peak".padStart(7) : ""].join(" "));
for (const r of rows) {
  const t = theirs?.get(`${r.layer}|${r.dir}`);
  console.log([r.layer.padEnd(28), r.dir.padEnd(6), r.gflops.toFixed(1).padStart(8),
    peak ? ((100 * r.gflops) / peak).toFixed(0).padStart(6) + "%" : "",
    t !== undefined ? t.toFixed(1).padStart(8) : "", t !== undefined && peak ? ((100 * t) / peak).toFixed(0).padStart(6) + "%" : ""].join(" "));
}

function torchScript(ls: Layer[], ds: string[]): string {
  return `import json, statistics, sys, time
import torch
torch.set_num_threads(int(sys.argv[1])); runs = int(sys.argv[2])
clock = time.process_time if sys.argv[3] == "cpu" else time.perf_counter
layers = ${JSON.stringify(ls)}
dirs = ${JSON.stringify(ds)}
def timeit(f):
    f(); reps = 1; t = clock()
    while clock() - t < 0.05: f(); reps += 1
    ts = []
    for _ in range(runs):
        t = clock()
        for _ in range(reps): f()
        ts.append((clock() - t) / reps)
    return statistics.median(ts)
out = []
for L in layers:
    x = torch.randn(L["n"], L["c"], L["h"], L["h"]); w = torch.randn(L["oc"], L["c"], L["k"], L["k"])
    oh = L["h"] + 2 * L["pad"] - L["k"] + 1
    gy = torch.randn(L["n"], L["oc"], oh, oh)
    flops = 2 * L["n"] * L["oc"] * oh * oh * L["c"] * L["k"] ** 2
    fs = {"fwd": lambda: torch.nn.functional.conv2d(x, w, None, 1, L["pad"]),
          "dgrad": lambda: torch.nn.grad.conv2d_input(x.shape, w, gy, 1, L["pad"]),
          "wgrad": lambda: torch.nn.grad.conv2d_weight(x, w.shape, gy, 1, L["pad"])}
    with torch.no_grad():
        for d in dirs: out.append([L["name"] + "|" + d, flops / timeit(fs[d]) / 1e9])
print(json.dumps(out))
`;
}
