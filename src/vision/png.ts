// PNG encode/decode with Node's zlib: enough for saving image grids (8-bit gray/RGB/RGBA) and for
// reading the 8-bit non-interlaced images a `predict` command is given. Anything else is a clear error.

import { deflateSync, inflateSync } from "node:zlib";
import { crc32 } from "../core/crc32.js";
import { maxPixelsOf, tooLarge, type DecodeOptions } from "./image_limits.js";

export class PngError extends Error {
  override name = "PngError";
}

/** An 8-bit image, rows top to bottom, channels interleaved (HWC). */
export interface RawImage {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);



function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** Encode 8-bit pixels as PNG (filter "None" on the first row, "Up" after it). */
export function encodePng(img: RawImage): Uint8Array {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new PngError(`PNG size must be positive integers, got ${width}x${height}`);
  }
  if (!(channels in COLOR_TYPE)) throw new PngError(`PNG channels must be 1..4, got ${channels}`);
  const stride = width * channels;
  if (data.length !== stride * height) {
    throw new PngError(`PNG data has ${data.length} bytes, expected ${height}x${width}x${channels} = ${stride * height}`);
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = COLOR_TYPE[channels]!;
  // compression, filter method, interlace: all 0
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * stride, (y + 1) * stride);
    const o = y * (stride + 1);
    // Filter "Up" (2) usually compresses image grids better; row 0 has nothing above it.
    if (y === 0) {
      raw[o] = 0;
      raw.set(row, o + 1);
    } else {
      raw[o] = 2;
      const prev = data.subarray((y - 1) * stride, y * stride);
      for (let x = 0; x < stride; x++) raw[o + 1 + x] = (row[x]! - prev[x]!) & 0xff;
    }
  }
  const idat = deflateSync(raw, { level: 6 });
  const parts = [SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decode an 8-bit, non-interlaced PNG (gray, gray+alpha, RGB, RGBA, palette). Palette images come
 * back as RGB, or RGBA when the palette has transparency. Images over `maxPixels` are refused from
 * their header, before any pixel is inflated.
 */
export function decodePng(bytes: Uint8Array, source = "PNG", o: DecodeOptions = {}): RawImage {
  const fail = (msg: string): never => {
    throw new PngError(`${source}: ${msg}`);
  };
  const maxPixels = maxPixelsOf(o);
  if (bytes.length < 8 || !SIGNATURE.every((b, i) => bytes[i] === b)) fail("not a PNG file (bad signature)");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, colorType = -1;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let sawEnd = false;
  while (pos + 12 <= bytes.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + len > bytes.length) fail(`chunk ${type} runs past the end of the file (truncated)`);
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    const crc = dv.getUint32(pos + 8 + len);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + len)) !== crc) fail(`chunk ${type} has a bad CRC`);
    pos += 12 + len;
    if (type === "IHDR") {
      if (len !== 13) fail("IHDR has the wrong length");
      const h = new DataView(data.buffer, data.byteOffset, 13);
      width = h.getUint32(0);
      height = h.getUint32(4);
      const depth = data[8]!;
      colorType = data[9]!;
      if (depth !== 8) fail(`bit depth ${depth} is not supported (only 8-bit images)`);
      if (![0, 2, 3, 4, 6].includes(colorType)) fail(`color type ${colorType} is invalid`);
      if (data[10] !== 0 || data[11] !== 0) fail("unknown compression or filter method");
      if (data[12] !== 0) fail("interlaced (Adam7) PNGs are not supported");
      if (width === 0 || height === 0) fail(`image size ${width}x${height} is not supported`);
      if (width * height > maxPixels) fail(tooLarge(width, height, maxPixels));
    } else if (type === "PLTE") palette = data;
    else if (type === "tRNS") trns = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") {
      sawEnd = true;
      break;
    } else if ((type.charCodeAt(0) & 0x20) === 0) fail(`critical chunk ${type} is not supported`);
  }
  if (colorType < 0) fail("missing IHDR");
  if (!sawEnd) fail("missing IEND (truncated)");
  if (idat.length === 0) fail("missing image data");
  const srcChannels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType]!;
  const stride = width * srcChannels;
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: (stride + 1) * height + 1 });
  } catch (e) {
    return fail(`image data is corrupt (${(e as Error).message})`);
  }
  if (raw.length < (stride + 1) * height) fail("image data is truncated");
  // Rows are unfiltered in place, each moved up over the filter bytes before it: every write lands before the
  // bytes still to be read, so the inflated data is the only full-size buffer. (A small result may sit in
  // Buffer's shared pool: that one is copied out.)
  const owned = raw.byteOffset === 0 && raw.buffer.byteLength === raw.length;
  const px = owned ? new Uint8Array(raw.buffer, 0, stride * height) : new Uint8Array(stride * height);
  const bpp = srcChannels;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const from = y * (stride + 1) + 1;
    const row = y * stride;
    const above = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[row + x - bpp]! : 0;
      const b = y > 0 ? px[above + x]! : 0;
      const c = y > 0 && x >= bpp ? px[above + x - bpp]! : 0;
      let v = raw[from + x]!;
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) >> 1; break;
        case 4: v += paeth(a, b, c); break;
        default: fail(`row ${y} has unknown filter type ${filter}`);
      }
      px[row + x] = v & 0xff;
    }
  }
  if (colorType !== 3) return { width, height, channels: srcChannels as 1 | 2 | 3 | 4, data: px };
  if (!palette || palette.length % 3 !== 0) return fail("palette image without a valid PLTE chunk");
  const entries = palette.length / 3;
  const outCh = trns ? 4 : 3;
  const rgb = new Uint8Array(width * height * outCh);
  for (let i = 0; i < width * height; i++) {
    const idx = px[i]!;
    if (idx >= entries) fail(`palette index ${idx} is out of range (${entries} entries)`);
    rgb[i * outCh] = palette[idx * 3]!;
    rgb[i * outCh + 1] = palette[idx * 3 + 1]!;
    rgb[i * outCh + 2] = palette[idx * 3 + 2]!;
    if (trns) rgb[i * outCh + 3] = idx < trns.length ? trns[idx]! : 255;
  }
  return { width, height, channels: outCh, data: rgb };
}
