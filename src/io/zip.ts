// The subset of the zip format PyTorch's checkpoints use (PKWARE APPNOTE): reading any archive whose entries are
// stored or deflated (zip64 included, as PyTorch writes for large files), and writing stored entries whose data
// starts on a 64-byte boundary, as PyTorch's own writer does (an extra field pads each local header). Names are
// checked against the central directory and every entry's CRC-32 is verified before its bytes are used.

import { inflateRawSync } from "node:zlib";
import { crc32 } from "../core/crc32.js";

export class ZipError extends Error {
  override name = "ZipError";
}

export interface ZipEntry {
  name: string;
  /** The entry's bytes (a view of the archive for stored entries), CRC-checked on first read. */
  data(): Uint8Array;
}



const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;

/** True when the bytes start like a zip archive (a local file header). */
export function looksLikeZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

function u64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError(`a zip64 field holds ${v}, beyond what can be addressed`);
  return Number(v);
}

/** The entries of a zip archive, in central-directory order. Throws ZipError naming `what` on anything malformed. */
export function readZip(bytes: Uint8Array, what = "zip archive"): ZipEntry[] {
  const fail = (msg: string): never => {
    throw new ZipError(`${what}: ${msg}`);
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    fail(looksLikeZip(bytes)
      ? "the end of the zip archive is missing (the file is truncated; save or copy it again)"
      : "not a zip archive (no end-of-central-directory record)");
  }
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== SIG_EOCD64_LOCATOR) fail("a zip64 archive without its zip64 locator");
    const at = u64(dv, loc + 8);
    if (at + 56 > bytes.length || dv.getUint32(at, true) !== SIG_EOCD64) fail("the zip64 end record is missing or damaged");
    count = u64(dv, at + 32);
    cdSize = u64(dv, at + 40);
    cdOffset = u64(dv, at + 48);
  }
  if (cdOffset + cdSize > bytes.length) fail(`the central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file (${bytes.length} bytes): the file is truncated`);
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let p = cdOffset;
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize || dv.getUint32(p, true) !== SIG_CENTRAL) fail(`central directory entry ${i} is damaged`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let csize = dv.getUint32(p + 20, true);
    let usize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen > bytes.length) fail(`central directory entry ${i} runs past the end of the file`);
    let name: string;
    try {
      name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    } catch {
      return fail(`entry ${i} has a name that is not UTF-8`);
    }
    // The zip64 extra field (id 1) holds, in order, whichever of the three sizes/offset overflowed.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (usize === 0xffffffff) { usize = u64(dv, q); q += 8; }
        if (csize === 0xffffffff) { csize = u64(dv, q); q += 8; }
        if (local === 0xffffffff) { local = u64(dv, q); q += 8; }
      }
      e += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 1) fail(`entry ${name} is encrypted`);
    if (method !== 0 && method !== 8) fail(`entry ${name} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (names.has(name)) fail(`entry ${name} appears twice`);
    names.add(name);
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== SIG_LOCAL) {
      fail(`entry ${name}: its local header at byte ${local} is missing (the file is truncated or damaged)`);
    }
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + csize > bytes.length) {
      fail(`entry ${name}: its ${csize} bytes at ${start} run past the end of the file (${bytes.length} bytes): the file is truncated`);
    }
    let cached: Uint8Array | null = null;
    entries.push({
      name,
      data(): Uint8Array {
        if (cached) return cached;
        const raw = bytes.subarray(start, start + csize);
        let out: Uint8Array;
        if (method === 0) out = raw;
        else {
          try {
            out = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, usize) }));
          } catch (e) {
            return fail(`entry ${name}: deflated data is damaged (${(e as Error).message})`);
          }
        }
        if (out.length !== usize) fail(`entry ${name}: holds ${out.length} bytes, the directory says ${usize}`);
        if (crc32(out) !== crc) fail(`entry ${name}: CRC-32 mismatch (the file is damaged)`);
        cached = out;
        return out;
      },
    });
  }
  return entries;
}

/** One file to store in an archive. */
export interface ZipInput {
  name: string;
  data: Uint8Array;
}

/**
 * A zip archive of stored (uncompressed) entries as chunks to write in order; each entry's data starts on an
 * `align`-byte boundary. Archives past 4 GiB would need zip64, which this writer refuses.
 */
export function writeZip(files: readonly ZipInput[], align = 64): Uint8Array[] {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let off = 0;
  const limit = 0xfffffffe;
  for (const f of files) {
    const name = enc.encode(f.name);
    const crc = crc32(f.data);
    // A padding extra field (id 0x4246, "FB" as PyTorch writes it) so the data lands on an aligned offset.
    const pad = (align - ((off + 30 + name.length + 4) % align)) % align;
    const extraLen = 4 + pad;
    const header = new Uint8Array(30 + name.length + extraLen);
    const h = new DataView(header.buffer);
    h.setUint32(0, SIG_LOCAL, true);
    h.setUint16(4, 20, true); // version needed
    h.setUint16(6, 0x800, true); // UTF-8 names
    h.setUint16(8, 0, true); // stored
    h.setUint32(14, crc, true);
    h.setUint32(18, f.data.length, true);
    h.setUint32(22, f.data.length, true);
    h.setUint16(26, name.length, true);
    h.setUint16(28, extraLen, true);
    header.set(name, 30);
    h.setUint16(30 + name.length, 0x4246, true);
    h.setUint16(32 + name.length, pad, true);
    if (off + header.length + f.data.length > limit) throw new ZipError(`archive would exceed 4 GiB (zip64 writing is not supported)`);
    const cd = new Uint8Array(46 + name.length);
    const c = new DataView(cd.buffer);
    c.setUint32(0, SIG_CENTRAL, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(8, 0x800, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, f.data.length, true);
    c.setUint32(24, f.data.length, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, off, true);
    cd.set(name, 46);
    central.push(cd);
    chunks.push(header, f.data);
    off += header.length + f.data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  if (files.length > 0xfffe || off + cdSize > limit) throw new ZipError(`archive too large for a non-zip64 zip`);
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, SIG_EOCD, true);
  e.setUint16(8, files.length, true);
  e.setUint16(10, files.length, true);
  e.setUint32(12, cdSize, true);
  e.setUint32(16, off, true);
  return [...chunks, ...central, end];
}
