// Reading CIFAR-10 from either official layout on disk. Every check names the file and the problem,
// so a truncated copy or a wrong directory is obvious from the message alone.

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { NdArray, pyText, unpickle } from "../../io/pickle.js";

export const CIFAR10_CLASSES = [
  "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
] as const;

export const CIFAR10_PY_DIR = "cifar-10-batches-py";
export const CIFAR10_BIN_DIR = "cifar-10-batches-bin";
const TRAIN_BATCHES = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"];
const TEST_BATCHES = ["test_batch"];
const RECORD = 3072; // 3 x 32 x 32 pixel bytes
const BIN_RECORD = RECORD + 1; // label byte + pixels

export class CifarDataError extends Error {
  override name = "CifarDataError";
}

export interface CifarArrays {
  /** N x 32 x 32 x 3 uint8, HWC like torchvision's `data` (backed by a SharedArrayBuffer). */
  data: Uint8Array;
  targets: number[];
  classes: string[];
  /** Which layout was read, and from where. */
  layout: "py" | "bin";
  dir: string;
}

export type CifarLayout = { layout: "py" | "bin"; dir: string };

/** The layout present under root (python first: it is what the official archive holds). */
export function findCifar10(root: string): CifarLayout | null {
  const candidates: CifarLayout[] = [
    { layout: "py", dir: join(root, CIFAR10_PY_DIR) },
    { layout: "bin", dir: join(root, CIFAR10_BIN_DIR) },
  ];
  // Also accept root pointing straight at a batches directory.
  if (basename(root) === CIFAR10_PY_DIR) candidates.unshift({ layout: "py", dir: root });
  if (basename(root) === CIFAR10_BIN_DIR) candidates.unshift({ layout: "bin", dir: root });
  for (const c of candidates) {
    const probe = c.layout === "py" ? "test_batch" : "test_batch.bin";
    if (existsSync(join(c.dir, probe)) || existsSync(join(c.dir, TRAIN_BATCHES[0]! + (c.layout === "bin" ? ".bin" : "")))) {
      return c;
    }
  }
  return null;
}

function fail(file: string, problem: string): never {
  throw new CifarDataError(`CIFAR-10 file ${file}: ${problem}`);
}

