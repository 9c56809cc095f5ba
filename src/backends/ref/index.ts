// The reference backend: every kernel in plain TypeScript, the executable spec other backends are tested against.
import type { Kernels } from "../../ops/kernels.js";
import { conv2d, conv2dBackward } from "./conv.js";
import { binary, binaryScalar, clamp, copy, fill, unary, where } from "./elementwise.js";
import { indexAdd, indexSelect } from "./gather.js";
import { bmm, linear, linearBackward } from "./linalg.js";
import { batchNorm, batchNormBackward } from "./norm.js";
import { adamStep, sgdStep } from "./optim.js";
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from "./pool.js";
import { randNormal, randPerm, randUniform } from "./random.js";
import { maxDim, prodDim, sumDim } from "./reduce.js";
import { bitwise, gather, scan, scatter, searchsorted, sort } from "./scan_sort.js";
import { crossEntropy, nllLoss, nllLossBackward, softmax, softmaxBackward } from "./softmax.js";

export const refKernels: Kernels = {
  copy, fill, unary, binary, binaryScalar, where, clamp,
  sumDim, prodDim, maxDim,
  bmm, linear, linearBackward,
  conv2d, conv2dBackward,
  maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward,
  softmax, softmaxBackward, crossEntropy, nllLoss, nllLossBackward,
  batchNorm, batchNormBackward,
  indexSelect, indexAdd,
  sgdStep, adamStep,
  randUniform, randNormal, randPerm,
  scan, sort, gather, scatter, searchsorted, bitwise,
};
