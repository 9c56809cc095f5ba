// Augmentations applied to a whole batch (N x C x H x W) at once, in the spirit of torchvision's transforms.v2
// on batched tensors: each image draws its own randomness, but the work is one pass over the batch instead of one
// transform call per image. Any dtype (uint8 keeps a dataset-sized copy small); the result lies on the input's
// device. airbench94's data pipeline is made of these.

import { opError, fmtShape } from "../../core/errors.js";
import { arrayCtor, type TypedArray } from "../../core/dtype.js";
import { pad } from "../../tensor/pad.js";
import { defaultGenerator, type Generator } from "../../tensor/random.js";
import { fromTypedArray } from "../../tensor/create.js";
import type { Tensor } from "../../tensor/tensor.js";

export interface BatchRandomOptions {
  /** Source of the random draws (default: the global generator). */
  generator?: Generator;
}

function nchw(op: string, images: Tensor): [number, number, number, number] {
  if (images.dim() !== 4) throw opError(op, `expected a batch of images N x C x H x W, got shape ${fmtShape(images.shape)}`);
  return images.shape as unknown as [number, number, number, number];
}

function hostData(images: Tensor): TypedArray {
  return images.to("cpu").contiguous().toTypedArray();
}

function finish(data: TypedArray, shape: readonly number[], like: Tensor): Tensor {
  const t = fromTypedArray(data, shape, like.dtype);
  return like.device === "cpu" ? t : t.to(like.device);
}

/** Mirrors each image left-right with probability p (default 0.5), one draw per image in batch order. */
export function batchFlipLR(images: Tensor, o: BatchRandomOptions & { p?: number } = {}): Tensor {
  const [N, C, H, W] = nchw("batchFlipLR", images);
  const p = o.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw opError("batchFlipLR", `p must be in [0, 1], got ${p}`);
  const g = o.generator ?? defaultGenerator;
  const src = hostData(images);
  const dst = new (arrayCtor(images.dtype))(src.length) as TypedArray;
  const plane = H * W;
  for (let n = 0; n < N; n++) {
    const flip = g.random() < p;
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * plane;
      for (let y = 0; y < H; y++) {
        const row = base + y * W;
        if (flip) for (let x = 0; x < W; x++) dst[row + x] = src[row + W - 1 - x]!;
        else dst.set(src.subarray(row, row + W), row);
      }
    }
  }
  return finish(dst, images.shape, images);
}

/**
 * A random size x size window of each image (every offset equally likely, drawn per image: first the row, then the
 * column). From a copy padded by r on each side this is a random translation by up to r pixels.
 */
export function batchCrop(images: Tensor, size: number | [number, number], o: BatchRandomOptions = {}): Tensor {
  const [N, C, H, W] = nchw("batchCrop", images);
  const [h, w] = typeof size === "number" ? [size, size] : size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1 && h <= H && w <= W)) {
    throw opError("batchCrop", `crop size ${h} x ${w} must be whole numbers within the images' ${H} x ${W}`);
  }
  const g = o.generator ?? defaultGenerator;
  const src = hostData(images);
  const dst = new (arrayCtor(images.dtype))(N * C * h * w) as TypedArray;
  for (let n = 0; n < N; n++) {
    const y0 = g.randint(0, H - h + 1);
    const x0 = g.randint(0, W - w + 1);
    for (let c = 0; c < C; c++) {
      const sBase = (n * C + c) * H * W;
      const dBase = (n * C + c) * h * w;
      for (let y = 0; y < h; y++) {
        const s = sBase + (y0 + y) * W + x0;
        dst.set(src.subarray(s, s + w), dBase + y * w);
      }
    }
  }
  return finish(dst, [N, C, h, w], images);
}

/** Pads each image by `padding` pixels (reflect, as airbench) on every side: the source batchTranslate crops from. */
export function batchReflectPad(images: Tensor, padding: number): Tensor {
  nchw("batchReflectPad", images);
  if (!Number.isInteger(padding) || padding < 0) throw opError("batchReflectPad", `padding must be a whole number >= 0, got ${padding}`);
  if (padding === 0) return images;
  // F.pad computes in floating point; small integer images round-trip through float32 exactly.
  const isInt = !images.isFloatingPoint();
  const padded = pad(isInt ? images.float() : images, [padding, padding, padding, padding], { mode: "reflect" });
  return isInt ? padded.to(images.dtype) : padded;
}

/** Shifts each image by up to `maxShift` pixels in each direction, filling from its reflection. */
export function batchTranslate(images: Tensor, maxShift: number, o: BatchRandomOptions = {}): Tensor {
  const [, , H, W] = nchw("batchTranslate", images);
  return batchCrop(batchReflectPad(images, maxShift), [H, W], o);
}

/**
 * airbench's flip policy: the images are flipped at random once (batchFlipLR), then every odd epoch the whole set is
 * mirrored. Each image is thus seen in both orientations on alternate epochs, which beats a fresh coin per epoch.
 */
export function alternatingFlip(images: Tensor, epoch: number): Tensor {
  nchw("alternatingFlip", images);
  if (!Number.isInteger(epoch) || epoch < 0) throw opError("alternatingFlip", `epoch must be a whole number >= 0, got ${epoch}`);
  return epoch % 2 === 1 ? images.flip(-1) : images;
}
