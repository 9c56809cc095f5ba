// Every CUDA kernel launch, checked without a GPU: the cases of helpers/cuda_cases.ts run cudaKernels() against a
// recording fake runtime (with and without cuBLAS/cuDNN), and each launch must name a kernel of the .cu sources,
// pass exactly its parameter list (kind, size and C ABI offset of every argument), use a grid and block CUDA
// accepts, and point only into live allocations, with strided views (KGeom) and gemm operands inside them.
// Every kernel of the contract has a case, and every kernel of the sources is launched by one.
import test from "node:test";
import assert from "node:assert/strict";
import { cudaKernels } from "../src/backends/cuda/kernels.js";
import { KArgs, GEOM_BYTES } from "../src/backends/cuda/kernels_common.js";
import { ADAM_ROW_BYTES, SGD_ROW_BYTES } from "../src/backends/cuda/kernels_optim.js";
import { POOL_BYTES } from "../src/backends/cuda/kernels_pool.js";
import { CONV_BYTES } from "../src/backends/cuda/kernels_conv.js";
import { refKernels } from "../src/backends/ref/index.js";
import { abiOffsets, kernelSignatures, kindName, structs, type KernelSig } from "./helpers/cuda_sources.js";
import { checkGemm, FakeRuntime, type Launch } from "./helpers/cuda_fake_runtime.js";
import { cudaCases, withFloatsSwapped } from "./helpers/cuda_cases.js";
import { errorRecord } from "../src/backends/cuda/kernels_errors.js";

const sigs = kernelSignatures();
const DT_BYTES = [4, 8, 4, 8, 1, 1];
const POINTEE_BYTES: Record<string, number> = { float: 4, double: 8, int: 4, u32: 4, u8: 1, u64: 8, i64: 8 };

type Value = bigint | number | Uint8Array;

/** The launch's arguments by parameter name, read back from the packed bytes. */
function decode(sig: KernelSig, l: Launch): Map<string, Value> {
  const dv = new DataView(l.args.bytes.buffer, l.args.bytes.byteOffset, l.args.bytes.byteLength);
  const offs = l.args.offsets;
  const out = new Map<string, Value>();
  sig.params.forEach((p, i) => {
    const name = /(\w+)\s*$/.exec(p.decl)![1];
    const o = offs[i];
    const k = p.kind;
    if (k === "ptr") out.set(name, dv.getBigUint64(o, true));
    else if (k === "i32") out.set(name, dv.getInt32(o, true));
    else if (k === "i64") out.set(name, Number(dv.getBigInt64(o, true)));
    else if (k === "f32") out.set(name, dv.getFloat32(o, true));
    else if (k === "f64") out.set(name, dv.getFloat64(o, true));
    else out.set(name, l.args.bytes.slice(o, o + k.raw));
  });
  return out;
}

/** Element size behind pointer parameter `name`: its declared type, or the dtype code passed beside it. */
function elemBytes(sig: KernelSig, vals: Map<string, Value>, name: string, dtParam: string): number | null {
  const decl = sig.params.find((p) => new RegExp(`\\b${name}\\s*$`).test(p.decl))?.decl;
  if (!decl) return null;
  const t = /(\w+)\s*\*/.exec(decl)?.[1];
  if (t && POINTEE_BYTES[t]) return POINTEE_BYTES[t];
  const code = vals.get(dtParam);
  return typeof code === "number" ? DT_BYTES[code] : null;
}

// KGeom parameter -> (its pointer, that pointer's dtype parameter); outputs written contiguously -> dtype parameter.
const GEOM_OF: Record<string, [string, string]> = { sg: ["src", "sdt"], dg: ["dst", "ddt"], xg: ["x", "xdt"], ag: ["a", "adt"], bg: ["b", "bdt"], cg: ["cond", "cdt"] };
const CONTIGUOUS_OUT: Record<string, string> = { y: "ydt", c: "cdt", out: "odt" };

