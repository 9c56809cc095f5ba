// torch.load: PyTorch's checkpoint files read without running any of their code. Two layouts exist:
//   zip (PyTorch >= 1.6): <dir>/data.pkl, <dir>/data/<key> (one raw storage each), <dir>/version, and from 2.1 on
//     <dir>/byteorder; the pickle names storages by persistent id ('storage', torch.FloatStorage, key, location, n).
//   legacy (torch.save(..., _use_new_zipfile_serialization=False)): five pickles back to back (magic number,
//     protocol version, system info, the object, storage keys), then every storage as an int64 count and its bytes.
// The object pickle goes through the safe unpickler with the globals PyTorch's own weights_only loader allows
// (tensor and parameter rebuilds, storage classes, OrderedDict, torch.Size, dtypes). Storages become kindling
// storages (on the CPU, whatever device they were saved from) and tensors views of them, so tensors that shared a
// storage in PyTorch share one here too. Half, bfloat16, int16 and int8 widen to float32 / int32 (kindling has no
// narrower types).

import * as fs from "node:fs";
import type { DType } from "../core/dtype.js";
import { wrap } from "../tensor/create.js";
import { Tensor } from "../tensor/tensor.js";
import { NdArray } from "./ndarray.js";
import { unpickleAt, UnpicklingError, type GlobalCall } from "./pickle.js";
import { describe, PyGlobal } from "./pickle_globals.js";
import { decodeElements, elementSize } from "./safetensors.js";
import { looksLikeZip, readZip, ZipError, type ZipEntry } from "./zip.js";

export class TorchLoadError extends Error {
  override name = "TorchLoadError";
}

export interface TorchLoadOptions {
  /**
   * PyTorch's switch between its restricted unpickler and one that may run code. kindling never runs code from a
   * file, so loading is always weights-only; `false` is refused rather than silently ignored.
   */
  weightsOnly?: boolean;
}

