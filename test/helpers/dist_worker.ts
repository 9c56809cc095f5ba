// The per-rank half of test/distributed_mpi.test.ts, started by `mpirun -np 2 node dist_worker.js <scenario>`.
// It does nothing unless KINDLING_DIST_WORKER=1 (node --test also loads every file under dist/test/). Each scenario
// checks its own results against a single-process computation and exits non-zero (through the failure path under
// test) when one is wrong; rank 0 prints "ok <scenario>" at the end.
import assert from "node:assert/strict";
import * as torch from "kindling";
import { TutorialNet } from "../../src/models/tutorial_net.js";

const { distributed: dist, nn, optim } = torch;
type Tensor = torch.Tensor;

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return a.sub(b).abs().max().item();
}

function flatParams(m: torch.nn.Module): Tensor {
  return torch.cat(m.parameters().map((p) => p.detach().reshape(-1)));
}

/** Rank r's input for a collective test: distinct per rank and element, exact in every dtype. */
function input(rank: number, n: number, dtype: torch.DType): Tensor {
  return torch.arange(n, { dtype: "float64" }).mul(rank + 2).sub(3 * rank).to(dtype);
}

async function collectives(rank: number, size: number): Promise<void> {
  const n = 5;
  for (const dtype of ["float32", "float64", "int32", "int64"] as const) {
    const all = Array.from({ length: size }, (_, r) => input(r, n, dtype).to("float64"));
    const expected: Record<string, Tensor> = {
      sum: all.reduce((a, b) => a.add(b)),
      max: all.reduce((a, b) => a.maximum(b)),
      min: all.reduce((a, b) => a.minimum(b)),
      avg: all.reduce((a, b) => a.add(b)).div(size),
    };
    for (const op of ["sum", "avg", "max", "min"] as const) {
      if (op === "avg" && (dtype === "int32" || dtype === "int64")) {
        assert.throws(() => dist.allReduce(input(rank, n, dtype), { op }), /AVG needs a floating-point tensor/);
        continue;
      }
      const t = input(rank, n, dtype);
      dist.allReduce(t, { op });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.to("float64").tolist(), expected[op]!.tolist(), `allReduce ${op} ${dtype}`);
      // reduceScatter: rank r gets the reduction of block r of every rank's input list.
      const blocks = Array.from({ length: size }, (_, b) => input(rank, n, dtype).add(b).to(dtype));
      const out = torch.zeros([n], { dtype });
      dist.reduceScatter(out, blocks, { op });
      const exp = expected[op]!.add(op === "sum" ? rank * size : rank);
      assert.deepEqual(out.to("float64").tolist(), exp.tolist(), `reduceScatter ${op} ${dtype}`);
    }
    const b = input(rank, n, dtype);
    dist.broadcast(b, size - 1);
    assert.deepEqual(b.to("float64").tolist(), all[size - 1]!.tolist(), `broadcast ${dtype}`);
    const list = Array.from({ length: size }, () => torch.zeros([n], { dtype }));
    dist.allGather(list, input(rank, n, dtype));
    list.forEach((t, r) => assert.deepEqual(t.to("float64").tolist(), all[r]!.tolist(), `allGather ${dtype} from ${r}`));
    const gathered = torch.zeros([size, n], { dtype });
    dist.allGatherIntoTensor(gathered, input(rank, n, dtype));
    assert.deepEqual(gathered.to("float64").tolist(), all.map((t) => t.tolist()));
  }
  // Async handles: several in flight, awaited through the Promise and through wait(), results in order.
  const ts = Array.from({ length: 4 }, (_, i) => torch.full([1000], rank + i));
  const works = ts.map((t) => dist.allReduce(t, { asyncOp: true }));
  assert.ok(works.every((w) => w instanceof dist.Work));
  await works[0]!.promise;
  assert.equal(works[0]!.isCompleted(), true);
  assert.equal(works[3]!.wait(), true);
  await Promise.all(works.map((w) => w.getFuture()));
  ts.forEach((t, i) => assert.equal(t.max().item(), (size * (size - 1)) / 2 + size * i));
  const bw = dist.barrier({ asyncOp: true });
  await bw.promise;
  // Bad input fails on the calling rank before anything is sent.
  assert.throws(() => dist.allReduce(torch.zeros([2, 3]).t()), /Tensors must be contiguous/);
  assert.throws(() => dist.broadcast(torch.zeros([1]), size), /src must be a rank/);
  assert.throws(() => dist.allGather([torch.zeros([1])], torch.zeros([1])), /worldSize \(2\) tensors/);
}

/** Batch b of the synthetic data set: 4 samples; rank r of 2 takes samples 2r and 2r+1. */
function data(steps: number): { x: Tensor; y: Tensor } {
  const g = new torch.Generator(1234);
  return { x: torch.randn([steps * 4, 3, 32, 32], { generator: g }), y: torch.randint(0, 10, [steps * 4], { generator: g }) };
}

