// Reading CIFAR-10 from either official layout on disk. Every check names the file and the problem,
// so a truncated copy or a wrong directory is obvious from the message alone.

import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
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
  /** N x 32 x 32 x 3 uint8, HWC like torchvision's `data` (a view of a SharedArrayBuffer, from offset 0; the buffer may be a little longer). */
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

/** Open a batch file for reading, with "is missing" naming it. */
function openBatch(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") fail(file, "is missing");
    fail(file, `cannot be opened: ${(e as Error).message}`);
  }
  return { fd, size: fstatSync(fd).size };
}

/** Read exactly `length` bytes at `position` into dst[0..length), or fail naming the file. */
function readExactly(fd: number, file: string, dst: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, dst, done, length - done, position + done);
    if (n === 0) fail(file, `ended after ${position + done} bytes while reading (changed or truncated while being read)`);
    done += n;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * `count` records of CHW rows (1024 R, 1024 G, 1024 B each) → HWC pixels. Records start every
 * `srcStride` bytes from `srcOffset`; the destination is dense, from record `dstRecord` on.
 * Little-endian hosts write four pixels (three 32-bit words RGBR GBRG BRGB) at a time.
 */
function chwToHwc(src: Uint8Array, srcOffset: number, srcStride: number, count: number, dst: Uint8Array, dst32: Uint32Array | null, dstRecord: number): void {
  if (dst32) {
    for (let i = 0; i < count; i++) {
      let s = srcOffset + i * srcStride;
      let o = (dstRecord + i) * (RECORD / 4);
      for (const end = s + 1024; s < end; s += 4, o += 3) {
        const r0 = src[s]!, r1 = src[s + 1]!, r2 = src[s + 2]!, r3 = src[s + 3]!;
        const g0 = src[s + 1024]!, g1 = src[s + 1025]!, g2 = src[s + 1026]!, g3 = src[s + 1027]!;
        const b0 = src[s + 2048]!, b1 = src[s + 2049]!, b2 = src[s + 2050]!, b3 = src[s + 2051]!;
        dst32[o] = r0 | (g0 << 8) | (b0 << 16) | (r1 << 24);
        dst32[o + 1] = g1 | (b1 << 8) | (r2 << 16) | (g2 << 24);
        dst32[o + 2] = b2 | (r3 << 8) | (g3 << 16) | (b3 << 24);
      }
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    const s = srcOffset + i * srcStride;
    const d = (dstRecord + i) * RECORD;
    for (let p = 0; p < 1024; p++) {
      const o = d + p * 3;
      dst[o] = src[s + p]!;
      dst[o + 1] = src[s + 1024 + p]!;
      dst[o + 2] = src[s + 2048 + p]!;
    }
  }
}

function checkLabel(file: string, index: number, label: unknown): number {
  if (typeof label !== "number" || !Number.isInteger(label) || label < 0 || label > 9) {
    fail(file, `label of record ${index} is ${String(label)}, expected an integer 0..9`);
  }
  return label;
}

/** The output arrays: N x 3072 HWC bytes in shared memory, so DataLoader worker threads read them without a copy each. */
interface Out {
  data: Uint8Array;
  data32: Uint32Array | null;
  targets: number[];
  /** Records written so far. */
  n: number;
}

function allocOut(records: number): Out {
  const data = new Uint8Array(new SharedArrayBuffer(records * RECORD));
  return { data, data32: LITTLE_ENDIAN ? new Uint32Array(data.buffer, 0, records * (RECORD / 4)) : null, targets: [], n: 0 };
}

// Records converted per read: big enough that a read costs little per record, small enough to stay in cache.
const BIN_CHUNK_RECORDS = 512;

/** Binary layout: sizes checked for every file first, then each file streamed through one small reused buffer. */
function readBinSplit(files: string[], perFile: PerFile): Out {
  const opened: Array<{ file: string; fd: number; n: number }> = [];
  try {
    for (const file of files) {
      const { fd, size } = openBatch(file);
      opened.push({ file, fd, n: 0 });
      if (size === 0) fail(file, "is empty");
      if (size % BIN_RECORD !== 0) {
        fail(file, `size ${size} bytes is not a whole number of ${BIN_RECORD}-byte records (truncated or not a CIFAR-10 binary batch)`);
      }
      opened[opened.length - 1]!.n = checkCount(file, size / BIN_RECORD, perFile);
    }
    const out = allocOut(opened.reduce((a, f) => a + f.n, 0));
    const chunk = new Uint8Array(Math.min(BIN_CHUNK_RECORDS, Math.max(...opened.map((f) => f.n))) * BIN_RECORD);
    for (const { file, fd, n } of opened) {
      for (let first = 0; first < n; first += BIN_CHUNK_RECORDS) {
        const count = Math.min(BIN_CHUNK_RECORDS, n - first);
        readExactly(fd, file, chunk, count * BIN_RECORD, first * BIN_RECORD);
        for (let i = 0; i < count; i++) out.targets.push(checkLabel(file, first + i, chunk[i * BIN_RECORD]));
        chwToHwc(chunk, 1, BIN_RECORD, count, out.data, out.data32, out.n);
        out.n += count;
      }
    }
    return out;
  } finally {
    for (const { fd } of opened) closeSync(fd);
  }
}

function mapGet(m: Map<unknown, unknown>, key: string): unknown {
  return m.get(key);
}

/**
 * Python layout: each pickle is read into one reused buffer (its 'data' array is a view of that
 * buffer) and converted before the next is read, so no file stays in memory. The output is sized
 * from the file sizes (an upper bound on the records) and returned as an exact-length view.
 */
function readPySplit(files: string[], perFile: PerFile): Out {
  const sizes = files.map((file) => {
    if (!existsSync(file)) fail(file, "is missing");
    return statSync(file).size;
  });
  const out = allocOut(sizes.reduce((a, s) => a + Math.floor(s / RECORD), 0));
  let buf = new Uint8Array(0);
  for (let f = 0; f < files.length; f++) {
    const file = files[f]!;
    const { fd, size } = openBatch(file);
    try {
      if (size !== sizes[f]) fail(file, `changed size while being read (${sizes[f]} then ${size} bytes)`);
      if (buf.length < size) buf = new Uint8Array(size);
      readExactly(fd, file, buf, size, 0);
    } finally {
      closeSync(fd);
    }
    let obj: unknown;
    try {
      obj = unpickle(buf.subarray(0, size), { source: file });
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
    checkCount(file, n, perFile);
    if (!Array.isArray(labels)) fail(file, "has no 'labels' list");
    if (labels.length !== n) fail(file, `has ${labels.length} labels for ${n} images`);
    // Cannot happen for a consistent pickle (the pixels are part of the file), but the output must not overflow.
    if ((out.n + n) * RECORD > out.data.length) fail(file, `holds more image bytes (${n} x ${RECORD}) than its size allows`);
    for (let i = 0; i < n; i++) out.targets.push(checkLabel(file, i, labels[i]));
    chwToHwc(data.data as Uint8Array, 0, RECORD, n, out.data, out.data32, out.n);
    out.n += n;
  }
  if (out.n * RECORD < out.data.length) out.data = out.data.subarray(0, out.n * RECORD);
  return out;
}

/**
 * The number of records every batch file of a layout holds: a file cut on a record boundary is otherwise a
 * well-formed, smaller batch. The python layout says it in batches.meta (num_cases_per_batch: 10 000 in the
 * official files); the binary layout says nothing, so the count most of its six batch files hold is the rule
 * (a tie goes to the larger count: cutting makes files smaller).
 */
interface PerFile {
  records: number;
  /** Where the number comes from, for the error message. */
  source: string;
}

function checkCount(file: string, records: number, perFile: PerFile): number {
  if (records !== perFile.records) {
    fail(file, `holds ${records} records, expected ${perFile.records} (${perFile.source}; the official files hold ${OFFICIAL_RECORDS} each): ` +
      "truncated, or batch files from different copies?");
  }
  return records;
}

const OFFICIAL_RECORDS = 10_000;

function binPerFile(dir: string): PerFile {
  const counts = new Map<number, number>();
  for (const name of [...TRAIN_BATCHES, ...TEST_BATCHES]) {
    const file = join(dir, `${name}.bin`);
    if (!existsSync(file)) continue;
    const size = statSync(file).size;
    // Files that are no whole number of records fail on their own, with their own message.
    if (size > 0 && size % BIN_RECORD === 0) counts.set(size / BIN_RECORD, (counts.get(size / BIN_RECORD) ?? 0) + 1);
  }
  let best = 0, votes = 0;
  for (const [records, n] of counts) if (n > votes || (n === votes && records > best)) [best, votes] = [records, n];
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return { records: best, source: `as ${votes} of the ${total} batch files in ${dir} hold` };
}

interface PyMeta {
  classes: string[];
  perFile: PerFile;
}

function readPyMeta(dir: string): PyMeta {
  const file = join(dir, "batches.meta");
  let meta: unknown;
  try {
    meta = unpickle(readFile(file), { source: file });
  } catch (e) {
    if (e instanceof CifarDataError) throw e;
    fail(file, `cannot be unpickled: ${(e as Error).message}`);
  }
  if (!(meta instanceof Map)) fail(file, "does not hold a dict");
  const list = meta.get("label_names");
  if (!Array.isArray(list)) fail(file, "has no 'label_names' list");
  const perBatch = meta.get("num_cases_per_batch");
  if (typeof perBatch !== "number" || !Number.isInteger(perBatch) || perBatch <= 0) {
    fail(file, `'num_cases_per_batch' is ${String(perBatch)}, expected a positive integer (${OFFICIAL_RECORDS} in the official file)`);
  }
  return {
    classes: checkClassCount(file, list.map((v, i) => pyText(v, `label_names[${i}]`))),
    perFile: { records: perBatch, source: `num_cases_per_batch in ${file}` },
  };
}

function checkClassCount(file: string, names: string[]): string[] {
  if (names.length !== 10) fail(file, `lists ${names.length} class names, expected 10`);
  return names;
}

function readBinClasses(dir: string): string[] {
  const file = join(dir, "batches.meta.txt");
  // Some copies of the binary layout come without the names; the official ones are the default.
  if (!existsSync(file)) return [...CIFAR10_CLASSES];
  return checkClassCount(file, readFileSync(file, "latin1").split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0));
}

/** Read the train (5 batches) or test split from the layout found under `root`. */
export function readCifar10(root: string, train: boolean, layout = findCifar10(root)): CifarArrays {
  if (layout === null) {
    throw new CifarDataError(`CIFAR-10 not found under ${root}: expected ${CIFAR10_PY_DIR}/ or ${CIFAR10_BIN_DIR}/`);
  }
  const names = train ? TRAIN_BATCHES : TEST_BATCHES;
  const files = names.map((name) => join(layout.dir, layout.layout === "bin" ? `${name}.bin` : name));
  if (layout.layout === "bin") {
    const out = readBinSplit(files, binPerFile(layout.dir));
    return { data: out.data, targets: out.targets, classes: readBinClasses(layout.dir), layout: "bin", dir: layout.dir };
  }
  const meta = readPyMeta(layout.dir);
  const out = readPySplit(files, meta.perFile);
  return { data: out.data, targets: out.targets, classes: meta.classes, layout: "py", dir: layout.dir };
}

/**
 * Quick completeness check without decoding: all six batch files exist and have plausible sizes (binary batches:
 * the same whole number of records each; python batches are counted when read).
 */
export function checkCifar10Files(layout: CifarLayout): void {
  const perFile = layout.layout === "bin" ? binPerFile(layout.dir) : null;
  for (const name of [...TRAIN_BATCHES, ...TEST_BATCHES]) {
    const file = join(layout.dir, layout.layout === "bin" ? `${name}.bin` : name);
    if (!existsSync(file)) fail(file, "is missing");
    const size = statSync(file).size;
    if (perFile) {
      if (size === 0 || size % BIN_RECORD !== 0) fail(file, `size ${size} bytes is not a whole number of ${BIN_RECORD}-byte records`);
      checkCount(file, size / BIN_RECORD, perFile);
    }
    if (layout.layout === "py" && size < RECORD) fail(file, `size ${size} bytes is too small for a batch`);
  }
}
