// kindling/vision transforms: torchvision.transforms for the tutorial's pipelines.
export { Transform, applyTransform, transformFromSpec, type TransformLike, type TransformSpec } from "./transform.js";
export { Compose, Lambda } from "./compose.js";
export { ToTensor } from "./to_tensor.js";
export { Normalize } from "./normalize.js";
export { RandomCrop, type RandomCropOptions } from "./random_crop.js";
export { RandomHorizontalFlip, RandomVerticalFlip } from "./flip.js";
export type { PaddingMode } from "./geometry.js";
export type { ImageU8 } from "./image.js";
export { alternatingFlip, batchCrop, batchFlipLR, batchReflectPad, batchTranslate, type BatchRandomOptions } from "./batch_aug.js";
