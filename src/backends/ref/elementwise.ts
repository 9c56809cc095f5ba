import { castValue } from "../../core/dtype.js";
import { numelOf } from "../../core/shape.js";
import { binaryOps, type BinaryName } from "../../ops/binary.js";
import type { View } from "../../ops/kernels.js";
import { unaryOps, type UnaryName } from "../../ops/unary.js";
import { positions } from "./strided.js";

function storeCast(out: View): ((v: number) => number) | null {
  const t = out.dtype;
  return t === "float32" || t === "float64" ? null : (v: number) => castValue(t, v);
}

export function copy(src: View, dst: View): void {
  const n = numelOf(dst.shape);
  const ps = positions(src);
  const pd = positions(dst);
  const s = src.storage.data;
  const d = dst.storage.data;
  const cast = storeCast(dst);
  for (let i = 0; i < n; i++) {
    const v = s[ps ? ps[i] : src.offset + i];
    d[pd ? pd[i] : dst.offset + i] = cast ? cast(v) : v;
  }
}

export function fill(dst: View, value: number): void {
  const n = numelOf(dst.shape);
  const pd = positions(dst);
  const d = dst.storage.data;
  const v = castValue(dst.dtype, value);
  for (let i = 0; i < n; i++) d[pd ? pd[i] : dst.offset + i] = v;
}

export function unary(op: UnaryName, x: View, out: View): void {
  const fn = unaryOps[op].fn;
  const n = numelOf(out.shape);
  const px = positions(x);
  const s = x.storage.data;
  const d = out.storage.data;
  const cast = storeCast(out);
  for (let i = 0; i < n; i++) {
    const v = fn(s[px ? px[i] : x.offset + i]);
    d[out.offset + i] = cast ? cast(v) : v;
  }
}

export function binary(op: BinaryName, a: View, b: View, out: View): void {
  const fn = binaryOps[op].fn;
  const n = numelOf(out.shape);
  const pa = positions(a);
  const pb = positions(b);
  const sa = a.storage.data;
  const sb = b.storage.data;
  const d = out.storage.data;
  const cast = storeCast(out);
  for (let i = 0; i < n; i++) {
    const v = fn(sa[pa ? pa[i] : a.offset + i], sb[pb ? pb[i] : b.offset + i]);
    d[out.offset + i] = cast ? cast(v) : v;
  }
}

export function binaryScalar(op: BinaryName, a: View, s: number, out: View): void {
  const fn = binaryOps[op].fn;
  const n = numelOf(out.shape);
  const pa = positions(a);
  const sa = a.storage.data;
  const d = out.storage.data;
  const cast = storeCast(out);
  for (let i = 0; i < n; i++) {
    const v = fn(sa[pa ? pa[i] : a.offset + i], s);
    d[out.offset + i] = cast ? cast(v) : v;
  }
}

export function where(cond: View, a: View, b: View, out: View): void {
  const n = numelOf(out.shape);
  const pc = positions(cond);
  const pa = positions(a);
  const pb = positions(b);
  const c = cond.storage.data;
  const sa = a.storage.data;
  const sb = b.storage.data;
  const d = out.storage.data;
  for (let i = 0; i < n; i++) {
    d[out.offset + i] = c[pc ? pc[i] : cond.offset + i] ? sa[pa ? pa[i] : a.offset + i] : sb[pb ? pb[i] : b.offset + i];
  }
}

export function clamp(x: View, out: View, lo: number, hi: number): void {
  const n = numelOf(out.shape);
  const px = positions(x);
  const s = x.storage.data;
  const d = out.storage.data;
  for (let i = 0; i < n; i++) {
    const v = s[px ? px[i] : x.offset + i];
    // NaN passes through, as in PyTorch.
    const r = v < lo ? lo : v;
    d[out.offset + i] = r > hi ? hi : r;
  }
}
