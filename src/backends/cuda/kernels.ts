// The CUDA device's kernel table: each family lives in kernels_<family>.ts (launch code) and
// native/cuda/kernels/<family>.cu (the kernels). Typed as the full contract, so a kernel added to
// src/ops/kernels.ts without a CUDA entry is a compile error: add a family file (or an entry to one) and list it here.
import type { Kernels, View } from "../../ops/kernels.js";
import type { CudaMemory, CudaRuntime } from "./runtime.js";
import { convKernels } from "./kernels_conv.js";
import { elementwiseKernels } from "./kernels_elementwise.js";
import { indexKernels } from "./kernels_index.js";
import { matmulKernels } from "./kernels_matmul.js";
import { normKernels } from "./kernels_norm.js";
import { optimKernels } from "./kernels_optim.js";
import { poolKernels } from "./kernels_pool.js";
import { randomKernels } from "./kernels_random.js";
import { reduceKernels } from "./kernels_reduce.js";
import { scanSortKernels } from "./kernels_scan_sort.js";
import { softmaxKernels } from "./kernels_softmax.js";

export function cudaKernels(rt: CudaRuntime): Kernels<View<CudaMemory>> {
  return {
    ...elementwiseKernels(rt),
    ...reduceKernels(rt),
    ...matmulKernels(rt),
    ...convKernels(rt),
    ...poolKernels(rt),
    ...softmaxKernels(rt),
    ...normKernels(rt),
    ...indexKernels(rt),
    ...optimKernels(rt),
    ...randomKernels(rt),
    ...scanSortKernels(rt),
  };
}
