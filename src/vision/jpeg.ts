// JPEG decoding (baseline and progressive) through jpeg-js, a pure-JavaScript decoder: no native code, nothing to
// download. The image's size is read from its frame header first and held to the caller's pixel limit; the
// decoder's own memory limit bounds the rest of what a hostile file can make it allocate.
import jpeg from "jpeg-js";
import { maxPixelsOf, tooLarge, type DecodeOptions } from "./image_limits.js";
import type { RawImage } from "./png.js";

export class JpegError extends Error {
  override name = "JpegError";
}

const MAX_MEMORY_MB = 1024;

/**
 * Width and height from the first start-of-frame marker (SOF0-SOF15 but DHT, JPG and DAC), or null when the
 * markers before it cannot be walked (the decoder then says what is wrong).
 */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  let p = 2; // after SOI
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return null;
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (p + 9 > bytes.length) return null;
      return { height: (bytes[p + 5]! << 8) | bytes[p + 6]!, width: (bytes[p + 7]! << 8) | bytes[p + 8]! };
    }
    if (marker === 0xd9 || marker === 0xda || len < 2) return null; // EOI or scan data before any frame
    p += 2 + len;
  }
  return null;
}

/** Decodes a JPEG file's bytes to 8-bit RGB (HWC). `what` names the input in errors. */
export function decodeJpeg(bytes: Uint8Array, what = "JPEG", o: DecodeOptions = {}): RawImage {
  const maxPixels = maxPixelsOf(o);
  const size = jpegSize(bytes);
  if (size && size.width * size.height > maxPixels) throw new JpegError(`${what}: ${tooLarge(size.width, size.height, maxPixels)}`);
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // Also a check of its own, for frames our walk did not reach.
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: MAX_MEMORY_MB,
    });
  } catch (e) {
    throw new JpegError(`${what}: not a readable JPEG (${e instanceof Error ? e.message : String(e)})`);
  }
  if (img.width <= 0 || img.height <= 0 || img.data.length !== img.width * img.height * 3) {
    throw new JpegError(`${what}: the JPEG decoded to ${img.width}x${img.height} with ${img.data.length} bytes of pixels`);
  }
  return { width: img.width, height: img.height, channels: 3, data: img.data };
}