function train(model: torch.nn.Module, forward: torch.nn.Module, x: Tensor, y: Tensor, steps: number, per: number, first: (s: number) => number): void {
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const loss = new nn.CrossEntropyLoss();
  for (let s = 0; s < steps; s++) {
    const i = first(s);
    opt.zeroGrad();
    const out = forward.forward(x.narrow(0, i, per)) as Tensor;
    (loss.forward(out, y.narrow(0, i, per)) as Tensor).backward();
    opt.step();
  }
}

function ddpEquivalence(rank: number, size: number): void {
  assert.equal(size, 2, "the equivalence scenario is written for 2 ranks");
  const steps = 50;
  const { x, y } = data(steps);
  torch.manualSeed(0);
  const reference = new TutorialNet();
  for (const [cap, buckets] of [[1e-6, 10], [1000, 1]] as const) {
    torch.manualSeed(rank === 0 ? 0 : 99); // rank 1 starts elsewhere: construction must copy rank 0's weights
    const local = new TutorialNet();
    // Hooks registered before DDP's run just before them: they see how many buckets backward has launched so far.
    const launchedWhenReady: number[] = [];
    const params = local.parameters();
    const spies = params.map((p, i) => p.registerPostAccumulateGradHook(() => (launchedWhenReady[i] = ddp.bucketsLaunched())));
    const ddp = new nn.parallel.DistributedDataParallel(local, { bucketCapMb: cap });
    assert.equal(ddp.bucketSizes().length, buckets, `bucketCapMb ${cap} gives ${buckets} buckets`);
    assert.ok(Object.keys(ddp.stateDict())[0]!.startsWith("module."));
    train(local, ddp, x, y, steps, 2, (s) => 4 * s + 2 * rank);
    // One bucket per parameter: when conv1.weight's gradient arrives (conv1's backward hands out its bias after it),
    // the all-reduces of the eight layers above have already started; with one bucket nothing starts before every
    // gradient is in.
    assert.equal(launchedWhenReady[0], buckets === 10 ? 8 : 0);
    assert.equal(launchedWhenReady[params.length - 1], 0);
    spies.forEach((h) => h.remove());
    const mine = flatParams(local);
    const both = torch.zeros([2, mine.numel()]);
    dist.allGatherIntoTensor(both, mine);
    if (rank === 0) {
      if (cap === 1e-6) {
        torch.manualSeed(0);
        const ref = new TutorialNet();
        train(ref, ref, x, y, steps, 4, (s) => 4 * s);
        reference.loadStateDict(ref.stateDict());
      }
      const want = flatParams(reference);
      assert.ok(maxAbsDiff(want, flatParams(new TutorialNet())) > 1e-3, "training moved the weights");
      for (let r = 0; r < 2; r++) {
        const d = maxAbsDiff(both.select(0, r), want);
        assert.ok(d <= 1e-5, `bucketCapMb ${cap}: rank ${r} differs from the batch-4 run by ${d}`);
      }
    }
    ddp.detachHooks();
  }
}

function noSyncAndBuffers(rank: number, size: number): void {
  torch.manualSeed(rank);
  const net = new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.Linear(3, 2));
  const bn = net.modules().find((m) => m instanceof nn.BatchNorm1d) as torch.nn.BatchNorm1d;
  const ddp = new nn.parallel.DistributedDataParallel(net, { bucketCapMb: 1e-6 });
  const xs = [torch.randn([3, 4]), torch.randn([3, 4])];
  // A replica of the synced weights, trained without DDP, gives each rank's local gradients.
  const plain = new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.Linear(3, 2));
  plain.loadStateDict(net.stateDict());
  for (const x of xs) (plain.forward(x) as Tensor).square().sum().backward();
  const localSum = torch.cat(plain.parameters().map((p) => p.grad!.reshape(-1)));

  ddp.noSync(() => (ddp.forward(xs[0]!) as Tensor).square().sum().backward());
  const afterFirst = torch.cat(net.parameters().map((p) => p.grad!.reshape(-1)));
  // Inside noSync the gradients stay local: ranks differ.
  const gathered = torch.zeros([size, afterFirst.numel()]);
  dist.allGatherIntoTensor(gathered, afterFirst);
  assert.ok(maxAbsDiff(gathered.select(0, 0), gathered.select(0, 1)) > 1e-4, "noSync must not reduce");
  (ddp.forward(xs[1]!) as Tensor).square().sum().backward();
  const synced = torch.cat(net.parameters().map((p) => p.grad!.reshape(-1)));
  const expected = localSum.clone();
  dist.allReduce(expected, { op: "avg" });
  assert.ok(maxAbsDiff(synced, expected) < 1e-5, "the synced backward averages the accumulated gradients");

  // Buffers: each forward starts from rank 0's running statistics.
  const rm0 = torch.zeros([3]);
  ddp.eval();
  ddp.forward(torch.randn([3, 4]));
  rm0.copy_(bn.runningMean!);
  const both = torch.zeros([size, 3]);
  dist.allGatherIntoTensor(both, rm0);
  assert.deepEqual(both.select(0, 0).tolist(), both.select(0, 1).tolist());
}

