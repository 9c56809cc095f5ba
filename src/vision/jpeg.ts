// JPEG decoding (baseline and progressive) through jpeg-js, a pure-JavaScript decoder: no native code, nothing to
// download. The decoder's own limits bound what a hostile file can make it allocate.
import jpeg from "jpeg-js";
import type { RawImage } from "./png.js";

export class JpegError extends Error {
  override name = "JpegError";
}

/** Largest image accepted, in megapixels (a 12000 x 8000 photo is 96). */
const MAX_MEGAPIXELS = 100;
const MAX_MEMORY_MB = 1024;

/** Decodes a JPEG file's bytes to 8-bit RGB (HWC). `what` names the input in errors. */
export function decodeJpeg(bytes: Uint8Array, what = "JPEG"): RawImage {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: MAX_MEGAPIXELS,
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
