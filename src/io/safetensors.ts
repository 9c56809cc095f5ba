// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N
// bytes of JSON header (padded with spaces to a multiple of 8), then the raw little-endian tensor bytes. Each header
// entry is {dtype, shape, data_offsets: [begin, end]} relative to the start of the data; "__metadata__" holds a
// string→string map. kindling's int64 tensors live in Float64Array and are converted to/from real I64 here.

import * as fs from "node:fs";
import { arrayCtor, type DType, type TypedArray } from "../core/dtype.js";
import { brief } from "../core/key_list.js";
import { wrap } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import { writeFileAtomicSync } from "./atomic.js";
import { JsonSyntaxError, RawJson, jsonObjectMembers } from "./json_members.js";

export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

export type Metadata = Record<string, string>;

export interface Loaded {
  tensors: Record<string, Tensor>;
  metadata: Metadata;
}

/** Header dtype code ↔ kindling dtype for what we write. */
const TO_CODE: Record<DType, string> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
  int64: "I64",
  uint8: "U8",
  bool: "BOOL",
};

/** What we read: every code we write, plus a few common PyTorch ones widened to a kindling dtype. */
const FROM_CODE: Record<string, { dtype: DType; size: number }> = {
  F32: { dtype: "float32", size: 4 },
  F64: { dtype: "float64", size: 8 },
  I32: { dtype: "int32", size: 4 },
  I64: { dtype: "int64", size: 8 },
  U8: { dtype: "uint8", size: 1 },
  BOOL: { dtype: "bool", size: 1 },
  F16: { dtype: "float32", size: 2 },
  BF16: { dtype: "float32", size: 2 },
  I16: { dtype: "int32", size: 2 },
  I8: { dtype: "int32", size: 1 },
};

const ALIGN_ORDER: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, U8: 1, BOOL: 1 };

/** The reference implementation refuses headers over 100 MB. */
export const MAX_HEADER_SIZE = 100_000_000;

/**
 * Tensors one file may declare unless the caller allows more (ReadOptions.maxTensors). Real checkpoints hold
 * hundreds to some thousands per file; a header of a million tiny entries still fits under MAX_HEADER_SIZE, and
 * each tensor costs about a kilobyte of memory once loaded.
 */
export const MAX_TENSORS = 200_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function tensorBytes(t: Tensor): { code: string; shape: number[]; bytes: Uint8Array } {
  const cpu = t.device === "cpu" ? t : t.cpu();
  const code = TO_CODE[cpu.dtype];
  const arr = cpu.dataSync();
  let bytes: Uint8Array;
  if (cpu.dtype === "int64") {
    const out = new BigInt64Array(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      out[i] = BigInt(Number.isFinite(v) ? Math.trunc(v) : 0);
    }
    bytes = new Uint8Array(out.buffer);
  } else if (cpu.dtype === "bool") {
    bytes = new Uint8Array(arr.length);
    for (let i = 0; i < arr.length; i++) bytes[i] = arr[i] ? 1 : 0;
  } else {
    bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  }
  if (!LITTLE_ENDIAN && arr.BYTES_PER_ELEMENT > 1) throw new SafetensorsError("big-endian hosts are not supported");
  return { code, shape: cpu.shape.slice(), bytes };
}

/** The serialized pieces (header then each tensor's bytes) without concatenating them. */
export function serializeChunks(tensors: Record<string, Tensor>, metadata?: Metadata): Uint8Array[] {
  return fileChunks(encodeTensors(tensors), metadata);
}

