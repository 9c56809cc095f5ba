// Copies, casts, moves between devices, and the sync points: the only places where values leave a device for the
// host (item, tolist, toTypedArray, dataSync, dataAsync; printing goes through dataSync).
import type { DeviceBackend } from "../backend/device.js";
import { getDevice } from "../backends/registry.js";
import { DTYPES, isFloating, type DType, type TypedArray } from "../core/dtype.js";
import { opError } from "../core/errors.js";
import { numelOf } from "../core/shape.js";
import { emptyTensor, fromHost } from "./create.js";
import { kernelsFor, needsGrad, record } from "./dispatch.js";
import type { Tensor } from "./tensor.js";

function noData(what: string, t: Tensor): Error {
  return opError(
    what,
    `Cannot copy out of meta tensor; no data! A tensor on the '${t.device}' device has a shape and a dtype but no ` +
      'values: create it on "cpu" to read them.',
  );
}

/** t's values as one contiguous host range: t itself when it is dense, else a contiguous copy made on its device. */
function dense(what: string, t: Tensor): Tensor {
  if (!t.storage.device.hasData) throw noData(what, t);
  return t.isContiguous() ? t : copyAs(t, t.dtype);
}

/** The one value of t: a boolean for a bool tensor, as PyTorch's item() gives a Python bool. */
export function item(t: Tensor): number | boolean {
  const dev = t.storage.device;
  if (!dev.hasData) throw noData("item", t);
  const v = (dev.hostView ? dev.hostView(t.storage, t.offset, 1) : dev.download(t.storage, t.offset, 1))[0]!;
  return t.dtype === "bool" ? v !== 0 : v;
}

/** A fresh array the caller owns. */
export function toTypedArray(t: Tensor): TypedArray {
  const c = dense("toTypedArray", t);
  const dev = c.storage.device;
  const n = numelOf(c.shape);
  return c !== t && dev.hostView ? dev.hostView(c.storage, c.offset, n) : dev.download(c.storage, c.offset, n);
}

/** Host memory itself when the device is the host and t is dense (zero-copy); a copy otherwise. */
export function dataSync(t: Tensor, what = "dataSync"): TypedArray {
  const c = dense(what, t);
  const dev = c.storage.device;
  const n = numelOf(c.shape);
  return dev.hostView ? dev.hostView(c.storage, c.offset, n) : dev.download(c.storage, c.offset, n);
}

/** dataSync without blocking: a device with its own queue resolves when the copy has landed. */
export function dataAsync(t: Tensor): Promise<TypedArray> {
  try {
    const c = dense("dataAsync", t);
    const dev = c.storage.device;
    const n = numelOf(c.shape);
    return dev.hostView ? Promise.resolve(dev.hostView(c.storage, c.offset, n)) : dev.downloadAsync(c.storage, c.offset, n);
  } catch (e) {
    return Promise.reject(e);
  }
}

type Nested = number | boolean | Nested[];

export function tolist(t: Tensor): Nested {
  const flat = dataSync(t, "tolist");
  const isBool = t.dtype === "bool";
  let pos = 0;
  const build = (d: number): Nested => {
    if (d === t.shape.length) {
      const v = flat[pos++]!;
      return isBool ? v !== 0 : v;
    }
    const out: Nested[] = [];
    for (let i = 0; i < t.shape[d]!; i++) out.push(build(d + 1));
    return out;
  };
  return build(0);
}

/** A contiguous copy in dtype, without autograd. */
export function copyAs(t: Tensor, dtype: DType): Tensor {
  const out = emptyTensor(t.shape, dtype, t.storage.device);
  kernelsFor(t).copy(t, out);
  return out;
}

/** A contiguous copy of t's values on another device, through the host (no autograd). */
export function copyAcross(t: Tensor, device: DeviceBackend, op = "to"): Tensor {
  const src = t.storage.device;
  if (!src.hasData && device.hasData) {
    throw opError(op, `Cannot copy out of meta tensor; no data! (from a '${t.device}' tensor to '${device.name}')`);
  }
  if (!src.hasData || !device.hasData) return emptyTensor(t.shape, t.dtype, device);
  const c = t.isContiguous() ? t : copyAs(t, t.dtype);
  const n = numelOf(c.shape);
  const host = src.hostView ? src.hostView(c.storage, c.offset, n) : src.download(c.storage, c.offset, n);
  return fromHost(host, t.shape, t.dtype, device, false);
}

export function onesLike(t: Tensor): Tensor {
  const out = emptyTensor(t.shape, t.dtype, t.storage.device);
  kernelsFor(out).fill(out, 1);
  return out;
}

export function clone(t: Tensor): Tensor {
  const out = copyAs(t, t.dtype);
  if (needsGrad(t)) record(out, "clone", [t], (g) => [g]);
  return out;
}

/** PyTorch's keyword arguments of `Tensor.to`. */
export interface ToOptions {
  dtype?: DType;
  /** Accepted for PyTorch parity: CPU copies are synchronous, so the result is ready when `to` returns. */
  nonBlocking?: boolean;
  /** Always return a new tensor, even when device and dtype already match. */
  copy?: boolean;
}

const TO_KEYS = new Set(["dtype", "nonBlocking", "copy"]);

/**
 * The arguments of `x.to(device | dtype | tensor, dtype? | options?, options?)` as [device, dtype, options]; a tensor
 * target stands for its own device and dtype, and misspelt options are refused instead of ignored.
 */
export function toArgs(target: unknown, second: unknown, third: unknown): [string, DType | undefined, ToOptions] {
  let device: string;
  let dtype: DType | undefined;
  if (typeof target === "object" && target !== null && "storage" in target && "dtype" in target) {
    const like = target as Tensor;
    device = like.device;
    dtype = like.dtype;
  } else device = String(target);
  let opts: ToOptions = {};
  for (const extra of [second, third]) {
    if (extra === undefined || extra === null) continue;
    if (typeof extra === "string") dtype = extra as DType;
    else if (typeof extra === "object") opts = extra as ToOptions;
    else throw new TypeError(`Tensor.to: expected a dtype or an options object, got ${typeof extra}`);
  }
  for (const k of Object.keys(opts)) {
    if (!TO_KEYS.has(k)) throw new TypeError(`Tensor.to: unknown option "${k}"; the options are dtype, nonBlocking and copy`);
  }
  return [device, opts.dtype ?? dtype, opts];
}

/** `.to(device)`, `.to(dtype)`, `.to(device, dtype)`: t itself when nothing changes, like PyTorch. */
export function to(t: Tensor, target: string, dtype?: DType): Tensor {
  let device = t.storage.device;
  if ((DTYPES as readonly string[]).includes(target)) dtype = target as DType;
  else if (target !== device.name) device = getDevice(target);
  const dt = dtype ?? t.dtype;
  let out = t;
  if (device !== t.storage.device) out = copyAcross(t, device);
  if (dt !== out.dtype) out = copyAs(out, dt);
  if (out === t) return t;
  if (needsGrad(t) && isFloating(dt)) {
    const srcDevice = t.device;
    const srcType = t.dtype;
    record(out, "to", [t], (g) => [g.to(srcDevice, srcType)]);
  }
  return out;
}
