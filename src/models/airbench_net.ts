// airbench94's network (Keller Jordan's CIFAR-10 speed-run net), in kindling's nn: a frozen 2x2 whitening conv,
// GELU, three conv groups, max-pool, a bias-free linear layer and a fixed 1/9 output scale. Module names follow the
// PyTorch reference ("0.weight", "2.conv1.weight", "2.norm1.bias", ...) so state dicts line up key for key.

import { noGrad } from "../autograd/grad_mode.js";
import { opError } from "../core/errors.js";
import { Conv2d, BatchNorm2d, Flatten, GELU, Linear, MaxPool2d, Module, Sequential } from "../nn/index.js";
import { dirac_ } from "../nn/init.js";
import { fromTypedArray } from "../tensor/create.js";
import { eigh } from "../tensor/eigh.js";
import type { Tensor } from "../tensor/tensor.js";

export const AIRBENCH_WIDTHS: readonly [number, number, number] = [64, 256, 256];
/** 2 × 3 channels × 2 × 2: each whitening eigenvector and its negative. */
export const WHITEN_WIDTH = 24;

/** 3x3 "same" conv without bias, initialised as PyTorch's default and then dirac on its first in-channels outputs. */
function conv3x3(cin: number, cout: number): Conv2d {
  const c = new Conv2d(cin, cout, 3, { padding: "same", bias: false });
  dirac_(c.weight.narrow(0, 0, Math.min(cin, cout)));
  return c;
}

/**
 * BatchNorm as airbench uses it: eps 1e-12, the weight frozen at 1 (only the bias trains). `momentum` is airbench's
 * (the weight of the old running value): PyTorch's momentum is 1 - it.
 */
export function airbenchBatchNorm(c: number, momentum = 0.6): BatchNorm2d {
  const bn = new BatchNorm2d(c, { eps: 1e-12, momentum: 1 - momentum });
  bn.weight!.requiresGrad_(false);
  return bn;
}

export class ConvGroup extends Module {
  readonly conv1: Conv2d;
  readonly pool = new MaxPool2d(2);
  readonly norm1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly norm2: BatchNorm2d;
  readonly activ = new GELU();

  constructor(cin: number, cout: number, bnMomentum = 0.6) {
    super();
    this.conv1 = conv3x3(cin, cout);
    this.norm1 = airbenchBatchNorm(cout, bnMomentum);
    this.conv2 = conv3x3(cout, cout);
    this.norm2 = airbenchBatchNorm(cout, bnMomentum);
  }

  override forward(x: Tensor): Tensor {
    x = this.activ.forward(this.norm1.forward(this.pool.forward(this.conv1.forward(x))));
    return this.activ.forward(this.norm2.forward(this.conv2.forward(x)));
  }
}

/** Multiplies by a constant (airbench's output scale 1/9). */
export class Mul extends Module {
  constructor(readonly scale: number) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.mul(this.scale);
  }
  override extraRepr(): string {
    return `scale=${this.scale}`;
  }
}

export class AirbenchNet extends Sequential {
  constructor(widths: readonly [number, number, number] = AIRBENCH_WIDTHS, bnMomentum = 0.6) {
    super(
      new Conv2d(3, WHITEN_WIDTH, 2, { padding: 0, bias: true }),
      new GELU(),
      new ConvGroup(WHITEN_WIDTH, widths[0], bnMomentum),
      new ConvGroup(widths[0], widths[1], bnMomentum),
      new ConvGroup(widths[1], widths[2], bnMomentum),
      new MaxPool2d(3),
      new Flatten(),
      new Linear(widths[2], 10, { bias: false }),
      new Mul(1 / 9),
    );
    this.whiten.weight.requiresGrad_(false);
  }

  get whiten(): Conv2d {
    return this.at(0) as Conv2d;
  }

  override forward(x: Tensor): Tensor {
    return super.forward(x) as Tensor;
  }
}

/**
 * The uncentred covariance (second moment) of all 2x2 patches (stride 1) of N x 3 x H x W images, 12 x 12 in
 * float64, indexed as the conv weight is: channel, row, column.
 */
export function patchCovariance(images: Tensor, k = 2): Float64Array {
  if (images.dim() !== 4) throw opError("patchCovariance", `expected N x C x H x W images, got ${images.dim()}-D`);
  const [N, C, H, W] = images.shape as [number, number, number, number];
  const d = C * k * k;
  const x = images.to("cpu", "float64").contiguous().toTypedArray() as Float64Array;
  const cov = new Float64Array(d * d);
  const v = new Float64Array(d);
  for (let n = 0; n < N; n++) {
    for (let y = 0; y + k <= H; y++) {
      for (let xx = 0; xx + k <= W; xx++) {
        let j = 0;
        for (let c = 0; c < C; c++) for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) v[j++] = x[((n * C + c) * H + y + dy) * W + xx + dx]!;
        for (let a = 0; a < d; a++) {
          const va = v[a]!;
          for (let b = a; b < d; b++) cov[a * d + b] += va * v[b]!;
        }
      }
    }
  }
  const count = N * (H - k + 1) * (W - k + 1);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= count;
      cov[b * d + a] = cov[a * d + b]!;
    }
  }
  return cov;
}

/**
 * Sets the whitening conv's weight from the patch covariance's eigendecomposition: eigenvectors (largest eigenvalue
 * first) scaled by 1/sqrt(λ + eps), followed by their negatives. Returns the weight set.
 */
export function initWhitening(conv: Conv2d, images: Tensor, eps = 5e-4): Tensor {
  const [out, cin, kh, kw] = conv.weight.shape as [number, number, number, number];
  const d = cin * kh * kw;
  if (kh !== kw || out !== 2 * d) throw opError("initWhitening", `expected a ${2 * d} x ${cin} x k x k conv weight, got [${conv.weight.shape}]`);
  const cov = fromTypedArray(patchCovariance(images, kh), [d, d]);
  const { eigenvalues, eigenvectors } = eigh(cov, "U");
  const L = eigenvalues.toTypedArray() as Float64Array;
  const Q = eigenvectors.toTypedArray() as Float64Array;
  const w = new Float64Array(2 * d * d);
  for (let r = 0; r < d; r++) {
    const col = d - 1 - r; // descending eigenvalue order
    const s = 1 / Math.sqrt(L[col]! + eps);
    for (let j = 0; j < d; j++) {
      w[r * d + j] = Q[j * d + col]! * s;
      w[(r + d) * d + j] = -Q[j * d + col]! * s;
    }
  }
  const weight = fromTypedArray(w, conv.weight.shape).to(conv.weight.device, conv.weight.dtype);
  noGrad(() => conv.weight.copy_(weight));
  return weight;
}
