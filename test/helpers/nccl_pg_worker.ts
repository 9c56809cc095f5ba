// The per-process half of test/nccl_process_group.test.ts: `node nccl_pg_worker.js <scenario>`, run on the emulated
// CUDA driver (test/helpers/cuda_emulator.ts) with the stand-in libnccl (test/fixtures/fake_libnccl.c), or under
// `mpirun -np 2` for the MPI backend with CUDA tensors. It does nothing unless KINDLING_NCCL_PG_WORKER=1 (node --test
// also loads every file under dist/test/). Each scenario checks its results against CPU computations and exits
// non-zero when one is wrong; it prints "ok <scenario>" (rank 0 under mpirun) at the end.
import assert from "node:assert/strict";
import * as torch from "../../src/index.js";

const { distributed: dist, nn, optim } = torch;
type Tensor = torch.Tensor;

const maxAbsDiff = (a: Tensor, b: Tensor): number => a.to("cpu").sub(b.to("cpu")).abs().max().item();
const values = (t: Tensor): number[] => Array.from(t.to("cpu").toTypedArray() as ArrayLike<number>, Number);

/** Rank r's input: distinct per rank and element, exact in every dtype. */
function input(rank: number, n: number, dtype: torch.DType, device: string): Tensor {
  return torch.arange(n, { dtype: "float64" }).mul(rank + 2).sub(3 * rank).to(dtype).to(device);
}

/** Every collective on CUDA tensors against the same computed from every rank's input on the CPU. */
async function collectivesOnCuda(rank: number, size: number, dtypes: readonly torch.DType[]): Promise<void> {
  const dev = "cuda:0";
  const n = 6;
  for (const dtype of dtypes) {
    const all = Array.from({ length: size }, (_, r) => input(r, n, dtype, "cpu").to("float64"));
    const expected: Record<string, Tensor> = {
      sum: all.reduce((a, b) => a.add(b)), max: all.reduce((a, b) => a.maximum(b)), min: all.reduce((a, b) => a.minimum(b)),
      avg: all.reduce((a, b) => a.add(b)).div(size),
    };
    const float = dtype.startsWith("float");
    for (const op of float ? ["sum", "avg", "max", "min"] as const : ["sum", "max", "min"] as const) {
      const t = input(rank, n, dtype, dev);
      dist.allReduce(t, { op });
      assert.equal(t.device, dev);
      assert.deepEqual(values(t), values(expected[op]!), `allReduce ${op} ${dtype}`);
    }
    const b = input(rank, n, dtype, dev);
    dist.broadcast(b, size - 1);
    assert.deepEqual(values(b), values(all[size - 1]!), `broadcast ${dtype}`);
    const into = torch.zeros([size * n], { dtype, device: dev });
    dist.allGatherIntoTensor(into, input(rank, n, dtype, dev));
    assert.deepEqual(values(into), values(torch.cat(all)), `allGatherIntoTensor ${dtype}`);
    const list = Array.from({ length: size }, () => torch.zeros([2, 3], { dtype, device: dev }));
    dist.allGather(list, input(rank, n, dtype, dev).view([2, 3]));
    list.forEach((t, r) => assert.deepEqual(values(t), values(all[r]!), `allGather ${dtype} block ${r}`));
    const big = Array.from({ length: size }, (_, r) => input(r, size * n, dtype, "cpu").to("float64"));
    const out = torch.zeros([n], { dtype, device: dev });
    dist.reduceScatterTensor(out, input(rank, size * n, dtype, dev), { op: "sum" });
    assert.deepEqual(values(out), values(big.reduce((a, c) => a.add(c)).narrow(0, rank * n, n)), `reduceScatter ${dtype}`);
  }
  // Work handles: wait(), and the Promise.
  const a = torch.ones([4], { device: dev });
  const w = dist.allReduce(a, { asyncOp: true });
  assert.equal(w.wait(), true);
  assert.deepEqual(values(a), [size, size, size, size]);
  const c = torch.ones([3], { device: dev });
  const w2 = dist.allReduce(c, { op: "avg", asyncOp: true });
  await w2.promise;
  assert.ok(w2.isCompleted());
  assert.deepEqual(values(c), [1, 1, 1]);
  dist.barrier();
  await dist.barrier({ asyncOp: true }).promise;
}

/** A small net trained with SGD-momentum; `wrap` decides whether it is DDP. Returns its parameters, flat, on the CPU. */
function train(device: string, wrap: (m: torch.nn.Module) => torch.nn.Module, steps: number, rank: number, size: number, perRank: number): Tensor {
  torch.manualSeed(7);
  const net = new nn.Sequential(new nn.Linear(5, 8), new nn.ReLU(), new nn.Linear(8, 3)).to(device);
  const model = wrap(net);
  const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
  torch.manualSeed(11);
  const xs = torch.randn([steps, size * perRank, 5]);
  const ys = torch.randint(0, 3, [steps, size * perRank]);
  for (let s = 0; s < steps; s++) {
    const x = xs.select(0, s).narrow(0, rank * perRank, perRank).to(device);
    const y = ys.select(0, s).narrow(0, rank * perRank, perRank).to(device);
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x) as Tensor, y);
    loss.backward();
    opt.step();
  }
  return torch.cat(net.parameters().map((p) => p.detach().to("cpu").reshape(-1)));
}

