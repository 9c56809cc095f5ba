// Tiny CIFAR-10 fixtures in both official layouts, written from scratch so tests never need the
// real data or Python. The python batches follow the opcode layout of the official files (Python 2
// cPickle, protocol 2): str keys and the pixel buffer as SHORT_BINSTRING/BINSTRING, the array built
// by numpy.core.multiarray._reconstruct + numpy.dtype('u1') + BUILD, labels as a list of ints.

import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/** Emits pickle opcodes; memoizes like cPickle (BINPUT after strings, containers, globals, reduce results). */
export class PickleWriter {
  private parts: Uint8Array[] = [];
  private memo = 1;

  private raw(...bytes: number[]): this {
    this.parts.push(Uint8Array.from(bytes));
    return this;
  }
  private put(): this {
    return this.raw(0x71, this.memo++ & 0xff); // BINPUT
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }
  proto(p = 2): this { return this.raw(0x80, p); }
  mark(): this { return this.raw(0x28); }
  stop(): this { return this.raw(0x2e); }
  none(): this { return this.raw(0x4e); }
  newFalse(): this { return this.raw(0x89); }
  emptyDict(): this { return this.raw(0x7d).put(); }
  emptyList(): this { return this.raw(0x5d).put(); }
  setItems(): this { return this.raw(0x75); }
  appends(): this { return this.raw(0x65); }
  tuple(): this { return this.raw(0x74).put(); }
  tuple1(): this { return this.raw(0x85).put(); }
  tuple2(): this { return this.raw(0x86).put(); }
  tuple3(): this { return this.raw(0x87).put(); }
  reduce(): this { return this.raw(0x52).put(); }
  build(): this { return this.raw(0x62); }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n); // BININT1
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8); // BININT2
    return this.raw(0x4a, ...this.u32(n)); // BININT
  }
  /** A Python 2 str (bytes): SHORT_BINSTRING below 256 bytes, BINSTRING above. */
  str(s: string | Uint8Array, memoize = true): this {
    const b = typeof s === "string" ? Uint8Array.from(s, (c) => c.charCodeAt(0)) : s;
    if (b.length < 256) this.raw(0x55, b.length);
    else this.raw(0x54, ...this.u32(b.length));
    this.parts.push(b);
    return memoize ? this.put() : this;
  }
  global(module: string, name: string): this {
    this.parts.push(new TextEncoder().encode(`c${module}\n${name}\n`));
    return this.put();
  }
  bytes(): Uint8Array {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export interface CifarBatch {
  /** n x 3072 rows, each 1024 red, 1024 green, 1024 blue bytes (CHW), like the official files. */
  rows: Uint8Array;
  labels: number[];
  batchLabel: string;
  filenames: string[];
}

/** A Python 2 protocol-2 pickle of one batch, in the official opcode layout. */
export function py2BatchPickle(b: CifarBatch): Uint8Array {
  const n = b.labels.length;
  const w = new PickleWriter().proto(2).emptyDict().mark();
  w.str("data");
  w.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray");
  w.int(0).tuple1().str("b").tuple3().reduce();
  w.mark().int(1).int(n).int(3072).tuple2();
  w.global("numpy", "dtype").str("u1").int(0).int(1).tuple3().reduce();
  w.mark().int(3).str("|").none().none().none().int(-1).int(-1).int(0).tuple().build();
  w.newFalse().str(b.rows).tuple().build();
  w.str("labels").emptyList().mark();
  for (const l of b.labels) w.int(l);
  w.appends();
  w.str("batch_label").str(b.batchLabel);
  w.str("filenames").emptyList().mark();
  for (const f of b.filenames) w.str(f);
  w.appends();
  return w.setItems().stop().bytes();
}

/** batches.meta as Python 2 pickled it: num_cases_per_batch, label_names, num_vis. */
export function py2MetaPickle(labelNames: string[], perBatch: number): Uint8Array {
  const w = new PickleWriter().proto(2).emptyDict().mark();
  w.str("num_cases_per_batch").int(perBatch);
  w.str("label_names").emptyList().mark();
  for (const l of labelNames) w.str(l);
  w.appends();
  w.str("num_vis").int(3072);
  return w.setItems().stop().bytes();
}

/** A pickle that would run os.system('echo pwned') if a real unpickler loaded it. */
export function maliciousPickle(module = "os", name = "system"): Uint8Array {
  return new PickleWriter().proto(2).global(module, name).str("echo pwned").tuple1().reduce().stop().bytes();
}

/** Deterministic pixel value of record `i` (global index within its split) at channel c, row y, column x. */
export function pixel(split: "train" | "test", i: number, c: number, y: number, x: number): number {
  return (i * 37 + c * 85 + y * 7 + x * 3 + (split === "test" ? 101 : 0)) & 0xff;
}

export function labelOf(split: "train" | "test", i: number): number {
  return (i * 3 + (split === "test" ? 1 : 0)) % 10;
}

function makeBatch(split: "train" | "test", first: number, n: number, batchLabel: string): CifarBatch {
  const rows = new Uint8Array(n * 3072);
  const labels: number[] = [];
  const filenames: string[] = [];
  for (let k = 0; k < n; k++) {
    const i = first + k;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) rows[k * 3072 + c * 1024 + y * 32 + x] = pixel(split, i, c, y, x);
    labels.push(labelOf(split, i));
    filenames.push(`img_${split}_${i}.png`);
  }
  return { rows, labels, batchLabel, filenames };
}

