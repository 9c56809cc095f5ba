// The single-process parts of data-parallel training: the post-accumulate-grad hook DDP builds on, DistributedSampler's
// index arithmetic, DataParallel on the CPU, bucket assignment, and the errors before or without MPI.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assignBuckets } from "../src/nn/parallel/reducer.js";

const { nn } = torch;
const { DistributedSampler } = torch.utils.data;

test("registerPostAccumulateGradHook runs once per pass, after the leaf's last accumulation, with the final grad", () => {
  const w = torch.tensor([1, 2, 3]).requiresGrad_();
  const seen: number[][] = [];
  const h = w.registerPostAccumulateGradHook((t) => seen.push(t.grad!.tolist() as number[]));
  // w is used twice: the hook sees the sum of both contributions, once.
  w.mul(2).add(w.mul(w)).sum().backward();
  assert.deepEqual(seen, [[4, 6, 8]]);
  w.sum().backward(); // accumulates into the existing grad
  assert.deepEqual(seen, [[4, 6, 8], [5, 7, 9]]);
  h.remove();
  w.sum().backward();
  assert.equal(seen.length, 2, "a removed hook no longer runs");
  assert.equal(w.postAccumulateGradHooks, null);
});

test("post-accumulate hooks: order follows backward, unused leaves do not fire, a leaf root fires, errors", () => {
  const a = torch.tensor([1.0]).requiresGrad_();
  const b = torch.tensor([2.0]).requiresGrad_();
  const unused = torch.tensor([3.0]).requiresGrad_();
  const order: string[] = [];
  a.registerPostAccumulateGradHook(() => order.push("a"));
  b.registerPostAccumulateGradHook(() => order.push("b"));
  unused.registerPostAccumulateGradHook(() => order.push("unused"));
  a.mul(3).exp().add(b).sum().backward();
  assert.deepEqual(order, ["b", "a"]);
  order.length = 0;
  b.backward(torch.tensor([1.0]));
  assert.deepEqual(order, ["b"]);
  assert.throws(() => a.mul(2).registerPostAccumulateGradHook(() => {}), /non-leaf/);
  assert.throws(() => torch.tensor([1]).registerPostAccumulateGradHook(() => {}), /doesn't require gradient/);
});

test("DistributedSampler splits like PyTorch's: padding, dropLast, rank striding, the same order on every rank", () => {
  const ds = { length: 10 };
  const parts = [0, 1, 2].map((rank) => [...new DistributedSampler(ds, { numReplicas: 3, rank, shuffle: false })]);
  assert.deepEqual(parts, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]);
  const dropped = [0, 1, 2].map((rank) => [...new DistributedSampler(ds, { numReplicas: 3, rank, shuffle: false, dropLast: true })]);
  assert.deepEqual(dropped, [[0, 3, 6], [1, 4, 7], [2, 5, 8]]);
  assert.equal(new DistributedSampler({ length: 2 }, { numReplicas: 5, rank: 4, shuffle: false }).length, 1);
  assert.deepEqual([...new DistributedSampler({ length: 2 }, { numReplicas: 5, rank: 4, shuffle: false })], [0]);
});

test("DistributedSampler shuffles by seed + epoch: every index once per epoch across ranks, a new order per epoch", () => {
  const ds = { length: 103 };
  const epochOrder = (epoch: number, seed = 5) => {
    const all: number[] = [];
    for (let rank = 0; rank < 4; rank++) {
      const s = new DistributedSampler(ds, { numReplicas: 4, rank, seed });
      s.setEpoch(epoch);
      assert.equal(s.length, 26);
      all.push(...s);
    }
    return all;
  };
  const e0 = epochOrder(0);
  assert.equal(e0.length, 104);
  assert.deepEqual([...new Set(e0)].sort((x, y) => x - y), Array.from({ length: 103 }, (_, i) => i));
  assert.deepEqual(epochOrder(0), e0, "same seed and epoch, same order");
  assert.notDeepEqual(epochOrder(1), e0, "setEpoch changes the order");
  assert.notDeepEqual(epochOrder(0, 6), e0, "the seed changes the order");
});