/** PyTorch's storage classes (as pickles name them) and the safetensors element code of their bytes. */
export const TORCH_STORAGES: Readonly<Record<string, string>> = {
  FloatStorage: "F32",
  DoubleStorage: "F64",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

const TORCH_DTYPES: Readonly<Record<string, DType>> = {
  float32: "float32", float: "float32", float64: "float64", double: "float64", int32: "int32", int: "int32",
  int64: "int64", long: "int64", uint8: "uint8", bool: "bool", float16: "float32", half: "float32",
  bfloat16: "float32", int16: "int32", short: "int32", int8: "int32",
};

/** A storage as the pickle refers to it: resolved to one flat kindling tensor, or unresolved in a first pass. */
class StorageRef {
  constructor(
    readonly flat: Tensor | null,
    /** Elements into `flat` where this storage starts (legacy view storages). */
    readonly start: number,
    readonly numel: number,
    readonly typeName: string,
  ) {}
}

function intOf(v: unknown, what: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  throw new UnpicklingError(`${what}: expected an int, got ${describe(v)}`);
}

function intsOf(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new UnpicklingError(`${what}: expected a tuple of ints, got ${describe(v)}`);
  return v.map((d, i) => intOf(d, `${what}[${i}]`));
}

/** _rebuild_tensor(_v2)'s view of a storage, checked to stay inside it. */
function rebuildTensor(args: readonly unknown[], name: string): Tensor | null {
  if (args.length < 4) throw new UnpicklingError(`${name}: expected at least 4 arguments, got ${args.length}`);
  const storage = args[0];
  if (!(storage instanceof StorageRef)) throw new UnpicklingError(`${name}: expected a storage, got ${describe(storage)}`);
  const offset = intOf(args[1], `${name} storage offset`);
  const size = intsOf(args[2], `${name} size`);
  const stride = intsOf(args[3], `${name} stride`);
  if (size.length !== stride.length) throw new UnpicklingError(`${name}: size has ${size.length} dims, stride ${stride.length}`);
  let hi = offset;
  let empty = false;
  for (let i = 0; i < size.length; i++) {
    if (size[i]! < 0 || stride[i]! < 0) throw new UnpicklingError(`${name}: negative size or stride (${size} / ${stride})`);
    if (size[i] === 0) empty = true;
    hi += (size[i]! - 1) * stride[i]!;
  }
  if (offset < 0 || (!empty && hi >= storage.numel)) {
    throw new UnpicklingError(
      `${name}: a tensor of size [${size}] stride [${stride}] at offset ${offset} reaches element ${hi} of a ${storage.numel}-element ${storage.typeName} (the file is damaged)`,
    );
  }
  if (!storage.flat) return null;
  const t = new Tensor(storage.flat.storage, size, stride, storage.start + (empty ? 0 : offset));
  if (args[4] === true) t.requiresGrad_(true);
  return t;
}

function rebuildParameter(args: readonly unknown[]): unknown {
  const data = args[0];
  if (data instanceof Tensor && args[1] === true) data.requiresGrad_(true);
  return data;
}

function torchSize(args: readonly unknown[]): readonly number[] {
  return Object.freeze(intsOf(args[0] ?? [], "torch.Size"));
}

function torchGlobals(): Record<string, GlobalCall | null> {
  const g: Record<string, GlobalCall | null> = {
    "torch._utils._rebuild_tensor_v2": (a) => rebuildTensor(a, "torch._utils._rebuild_tensor_v2"),
    "torch._utils._rebuild_tensor": (a) => rebuildTensor(a, "torch._utils._rebuild_tensor"),
    "torch._utils._rebuild_parameter": rebuildParameter,
    "torch._utils._rebuild_parameter_with_state": rebuildParameter,
    "torch.nn.parameter.Parameter": null,
    "torch.Size": torchSize,
  };
  for (const s of Object.keys(TORCH_STORAGES)) g[`torch.${s}`] = null;
  // Known storages kindling has no dtype for: allowed as names so the persistent id is refused saying which.
  for (const s of ["ComplexFloat", "ComplexDouble", "QInt8", "QUInt8", "QInt32", "QUInt4x2", "QUInt2x4"]) g[`torch.${s}Storage`] = null;
  for (const d of Object.keys(TORCH_DTYPES)) g[`torch.${d}`] = null;
  return g;
}

/** What a persistent id names: the storage class, its key (the record or data-section key), the element count. */
function storageId(pid: unknown): { type: string; key: string; numel: number; view: readonly unknown[] | null } {
  if (!Array.isArray(pid) || pid.length < 5) throw new UnpicklingError(`unexpected persistent id ${describe(pid)}`);
  const tag = pid[0] instanceof Uint8Array ? new TextDecoder().decode(pid[0]) : pid[0];
  if (tag !== "storage") throw new UnpicklingError(`only storages may be persistent ids, got '${String(tag)}'`);
  const cls = pid[1];
  if (!(cls instanceof PyGlobal)) throw new UnpicklingError(`storage type: expected a class, got ${describe(cls)}`);
  const type = cls.qualname;
  if (!Object.hasOwn(TORCH_STORAGES, type)) {
    throw new UnpicklingError(
      `unsupported storage type ${cls.fullName}: kindling reads ${Object.keys(TORCH_STORAGES).join(", ")} (convert the tensor in PyTorch, e.g. t.float(), and save again)`,
    );
  }
  const key = typeof pid[2] === "string" ? pid[2] : String(intOf(pid[2], "storage key"));
  const view = pid.length > 5 && pid[5] != null ? (pid[5] as readonly unknown[]) : null;
  return { type, key, numel: intOf(pid[4], "storage size"), view };
}

function swapBytes(raw: Uint8Array, size: number): Uint8Array {
  const out = raw.slice();
  if (size === 1) return out;
  for (let i = 0; i + size <= out.length; i += size) out.subarray(i, i + size).reverse();
  return out;
}

function decodeStorage(type: string, raw: Uint8Array, bigEndian: boolean, what: string, key: string): Tensor {
  const code = TORCH_STORAGES[type]!;
  const size = elementSize(code)!;
  if (raw.length % size !== 0) {
    throw new TorchLoadError(`${what}: storage ${key} (${type}) holds ${raw.length} bytes, not a whole number of ${size}-byte elements`);
  }
  const bytes = bigEndian ? swapBytes(raw, size) : raw;
  const data = decodeElements(code, bytes, what, `storage ${key}`);
  const dtype: DType = code === "F32" || code === "F16" || code === "BF16" ? "float32"
    : code === "F64" ? "float64" : code === "I64" ? "int64" : code === "U8" ? "uint8" : code === "BOOL" ? "bool" : "int32";
  return wrap(data, [data.length], dtype);
}

/** Python values as JS ones: dicts with str keys become null-prototype objects, torch dtypes their kindling name. */
function toJs(v: unknown, seen: Map<unknown, unknown>): unknown {
  if (v === null || typeof v !== "object") return v;
  if (v instanceof Tensor || v instanceof Uint8Array || v instanceof NdArray) return v;
  if (seen.has(v)) return seen.get(v);
  if (v instanceof PyGlobal) {
    if (v.module === "torch" && Object.hasOwn(TORCH_DTYPES, v.qualname)) return TORCH_DTYPES[v.qualname];
    throw new UnpicklingError(`${v.fullName} can only appear inside a storage reference`);
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(toJs(x, seen));
    return Object.isFrozen(v) ? Object.freeze(out) : out;
  }
  if (v instanceof Map) {
    if ([...v.keys()].every((k) => typeof k === "string")) {
      const out = Object.create(null) as Record<string, unknown>;
      seen.set(v, out);
      for (const [k, x] of v) out[k as string] = toJs(x, seen);
      return out;
    }
    const out = new Map<unknown, unknown>();
    seen.set(v, out);
    for (const [k, x] of v) out.set(toJs(k, seen), toJs(x, seen));
    return out;
  }
  if (v instanceof Set) return new Set([...v].map((x) => toJs(x, seen)));
  if (v instanceof StorageRef) throw new UnpicklingError("a bare storage (not inside a tensor) is not supported");
  return v;
}

function explain(e: unknown, what: string): never {
  if (e instanceof TorchLoadError) throw e;
  if (e instanceof ZipError) throw new TorchLoadError(e.message, { cause: e });
  const msg = (e as Error).message ?? String(e);
  const m = /global '([^']+)' is not allowed/.exec(msg);
  if (m) {
    throw new TorchLoadError(
      `${what}: ${msg.replace(/: this unpickler .*$/, "")}. torch.load reads tensors, state dicts and plain containers ` +
        `(dict, list, tuple, str, numbers) and never runs code from a file; this one pickles a Python object of class ` +
        `${m[1]}. In PyTorch, save plain data instead (e.g. torch.save(model.state_dict(), path), or convert the object ` +
        `to a dict), then load that file`,
      { cause: e },
    );
  }
  throw new TorchLoadError(`${what}: ${msg}`, { cause: e });
}

