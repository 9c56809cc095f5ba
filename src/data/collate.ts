// defaultCollate (torch.utils.data.default_collate): a list of samples → one batch, stacking
// tensors along a new first dim and turning numbers into tensors.

import { fromTypedArray } from "../tensor/create.js";
import { Tensor } from "../tensor/tensor.js";
import type { TypedArray } from "../core/dtype.js";
import { isPlainObject } from "./pack.js";

function stack(ts: readonly Tensor[]): Tensor {
  const first = ts[0]!;
  const n = first.numel();
  const src0 = first.dataSync();
  const out = new (src0.constructor as { new (n: number): TypedArray })(ts.length * n);
  ts.forEach((t, k) => {
    if (t.dtype !== first.dtype || t.shape.length !== first.shape.length || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new Error(
        `defaultCollate: stack expects each tensor to be equal size and dtype, but got [${first.shape.join(", ")}] ${first.dtype} at entry 0 and [${t.shape.join(", ")}] ${t.dtype} at entry ${k}`,
      );
    }
    out.set(k === 0 ? src0 : t.dataSync(), k * n);
  });
  return fromTypedArray(out, [ts.length, ...first.shape], first.dtype);
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}

export function defaultCollate(batch: readonly unknown[]): unknown {
  if (batch.length === 0) throw new Error("defaultCollate: empty batch");
  const elem = batch[0];
  if (elem instanceof Tensor) {
    for (const b of batch) if (!(b instanceof Tensor)) throw new TypeError(`defaultCollate: mixed tensor and ${describe(b)} in one batch`);
    return stack(batch as Tensor[]);
  }
  if (typeof elem === "number") {
    const nums = batch as number[];
    // Python ints become int64, floats float64; in JS an integral number stands for an int.
    const ints = nums.every((v) => Number.isInteger(v));
    return fromTypedArray(Float64Array.from(nums), [nums.length], ints ? "int64" : "float64");
  }
  if (typeof elem === "boolean") return fromTypedArray(Uint8Array.from(batch as boolean[], (b) => (b ? 1 : 0)), [batch.length], "bool");
  if (typeof elem === "string") return [...batch];
  if (Array.isArray(elem)) {
    const len = elem.length;
    for (const b of batch) {
      if (!Array.isArray(b) || b.length !== len) throw new Error("defaultCollate: each element in list of batch should be of equal size");
    }
    return Array.from({ length: len }, (_, i) => defaultCollate(batch.map((b) => (b as unknown[])[i])));
  }
  if (elem !== null && typeof elem === "object" && "width" in elem && "height" in elem && (elem as { data?: unknown }).data instanceof Uint8Array) {
    throw new TypeError("defaultCollate: found an 8-bit image; add transforms.ToTensor() to the dataset's transform");
  }
  if (elem instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const k of elem.keys()) out.set(k, defaultCollate(batch.map((b) => (b as Map<unknown, unknown>).get(k))));
    return out;
  }
  if (isPlainObject(elem)) {
    // fromEntries defines keys: "__proto__" stays a key instead of replacing the prototype.
    return Object.fromEntries(Object.keys(elem).map((k) => [k, defaultCollate(batch.map((b) => (b as Record<string, unknown>)[k]))]));
  }
  const hint = elem && typeof elem === "object" && "width" in elem && "data" in elem ? " (an image: add transforms.ToTensor())" : "";
  throw new TypeError(`defaultCollate: batch must contain tensors, numbers, arrays, Maps or plain objects; found ${describe(elem)}${hint}`);
}
