// PLACEHOLDER for the cuda-rt branch only: the cuda-k branch's kernels.ts replaces this file at the merge. It keeps
// the device usable for what the runtime itself can do (contiguous same-dtype copies and constant fills through
// copyDtoD and memsetD32) and says plainly that every other kernel is not on this branch.
import { itemSize } from "../../core/dtype.js";
import type { Kernels, View } from "../../ops/kernels.js";
import type { CudaMemory, CudaRuntime } from "./runtime.js";

type V = View<CudaMemory>;

function isContiguous(v: V): boolean {
  let expected = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== expected) return false;
    expected *= v.shape[d];
  }
  return true;
}
const numel = (v: V): number => v.shape.reduce((a, b) => a * b, 1);
const addr = (v: V): bigint => v.storage.ptr + BigInt(v.offset * itemSize(v.dtype));

/** The 32-bit pattern that fills a 4-byte dtype with `value`; null when no single word does. */
function fillBits(v: V, value: number): number | null {
  const b = new DataView(new ArrayBuffer(4));
  if (v.dtype === "float32") b.setFloat32(0, value, true);
  else if (v.dtype === "int32") b.setInt32(0, value | 0, true);
  else return value === 0 ? 0 : null;
  return b.getUint32(0, true);
}

export function cudaKernels(rt: CudaRuntime): Kernels<View<CudaMemory>> {
  const missing = (name: string) => (): never => {
    throw new Error(`the CUDA kernel for '${name}' is not implemented on this branch (cuda-rt); the kernels come with the cuda-k branch`);
  };
  return {
    copy(src, dst) {
      if (src.dtype !== dst.dtype || !isContiguous(src) || !isContiguous(dst)) return missing("copy (strided or casting)")();
      rt.copyDtoD(addr(dst), addr(src), numel(dst) * itemSize(dst.dtype));
    },
    fill(dst, value) {
      const n = numel(dst);
      const bytes = n * itemSize(dst.dtype);
      const bits = isContiguous(dst) ? fillBits(dst, value) : null;
      if (bits === null || bytes % 4 !== 0 || (dst.offset * itemSize(dst.dtype)) % 4 !== 0) return missing("fill (this value or layout)")();
      rt.memsetD32(addr(dst), bits, bytes / 4);
    },
    unary: missing("unary"), binary: missing("binary"), binaryScalar: missing("binaryScalar"), where: missing("where"),
    clamp: missing("clamp"), sumDim: missing("sumDim"), prodDim: missing("prodDim"), maxDim: missing("maxDim"),
    bmm: missing("bmm"), linear: missing("linear"), linearBackward: missing("linearBackward"),
    conv2d: missing("conv2d"), conv2dBackward: missing("conv2dBackward"),
    maxPool2d: missing("maxPool2d"), maxPool2dBackward: missing("maxPool2dBackward"),
    avgPool2d: missing("avgPool2d"), avgPool2dBackward: missing("avgPool2dBackward"),
    softmax: missing("softmax"), softmaxBackward: missing("softmaxBackward"), crossEntropy: missing("crossEntropy"),
    nllLoss: missing("nllLoss"), nllLossBackward: missing("nllLossBackward"),
    batchNorm: missing("batchNorm"), batchNormBackward: missing("batchNormBackward"),
    indexSelect: missing("indexSelect"), indexAdd: missing("indexAdd"),
    sgdStep: missing("sgdStep"), adamStep: missing("adamStep"),
    randUniform: missing("randUniform"), randNormal: missing("randNormal"), randPerm: missing("randPerm"),
  };
}