const MAGIC_LEGACY = 0x1950a86a20f9469cfc6cn;

/** The zip layout: every record under one top directory. */
function loadZip(bytes: Uint8Array, what: string): unknown {
  const entries = readZip(bytes, what);
  const first = entries[0];
  if (!first) throw new TorchLoadError(`${what}: an empty zip archive, not a torch.save file`);
  const slash = first.name.indexOf("/");
  const prefix = slash >= 0 ? first.name.slice(0, slash + 1) : "";
  const byName = new Map<string, ZipEntry>(entries.map((e) => [e.name, e]));
  const record = (name: string): ZipEntry | undefined => byName.get(prefix + name);
  const pkl = record("data.pkl");
  if (!pkl) {
    throw new TorchLoadError(
      `${what}: a zip archive without ${prefix}data.pkl, so not a torch.save file (entries: ${entries.slice(0, 5).map((e) => e.name).join(", ")})`,
    );
  }
  const version = record("version") ?? byName.get(".data/version");
  if (version) {
    const v = Number(new TextDecoder().decode(version.data()).trim());
    if (!(v >= 1 && v <= 10)) throw new TorchLoadError(`${what}: unsupported torch.save format version '${new TextDecoder().decode(version.data()).trim()}'`);
  }
  const order = record("byteorder");
  const orderText = order ? new TextDecoder().decode(order.data()).trim() : "little";
  if (orderText !== "little" && orderText !== "big") throw new TorchLoadError(`${what}: unknown byteorder '${orderText}'`);
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    const id = storageId(pid);
    const cached = storages.get(id.key);
    if (cached) return cached;
    const rec = record(`data/${id.key}`);
    if (!rec) throw new TorchLoadError(`${what}: the pickle refers to storage ${id.key}, but ${prefix}data/${id.key} is missing`);
    const flat = decodeStorage(id.type, rec.data(), orderText === "big", what, id.key);
    if (flat.numel() < id.numel) {
      throw new TorchLoadError(`${what}: storage ${id.key} should hold ${id.numel} elements, its record holds ${flat.numel()}`);
    }
    const ref = new StorageRef(flat, 0, flat.numel(), id.type);
    storages.set(id.key, ref);
    return ref;
  };
  const { value } = unpickleAt(pkl.data(), 0, { source: `${prefix}data.pkl`, persistentLoad, globals: torchGlobals() });
  return value;
}