function unusedParameters(rank: number): void {
  class TwoHeads extends nn.Module {
    declare a: torch.nn.Linear;
    declare b: torch.nn.Linear;
    constructor() {
      super();
      this.a = new nn.Linear(2, 2);
      this.b = new nn.Linear(2, 2);
    }
    forward(x: Tensor): Tensor {
      return this.a.forward(x);
    }
  }
  const found = new nn.parallel.DistributedDataParallel(new TwoHeads(), { findUnusedParameters: true, bucketCapMb: 1e-6 });
  (found.forward(torch.ones([1, 2]).mul(rank + 1)) as Tensor).sum().backward();
  assert.deepEqual(found.module.a.bias!.grad!.tolist(), [1, 1]);
  assert.deepEqual(found.module.b.weight.grad!.tolist(), [[0, 0], [0, 0]]);
  found.detachHooks();
  const strict = new nn.parallel.DistributedDataParallel(new TwoHeads(), { bucketCapMb: 1e-6 });
  (strict.forward(torch.ones([1, 2])) as Tensor).sum().backward();
  assert.throws(() => strict.forward(torch.ones([1, 2])), /Expected to have finished reduction in the prior iteration/);
}

function sampler(rank: number, size: number): void {
  const dataset = { length: 11 };
  for (const epoch of [0, 1]) {
    const s = new torch.utils.data.DistributedSampler(dataset, { seed: 7 });
    s.setEpoch(epoch);
    const mine = torch.tensor([...s], { dtype: "int64" });
    assert.equal(mine.numel(), 6);
    const all = torch.zeros([size, 6], { dtype: "int64" });
    dist.allGatherIntoTensor(all, mine);
    const seen = (all.tolist() as number[][]).flat();
    assert.deepEqual([...new Set(seen)].sort((a, b) => a - b), Array.from({ length: 11 }, (_, i) => i), `epoch ${epoch}`);
    assert.equal(seen.length, 12, "padded to equal length");
  }
}

async function main(): Promise<void> {
  const scenario = process.argv[2];
  const timeoutMs = Number(process.env.KINDLING_DIST_TIMEOUT_MS ?? 60_000);
  dist.initProcessGroup({ backend: "mpi", timeoutMs });
  const rank = dist.getRank();
  const size = dist.getWorldSize();
  assert.equal(process.env.OMPI_COMM_WORLD_RANK ?? process.env.PMI_RANK, String(rank));
  switch (scenario) {
    case "collectives":
      await collectives(rank, size);
      break;
    case "ddp":
      ddpEquivalence(rank, size);
      break;
    case "nosync":
      noSyncAndBuffers(rank, size);
      unusedParameters(rank);
      sampler(rank, size);
      break;
    case "mismatch":
      // Different models, then (with KINDLING_DISTRIBUTED_DEBUG=DETAIL) different collective sizes: clear errors.
      assert.throws(() => new nn.parallel.DistributedDataParallel(new nn.Linear(4, rank === 0 ? 3 : 5)),
        /expects the same model on every rank, but rank 0 has 2 parameters with 15 elements while rank 1 has 2 parameters with 25 elements/);
      assert.throws(() => dist.allReduce(torch.ones([rank === 0 ? 4 : 3])),
        /the ranks called different collectives[\s\S]*rank 0 called allReduce\(sum, float32, 16 B\)\n  rank 1 called allReduce\(sum, float32, 12 B\)/);
      dist.allReduce(torch.ones([2]));
      break;
    case "throw":
      if (rank === 1) throw new Error("deliberate failure on rank 1");
      dist.allReduce(torch.ones([4]));
      break;
    case "kill":
      if (rank === 1) process.kill(process.pid, "SIGKILL");
      dist.allReduce(torch.ones([4]));
      break;
    case "timeout":
      // Rank 1 never joins: rank 0's allReduce must fail after timeoutMs instead of waiting forever.
      if (rank === 1) await new Promise((r) => setTimeout(r, 60_000));
      else dist.allReduce(torch.ones([4]));
      break;
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
  dist.barrier();
  if (rank === 0) console.log(`ok ${scenario} (world size ${size})`);
  dist.destroyProcessGroup();
}

if (process.env.KINDLING_DIST_WORKER === "1") await main();