function checkLaunch(rt: FakeRuntime, l: Launch, where: string): void {
  const sig = sigs.get(l.kernel);
  if (!sig) {
    rt.problems.push(`${where}: launches ${l.kernel}, which no .cu file defines`);
    return;
  }
  assert.ok(l.args instanceof KArgs, `${where}: ${l.kernel}'s arguments were not packed with KArgs`);
  const got = (l.args as KArgs).kinds.map(kindName);
  const want = sig.params.map((p) => kindName(p.kind));
  assert.deepEqual(got, want, `${where}: ${l.kernel} takes (${sig.params.map((p) => p.decl).join(", ")})`);
  assert.deepEqual([...l.args.offsets], abiOffsets(sig.params.map((p) => p.kind)), `${where}: ${l.kernel} argument offsets`);

  const [gx, gy, gz] = l.grid, [bx, by, bz] = l.block;
  for (const g of [gx, gy, gz, bx, by, bz]) assert.ok(Number.isInteger(g) && g >= 1, `${where}: ${l.kernel} grid ${l.grid} block ${l.block}`);
  assert.ok(gx <= 2 ** 31 - 1 && gy <= 65535 && gz <= 65535, `${where}: ${l.kernel} grid ${l.grid} beyond CUDA's limits`);
  assert.ok(bx <= 1024 && by <= 1024 && bz <= 64 && bx * by * bz <= 1024, `${where}: ${l.kernel} block ${l.block} beyond CUDA's limits`);
  if (sig.maxThreads !== null) assert.ok(bx * by * bz <= sig.maxThreads, `${where}: ${l.kernel} block ${l.block} exceeds its __launch_bounds__(${sig.maxThreads})`);
  else assert.ok(bx * by * bz <= 256, `${where}: ${l.kernel} block ${l.block}: blocks over 256 threads need __launch_bounds__ (registers)`);
  assert.equal((bx * by * bz) % 32, 0, `${where}: ${l.kernel} block ${l.block} is not whole warps (the block reductions need them)`);
  assert.ok(l.shared >= 0 && l.shared <= 48 * 1024, `${where}: ${l.kernel} dynamic shared memory ${l.shared}`);

  const vals = decode(sig, l);
  for (const [name, v] of vals) if (typeof v === "bigint" && v !== 0n) rt.check(`${where}: ${l.kernel}(${name})`, v, 1, l.live);

  // Strided views: every position the KGeom reaches lies in the pointer's allocation; its sizes multiply to n.
  const n = vals.get("n");
  for (const [gname, [pname, dtname]] of Object.entries(GEOM_OF)) {
    const g = vals.get(gname);
    const p = vals.get(pname);
    if (!(g instanceof Uint8Array) || typeof p !== "bigint" || typeof n !== "number") continue;
    const e = elemBytes(sig, vals, pname, dtname);
    assert.ok(e, `${where}: ${l.kernel}: element size of ${pname}`);
    const dv = new DataView(g.buffer, g.byteOffset, g.byteLength);
    const rank = dv.getInt32(128, true);
    assert.ok(rank >= 0 && rank <= 8, `${where}: ${l.kernel} ${gname} rank ${rank}`);
    let last = n - 1, count = 1;
    if (rank > 0) {
      last = 0;
      for (let d = 0; d < rank; d++) {
        const size = Number(dv.getBigInt64(d * 8, true)), stride = Number(dv.getBigInt64(64 + d * 8, true));
        assert.ok(size >= 1 && stride >= 0, `${where}: ${l.kernel} ${gname} dim ${d}: size ${size} stride ${stride}`);
        last += (size - 1) * stride;
        count *= size;
      }
      assert.equal(count, n, `${where}: ${l.kernel} ${gname} covers ${count} elements, n = ${n}`);
    }
    if (n > 0) rt.check(`${where}: ${l.kernel}(${pname} via ${gname})`, p, (last + 1) * e!, l.live);
  }
  for (const [oname, dtname] of Object.entries(CONTIGUOUS_OUT)) {
    const p = vals.get(oname);
    if (typeof p !== "bigint" || typeof n !== "number" || n === 0 || !sig.params.some((q) => q.kind === "ptr" && q.decl.endsWith(` ${oname}`) && !q.decl.startsWith("const"))) continue;
    if (!sig.params.some((q) => typeof q.kind === "object")) continue;
    const e = elemBytes(sig, vals, oname, dtname);
    if (e) rt.check(`${where}: ${l.kernel}(${oname})`, p, n * e, l.live);
  }

  if (l.kernel.startsWith("k_gemm_")) {
    const num = (k: string) => vals.get(k) as number;
    const ptr = (k: string) => vals.get(k) as bigint;
    checkGemm(rt, `${where}: ${l.kernel}`, {
      dtype: l.kernel.endsWith("f64") ? "float64" : "float32", transA: num("transA") !== 0, transB: num("transB") !== 0,
      M: num("M"), N: num("N"), K: num("K"), a: ptr("A"), lda: num("lda"), strideA: num("sA"), b: ptr("B"), ldb: num("ldb"), strideB: num("sB"),
      c: ptr("C"), ldc: num("ldc"), strideC: num("sC"), batch: num("batch"), alpha: 1, beta: 0,
    }, l.live);
  }
}