function readFile(file: string): Buffer {
  if (!existsSync(file)) fail(file, "is missing");
  return readFileSync(file);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const scratch = new Uint8Array(RECORD);
const scratch32 = new Uint32Array(scratch.buffer);

/** CHW rows (1024 R, 1024 G, 1024 B) → HWC pixels. */
function chwToHwc(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number, dst32: Uint32Array | null): void {
  if (dst32 && dstOffset % 4 === 0) {
    // Four pixels at a time: one 32-bit word from each plane becomes three words of RGBR GBRG BRGB.
    scratch.set(src.subarray(srcOffset, srcOffset + RECORD));
    let o = dstOffset / 4;
    for (let w = 0; w < 256; w++, o += 3) {
      const r = scratch32[w]!, g = scratch32[256 + w]!, b = scratch32[512 + w]!;
      dst32[o] = (r & 0xff) | ((g & 0xff) << 8) | ((b & 0xff) << 16) | ((r & 0xff00) << 16);
      dst32[o + 1] = ((g >>> 8) & 0xff) | ((b & 0xff00)) | ((r >>> 16 & 0xff) << 16) | ((g >>> 16 & 0xff) << 24);
      dst32[o + 2] = ((b >>> 16) & 0xff) | ((r >>> 24) << 8) | ((g >>> 24) << 16) | ((b >>> 24) << 24);
    }
    return;
  }
  for (let p = 0; p < 1024; p++) {
    const o = dstOffset + p * 3;
    dst[o] = src[srcOffset + p]!;
    dst[o + 1] = src[srcOffset + 1024 + p]!;
    dst[o + 2] = src[srcOffset + 2048 + p]!;
  }
}

function checkLabel(file: string, index: number, label: unknown): number {
  if (typeof label !== "number" || !Number.isInteger(label) || label < 0 || label > 9) {
    fail(file, `label of record ${index} is ${String(label)}, expected an integer 0..9`);
  }
  return label;
}

interface Batch {
  rows: Uint8Array; // n x 3072 CHW
  rowStride: number; // bytes from one record's pixels to the next
  rowOffset: number; // offset of the first pixel
  labels: number[];
}

function readBinBatch(file: string): Batch {
  const buf = readFile(file);
  if (buf.length === 0) fail(file, "is empty");
  if (buf.length % BIN_RECORD !== 0) {
    fail(file, `size ${buf.length} bytes is not a whole number of ${BIN_RECORD}-byte records (truncated or not a CIFAR-10 binary batch)`);
  }
  const n = buf.length / BIN_RECORD;
  const labels = new Array<number>(n);
  for (let i = 0; i < n; i++) labels[i] = checkLabel(file, i, buf[i * BIN_RECORD]);
  return { rows: buf, rowStride: BIN_RECORD, rowOffset: 1, labels };
}

function mapGet(m: Map<unknown, unknown>, key: string): unknown {
  return m.get(key);
}

function readPyBatch(file: string): Batch {
  const buf = readFile(file);
  let obj: unknown;
  try {
    obj = unpickle(buf, { source: file });
  } catch (e) {
    fail(file, `cannot be unpickled: ${(e as Error).message}`);
  }
  if (!(obj instanceof Map)) fail(file, "does not hold a dict");
  const data = mapGet(obj, "data");
  const labels = mapGet(obj, "labels");
  if (!(data instanceof NdArray)) fail(file, "has no 'data' array");
  if (data.dtype.code !== "u1" || data.shape.length !== 2 || data.shape[1] !== RECORD || data.order !== "C") {
    fail(file, `'data' is ${data.dtype} with shape [${data.shape.join(", ")}], expected uint8 [N, ${RECORD}]`);
  }
  const n = data.shape[0]!;
  if (n === 0) fail(file, "holds no records");
  if (!Array.isArray(labels)) fail(file, "has no 'labels' list");
  if (labels.length !== n) fail(file, `has ${labels.length} labels for ${n} images`);
  return {
    rows: data.data as Uint8Array,
    rowStride: RECORD,
    rowOffset: 0,
    labels: labels.map((l, i) => checkLabel(file, i, l)),
  };
}

function readClasses(layout: CifarLayout): string[] {
  let names: string[];
  if (layout.layout === "py") {
    const file = join(layout.dir, "batches.meta");
    let meta: unknown;
    try {
      meta = unpickle(readFile(file), { source: file });
    } catch (e) {
      if (e instanceof CifarDataError) throw e;
      fail(file, `cannot be unpickled: ${(e as Error).message}`);
    }
    const list = meta instanceof Map ? meta.get("label_names") : undefined;
    if (!Array.isArray(list)) fail(file, "has no 'label_names' list");
    names = list.map((v, i) => pyText(v, `label_names[${i}]`));
  } else {
    const file = join(layout.dir, "batches.meta.txt");
    // Some copies of the binary layout come without the names; the official ones are the default.
    if (!existsSync(file)) return [...CIFAR10_CLASSES];
    names = readFileSync(file, "latin1").split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  }
  if (names.length !== 10) fail(join(layout.dir, layout.layout === "py" ? "batches.meta" : "batches.meta.txt"), `lists ${names.length} class names, expected 10`);
  return names;
}

/** Read the train (5 batches) or test split from the layout found under `root`. */
export function readCifar10(root: string, train: boolean, layout = findCifar10(root)): CifarArrays {
  if (layout === null) {
    throw new CifarDataError(`CIFAR-10 not found under ${root}: expected ${CIFAR10_PY_DIR}/ or ${CIFAR10_BIN_DIR}/`);
  }
  const names = train ? TRAIN_BATCHES : TEST_BATCHES;
  const batches = names.map((name) => {
    const file = join(layout.dir, layout.layout === "bin" ? `${name}.bin` : name);
    return layout.layout === "bin" ? readBinBatch(file) : readPyBatch(file);
  });
  const total = batches.reduce((a, b) => a + b.labels.length, 0);
  // Shared memory, so DataLoader worker threads can read the images without a copy each.
  const data = new Uint8Array(new SharedArrayBuffer(total * RECORD));
  const data32 = LITTLE_ENDIAN ? new Uint32Array(data.buffer) : null;
  const targets: number[] = [];
  let k = 0;
  for (const b of batches) {
    for (let i = 0; i < b.labels.length; i++, k++) {
      chwToHwc(b.rows, b.rowOffset + i * b.rowStride, data, k * RECORD, data32);
      targets.push(b.labels[i]!);
    }
  }
  return { data, targets, classes: readClasses(layout), layout: layout.layout, dir: layout.dir };
}

/** Quick completeness check without decoding: all six batch files exist and have plausible sizes. */
export function checkCifar10Files(layout: CifarLayout): void {
  for (const name of [...TRAIN_BATCHES, ...TEST_BATCHES]) {
    const file = join(layout.dir, layout.layout === "bin" ? `${name}.bin` : name);
    if (!existsSync(file)) fail(file, "is missing");
    const size = statSync(file).size;
    if (layout.layout === "bin" && (size === 0 || size % BIN_RECORD !== 0)) {
      fail(file, `size ${size} bytes is not a whole number of ${BIN_RECORD}-byte records`);
    }
    if (layout.layout === "py" && size < RECORD) fail(file, `size ${size} bytes is too small for a batch`);
  }
}