/** One tensor's bytes as the file stores them, under its name. */
export interface EncodedTensor {
  name: string;
  code: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Every tensor's bytes, in the order the file stores them (their concatenation is the data section). */
export function encodeTensors(tensors: Record<string, Tensor>): EncodedTensor[] {
  const entries = Object.entries(tensors).map(([name, t]) => {
    if (name === "__metadata__") throw new SafetensorsError(`a tensor may not be named "__metadata__"`);
    return { name, ...tensorBytes(t) };
  });
  // Like the reference: larger alignments first, then by name, so every tensor's data is naturally aligned.
  entries.sort((a, b) => (ALIGN_ORDER[b.code]! - ALIGN_ORDER[a.code]!) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries;
}

/** The file as chunks: [header length, header, ...data], from tensors encodeTensors gave. */
export function fileChunks(entries: readonly EncodedTensor[], metadata?: Metadata): Uint8Array[] {
  // A null prototype: a tensor named "__proto__" is written like any other.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new SafetensorsError(`metadata value for ${brief(k)} must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.code, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  return [head, new Uint8Array(json.buffer, json.byteOffset, json.length), ...entries.map((e) => e.bytes)];
}

/** safetensors.torch.save: the file's bytes. */
export function save(tensors: Record<string, Tensor>, metadata?: Metadata): Uint8Array {
  const chunks = serializeChunks(tensors, metadata);
  return Buffer.concat(chunks);
}

/** safetensors.torch.save_file, written atomically (temporary file, fsync, rename). */
export function saveFile(tensors: Record<string, Tensor>, path: string, metadata?: Metadata): void {
  writeFileAtomicSync(path, serializeChunks(tensors, metadata));
}

interface Entry {
  name: string;
  code: string;
  shape: number[];
  begin: number;
  end: number;
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function decodeData(e: Entry, raw: Uint8Array, what: string): TypedArray {
  const spec = FROM_CODE[e.code]!;
  // Copy into a fresh, aligned buffer (the file buffer may be shared and arbitrarily offset).
  // (Buffer#slice would alias, so copy explicitly.)
  const bytes = new Uint8Array(e.end - e.begin);
  bytes.set(raw.subarray(e.begin, e.end));
  const n = bytes.length / spec.size;
  const dv = new DataView(bytes.buffer);
  switch (e.code) {
    case "F32":
      return new Float32Array(bytes.buffer);
    case "F64":
      return new Float64Array(bytes.buffer);
    case "I32":
      return new Int32Array(bytes.buffer);
    case "U8":
      return bytes;
    case "BOOL": {
      for (let i = 0; i < n; i++) if (bytes[i]! > 1) bytes[i] = 1;
      return bytes;
    }
    case "I64": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getBigInt64(i * 8, true);
        if (v > 9007199254740991n || v < -9007199254740991n) {
          throw new SafetensorsError(`${what}: tensor ${brief(e.name)} holds the int64 value ${v}, beyond kindling's exact int64 range (±2^53)`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case "F16": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = half(dv.getUint16(i * 2, true));
      return out;
    }
    case "BF16": {
      const out = new Float32Array(n);
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, dv.getUint16(i * 2, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
      }
      return out;
    }
    case "I16": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
      return out;
    }
    case "I8": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      return out;
    }
  }
  throw new SafetensorsError(`${what}: unsupported dtype ${e.code}`);
}

/**
 * Little-endian element bytes of one of the codes FROM_CODE lists (F16/BF16/I16/I8 widened) as kindling's typed
 * array, copied into fresh memory; torch.load decodes storages with it.
 */
export function decodeElements(code: string, raw: Uint8Array, what: string, name: string): TypedArray {
  return decodeData({ name, code, shape: [], begin: 0, end: raw.length }, raw, what);
}

/** Bytes per element of a code decodeElements reads, or undefined for an unknown code. */
export function elementSize(code: string): number | undefined {
  return FROM_CODE[code]?.size;
}

export interface ReadOptions {
  /** Refuse files that declare more tensors than this (default MAX_TENSORS). */
  maxTensors?: number;
}

/** Parses and validates the header; `what` names the source in errors. Linear in the header's size. */
export function readHeader(bytes: Uint8Array, what = "safetensors data", o: ReadOptions = {}): { entries: Entry[]; metadata: Metadata; dataStart: number } {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${what}: ${msg}`);
  };
  const maxTensors = o.maxTensors ?? MAX_TENSORS;
  if (bytes.length < 8) fail(`file is truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) fail(`header length ${n64} exceeds the ${MAX_HEADER_SIZE}-byte limit (corrupt file?)`);
  const n = Number(n64);
  if (n < 2) fail(`header length ${n} is too small for a JSON object`);
  if (8 + n > bytes.length) fail(`file is truncated: header says ${n} bytes of JSON but only ${bytes.length - 8} bytes follow`);
  const text = bytes.subarray(8, 8 + n);
  if (text[0] !== 0x7b) fail(`header does not start with '{' (not a safetensors file?)`);
  const dataLen = bytes.length - 8 - n;
  // Null prototypes: a key such as "__proto__" is a name like any other.
  const metadata: Metadata = Object.create(null) as Metadata;
  const entries: Entry[] = [];
  const seen = new Set<string>();
  try {
    for (const [name, v] of jsonObjectMembers(text, METADATA_KEY)) {
      if (seen.has(name)) fail(`the header names ${brief(name)} twice`);
      seen.add(name);
      if (v instanceof RawJson) {
        readMetadataObject(v, metadata, maxTensors, fail);
        continue;
      }
      if (entries.length >= maxTensors) {
        fail(`the header lists more than ${maxTensors} tensors, kindling's limit for one file (corrupt or hostile file?); ` +
          "if it is genuine, load it with a higher maxTensors option");
      }
      entries.push(checkEntry(name, v, dataLen, fail));
    }
  } catch (e) {
    if (e instanceof JsonSyntaxError) fail(`header is not valid JSON (${e.message})`);
    throw e;
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin < pos) fail(`tensor ${brief(e.name)} overlaps the previous tensor's data (begins at ${e.begin}, previous ends at ${pos})`);
    if (e.begin > pos) fail(`the data has an unused gap of ${e.begin - pos} bytes before tensor ${brief(e.name)}`);
    pos = e.end;
  }
  if (pos !== dataLen) fail(`the data section has ${dataLen - pos} trailing bytes not covered by any tensor (corrupt file?)`);
  return { entries, metadata, dataStart: 8 + n };
}

