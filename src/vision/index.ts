// `kindling/vision`: torchvision's datasets, transforms and utils for kindling.
export * as datasets from "./datasets/index.js";
export * as transforms from "./transforms/index.js";
export * as utils from "./utils.js";
export { encodePng, decodePng, type RawImage } from "./png.js";
export { decodeJpeg } from "./jpeg.js";
export { DEFAULT_MAX_PIXELS, type DecodeOptions } from "./image_limits.js";
