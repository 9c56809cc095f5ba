// TFRecord framing: uint64 length (LE), masked CRC-32C of those 8 bytes, the data, masked CRC-32C of the data.

import { maskedCrc32c } from "./crc32c.js";

export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(data.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** Splits a TFRecord stream into its records, checking both CRCs of each; throws on corruption. */
export function readTfRecords(bytes: Uint8Array, what = "TFRecord data"): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) throw new Error(`${what}: truncated record header at byte ${off}`);
    const len = Number(dv.getBigUint64(off, true));
    if (dv.getUint32(off + 8, true) !== maskedCrc32c(bytes.subarray(off, off + 8))) throw new Error(`${what}: bad length CRC at byte ${off}`);
    if (off + 12 + len + 4 > bytes.length) throw new Error(`${what}: truncated record at byte ${off}`);
    const data = bytes.subarray(off + 12, off + 12 + len);
    if (dv.getUint32(off + 12 + len, true) !== maskedCrc32c(data)) throw new Error(`${what}: bad data CRC at byte ${off}`);
    out.push(data);
    off += 12 + len + 4;
  }
  return out;
}
