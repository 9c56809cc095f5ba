import { fromTypedArray } from "../../tensor/create.js";
import type { Tensor } from "../../tensor/tensor.js";
import { isImageU8, type ImageU8 } from "./image.js";
import { Transform, registerTransform, type TransformSpec } from "./transform.js";

/** v / 255 rounded to float32: the same value PyTorch's `img.float().div(255)` gives. */
export function u8ToUnit(v: number): number {
  return Math.fround(v / 255);
}

/** 8-bit H x W x C image → float32 C x H x W tensor in [0, 1] (torchvision.transforms.ToTensor). */
export class ToTensor extends Transform<ImageU8 | Tensor, Tensor> {
  forward(x: ImageU8 | Tensor): Tensor {
    let h: number, w: number, c: number, src: ArrayLike<number>;
    if (isImageU8(x)) {
      [h, w, c, src] = [x.height, x.width, x.channels, x.data];
    } else if (x && (x as Tensor).dtype === "uint8" && (x as Tensor).shape.length === 3) {
      const t = x as Tensor;
      [h, w, c] = t.shape as [number, number, number];
      src = t.dataSync();
    } else {
      throw new TypeError("ToTensor: expected an 8-bit image { width, height, channels, data } or a uint8 H x W x C tensor");
    }
    const out = new Float32Array(h * w * c);
    const plane = h * w;
    for (let p = 0; p < plane; p++) {
      for (let k = 0; k < c; k++) out[k * plane + p] = u8ToUnit(src[p * c + k]!);
    }
    return fromTypedArray(out, [c, h, w], "float32");
  }
  override toSpec(): TransformSpec {
    return { name: "ToTensor" };
  }
  override toString(): string {
    return "ToTensor()";
  }
}
registerTransform("ToTensor", () => new ToTensor());
