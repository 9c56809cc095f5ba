import { defaultGenerator, type Generator } from "../../tensor/random.js";
import { applyStep, padIndex, sizeOf, type Geometric, type GeometricStep, type Image, type PaddingMode } from "./geometry.js";
import { Transform, registerTransform, type TransformSpec } from "./transform.js";

export interface RandomCropOptions {
  /** int: all sides; [lr, tb]; or [left, top, right, bottom] — torchvision's convention. */
  padding?: number | readonly number[] | null;
  padIfNeeded?: boolean;
  fill?: number;
  paddingMode?: PaddingMode;
  generator?: Generator;
}

function padSides(p: RandomCropOptions["padding"]): [number, number, number, number] {
  if (p == null) return [0, 0, 0, 0];
  if (typeof p === "number") return [p, p, p, p];
  if (p.length === 1) return [p[0]!, p[0]!, p[0]!, p[0]!];
  if (p.length === 2) return [p[0]!, p[1]!, p[0]!, p[1]!];
  if (p.length === 4) return [p[0]!, p[1]!, p[2]!, p[3]!];
  throw new Error(`RandomCrop: padding must be an int or a sequence of 1, 2 or 4 ints, got ${p.length}`);
}

/** Crop at a random location, after optional padding (torchvision.transforms.RandomCrop). */
export class RandomCrop extends Transform<Image, Image> implements Geometric {
  readonly size: [number, number];
  readonly padding: [number, number, number, number];
  readonly padIfNeeded: boolean;
  readonly fill: number;
  readonly paddingMode: PaddingMode;
  readonly generator: Generator | undefined;

  constructor(size: number | readonly [number, number] | readonly number[], opts: RandomCropOptions = {}) {
    super();
    this.size = typeof size === "number" ? [size, size] : size.length === 1 ? [size[0]!, size[0]!] : [size[0]!, size[1]!];
    this.padding = padSides(opts.padding);
    this.padIfNeeded = opts.padIfNeeded ?? false;
    this.fill = opts.fill ?? 0;
    this.paddingMode = opts.paddingMode ?? "constant";
    this.generator = opts.generator;
    if (!["constant", "edge", "reflect", "symmetric"].includes(this.paddingMode)) {
      throw new Error(`RandomCrop: paddingMode must be constant, edge, reflect or symmetric, got ${this.paddingMode}`);
    }
  }

  outputSize(): [number, number] {
    return [this.size[0], this.size[1]];
  }

  drawStep(h: number, w: number): GeometricStep {
    let [left, top, right, bottom] = this.padding;
    const [th, tw] = this.size;
    let ph = h + top + bottom, pw = w + left + right;
    // torchvision pads both sides by the shortfall when padIfNeeded.
    if (this.padIfNeeded && pw < tw) {
      left += tw - pw;
      right += tw - pw;
      pw = w + left + right;
    }
    if (this.padIfNeeded && ph < th) {
      top += th - ph;
      bottom += th - ph;
      ph = h + top + bottom;
    }
    if (ph < th || pw < tw) {
      throw new Error(`RandomCrop: required crop size (${th}, ${tw}) is larger than input image size (${ph}, ${pw})`);
    }
    let i = 0, j = 0;
    if (!(ph === th && pw === tw)) {
      const g = this.generator ?? defaultGenerator;
      i = g.randint(0, ph - th + 1);
      j = g.randint(0, pw - tw + 1);
    }
    const rows = new Int32Array(th), cols = new Int32Array(tw);
    for (let y = 0; y < th; y++) rows[y] = padIndex(i + y - top, h, this.paddingMode);
    for (let x = 0; x < tw; x++) cols[x] = padIndex(j + x - left, w, this.paddingMode);
    return { rows, cols };
  }

  /** An 8-bit image stays one, a tensor stays a tensor. */
  forward<X extends Image>(x: X): X {
    const [h, w] = sizeOf(x);
    return applyStep(x, this.drawStep(h, w), this.fill) as X;
  }

  override toSpec(): TransformSpec | null {
    if (this.generator) return null; // a private generator's stream can't be shared with workers
    return { name: "RandomCrop", size: this.size, padding: this.padding, padIfNeeded: this.padIfNeeded, fill: this.fill, paddingMode: this.paddingMode };
  }
  override toString(): string {
    return `RandomCrop(size=(${this.size.join(", ")}), padding=(${this.padding.join(", ")}))`;
  }
}
registerTransform("RandomCrop", (s) => new RandomCrop(s["size"] as number[], {
  padding: s["padding"] as number[], padIfNeeded: s["padIfNeeded"] as boolean, fill: s["fill"] as number, paddingMode: s["paddingMode"] as PaddingMode,
}));
