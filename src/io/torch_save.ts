// torch.save: PyTorch's zip checkpoint layout (archive/data.pkl, archive/byteorder, archive/data/<key>,
// archive/version) with a protocol-2 pickle that uses only the opcodes and globals PyTorch's weights_only loader
// accepts (1.13's included: it knows no BINFLOAT, so a float outside a tensor needs a newer PyTorch or
// weights_only=False there). Objects referenced twice are pickled once (memo), and tensors that share a storage
// share one storage record, which holds just the span of the storage those tensors use.

import { Tensor } from "../tensor/tensor.js";
import { writeFileAtomicSync } from "./atomic.js";
import { tensorBytes } from "./safetensors.js";
import { writeZip } from "./zip.js";

export class TorchSaveError extends Error {
  override name = "TorchSaveError";
}

/** What torch.save writes: tensors, and plain containers of them, of strings, numbers, booleans and null. */
export type Savable =
  | Tensor
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | Uint8Array
  | readonly Savable[]
  | Map<string | number, Savable>
  | { readonly [key: string]: Savable };

const STORAGE_OF: Record<string, string> = {
  float32: "FloatStorage",
  float64: "DoubleStorage",
  int32: "IntStorage",
  int64: "LongStorage",
  uint8: "ByteStorage",
  bool: "BoolStorage",
};

class Pickler {
  private readonly parts: number[] = [];
  private chunks: Uint8Array[] = [];
  private readonly memo = new Map<unknown, number>();
  private readonly enc = new TextEncoder();

  constructor(private readonly storageKey: (t: Tensor) => { key: string; offset: number; numel: number }) {}