test("DistributedSampler feeds a DataLoader and checks its arguments", () => {
  const data = new torch.utils.data.TensorDataset(torch.arange(8));
  const sampler = new DistributedSampler(data, { numReplicas: 2, rank: 1, shuffle: false });
  const loader = new torch.utils.data.DataLoader(data, { batchSize: 2, sampler });
  const seen: number[] = [];
  for (const [x] of loader as Iterable<torch.Tensor[]>) seen.push(...(x.tolist() as number[]));
  assert.deepEqual(seen, [1, 3, 5, 7]);
  assert.throws(() => new DistributedSampler(data, { numReplicas: 2, rank: 2 }), /Invalid rank 2, rank should be in the interval \[0, 1\]/);
  assert.throws(() => new DistributedSampler(data), /process group is not initialized/);
});

test("DDP buckets follow reverse parameter order, split at the cap (first bucket at most 1 MiB), by dtype", () => {
  const ps = [1000, 200_000, 10, 200_000].map((n) => new nn.Parameter(torch.zeros([n])));
  const names = (bs: torch.nn.Parameter[][]) => bs.map((b) => b.map((p) => ps.indexOf(p)));
  assert.deepEqual(names(assignBuckets(ps, 25 * 2 ** 20, 2 ** 20)), [[3, 2, 1], [0]]);
  assert.deepEqual(names(assignBuckets(ps, 1, 2 ** 20)), [[3], [2], [1], [0]]);
  const mixed = [new nn.Parameter(torch.zeros([4], { dtype: "float64" })), new nn.Parameter(torch.zeros([4]))];
  assert.equal(assignBuckets(mixed, 1000, 1000).length, 2);
});

test("DataParallel on the CPU is transparent; DDP and collectives need a process group", async () => {
  torch.manualSeed(0);
  const lin = new nn.Linear(3, 2);
  const dp = new nn.DataParallel(lin);
  const x = torch.randn([4, 3]);
  assert.deepEqual((dp.forward(x) as torch.Tensor).tolist(), lin.forward(x).tolist());
  assert.deepEqual(Object.keys(dp.stateDict()), ["module.weight", "module.bias"]);
  assert.throws(() => new nn.DataParallel(lin, { deviceIds: ["cuda:0"] }), /only the CPU is available/);
  assert.equal(torch.distributed.isInitialized(), false);
  assert.throws(() => torch.distributed.getRank(), /Default process group has not been initialized/);
  assert.throws(() => torch.distributed.allReduce(torch.ones([2])), /initProcessGroup/);
  assert.throws(() => new nn.parallel.DistributedDataParallel(lin), /Default process group has not been initialized/);
  // Without libnccl the NCCL group's Promise rejects, naming the library (test/nccl_process_group.test.ts has the rest).
  const prev = process.env.KINDLING_NCCL_PATH;
  process.env.KINDLING_NCCL_PATH = "/nonexistent/libnccl.so.2";
  try {
    await assert.rejects(() => torch.distributed.initProcessGroup({ backend: "nccl" }), /NCCL \(libnccl\.so\.2\) is needed for torch\.distributed's "nccl" backend/);
  } finally {
    if (prev === undefined) delete process.env.KINDLING_NCCL_PATH;
    else process.env.KINDLING_NCCL_PATH = prev;
  }
  assert.equal(torch.distributed.isInitialized(), false);
});

test("a torchrun-style environment without mpirun is refused before MPI starts, saying how to launch", () => {
  const prev = process.env.WORLD_SIZE;
  process.env.WORLD_SIZE = "2";
  try {
    assert.throws(() => torch.distributed.initProcessGroup(), /WORLD_SIZE=2 asks for a torchrun-style start.*kindling launch --nproc-per-node N/);
    assert.equal(torch.distributed.isInitialized(), false);
  } finally {
    if (prev === undefined) delete process.env.WORLD_SIZE;
    else process.env.WORLD_SIZE = prev;
  }
});

test("without an MPI library initProcessGroup names the library, where it looked, and how to install it", () => {
  const prev = process.env.KINDLING_MPI_LIBRARY;
  process.env.KINDLING_MPI_LIBRARY = "/nonexistent/libmpi.so.40";
  try {
    assert.throws(() => torch.distributed.initProcessGroup({ backend: "mpi" }), (e: Error) => {
      assert.match(e.message, /could not load the MPI library \(libmpi\)/);
      assert.match(e.message, /\/nonexistent\/libmpi\.so\.40/);
      assert.match(e.message, /apt-get install openmpi-bin/);
      return true;
    });
    assert.equal(torch.distributed.isMpiAvailable(), false);
    assert.equal(torch.distributed.isInitialized(), false);
  } finally {
    if (prev === undefined) delete process.env.KINDLING_MPI_LIBRARY;
    else process.env.KINDLING_MPI_LIBRARY = prev;
  }
});
