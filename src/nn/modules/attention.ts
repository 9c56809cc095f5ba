// nn.MultiheadAttention with PyTorch 1.13's parameters (in_proj_weight, in_proj_bias, out_proj), masks and
// returned weights. Field names are PyTorch's snake_case ones because they are the state-dict keys.
import { opError, fmtShape } from "../../core/errors.js";
import { noGrad } from "../../autograd/grad_mode.js";
import { empty, zeros } from "../../tensor/factories.js";
import type { Tensor } from "../../tensor/tensor.js";
import { attention } from "../functional_attention.js";
import { linear } from "../functional.js";
import { xavierUniform_ } from "../init.js";
import { Module } from "../module.js";
import { Parameter } from "../parameter.js";
import { Linear } from "./linear.js";

/** PyTorch's name for MultiheadAttention's output projection (a plain Linear). */
export class NonDynamicallyQuantizableLinear extends Linear {}

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  /** Inputs and outputs are (N, L, E) instead of (L, N, E). */
  batchFirst?: boolean;
  /** Only embedDim (the default) is supported. */
  kdim?: number;
  vdim?: number;
  addBiasKv?: boolean;
  addZeroAttn?: boolean;
}

export interface MultiheadAttentionForwardOptions {
  /** (N, S): true (or a float added to the scores) marks keys to ignore, per batch element. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights as well (default true). */
  needWeights?: boolean;
  /** (L, S) or (N * numHeads, L, S): true marks a forbidden query/key pair; a float mask is added to the scores. */
  attnMask?: Tensor | null;
  /** Average the returned weights over heads (default true): (N, L, S), else (N, numHeads, L, S). */
  averageAttnWeights?: boolean;
}

/** A bool "forbidden" mask as -inf / 0, a float mask as it is. */
function additive(mask: Tensor, like: Tensor, what: string): Tensor {
  if (mask.dtype === "bool") return zeros(mask.shape, { dtype: like.dtype, device: like.device }).maskedFill(mask, -Infinity);
  if (mask.isFloatingPoint()) return mask.to(like.dtype);
  throw opError("MultiheadAttention", `${what} must be bool or floating point, got ${mask.dtype}`);
}

export class MultiheadAttention extends Module {
  in_proj_weight: Parameter;
  in_proj_bias: Parameter | null;
  out_proj: NonDynamicallyQuantizableLinear;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    o: MultiheadAttentionOptions = {},
  ) {
    super();
    if (embedDim % numHeads !== 0) throw opError("MultiheadAttention", `embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    for (const [k, v] of [["kdim", o.kdim], ["vdim", o.vdim]] as const) {
      if (v !== undefined && v !== embedDim) throw opError("MultiheadAttention", `${k} different from embedDim is not supported yet (got ${v}, embedDim ${embedDim})`);
    }
    if (o.addBiasKv || o.addZeroAttn) throw opError("MultiheadAttention", "addBiasKv and addZeroAttn are not supported yet");
    this.headDim = embedDim / numHeads;
    this.dropout = o.dropout ?? 0;
    this.batchFirst = o.batchFirst ?? false;
    const bias = o.bias ?? true;
    this.in_proj_weight = new Parameter(empty([3 * embedDim, embedDim]));
    this.in_proj_bias = bias ? new Parameter(empty([3 * embedDim])) : null;
    this.out_proj = new NonDynamicallyQuantizableLinear(embedDim, embedDim, { bias });
    this.resetParameters();
  }

  get inProjWeight(): Parameter {
    return this.in_proj_weight;
  }
  get inProjBias(): Parameter | null {
    return this.in_proj_bias;
  }
  get outProj(): NonDynamicallyQuantizableLinear {
    return this.out_proj;
  }

  resetParameters(): void {
    xavierUniform_(this.in_proj_weight);
    noGrad(() => {
      this.in_proj_bias?.zero_();
      this.out_proj.bias?.zero_();
    });
  }

  /** Returns [output, weights]; weights is null when needWeights is false. */
  override forward(query: Tensor, key: Tensor, value: Tensor, o: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const unbatched = query.dim() === 2;
    if (!unbatched && query.dim() !== 3) {
      throw opError("MultiheadAttention", `expected query of shape (L, E), (L, N, E) or (N, L, E) with batchFirst, got ${fmtShape(query.shape)}`);
    }
    // Work in (N, L, E).
    const toNLE = (t: Tensor) => (unbatched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose(0, 1));
    const [q0, k0, v0] = [toNLE(query), toNLE(key), toNLE(value)];
    const E = this.embedDim;
    if (q0.shape[2] !== E) throw opError("MultiheadAttention", `was expecting embedding dimension of ${E}, but got ${q0.shape[2]}`);
    if (k0.shape[1] !== v0.shape[1] || k0.shape[0] !== q0.shape[0] || v0.shape[0] !== q0.shape[0]) {
      throw opError("MultiheadAttention", `key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must match the query's batch and each other's length`);
    }
    const [N, L] = q0.shape;
    const S = k0.shape[1];
    const H = this.numHeads;
    const w = this.in_proj_weight.chunk(3, 0);
    const b = this.in_proj_bias ? this.in_proj_bias.chunk(3, 0) : [null, null, null];
    const heads = (t: Tensor, len: number) => t.reshape([N, len, H, this.headDim]).transpose(1, 2);
    const q = heads(linear(q0, w[0], b[0]), L);
    const k = heads(linear(k0, w[1], b[1]), S);
    const v = heads(linear(v0, w[2], b[2]), S);

    let mask: Tensor | null = null;
    if (o.attnMask) {
      const m = o.attnMask;
      if (m.dim() === 2) {
        if (m.shape[0] !== L || m.shape[1] !== S) throw opError("MultiheadAttention", `The shape of the 2D attn_mask is ${fmtShape(m.shape)}, but should be ${fmtShape([L, S])}.`);
        mask = additive(m, q, "attnMask");
      } else if (m.dim() === 3) {
        if (m.shape[0] !== N * H || m.shape[1] !== L || m.shape[2] !== S) {
          throw opError("MultiheadAttention", `The shape of the 3D attn_mask is ${fmtShape(m.shape)}, but should be ${fmtShape([N * H, L, S])}.`);
        }
        mask = additive(m, q, "attnMask").reshape([N, H, L, S]);
      } else throw opError("MultiheadAttention", `attn_mask's dimension ${m.dim()} is not supported`);
    }
    if (o.keyPaddingMask) {
      const kp = o.keyPaddingMask;
      const expect = unbatched ? [S] : [N, S];
      if (fmtShape(kp.shape) !== fmtShape(expect)) throw opError("MultiheadAttention", `expecting key_padding_mask shape of ${fmtShape(expect)}, but got ${fmtShape(kp.shape)}`);
      const add = additive(kp, q, "keyPaddingMask").reshape([N, 1, 1, S]);
      mask = mask ? mask.add(add) : add;
    }
    const p = this.training ? this.dropout : 0;
    const { output, weights } = attention(q, k, v, { attnMask: mask, dropoutP: p });
    let out = this.out_proj.forward(output.transpose(1, 2).reshape([N, L, E]));
    out = unbatched ? out.squeeze(0) : this.batchFirst ? out : out.transpose(0, 1);
    if (!(o.needWeights ?? true)) return [out, null];
    let wts = (o.averageAttnWeights ?? true) ? weights.mean(1) : weights;
    if (unbatched) wts = wts.squeeze(0);
    return [out, wts];
  }
}