/** Training the same data on one process, batch size × perRank, on the CPU. */
function reference(steps: number, size: number, perRank: number): Tensor {
  return train("cpu", (m) => m, steps, 0, 1, size * perRank);
}

const scenarios: Record<string, () => Promise<string>> = {
  // World size 1 through initProcessGroup({ backend: "nccl" }): no launcher, no store.
  async nccl1() {
    delete process.env.OMPI_COMM_WORLD_RANK;
    await dist.initProcessGroup({ backend: "nccl" });
    const info = dist.getBackendInfo();
    assert.equal(info.backend, "nccl");
    assert.equal(info.backend === "nccl" && info.device, "cuda:0");
    assert.equal(dist.getRank(), 0);
    assert.equal(dist.getWorldSize(), 1);
    await collectivesOnCuda(0, 1, ["float32", "float64", "int32", "int64", "uint8"]);
    assert.throws(() => dist.allReduce(torch.ones([2])), /this rank's NCCL process group runs on cuda:0, got a tensor on cpu \(move it with \.to\("cuda:0"\); CPU tensors need the MPI backend\)/);
    assert.throws(() => dist.allReduce(torch.ones([2], { dtype: "bool", device: "cuda:0" })), /dtype bool is not supported/);
    await assert.rejects(() => dist.initProcessGroup({ backend: "nccl" }), /already initialized/);
    dist.destroyProcessGroup();
    assert.equal(dist.isInitialized(), false);
    return "nccl1";
  },
  // DDP with a CUDA module on the NCCL group equals plain training on the CPU.
  async ddp1() {
    await dist.initProcessGroup({ backend: "nccl" });
    const steps = 6;
    const want = reference(steps, 1, 4);
    const plainCuda = train("cuda:0", (m) => m, steps, 0, 1, 4);
    for (const bucketCapMb of [1e-5, 25]) {
      const got = train("cuda:0", (m) => new nn.parallel.DistributedDataParallel(m, { bucketCapMb, deviceIds: [0] }), steps, 0, 1, 4);
      const d = maxAbsDiff(got, want);
      assert.ok(d <= 1e-5, `DDP (bucketCapMb ${bucketCapMb}) differs from plain CPU training by ${d}`);
      assert.ok(maxAbsDiff(got, plainCuda) <= 1e-6, "DDP differs from plain training on the same device");
    }
    const cpuNet = new nn.Linear(2, 2);
    assert.throws(() => new nn.parallel.DistributedDataParallel(cpuNet), /runs on cuda:0, but the module is on cpu; move it with module\.to\("cuda:0"\)/);
    assert.throws(() => new nn.parallel.DistributedDataParallel(new nn.Linear(2, 2).to("cuda:0"), { deviceIds: [1] }), /deviceIds must name the one CUDA device/);
    return "ddp1";
  },
  // initProcessGroup's errors, printed for the test to read.
  async errors() {
    try {
      await dist.initProcessGroup({ backend: "nccl" });
      console.log("initialized");
    } catch (e) {
      console.log((e as Error).message);
    }
    return "errors";
  },
  // How the ranks met: rank, size and device as the group sees them (the stand-in NCCL's log shows the ids).
  async bootstrap() {
    await dist.initProcessGroup({ backend: "nccl", timeoutMs: 60_000 });
    const info = dist.getBackendInfo();
    console.log(`rank ${dist.getRank()} of ${dist.getWorldSize()} on ${info.backend === "nccl" ? info.device : "?"}`);
    dist.destroyProcessGroup();
    return "bootstrap";
  },
  // Under mpirun -np 2, the MPI backend on CUDA tensors (host staging), and DDP with a CUDA module on it.
  async mpicuda() {
    dist.initProcessGroup({ backend: "mpi" });
    const rank = dist.getRank();
    const size = dist.getWorldSize();
    await collectivesOnCuda(rank, size, ["float32", "float64", "int32", "int64"]);
    const steps = 5;
    const want = reference(steps, size, 2);
    const got = train("cuda:0", (m) => new nn.parallel.DistributedDataParallel(m, { bucketCapMb: 1e-5 }), steps, rank, size, 2);
    const d = maxAbsDiff(got, want);
    assert.ok(d <= 1e-5, `rank ${rank}: DDP on CUDA over MPI differs from one process by ${d}`);
    return "mpicuda";
  },
};

if (process.env.KINDLING_NCCL_PG_WORKER === "1") {
  const name = process.argv[2] ?? "";
  const run = scenarios[name];
  if (!run) throw new Error(`nccl_pg_worker: unknown scenario "${name}" (${Object.keys(scenarios).join(", ")})`);
  const done = await run();
  const rank = dist.isInitialized() ? dist.getRank() : Number(process.env.OMPI_COMM_WORLD_RANK ?? process.env.RANK ?? 0);
  if (rank === 0) console.log(`ok ${done}`);
}
