// `import * as torch from "kindling"`: tensors and their functions at the top, nn / optim / utils as namespaces.
export { setNumThreads, getNumThreads, nativeIsa } from "./backends/host/cpu_device.js";

export * from "./core/dtype.js";
export { Tensor } from "./tensor/tensor.js";
export type { Dims, IndexSpec, KeepDim, MaxResult, Scalar, TensorOrScalar } from "./tensor/tensor.js";
export { tensor, fromTypedArray, type TensorOptions } from "./tensor/create.js";
export {
  zeros, ones, full, empty, rand, randn, randint, randperm, arange, linspace, eye,
  zerosLike, onesLike, fullLike, emptyLike, randLike, randnLike, type RandomOptions,
} from "./tensor/factories.js";
export { Generator, manualSeed, initialSeed, getRngState, setRngState, defaultGenerator } from "./tensor/random.js";
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from "./autograd/grad_mode.js";
export * from "./functions.js";
import "./tensor/extra_methods.js";
export * from "./functions_extra.js";
export * as autograd from "./autograd/index.js";
export * as cuda from "./cuda_api.js";
export { backends } from "./backends_api.js";
export type { CpuBackendInfo, NativeAddonInfo, SystemLibraries, LibraryProbe } from "./backends_api.js";
export { device } from "./backends/public.js";
export type { MemoryStats } from "./backend/device.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as utils from "./utils/index.js";
export * as io from "./io/index.js";
export * as distributed from "./distributed/index.js";
export type { ToOptions } from "./tensor/convert.js";
export { noGradAsync } from "./autograd/grad_mode.js";
export * as linalg from "./linalg.js";
export { load, save } from "./io/index.js";
