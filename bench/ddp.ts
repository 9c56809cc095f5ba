// Data-parallel throughput on this machine (README "Data-parallel"; run each line from the package root):
//   node dist/bench/ddp.js single                          one process, 2 threads, batch 256
//   kindling launch --nproc-per-node 2 dist/bench/ddp.js ddp   2 ranks x 1 thread, batch 128 per rank
//   kindling launch --nproc-per-node 2 dist/bench/ddp.js allreduce   MPI all-reduce bus bandwidth by size
// Each figure is the median of --runs timed windows after a warm-up; rank 0 prints.
import * as torch from "kindling";
import { TutorialNet } from "../src/models/tutorial_net.js";
import { median } from "./stats.js";

const args = process.argv.slice(2);
const mode = args[0];
const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const runs = opt("--runs", 5);
const steps = opt("--steps", 10);

function imagesPerSecond(model: torch.nn.Module, forward: torch.nn.Module, batch: number, globalBatch: number): number {
  const opt = new torch.optim.SGD(model.parameters(), { lr: 0.001, momentum: 0.9 });
  const crit = new torch.nn.CrossEntropyLoss();
  const xs = Array.from({ length: 4 }, () => torch.randn(batch, 3, 32, 32));
  const ys = Array.from({ length: 4 }, () => torch.randint(0, 10, [batch]));
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      opt.zeroGrad();
      crit.forward(forward.forward(xs[i % 4]!) as torch.Tensor, ys[i % 4]!).backward();
      opt.step();
    }
  };
  run(3);
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    if (torch.distributed.isInitialized()) torch.distributed.barrier();
    const t = performance.now();
    run(steps);
    rates.push((globalBatch * steps) / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

if (mode === "single") {
  torch.setNumThreads(opt("--threads", 2));
  const net = new TutorialNet();
  console.log(`single process, ${torch.getNumThreads()} threads, batch 256: ${imagesPerSecond(net, net, 256, 256).toFixed(0)} img/s`);
} else if (mode === "ddp") {
  torch.setNumThreads(1);
  torch.distributed.initProcessGroup({ backend: "mpi" });
  const n = torch.distributed.getWorldSize();
  const net = new TutorialNet();
  const ddp = new torch.nn.parallel.DistributedDataParallel(net, { bucketCapMb: opt("--bucket-mb", 25) });
  const rate = imagesPerSecond(net, ddp, 128, 128 * n);
  if (torch.distributed.getRank() === 0) console.log(`DDP ${n} ranks x 1 thread, batch 128 per rank: ${rate.toFixed(0)} img/s`);
  torch.distributed.destroyProcessGroup();
} else if (mode === "allreduce") {
  torch.distributed.initProcessGroup({ backend: "mpi" });
  const n = torch.distributed.getWorldSize();
  for (const mib of [0.25, 1, 4, 16, 64]) {
    const t = torch.ones([Math.round((mib * 2 ** 20) / 4)]);
    torch.distributed.allReduce(t);
    const secs: number[] = [];
    for (let r = 0; r < runs; r++) {
      torch.distributed.barrier();
      const s = performance.now();
      for (let i = 0; i < steps; i++) torch.distributed.allReduce(t);
      secs.push((performance.now() - s) / 1000 / steps);
    }
    const sec = median(secs);
    // Bus bandwidth as NCCL's tests define it: each rank moves 2(n-1)/n of the buffer in an all-reduce.
    const bus = ((2 * (n - 1)) / n) * mib * 2 ** 20 / sec / 1e9;
    if (torch.distributed.getRank() === 0) console.log(`allReduce ${mib} MiB float32 on ${n} ranks: ${(sec * 1e3).toFixed(2)} ms, bus bandwidth ${bus.toFixed(2)} GB/s`);
  }
  torch.distributed.destroyProcessGroup();
} else {
  console.error("usage: node dist/bench/ddp.js single|ddp|allreduce [--runs N] [--steps N] [--bucket-mb M]");
  process.exit(2);
}
