// How large an image the decoders agree to produce. Decoded pixels cost far more than the file (a 420 KB PNG can
// claim 2^28 pixels), so each caller says what it can use; the default suits whole photos.

/** Pixels (width x height) a decoder produces unless told otherwise: 100 megapixels, a 12000 x 8000 photo fits. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Refuse images with more pixels than this, before decoding them (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
}

/** The error text for an image over the caller's limit: its size, the limit, and what to do. */
export function tooLarge(width: number, height: number, maxPixels: number): string {
  const mp = (n: number) => `${(n / 1e6).toFixed(n < 1e6 ? 3 : 1)} megapixels`;
  return `the image is ${width}x${height} (${mp(width * height)}), over this reader's limit of ${mp(maxPixels)}; ` +
    "scale it down first";
}

/** The maxPixels option checked (a positive integer) or its default. */
export function maxPixelsOf(o: DecodeOptions): number {
  const m = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isSafeInteger(m) || m <= 0) throw new RangeError(`maxPixels must be a positive integer, got ${m}`);
  return m;
}
