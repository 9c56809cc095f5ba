import { assertDeviceUsable, canonicalDevice } from "../backend/device.js";
import { DTYPES, isFloating, type DType, type TypedArray } from "../core/dtype.js";
import { numelOf } from "../core/shape.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record } from "./dispatch.js";
import type { Tensor } from "./tensor.js";

export function item(t: Tensor): number {
  const d = t.storage.data;
  return t.dtype === "bool" ? d[t.offset] : d[t.offset];
}

export function toTypedArray(t: Tensor): TypedArray {
  return copyAs(t, t.dtype).storage.data;
}

export function dataSync(t: Tensor): TypedArray {
  if (t.isContiguous()) {
    const n = numelOf(t.shape);
    const d = t.storage.data;
    return t.offset === 0 && n === d.length ? d : d.subarray(t.offset, t.offset + n);
  }
  return toTypedArray(t);
}

type Nested = number | boolean | Nested[];

export function tolist(t: Tensor): Nested {
  const flat = dataSync(t);
  const isBool = t.dtype === "bool";
  let pos = 0;
  const build = (d: number): Nested => {
    if (d === t.shape.length) {
      const v = flat[pos++];
      return isBool ? v !== 0 : v;
    }
    const out: Nested[] = [];
    for (let i = 0; i < t.shape[d]; i++) out.push(build(d + 1));
    return out;
  };
  return build(0);
}

/** A contiguous copy in dtype, without autograd. */
export function copyAs(t: Tensor, dtype: DType): Tensor {
  const out = emptyTensor(t.shape, dtype, t.device);
  kernelsFor(t).copy(t, out);
  return out;
}

export function onesLike(t: Tensor): Tensor {
  const out = emptyTensor(t.shape, t.dtype, t.device);
  out.storage.data.fill(1);
  return out;
}

export function clone(t: Tensor): Tensor {
  const out = copyAs(t, t.dtype);
  if (needsGrad(t)) record(out, "clone", [t], (g) => [g]);
  return out;
}

export function to(t: Tensor, target: string, dtype?: DType): Tensor {
  let device = t.device;
  if ((DTYPES as readonly string[]).includes(target)) dtype = target as DType;
  else device = canonicalDevice(target);
  if (device !== t.device) assertDeviceUsable(device);
  const dt = dtype ?? t.dtype;
  if (dt === t.dtype) return t;
  const out = copyAs(t, dt);
  if (isFloating(dt) && needsGrad(t)) {
    const src = t.dtype;
    record(out, "to", [t], (g) => [g.to(src)]);
  }
  return out;
}
