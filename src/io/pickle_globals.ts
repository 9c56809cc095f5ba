// The allow-list of Python globals a safe unpickle may name. Each entry is a pure JS
// re-implementation that builds data; nothing from the pickle is ever executed, and any
// global not listed here is refused by name. Add entries only for constructors of plain data.

import { NdArray, NdDtype, typedArrayFromBytes } from "./ndarray.js";

export class UnpicklingError extends Error {
  override name = "UnpicklingError";
}

/** A global the pickle named (GLOBAL / STACK_GLOBAL); only ever an allow-listed one. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly qualname: string,
    readonly call: ((args: readonly unknown[]) => unknown) | null,
  ) {}
  get fullName(): string {
    return `${this.module}.${this.qualname}`;
  }
}

/** Text of a Python str: JS strings as they are, Python 2 str / bytes decoded as latin-1. */
export function pyText(v: unknown, what: string): string {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return latin1Decode(v);
  throw new UnpicklingError(`${what}: expected a string, got ${describe(v)}`);
}

export function latin1Decode(b: Uint8Array): string {
  let s = "";
  // Chunked so that long byte strings do not overflow the argument limit of fromCharCode.
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 8192)));
  }
  return s;
}

export function latin1Encode(s: string, what: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new UnpicklingError(`${what}: character U+${c.toString(16)} is not latin-1`);
    out[i] = c;
  }
  return out;
}

export function describe(v: unknown): string {
  if (v === null) return "None";
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (Array.isArray(v)) return Object.isFrozen(v) ? `tuple(${v.length})` : `list(${v.length})`;
  if (v instanceof Map) return "dict";
  if (v instanceof PyGlobal) return `global ${v.fullName}`;
  if (v instanceof NdArray) return "numpy.ndarray";
  if (v instanceof NdDtype) return "numpy.dtype";
  return typeof v;
}

function argc(name: string, args: readonly unknown[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw new UnpicklingError(`${name}: expected ${min === max ? min : `${min}..${max}`} arguments, got ${args.length}`);
  }
}

function bytesArg(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new UnpicklingError(`${what}: expected bytes, got ${describe(v)}`);
}

function intArg(v: unknown, what: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new UnpicklingError(`${what}: expected an int, got ${describe(v)}`);
}

function shapeArg(v: unknown, what: string): number[] {
  if (typeof v === "number") v = [v];
  if (!Array.isArray(v)) throw new UnpicklingError(`${what}: expected a shape tuple, got ${describe(v)}`);
  return v.map((d, i) => {
    const n = intArg(d, `${what}[${i}]`);
    if (n < 0) throw new UnpicklingError(`${what}: negative dimension ${n}`);
    return n;
  });
}

/** Element count of `shape`, refusing anything larger than `limit` before it can overflow. */
function checkedCount(shape: number[], limit: number, what: string): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > limit) throw new UnpicklingError(`${what}: shape [${shape.join(", ")}] needs more data than the pickle holds`);
  }
  return n;
}

function dtypeArg(v: unknown, what: string): NdDtype {
  if (v instanceof NdDtype) return v;
  throw new UnpicklingError(`${what}: expected a numpy dtype, got ${describe(v)}`);
}

function makeArray(raw: unknown, dtype: NdDtype, shape: number[], fortran: boolean, what: string): NdArray {
  if (Array.isArray(raw)) {
    throw new UnpicklingError(`${what}: object arrays (dtype=object) are not supported`);
  }
  let bytes: Uint8Array;
  if (typeof raw === "string") bytes = latin1Encode(raw, what);
  else bytes = bytesArg(raw, what);
  const count = checkedCount(shape, bytes.byteLength, what);
  if (count * dtype.itemsize !== bytes.byteLength) {
    throw new UnpicklingError(
      `${what}: shape [${shape.join(", ")}] of ${dtype} needs ${count * dtype.itemsize} bytes, the pickle holds ${bytes.byteLength}`,
    );
  }
  return new NdArray(dtype, shape, typedArrayFromBytes(bytes, dtype, count), fortran ? "F" : "C");
}