/** The official binary record layout: label byte then 3072 pixel bytes. */
export function binBatch(b: CifarBatch): Uint8Array {
  const n = b.labels.length;
  const out = new Uint8Array(n * 3073);
  for (let k = 0; k < n; k++) {
    out[k * 3073] = b.labels[k]!;
    out.set(b.rows.subarray(k * 3072, (k + 1) * 3072), k * 3073 + 1);
  }
  return out;
}

export interface CifarFixture {
  root: string;
  perBatch: number;
  testCount: number;
  /** Expected HWC image of record i of a split, as torchvision's `data[i]`. */
  imageHWC(split: "train" | "test", i: number): Uint8Array;
}

export interface FixtureOptions {
  /** Records in every batch file (the official files hold 10 000). */
  perBatch?: number;
  /**
   * Records in test_batch; the readers refuse a layout whose batch files differ, so only tests of that error
   * set it apart from perBatch.
   */
  testCount?: number;
  formats?: Array<"bin" | "py">;
  root?: string;
}

/** Writes cifar-10-batches-bin and/or cifar-10-batches-py into a fresh temp dir (or `root`). */
export function makeCifarFixtures(opts: FixtureOptions = {}): CifarFixture {
  const perBatch = opts.perBatch ?? 3;
  const testCount = opts.testCount ?? perBatch;
  const formats = opts.formats ?? ["bin", "py"];
  const root = opts.root ?? mkdtempSync(join(tmpdir(), "kindling-cifar-"));
  const batches: Array<[string, CifarBatch]> = [];
  for (let b = 1; b <= 5; b++) {
    batches.push([`data_batch_${b}`, makeBatch("train", (b - 1) * perBatch, perBatch, `training batch ${b} of 5`)]);
  }
  batches.push(["test_batch", makeBatch("test", 0, testCount, "testing batch 1 of 1")]);
  if (formats.includes("bin")) {
    const dir = join(root, "cifar-10-batches-bin");
    mkdirSync(dir, { recursive: true });
    for (const [name, b] of batches) writeFileSync(join(dir, `${name}.bin`), binBatch(b));
    writeFileSync(join(dir, "batches.meta.txt"), CLASSES.join("\n") + "\n\n");
  }
  if (formats.includes("py")) {
    const dir = join(root, "cifar-10-batches-py");
    mkdirSync(dir, { recursive: true });
    for (const [name, b] of batches) writeFileSync(join(dir, name), py2BatchPickle(b));
    writeFileSync(join(dir, "batches.meta"), py2MetaPickle(CLASSES, perBatch));
    writeFileSync(join(dir, "readme.html"), "<html>fixture</html>\n");
  }
  return {
    root,
    perBatch,
    testCount,
    imageHWC(split, i) {
      const out = new Uint8Array(3072);
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          for (let c = 0; c < 3; c++) out[(y * 32 + x) * 3 + c] = pixel(split, i, c, y, x);
      return out;
    },
  };
}
