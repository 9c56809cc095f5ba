import { fromTypedArray } from "../../tensor/create.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Transform, registerTransform, type TransformSpec } from "./transform.js";

/** (x - mean) / std with float32 rounding after each step, as PyTorch's sub_().div_() on float32. */
export function normalizeValue(x: number, mean: number, std: number): number {
  return Math.fround(Math.fround(x - mean) / std);
}

/** Per-channel (x - mean[c]) / std[c] over dim -3 (torchvision.transforms.Normalize). */
export class Normalize extends Transform<Tensor, Tensor> {
  readonly mean: number[];
  readonly std: number[];
  constructor(mean: readonly number[], std: readonly number[], readonly inplace = false) {
    super();
    if (mean.length !== std.length) throw new Error(`Normalize: mean has ${mean.length} values, std has ${std.length}`);
    if (std.some((s) => s === 0)) {
      throw new Error(`std evaluated to zero after conversion to float32, leading to division by zero.`);
    }
    this.mean = mean.map(Math.fround);
    this.std = std.map(Math.fround);
  }

  /** Channel count this transform expects (1-value mean/std broadcast to any). */
  channelParams(c: number): { mean: number[]; std: number[] } {
    const n = this.mean.length;
    if (n !== 1 && n !== c) throw new Error(`Normalize: ${n} mean/std values for an input with ${c} channels`);
    return {
      mean: Array.from({ length: c }, (_, k) => this.mean[n === 1 ? 0 : k]!),
      std: Array.from({ length: c }, (_, k) => this.std[n === 1 ? 0 : k]!),
    };
  }

  forward(x: Tensor): Tensor {
    if (!x || x.dtype !== "float32" && x.dtype !== "float64") {
      throw new TypeError(`Normalize: expected a float tensor (did ToTensor run first?), got ${x?.dtype ?? typeof x}`);
    }
    if (x.shape.length < 3) throw new Error(`Normalize: expected a tensor of shape (..., C, H, W), got [${x.shape.join(", ")}]`);
    const [c, h, w] = x.shape.slice(-3) as [number, number, number];
    const { mean, std } = this.channelParams(c);
    const src = x.dataSync();
    const out = this.inplace && x.isContiguous() ? src : new (src.constructor as { new (n: number): typeof src })(src.length);
    const plane = h * w;
    for (let base = 0; base < src.length; base += c * plane) {
      for (let k = 0; k < c; k++) {
        const o = base + k * plane;
        if (x.dtype === "float32") for (let p = 0; p < plane; p++) out[o + p] = normalizeValue(src[o + p]!, mean[k]!, std[k]!);
        else for (let p = 0; p < plane; p++) out[o + p] = (src[o + p]! - mean[k]!) / std[k]!;
      }
    }
    return out === src ? x : fromTypedArray(out, x.shape, x.dtype);
  }
  override toSpec(): TransformSpec {
    return { name: "Normalize", mean: this.mean, std: this.std, inplace: this.inplace };
  }
  override toString(): string {
    return `Normalize(mean=[${this.mean.join(", ")}], std=[${this.std.join(", ")}])`;
  }
}
registerTransform("Normalize", (s) => new Normalize(s["mean"] as number[], s["std"] as number[], s["inplace"] as boolean));