const ndarrayClass = new PyGlobal("numpy", "ndarray", null);

// numpy.core.multiarray._reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills in.
function reconstruct(args: readonly unknown[]): NdArray {
  argc("numpy _reconstruct", args, 3, 3);
  const cls = args[0];
  if (!(cls instanceof PyGlobal) || cls.module !== "numpy" || cls.qualname !== "ndarray") {
    throw new UnpicklingError(`numpy _reconstruct: only numpy.ndarray can be reconstructed, got ${describe(cls)}`);
  }
  return new NdArray(new NdDtype("u1"), [0], new Uint8Array(0));
}

/** BUILD on an array: state is (version, shape, dtype, is_fortran, rawdata) or the 4-tuple without version. */
export function setArrayState(arr: NdArray, state: unknown): void {
  const what = "numpy.ndarray state";
  if (!Array.isArray(state)) throw new UnpicklingError(`${what}: expected a tuple, got ${describe(state)}`);
  const s = state.length === 5 ? state.slice(1) : state;
  if (s.length !== 4) throw new UnpicklingError(`${what}: expected 4 or 5 items, got ${state.length}`);
  const shape = shapeArg(s[0], `${what} shape`);
  const dtype = dtypeArg(s[1], `${what} dtype`);
  const fortran = s[2] === true || s[2] === 1;
  const built = makeArray(s[3], dtype, shape, fortran, what);
  arr.dtype = built.dtype;
  arr.shape = built.shape;
  arr.data = built.data;
  arr.order = built.order;
}

/** BUILD on a dtype: (version, byteorder, subarray, names, fields, elsize, alignment, flags). */
export function setDtypeState(dt: NdDtype, state: unknown): void {
  const what = "numpy.dtype state";
  if (!Array.isArray(state) || state.length < 2) {
    throw new UnpicklingError(`${what}: expected a tuple, got ${describe(state)}`);
  }
  const order = pyText(state[1], `${what} byteorder`);
  if (order !== "<" && order !== ">" && order !== "|" && order !== "=") {
    throw new UnpicklingError(`${what}: unknown byte order '${order}'`);
  }
  // Structured or sub-array dtypes carry names/fields/subarray; only plain numeric types are data we can map.
  if (state.length >= 5 && (state[2] != null || state[3] != null || state[4] != null)) {
    throw new UnpicklingError(`${what}: structured and sub-array dtypes are not supported`);
  }
  if (dt.itemsize > 1) dt.byteorder = order === "=" ? "<" : order === "|" ? "<" : order;
}

function dtypeCall(args: readonly unknown[]): NdDtype {
  argc("numpy.dtype", args, 1, 3);
  const spec = pyText(args[0], "numpy.dtype");
  try {
    return new NdDtype(spec);
  } catch (e) {
    throw new UnpicklingError((e as Error).message);
  }
}

// numpy.core.numeric._frombuffer(buf, dtype, shape, order): how protocol 5 pickles contiguous arrays.
function frombuffer(args: readonly unknown[]): NdArray {
  argc("numpy _frombuffer", args, 4, 4);
  const dtype = dtypeArg(args[1], "numpy _frombuffer dtype");
  const shape = shapeArg(args[2], "numpy _frombuffer shape");
  const order = pyText(args[3], "numpy _frombuffer order");
  return makeArray(bytesArg(args[0], "numpy _frombuffer buffer"), dtype, shape, order === "F", "numpy _frombuffer");
}

// numpy.core.multiarray.scalar(dtype, bytes): a numpy scalar such as np.int64(3).
function scalar(args: readonly unknown[]): number | bigint | boolean {
  argc("numpy scalar", args, 2, 2);
  const dtype = dtypeArg(args[0], "numpy scalar dtype");
  const raw = args[1];
  const arr = makeArray(raw, dtype, [1], false, "numpy scalar");
  const v = arr.data[0]!;
  if (dtype.code === "b1") return v !== 0;
  if (typeof v === "bigint" && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(v);
  }
  return v;
}

