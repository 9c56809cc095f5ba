// Reads the scalars of a TensorBoard run directory as TensorBoard shows them: event files in order, and a
// SessionLog START at step P (a resumed run) dropping the earlier files' points at steps >= P.

import * as fs from "node:fs";
import * as path from "node:path";
import { readTfRecords } from "../../src/utils/tensorboard/index.js";

type Fields = Map<number, (bigint | Uint8Array)[]>;

function decode(b: Uint8Array): Fields {
  const m: Fields = new Map();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let s = 0n; ; s += 7n) {
      const x = b[i++]!;
      v |= BigInt(x & 0x7f) << s;
      if (x < 0x80) return v;
    }
  };
  while (i < b.length) {
    const key = Number(varint());
    const field = key >> 3;
    let v: bigint | Uint8Array;
    switch (key & 7) {
      case 0: v = varint(); break;
      case 1: v = b.subarray(i, (i += 8)); break;
      case 2: { const n = Number(varint()); v = b.subarray(i, (i += n)); break; }
      case 5: v = b.subarray(i, (i += 4)); break;
      default: throw new Error(`wire type ${key & 7}`);
    }
    if (!m.has(field)) m.set(field, []);
    m.get(field)!.push(v);
  }
  return m;
}

/** tag -> step -> value. */
export function scalars(dir: string): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  // In the order the files were started: by the wall time of each file's first event.
  const started = (recs: Uint8Array[]): number => {
    const t = decode(recs[0]!).get(1)![0] as Uint8Array;
    return new DataView(t.buffer, t.byteOffset, 8).getFloat64(0, true);
  };
  const files = fs
    .readdirSync(dir)
    .filter((n) => n.startsWith("events.out.tfevents."))
    .map((n) => readTfRecords(fs.readFileSync(path.join(dir, n)), n))
    .sort((a, b) => started(a) - started(b));
  for (const recs of files) {
    for (const rec of recs) {
      const ev = decode(rec);
      const step = Number((ev.get(2)?.[0] as bigint | undefined) ?? 0n);
      if (ev.has(6)) {
        for (const points of out.values()) for (const s of [...points.keys()]) if (s >= step) points.delete(s);
        continue;
      }
      const summary = ev.get(5)?.[0] as Uint8Array | undefined;
      if (!summary) continue;
      for (const value of decode(summary).get(1) ?? []) {
        const v = decode(value as Uint8Array);
        const tag = new TextDecoder().decode(v.get(1)![0] as Uint8Array);
        const simple = v.get(2)?.[0] as Uint8Array | undefined;
        if (!simple) continue;
        const x = new DataView(simple.buffer, simple.byteOffset, 4).getFloat32(0, true);
        if (!out.has(tag)) out.set(tag, new Map());
        out.get(tag)!.set(step, x);
      }
    }
  }
  return out;
}