const METADATA_KEY: ReadonlySet<string> = new Set(["__metadata__"]);

/** "__metadata__", walked member by member like the header (it can be as large), into `out`. */
function readMetadataObject(raw: RawJson, out: Metadata, maxEntries: number, fail: (msg: string) => never): void {
  if (raw.text[0] !== 0x7b) fail(`"__metadata__" must be an object of strings`);
  let n = 0;
  for (const [k, s] of jsonObjectMembers(raw.text, undefined, raw.offset)) {
    if (typeof s !== "string") fail(`"__metadata__".${brief(k)} must be a string, got ${brief(s)}`);
    if (Object.hasOwn(out, k)) fail(`"__metadata__" names ${brief(k)} twice`);
    if (++n > maxEntries) fail(`"__metadata__" has more than ${maxEntries} entries, kindling's limit (corrupt or hostile file?)`);
    out[k] = s as string;
  }
}

/** One tensor's header entry, checked against itself and the data section's length. */
function checkEntry(name: string, v: unknown, dataLen: number, fail: (msg: string) => never): Entry {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(`entry ${brief(name)} is not an object`);
  const o = v as Record<string, unknown>;
  const code = o.dtype;
  if (typeof code !== "string" || !Object.hasOwn(FROM_CODE, code)) {
    fail(`tensor ${brief(name)} has unsupported dtype ${brief(code)} (supported: ${Object.keys(FROM_CODE).join(", ")})`);
  }
  const shape = o.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor ${brief(name)} has an invalid shape ${brief(shape)}`);
  }
  const offs = o.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor ${brief(name)} has invalid data_offsets ${brief(offs)}`);
  }
  const [begin, end] = offs as number[];
  if (begin! > end!) fail(`tensor ${brief(name)} has data_offsets [${begin}, ${end}] with begin after end`);
  if (end! > dataLen) {
    fail(`file is truncated: tensor ${brief(name)} needs bytes [${begin}, ${end}) of the data but only ${dataLen} bytes are present`);
  }
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  const want = numel * FROM_CODE[code as string]!.size;
  if (end! - begin! !== want) {
    fail(`tensor ${brief(name)} (${code} ${brief(shape)}) should take ${want} bytes but data_offsets give ${end! - begin!}`);
  }
  return { name, code: code as string, shape: shape as number[], begin: begin!, end: end! };
}

/**
 * safetensors.torch.load: tensors (in header order) and metadata from the file's bytes, both in null-prototype
 * objects (any name is a plain key, "__proto__" included).
 */
export function load(bytes: Uint8Array, what = "safetensors data", o: ReadOptions = {}): Loaded {
  const { entries, metadata, dataStart } = readHeader(bytes, what, o);
  const raw = bytes.subarray(dataStart);
  const tensors: Record<string, Tensor> = Object.create(null) as Record<string, Tensor>;
  for (const e of entries) {
    const dtype = FROM_CODE[e.code]!.dtype;
    const data = decodeData(e, raw, what);
    if (!(data instanceof arrayCtor(dtype))) throw new SafetensorsError(`${what}: internal dtype mismatch for ${brief(e.name)}`);
    tensors[e.name] = wrap(data, e.shape, dtype);
  }
  return { tensors, metadata };
}

/** safetensors.torch.load_file: tensors and metadata; any problem is a SafetensorsError naming the file. */
export function loadFile(path: string, o: ReadOptions = {}): Loaded {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot read (${(e as Error).message})`);
  }
  return load(bytes, path, o);
}

/** Only the metadata (reads the header alone). */
export function readMetadata(path: string): Metadata {
  return readHeader(fs.readFileSync(path), path).metadata;
}