// Python 3 pickles bytes for protocol < 3 as _codecs.encode(latin1_text, 'latin1').
function codecsEncode(args: readonly unknown[]): Uint8Array {
  argc("_codecs.encode", args, 1, 2);
  const text = args[0];
  if (typeof text !== "string") throw new UnpicklingError(`_codecs.encode: expected a str, got ${describe(text)}`);
  const enc = args.length > 1 ? pyText(args[1], "_codecs.encode encoding").toLowerCase().replace(/[-_]/g, "") : "utf8";
  if (enc === "latin1" || enc === "iso88591" || enc === "l1") return latin1Encode(text, "_codecs.encode");
  if (enc === "utf8") return new TextEncoder().encode(text);
  throw new UnpicklingError(`_codecs.encode: encoding '${enc}' is not supported`);
}

function bytesCall(name: string) {
  return (args: readonly unknown[]): Uint8Array => {
    argc(name, args, 0, 2);
    if (args.length === 0) return new Uint8Array(0);
    if (typeof args[0] === "string") return codecsEncode(args);
    return bytesArg(args[0], name).slice();
  };
}

function orderedDict(args: readonly unknown[]): Map<unknown, unknown> {
  argc("collections.OrderedDict", args, 0, 1);
  const m = new Map<unknown, unknown>();
  if (args.length === 1) {
    const items = args[0];
    if (!Array.isArray(items)) throw new UnpicklingError(`collections.OrderedDict: expected a list of pairs`);
    for (const kv of items) {
      if (!Array.isArray(kv) || kv.length !== 2) throw new UnpicklingError(`collections.OrderedDict: expected (key, value) pairs`);
      m.set(kv[0], kv[1]);
    }
  }
  return m;
}

function setCall(args: readonly unknown[]): Set<unknown> {
  argc("set", args, 0, 1);
  if (args.length === 0) return new Set();
  if (!Array.isArray(args[0])) throw new UnpicklingError(`set: expected a list, got ${describe(args[0])}`);
  return new Set(args[0]);
}

const TABLE: Record<string, ((args: readonly unknown[]) => unknown) | null> = {
  // numpy moved its internals from numpy.core to numpy._core in 2.0; pickles name either.
  "numpy.core.multiarray._reconstruct": reconstruct,
  "numpy._core.multiarray._reconstruct": reconstruct,
  "numpy.core.multiarray.scalar": scalar,
  "numpy._core.multiarray.scalar": scalar,
  "numpy.core.numeric._frombuffer": frombuffer,
  "numpy._core.numeric._frombuffer": frombuffer,
  "numpy.dtype": dtypeCall,
  "numpy.ndarray": null, // only as the class argument of _reconstruct
  "_codecs.encode": codecsEncode,
  "builtins.bytes": bytesCall("bytes"),
  "__builtin__.bytes": bytesCall("bytes"),
  "builtins.bytearray": bytesCall("bytearray"),
  "__builtin__.bytearray": bytesCall("bytearray"),
  "collections.OrderedDict": orderedDict,
  // Protocol 2 pickles sets as set([items]).
  "builtins.set": setCall,
  "__builtin__.set": setCall,
  "builtins.frozenset": setCall,
  "__builtin__.frozenset": setCall,
};

export const ALLOWED_GLOBALS: readonly string[] = Object.keys(TABLE);

export function resolveGlobal(module: string, qualname: string): PyGlobal {
  const full = `${module}.${qualname}`;
  if (!Object.hasOwn(TABLE, full)) {
    throw new UnpicklingError(
      `global '${full}' is not allowed: this unpickler only rebuilds plain data (numpy arrays, dtypes, bytes) and never runs code from a pickle`,
    );
  }
  if (full === "numpy.ndarray") return ndarrayClass;
  return new PyGlobal(module, qualname, TABLE[full]!);
}