  private flush(): void {
    if (this.parts.length) {
      this.chunks.push(Uint8Array.from(this.parts));
      this.parts.length = 0;
    }
  }
  private op(...bytes: number[]): void {
    for (const b of bytes) this.parts.push(b);
  }
  private u32(v: number): void {
    this.op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  private raw(b: Uint8Array): void {
    this.flush();
    this.chunks.push(b);
  }

  private put(obj: unknown): void {
    const i = this.memo.size;
    this.memo.set(obj, i);
    if (i < 256) this.op(0x71, i); // BINPUT
    else { this.op(0x72); this.u32(i); } // LONG_BINPUT
  }
  /** Pushes a memoized object again; false when it was never stored. */
  private get(obj: unknown): boolean {
    const i = this.memo.get(obj);
    if (i === undefined) return false;
    if (i < 256) this.op(0x68, i); // BINGET
    else { this.op(0x6a); this.u32(i); } // LONG_BINGET
    return true;
  }

  private global(module: string, name: string): void {
    const id = `global:${module}.${name}`;
    if (this.get(id)) return;
    this.op(0x63); // GLOBAL
    for (const b of this.enc.encode(`${module}\n${name}\n`)) this.op(b);
    this.put(id);
  }

  private str(s: string): void {
    const b = this.enc.encode(s);
    this.op(0x58); // BINUNICODE
    this.u32(b.length);
    if (b.length > 256) this.raw(b);
    else for (const x of b) this.op(x);
  }

  private int(v: number | bigint): void {
    if (typeof v === "number" && v >= 0 && v < 256) this.op(0x4b, v); // BININT1
    else if (typeof v === "number" && v >= 0 && v < 65536) this.op(0x4d, v & 0xff, v >> 8); // BININT2
    else if (typeof v === "number" && v >= -(2 ** 31) && v < 2 ** 31) { this.op(0x4a); this.u32(v >>> 0); } // BININT
    else {
      // LONG1: little-endian two's complement, as short as it can be.
      let x = BigInt(v);
      const out: number[] = [];
      for (;;) {
        const byte = Number(x & 0xffn);
        out.push(byte);
        x >>= 8n;
        if ((x === 0n && !(byte & 0x80)) || (x === -1n && byte & 0x80)) break;
      }
      this.op(0x8a, out.length, ...out);
    }
  }

  private float(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    this.op(0x47, ...b); // BINFLOAT
  }

  private tensor(t: Tensor, path: string): void {
    if (this.get(t)) return;
    const { key, offset, numel } = this.storageKey(t);
    this.global("torch._utils", "_rebuild_tensor_v2");
    this.op(0x28); // MARK (the argument tuple)
    this.op(0x28); // MARK (the persistent id)
    this.str("storage");
    this.global("torch", STORAGE_OF[t.dtype]!);
    this.str(key);
    this.str("cpu");
    this.int(numel);
    this.op(0x74, 0x51); // TUPLE, BINPERSID
    this.int(offset);
    this.tuple(t.shape, path);
    this.tuple(t.strides, path);
    this.op(t.requiresGrad ? 0x88 : 0x89);
    this.global("collections", "OrderedDict");
    this.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE: backward hooks
    this.op(0x74, 0x52); // TUPLE, REDUCE
    this.put(t);
  }

  private tuple(items: readonly number[], path: string): void {
    this.op(0x28);
    for (const d of items) this.value(d, path);
    this.op(0x74);
  }

  private dictItems(entries: [unknown, unknown][], path: string): void {
    for (let i = 0; i < entries.length; i += 1000) {
      this.op(0x28); // MARK
      for (const [k, v] of entries.slice(i, i + 1000)) {
        this.value(k as Savable, path);
        this.value(v as Savable, `${path}[${JSON.stringify(k)}]`);
      }
      this.op(0x75); // SETITEMS
    }
  }

  value(v: Savable, path: string): void {
    if (v === null || v === undefined) return this.op(0x4e);
    if (v === true) return this.op(0x88);
    if (v === false) return this.op(0x89);
    if (typeof v === "string") return this.str(v);
    if (typeof v === "bigint") return this.int(v);
    if (typeof v === "number") return Number.isSafeInteger(v) ? this.int(v) : this.float(v);
    if (v instanceof Tensor) return this.tensor(v, path);
    if (this.get(v)) return;
    if (v instanceof Uint8Array) {
      this.op(0x42); // BINBYTES
      this.u32(v.length);
      this.raw(v.slice());
      return this.put(v);
    }
    if (Array.isArray(v)) {
      if (Object.isFrozen(v)) {
        this.op(0x28);
        for (let i = 0; i < v.length; i++) this.value(v[i] as Savable, `${path}[${i}]`);
        this.op(0x74);
        return this.put(v);
      }
      this.op(0x5d); // EMPTY_LIST
      this.put(v);
      for (let i = 0; i < v.length; i += 1000) {
        this.op(0x28);
        for (let j = i; j < Math.min(v.length, i + 1000); j++) this.value(v[j] as Savable, `${path}[${j}]`);
        this.op(0x65); // APPENDS
      }
      return;
    }
    if (v instanceof Map) {
      this.op(0x7d); // EMPTY_DICT
      this.put(v);
      return this.dictItems([...v.entries()], path);
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (typeof v === "object" && (proto === Object.prototype || proto === null)) {
      this.op(0x7d);
      this.put(v);
      return this.dictItems(Object.entries(v), path);
    }
    const kind = typeof v === "object" ? (v as object).constructor?.name ?? "object" : typeof v;
    throw new TorchSaveError(
      `torch.save: ${path || "the object"} is a ${kind}; torch.save writes tensors and plain objects, Maps, arrays, ` +
        `strings, numbers, booleans and null (for a module, save module.stateDict())`,
    );
  }

  finish(): Uint8Array[] {
    this.op(0x2e); // STOP
    this.flush();
    const out = this.chunks;
    this.chunks = [];
    return out;
  }
}

function collectTensors(v: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (v === null || typeof v !== "object" || seen.has(v)) return;
  seen.add(v);
  if (v instanceof Tensor) out.add(v);
  else if (Array.isArray(v)) for (const x of v) collectTensors(x, out, seen);
  else if (v instanceof Map) for (const x of v.values()) collectTensors(x, out, seen);
  else if (!(v instanceof Uint8Array)) for (const x of Object.values(v)) collectTensors(x, out, seen);
}

/** Lowest and one past the highest storage element a tensor reads (its offset alone when it is empty). */
function span(t: Tensor): [number, number] {
  if (t.numel() === 0) return [t.offset, t.offset];
  let hi = t.offset;
  for (let i = 0; i < t.shape.length; i++) hi += (t.shape[i]! - 1) * t.strides[i]!;
  return [t.offset, hi + 1];
}

/** The archive's files for `obj` (data.pkl, byteorder, one record per storage, version), under `dir`/. */
export function torchSaveFiles(obj: Savable, dir = "archive"): { name: string; data: Uint8Array }[] {
  const tensors = new Set<Tensor>();
  collectTensors(obj, tensors, new Set());
  // One record per storage, covering the span its saved tensors read.
  const spans = new Map<unknown, { lo: number; hi: number; key: string; sample: Tensor }>();
  for (const t of tensors) {
    if (!STORAGE_OF[t.dtype]) throw new TorchSaveError(`torch.save: tensors of dtype ${t.dtype} can't be saved`);
    if (t.strides.some((s) => s < 0)) throw new TorchSaveError("torch.save: tensors with negative strides can't be saved");
    const [lo, hi] = span(t);
    const s = spans.get(t.storage);
    if (s) {
      s.lo = Math.min(s.lo, lo);
      s.hi = Math.max(s.hi, hi);
    } else spans.set(t.storage, { lo, hi, key: String(spans.size), sample: t });
  }
  const pickler = new Pickler((t) => {
    const s = spans.get(t.storage)!;
    return { key: s.key, offset: t.offset - s.lo, numel: s.hi - s.lo };
  });
  pickler.value(obj, "");
  const pkl = pickler.finish();
  const pklBytes = new Uint8Array(pkl.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of pkl) {
    pklBytes.set(c, o);
    o += c.length;
  }
  const files: { name: string; data: Uint8Array }[] = [
    { name: `${dir}/data.pkl`, data: pklBytes },
    { name: `${dir}/byteorder`, data: new TextEncoder().encode("little") },
  ];
  for (const s of spans.values()) {
    const flat = new Tensor(s.sample.storage, [s.hi - s.lo], [1], s.lo);
    files.push({ name: `${dir}/data/${s.key}`, data: tensorBytes(flat).bytes });
  }
  files.push({ name: `${dir}/version`, data: new TextEncoder().encode("3\n") });
  return files;
}

/** The bytes of a torch.save file, as chunks in order. */
export function torchSaveChunks(obj: Savable): Uint8Array[] {
  return writeZip(torchSaveFiles(obj));
}

/**
 * torch.save(obj, path): a checkpoint PyTorch's torch.load reads (weights_only=True included). Written atomically
 * (temporary file, fsync, rename).
 */
export function save(obj: Savable, f: string): void {
  writeFileAtomicSync(f, torchSaveChunks(obj));
}
