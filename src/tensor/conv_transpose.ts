// convTranspose2d on the conv2d kernels: the transposed convolution is conv2d's input gradient, so its forward is
// the conv2dBackward kernel (input-gradient part), its input gradient is the conv2d kernel and its weight gradient
// the conv2dBackward kernel's weight-gradient part. Four times less work than convolving a zero-spread input at
// stride 2. Like conv2d, its backward is first-order only.
import { isGradEnabled } from "../autograd/grad_mode.js";
import { opError } from "../core/errors.js";
import type { Conv2dParams } from "../ops/kernels.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record, sameDevices } from "./dispatch.js";
import type { Tensor } from "./tensor.js";

export interface ConvTransposeGeometry {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  /** The output's spatial size (already includes outputPadding). */
  outSize: [number, number];
}

/**
 * x (N, Cin, H, W) and weight (Cin, Cout/groups, kH, kW), both float, same dtype and device; geometry validated by
 * the caller, with every outputPadding below its stride (so the conv of the output gives back H x W exactly).
 */
export function convTranspose2dKernel(x: Tensor, weight: Tensor, g: ConvTransposeGeometry): Tensor {
  sameDevices("convTranspose2d", x, weight);
  if (x.dtype !== weight.dtype) throw opError("convTranspose2d", `input (${x.dtype}) and weight (${weight.dtype}) must have the same dtype`);
  const [N, Cin, H, W] = x.shape;
  const [, CoutG, KH, KW] = weight.shape;
  const Cout = CoutG * g.groups;
  // The forward convolution whose input gradient this is: input = our output, output = our input.
  const p: Conv2dParams = {
    N, C: Cout, H: g.outSize[0], W: g.outSize[1], OC: Cin, KH, KW,
    strideH: g.stride[0], strideW: g.stride[1], padH: g.padding[0], padW: g.padding[1], dilH: g.dilation[0], dilW: g.dilation[1],
    groups: g.groups, OH: H, OW: W,
  };
  const xc = x.contiguous();
  const wc = weight.contiguous();
  const out = emptyTensor([N, Cout, g.outSize[0], g.outSize[1]], x.dtype, x.storage.device);
  // Only the input-gradient part runs, which never reads the forward input: `out` stands in for it.
  kernelsFor(x).conv2dBackward(xc, out, wc, out, null, null, p);
  if (needsGrad(x, weight)) {
    record(out, "convTranspose2d", [x, weight], (gy) => {
      if (isGradEnabled()) throw opError("convTranspose2d", "double backward (createGraph: true) through this op is not supported yet");
      const gc = gy.contiguous();
      let gx: Tensor | null = null;
      if (x.requiresGrad) {
        gx = emptyTensor(x.shape, x.dtype, x.storage.device);
        kernelsFor(gy).conv2d(gc, wc, null, gx, p);
      }
      let gw: Tensor | null = null;
      if (weight.requiresGrad) {
        gw = emptyTensor(weight.shape, weight.dtype, weight.storage.device);
        kernelsFor(gy).conv2dBackward(xc, gc, wc, null, gw, null, p);
      }
      return [gx, gw];
    }, [xc, wc]);
  }
  return out;
}
