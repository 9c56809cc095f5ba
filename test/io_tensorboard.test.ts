import test from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as torch from "kindling";
import { SummaryWriter } from "../src/utils/tensorboard/index.js";
import { decodePng } from "../src/vision/png.js";

// ---- an independent reader: TFRecord framing with CRC-32C computed bit by bit, and a generic protobuf decoder ----

function crc32cBitwise(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
const mask = (c: number): number => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;

function records(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < bytes.length) {
    const len = Number(bytes.readBigUInt64LE(off));
    assert.equal(bytes.readUInt32LE(off + 8), mask(crc32cBitwise(bytes.subarray(off, off + 8))), "length CRC");
    const data = bytes.subarray(off + 12, off + 12 + len);
    assert.equal(data.length, len, "record truncated");
    assert.equal(bytes.readUInt32LE(off + 12 + len), mask(crc32cBitwise(data)), "data CRC");
    out.push(data);
    off += 16 + len;
  }
  return out;
}

type Field = { wire: number; v: bigint | Buffer };
function fields(b: Buffer): Map<number, Field[]> {
  const m = new Map<number, Field[]>();
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let s = 0n;
    for (;;) {
      const x = b[i++]!;
      r |= BigInt(x & 0x7f) << s;
      if (!(x & 0x80)) return r;
      s += 7n;
    }
  };
  while (i < b.length) {
    const key = Number(varint());
    const f = key >> 3;
    const wire = key & 7;
    let v: bigint | Buffer;
    if (wire === 0) v = varint();
    else if (wire === 1) (v = b.subarray(i, i + 8)), (i += 8);
    else if (wire === 5) (v = b.subarray(i, i + 4)), (i += 4);
    else if (wire === 2) {
      const n = Number(varint());
      v = b.subarray(i, i + n);
      i += n;
    } else throw new Error(`unexpected wire type ${wire}`);
    if (!m.has(f)) m.set(f, []);
    m.get(f)!.push({ wire, v });
  }
  assert.equal(i, b.length);
  return m;
}
const one = (m: Map<number, Field[]>, f: number): Field => {
  const x = m.get(f);
  assert.ok(x && x.length === 1, `field ${f}`);
  return x[0]!;
};

test("SummaryWriter writes TFRecord-framed Event protobufs with scalars and PNG images", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-tb-"));
  const w = new SummaryWriter(dir, { maxQueue: 3 });
  for (let s = 0; s < 5; s++) w.addScalar("loss/train", 2 - s * 0.25, s * 10);
  const img = torch.zeros([3, 4, 5]);
  torch.noGrad(() => {
    img.index(0).fill_(1); // red
    img.index(2, 1).fill_(0.5); // blue row 1
  });
  w.addImage("samples", img, 7);
  const u8 = torch.full([2, 3], 200, { dtype: "uint8" });
  w.addImage("gray", u8, 8, { dataformats: "HW" });
  w.addText("note", "hello", 9);
  w.close();

  const files = fs.readdirSync(dir);
  assert.equal(files.length, 1);
  assert.match(files[0]!, new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${os.hostname().replace(/[.]/g, "\\.")}`));
  const recs = records(fs.readFileSync(path.join(dir, files[0]!)));
  assert.equal(recs.length, 1 + 5 + 2 + 1);

  const first = fields(recs[0]!);
  assert.equal(one(first, 3).v.toString(), "brain.Event:2");
  const wall = (one(first, 1).v as Buffer).readDoubleLE(0);
  assert.ok(Math.abs(wall - Date.now() / 1000) < 60);

  for (let s = 0; s < 5; s++) {
    const ev = fields(recs[1 + s]!);
    assert.equal(one(ev, 2).v, BigInt(s * 10));
    const summary = fields(one(ev, 5).v as Buffer);
    const value = fields(one(summary, 1).v as Buffer);
    assert.equal(one(value, 1).v.toString(), "loss/train");
    assert.equal(one(value, 2).wire, 5);
    assert.equal((one(value, 2).v as Buffer).readFloatLE(0), 2 - s * 0.25);
  }

  const ev = fields(recs[6]!);
  assert.equal(one(ev, 2).v, 7n);
  const value = fields(one(fields(one(ev, 5).v as Buffer), 1).v as Buffer);
  assert.equal(one(value, 1).v.toString(), "samples");
  const image = fields(one(value, 4).v as Buffer);
  assert.equal(one(image, 1).v, 4n); // height
  assert.equal(one(image, 2).v, 5n); // width
  assert.equal(one(image, 3).v, 3n); // colorspace: RGB
  const png = decodePng(one(image, 4).v as Buffer);
  assert.deepEqual([png.width, png.height, png.channels], [5, 4, 3]);
  assert.deepEqual([...png.data.subarray(0, 3)], [255, 0, 0]);
  assert.deepEqual([...png.data.subarray(5 * 3, 5 * 3 + 3)], [255, 0, 128]);

  const gray = fields(one(fields(one(fields(one(fields(recs[7]!), 5).v as Buffer), 1).v as Buffer), 4).v as Buffer);
  assert.equal(one(gray, 3).v, 1n);
  const gpng = decodePng(one(gray, 4).v as Buffer);
  assert.deepEqual([...gpng.data], [200, 200, 200, 200, 200, 200]);

  const text = fields(one(fields(one(fields(recs[8]!), 5).v as Buffer), 1).v as Buffer);
  assert.equal(one(fields(one(fields(one(text, 9).v as Buffer), 1).v as Buffer), 1).v.toString(), "text");
  assert.equal(one(fields(one(text, 8).v as Buffer), 8).v.toString(), "hello");
});

test("SummaryWriter: buffered events reach the disk on flush; purgeStep writes a SessionLog START", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-tb-"));
  const w = new SummaryWriter(dir, { purgeStep: 42 });
  w.addScalar("a", 1, 43);
  const file = w.file;
  assert.equal(records(fs.readFileSync(file)).length, 2); // the scalar is still queued
  w.flush();
  const recs = records(fs.readFileSync(file));
  assert.equal(recs.length, 3);
  const purge = fields(recs[1]!);
  assert.equal(one(purge, 2).v, 42n);
  assert.equal(one(fields(one(purge, 6).v as Buffer), 1).v, 1n);
  w.close();
  w.close();
  assert.throws(() => new SummaryWriter(dir).addImage("bad", torch.zeros([2, 4, 4])), /1, 3 or 4 channels/);
});