const CONFIGS = [false, true].flatMap((swapped) =>
  [[false, false], [true, false], [false, true], [true, true]].map(([blas, dnn]) => ({ blas, dnn, swapped })),
);

/** Runs every case under every configuration (library availability; float32 and float64 swapped or not). */
function eachRun(fn: (rt: FakeRuntime, where: string) => void): void {
  for (const cfg of CONFIGS) {
    for (const c of cudaCases) {
      const rt = new FakeRuntime(cfg.blas, cfg.dnn);
      const where = `${c.kernel} (${c.label}; blas ${cfg.blas}, dnn ${cfg.dnn}${cfg.swapped ? ", floats swapped" : ""})`;
      const run = () => c.run(cudaKernels(rt), rt);
      if (cfg.swapped) withFloatsSwapped(run);
      else run();
      fn(rt, where);
    }
  }
}

test("the struct layouts the TypeScript packs match the .cu structs", () => {
  const st = structs();
  assert.deepEqual(st.get("KGeom"), { size: GEOM_BYTES, align: 8 });
  assert.deepEqual(st.get("KPool"), { size: POOL_BYTES, align: 4 });
  assert.deepEqual(st.get("KConv"), { size: CONV_BYTES, align: 4 });
  assert.deepEqual(st.get("KSgdRow"), { size: SGD_ROW_BYTES, align: 8 });
  assert.deepEqual(st.get("KAdamRow"), { size: ADAM_ROW_BYTES, align: 8 });
  assert.deepEqual(st.get("KErr"), { size: 24, align: 8 });
});

test("every launch matches its kernel's parameter list, limits and memory (with and without cuBLAS/cuDNN)", () => {
  const launched = new Set<string>();
  eachRun((rt, where) => {
    for (const l of rt.launches) {
      checkLaunch(rt, l, where);
      launched.add(l.kernel);
    }
    assert.deepEqual(rt.problems, [], where);
  });
  // selftest.cu's kernels belong to the loading-path check (scripts/cuda-selfcheck.mjs, test/cuda_device), not to an op.
  const never = [...sigs.keys()].filter((k) => !launched.has(k) && !k.startsWith("k_selftest_"));
  assert.deepEqual(never, [], "kernels no case launches (dead code, or a launch site with a misspelt name)");
});

test("every kernel of the contract has a case", () => {
  const covered = new Set(cudaCases.map((c) => c.kernel));
  const missing = Object.keys(refKernels).filter((k) => !covered.has(k as never));
  assert.deepEqual(missing, []);
  const rt = new FakeRuntime(false, false);
  assert.deepEqual(Object.keys(cudaKernels(rt)).sort(), Object.keys(refKernels).sort());
});

test("scratch memory is freed: only the runtime's error record outlives a call", () => {
  eachRun((rt, where) => {
    const err = errorRecord(rt).ptr;
    const leaked = [...rt.allocs.keys()].filter((p) => !rt.owned.has(p) && p !== err);
    assert.deepEqual(leaked, [], `${where}: ${leaked.length} allocation(s) never freed`);
  });
});
