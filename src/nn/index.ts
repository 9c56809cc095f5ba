export { Module, type StateDict, type LoadResult } from "./module.js";
export { Parameter } from "./parameter.js";
export { Linear, Identity } from "./modules/linear.js";
export { Conv2d } from "./modules/conv.js";
export { MaxPool2d, AvgPool2d } from "./modules/pooling.js";
export { ReLU, GELU, Sigmoid, Tanh, Softmax, LogSoftmax } from "./modules/activation.js";
export { CrossEntropyLoss, NLLLoss, MSELoss, L1Loss } from "./modules/loss.js";
export { Sequential, ModuleList } from "./modules/container.js";
export { Flatten, Dropout, BatchNorm1d, BatchNorm2d } from "./modules/misc.js";
export * as functional from "./functional.js";
export * as F from "./functional.js";
export * as init from "./init.js";
export * as parallel from "./parallel/index.js";
export { DataParallel } from "./parallel/data_parallel.js";
export { LeakyReLU, SiLU, Softplus, Hardswish } from "./modules/activation_variants.js";
export { LayerNorm, GroupNorm, type LayerNormOptions } from "./modules/normalization.js";
export { Embedding, type EmbeddingOptions } from "./modules/sparse.js";
export { Conv1d, ConvTranspose2d, type Conv1dOptions, type ConvTranspose2dOptions } from "./modules/conv_variants.js";
export { AdaptiveAvgPool2d, Dropout2d, Unflatten } from "./modules/shape_and_pool.js";
export { BCELoss, BCEWithLogitsLoss, SmoothL1Loss, HuberLoss, KLDivLoss } from "./modules/loss_variants.js";
export { ModuleDict, ParameterList } from "./modules/container_more.js";
export {
  MultiheadAttention, NonDynamicallyQuantizableLinear, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions,
} from "./modules/attention.js";
export {
  TransformerEncoderLayer, TransformerEncoder, type TransformerEncoderLayerOptions, type EncoderForwardOptions,
} from "./modules/transformer.js";
export * as utils from "./utils/index.js";
