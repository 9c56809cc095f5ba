// What flows through the per-sample transforms before ToTensor: an 8-bit HWC image, the role PIL
// images play in torchvision. Tensors (CHW float) flow after it.

import type { RawImage } from "../png.js";

export type ImageU8 = RawImage;

export function isImageU8(x: unknown): x is ImageU8 {
  return (
    typeof x === "object" && x !== null && (x as ImageU8).data instanceof Uint8Array &&
    typeof (x as ImageU8).width === "number" && typeof (x as ImageU8).height === "number"
  );
}
