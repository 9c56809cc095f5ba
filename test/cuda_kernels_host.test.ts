// The host-side logic of the CUDA kernels that needs no GPU: KGeom views address exactly the elements the reference
// backend's strided walk visits, the argument packer survives growing past its first buffer, and a device-side
// check recorded by a kernel surfaces at the next synchronisation as an Error naming the op.
import test from "node:test";
import assert from "node:assert/strict";
import { contiguousStrides, numelOf } from "../src/core/shape.js";
import { positions } from "../src/backends/ref/strided.js";
import { geometries, KArgs } from "../src/backends/cuda/kernels_common.js";
import { cudaKernels } from "../src/backends/cuda/kernels.js";
import { runAfterSyncChecks } from "../src/backends/cuda/runtime.js";
import { FakeRuntime } from "./helpers/cuda_fake_runtime.js";
import { view } from "./helpers/cuda_cases.js";

/** k_pos of common.cuh, in TypeScript: the storage position of linear index i under a KGeom. */
function kpos(g: Uint8Array, i: number): number {
  const dv = new DataView(g.buffer, g.byteOffset, g.byteLength);
  const rank = dv.getInt32(128, true);
  if (rank === 0) return i;
  let pos = 0;
  for (let d = rank - 1; d >= 0; d--) {
    const s = Number(dv.getBigInt64(d * 8, true));
    const q = Math.floor(i / s);
    pos += (i - q * s) * Number(dv.getBigInt64(64 + d * 8, true));
    i = q;
  }
  return pos;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test("KGeom positions equal the reference's strided walk (permuted, sliced, broadcast views; dims merged)", () => {
  const rnd = lcg(7);
  for (let t = 0; t < 300; t++) {
    const rank = 1 + Math.floor(rnd() * 5);
    const shape = Array.from({ length: rank }, () => 1 + Math.floor(rnd() * 4));
    // strides of a permuted, possibly sliced parent, with some broadcast (0) dims
    const parent = shape.map((n) => n + (rnd() < 0.3 ? 2 : 0));
    const pstr = contiguousStrides(parent);
    const perm = shape.map((_, i) => i).sort(() => rnd() - 0.5);
    const strides = shape.map((_, d) => (rnd() < 0.15 ? 0 : pstr[perm[d]]));
    const v = { storage: { data: new Float32Array(1) }, shape, strides, offset: 0, dtype: "float32" as const };
    const want = positions(v) ?? Int32Array.from({ length: numelOf(shape) }, (_, i) => i);
    const [g] = geometries("test", shape, [{ storage: { ptr: 0n }, shape, strides, offset: 0, dtype: "float32" }]);
    const got = Array.from({ length: numelOf(shape) }, (_, i) => kpos(g, i));
    assert.deepEqual(got, [...want], `shape ${shape} strides ${strides}`);
  }
});

test("views of different operands are merged only where all of them allow it", () => {
  const shape = [4, 3, 2];
  const a = { storage: { ptr: 0n }, shape, strides: [6, 2, 1], offset: 0, dtype: "float32" as const };
  const b = { storage: { ptr: 0n }, shape, strides: [1, 8, 4], offset: 0, dtype: "float32" as const };
  const [ga, gb] = geometries("test", shape, [a, b]);
  for (let i = 0; i < 24; i++) {
    const [n, h, w] = [Math.floor(i / 6), Math.floor(i / 2) % 3, i % 2];
    assert.equal(kpos(ga, i), n * 6 + h * 2 + w);
    assert.equal(kpos(gb, i), n + h * 8 + w * 4);
  }
});

test("KernelArgs keeps every value when it outgrows its first buffer", () => {
  const a = new KArgs();
  const big = new Uint8Array(200).fill(7);
  a.ptr(0x1234n).i32(-5).raw(big, 8).f64(2.5).raw(big, 8).i64(1n << 40n).f32(0.5);
  const dv = new DataView(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength);
  const o = a.offsets;
  assert.equal(dv.getBigUint64(o[0], true), 0x1234n);
  assert.equal(dv.getInt32(o[1], true), -5);
  assert.deepEqual(a.bytes.slice(o[2], o[2] + 200), big);
  assert.equal(dv.getFloat64(o[3], true), 2.5);
  assert.deepEqual(a.bytes.slice(o[4], o[4] + 200), big);
  assert.equal(dv.getBigInt64(o[5], true), 1n << 40n);
  assert.equal(dv.getFloat32(o[6], true), 0.5);
  assert.deepEqual(a.kinds, ["ptr", "i32", { raw: 200, align: 8 }, "f64", { raw: 200, align: 8 }, "i64", "f32"]);
});

/** A fake whose error record reads back as `record` (code, value, bound). */
class FailingRuntime extends FakeRuntime {
  reads = 0;
  constructor(private readonly record: bigint[]) {
    super(false, false);
  }
  override copyDtoH(dst: ArrayBufferView, src: bigint): void {
    super.copyDtoH(dst, src);
    this.reads++;
    if (dst instanceof BigInt64Array) dst.set(this.record);
  }
}

test("a class index >= C recorded on the device throws at the next synchronisation, naming the op", () => {
  const rt = new FailingRuntime([1n, 12n, 10n]);
  const k = cudaKernels(rt);
  runAfterSyncChecks(rt);
  assert.equal(rt.reads, 0, "nothing to read before a checking kernel ran");
  k.crossEntropy(view(rt, [4, 10], "float32"), view(rt, [4], "int64"), view(rt, [], "float32"), null, { ignoreIndex: -100, labelSmoothing: 0, reduction: "mean" });
  assert.throws(() => runAfterSyncChecks(rt), /^Error: crossEntropy: target 12 is out of bounds: expected a class index in \[0, 9\] \(or ignoreIndex -100\)/);
  // The record was cleared and is read again only after the next checking launch.
  const reads = rt.reads;
  runAfterSyncChecks(rt);
  assert.equal(rt.reads, reads);
});

test("an index out of range in indexSelect surfaces the same way; an unused record costs no read", () => {
  const rt = new FailingRuntime([3n, -1n, 5n]);
  const k = cudaKernels(rt);
  k.unary("exp", view(rt, [3], "float32"), view(rt, [3], "float32"));
  runAfterSyncChecks(rt);
  assert.equal(rt.reads, 0);
  k.indexSelect(view(rt, [5, 2], "float32"), view(rt, [3], "int64"), view(rt, [3, 2], "float32"), 1, 5, 2);
  assert.throws(() => runAfterSyncChecks(rt), /indexSelect: index -1 is out of bounds for dimension of size 5/);
});
