// Image input for `kindling predict`: decode, convert to RGB, resize to 32x32 (box filter when shrinking,
// bilinear when enlarging), as uint8 HWC.

import * as fs from "node:fs";
import { decodeJpeg, JpegError } from "../vision/jpeg.js";
import { decodePng, PngError, type RawImage } from "../vision/png.js";
import { ExitError } from "./common.js";

/** Every image is shrunk to 32x32: nothing larger than a big photo is worth decoding (a PNG bomb is small on disk). */
export const PREDICT_MAX_PIXELS = 64_000_000;

export function readImage(file: string): RawImage {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ExitError(`${file}: cannot read (${(e as Error).message})`, 2);
  }
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return decodePng(bytes, file, { maxPixels: PREDICT_MAX_PIXELS });
    if (bytes[0] === 0xff && bytes[1] === 0xd8) return decodeJpeg(bytes, file, { maxPixels: PREDICT_MAX_PIXELS });
  } catch (e) {
    // A damaged image is bad input, not a crash: the decoders' messages name the file and say why.
    if (e instanceof PngError || e instanceof JpegError) throw new ExitError(e.message, 2);
    throw e;
  }
  throw new ExitError(`${file}: not a PNG or JPEG image`, 2);
}

/** Any 8-bit image → RGB (gray replicated, alpha dropped). */
export function toRgb(img: RawImage): Uint8Array {
  const { width: w, height: h, channels: c, data } = img;
  if (c === 3) return data;
  const out = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    if (c === 1 || c === 2) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = data[p * c]!;
    else for (let k = 0; k < 3; k++) out[p * 3 + k] = data[p * 4 + k]!;
  }
  return out;
}

/** Resize RGB HWC to ow x oh. */
export function resizeRgb(src: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const out = new Uint8Array(ow * oh * 3);
  const sx = w / ow, sy = h / oh;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      for (let k = 0; k < 3; k++) {
        let v: number;
        if (sx >= 1 && sy >= 1) {
          // Area average with fractional coverage at the edges.
          const x0 = x * sx, x1 = (x + 1) * sx, y0 = y * sy, y1 = (y + 1) * sy;
          let acc = 0, wsum = 0;
          for (let yy = Math.floor(y0); yy < Math.min(h, Math.ceil(y1)); yy++) {
            const wy = Math.min(yy + 1, y1) - Math.max(yy, y0);
            for (let xx = Math.floor(x0); xx < Math.min(w, Math.ceil(x1)); xx++) {
              const wx = Math.min(xx + 1, x1) - Math.max(xx, x0);
              acc += src[(yy * w + xx) * 3 + k]! * wx * wy;
              wsum += wx * wy;
            }
          }
          v = acc / wsum;
        } else {
          const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1), fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
          const xa = Math.floor(fx), ya = Math.floor(fy), xb = Math.min(xa + 1, w - 1), yb = Math.min(ya + 1, h - 1);
          const ax = fx - xa, ay = fy - ya;
          const p = (yy: number, xx: number) => src[(yy * w + xx) * 3 + k]!;
          v = (p(ya, xa) * (1 - ax) + p(ya, xb) * ax) * (1 - ay) + (p(yb, xa) * (1 - ax) + p(yb, xb) * ax) * ay;
        }
        out[(y * ow + x) * 3 + k] = Math.round(v);
      }
    }
  }
  return out;
}