/** The pre-1.6 layout: header pickles, the object pickle, the storage keys, then the storages' bytes. */
function loadLegacy(bytes: Uint8Array, what: string): unknown {
  const opts = { source: what };
  const magic = unpickleAt(bytes, 0, opts);
  if (magic.value !== MAGIC_LEGACY) {
    throw new TorchLoadError(`${what}: a pickle, but not a torch.save file (no torch magic number); it may be a plain Python pickle, which torch.load does not read`);
  }
  const proto = unpickleAt(bytes, magic.end, opts);
  if (proto.value !== 1001) throw new TorchLoadError(`${what}: unsupported legacy torch.save protocol ${String(proto.value)}`);
  const sys = unpickleAt(bytes, proto.end, opts);
  const little = sys.value instanceof Map ? sys.value.get("little_endian") !== false : true;
  const globals = torchGlobals();
  // First pass: where the object pickle ends and which storages it names (their sizes and types).
  const declared = new Map<string, { type: string; numel: number }>();
  const scan = unpickleAt(bytes, sys.end, {
    ...opts,
    globals,
    persistentLoad: (pid) => {
      const id = storageId(pid);
      declared.set(id.key, { type: id.type, numel: id.numel });
      if (id.view) {
        const off = intOf(id.view[1], "storage view offset");
        const n = intOf(id.view[2], "storage view size");
        return new StorageRef(null, off, n, id.type);
      }
      return new StorageRef(null, 0, id.numel, id.type);
    },
  });
  const keys = unpickleAt(bytes, scan.end, opts);
  if (!Array.isArray(keys.value)) throw new TorchLoadError(`${what}: the storage key list is missing`);
  const flats = new Map<string, Tensor>();
  let p = keys.end;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const k of keys.value) {
    const key = String(k);
    const d = declared.get(key);
    if (!d) throw new TorchLoadError(`${what}: storage ${key} is listed but never used`);
    if (p + 8 > bytes.length) throw new TorchLoadError(`${what}: the file ends before storage ${key} (it is truncated)`);
    const n = Number(dv.getBigInt64(p, little));
    const size = elementSize(TORCH_STORAGES[d.type]!)!;
    p += 8;
    if (n < 0 || p + n * size > bytes.length) throw new TorchLoadError(`${what}: storage ${key} (${n} elements) runs past the end of the file (it is truncated)`);
    flats.set(key, decodeStorage(d.type, bytes.subarray(p, p + n * size), !little, what, key));
    p += n * size;
  }
  const value = unpickleAt(bytes, sys.end, {
    ...opts,
    globals,
    persistentLoad: (pid) => {
      const id = storageId(pid);
      const flat = flats.get(id.key);
      if (!flat) throw new TorchLoadError(`${what}: storage ${id.key} has no data in the file`);
      if (id.view) return new StorageRef(flat, intOf(id.view[1], "view offset"), intOf(id.view[2], "view size"), id.type);
      return new StorageRef(flat, 0, flat.numel(), id.type);
    },
  }).value;
  return value;
}

/** Decode a torch.save file's bytes. `what` names it in errors. */
export function loadTorchBytes(bytes: Uint8Array, what = "torch.load"): unknown {
  let raw: unknown;
  try {
    if (looksLikeZip(bytes)) raw = loadZip(bytes, what);
    else if (bytes[0] === 0x80) raw = loadLegacy(bytes, what);
    else if (bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] === 0x4b) raw = loadZip(bytes, what);
    else {
      const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
      throw new TorchLoadError(
        `${what}: not a torch.save file (it starts with ${head || "nothing"}; a PyTorch checkpoint starts with a zip header "PK\\x03\\x04" or a pickle 0x80). ` +
          `For safetensors files use torch.io.safetensors.loadFile`,
      );
    }
    return toJs(raw, new Map());
  } catch (e) {
    return explain(e, what);
  }
}

/**
 * torch.load(path): the object a PyTorch (or kindling) torch.save wrote, with tensors on the CPU. Dicts with string
 * keys (state dicts included) come back as null-prototype objects, other dicts as Maps, lists as arrays, tuples as
 * frozen arrays. The type parameter is the caller's claim about the contents (a state dict by default), unchecked.
 */
export function load<T = Record<string, Tensor>>(f: string | Uint8Array, o: TorchLoadOptions = {}): T {
  if (o.weightsOnly === false) {
    throw new TorchLoadError(
      "torch.load: weightsOnly: false is not supported: kindling never runs code from a file, so it only reads tensors, " +
        "state dicts and plain containers (omit the option)",
    );
  }
  if (typeof f === "string") {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(f);
    } catch (e) {
      throw new TorchLoadError(`torch.load: cannot read ${f}: ${(e as Error).message}`, { cause: e });
    }
    return loadTorchBytes(bytes, f) as T;
  }
  return loadTorchBytes(f) as T;
}
