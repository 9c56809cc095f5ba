// nn.TransformerEncoderLayer and nn.TransformerEncoder (PyTorch 1.13: post-norm by default, normFirst for pre-norm).
import { opError } from "../../core/errors.js";
import type { Tensor } from "../../tensor/tensor.js";
import { gelu, relu } from "../functional.js";
import { noteConsumed } from "../construction.js";
import { Module } from "../module.js";
import { MultiheadAttention } from "./attention.js";
import { ModuleList } from "./container.js";
import { Linear } from "./linear.js";
import { Dropout } from "./misc.js";
import { LayerNorm } from "./normalization.js";

export type Activation = "relu" | "gelu" | ((x: Tensor) => Tensor) | Module;

export interface TransformerEncoderLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: Activation;
  layerNormEps?: number;
  /** Inputs are (N, S, E) instead of (S, N, E). */
  batchFirst?: boolean;
  /** LayerNorm before attention and feed-forward (pre-norm) instead of after each residual sum. */
  normFirst?: boolean;
}

export interface EncoderForwardOptions {
  /** (S, S) or (N * nhead, S, S) attention mask: true (or -inf added) forbids a pair. */
  srcMask?: Tensor | null;
  /** (N, S): true marks padding positions that no query attends to. */
  srcKeyPaddingMask?: Tensor | null;
}

/** Self-attention then a feed-forward block, each with dropout and a residual connection and LayerNorm. */
export class TransformerEncoderLayer extends Module {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  /** A function, or a Module (then registered, and printed, as PyTorch does). */
  activation: ((x: Tensor) => Tensor) | Module;
  readonly normFirst: boolean;
  private readonly config: Required<Omit<TransformerEncoderLayerOptions, "activation">> & { activation: Activation };

  constructor(
    readonly dModel: number,
    readonly nhead: number,
    options: number | TransformerEncoderLayerOptions = {},
  ) {
    super();
    const o = typeof options === "number" ? { dimFeedforward: options } : options;
    const act = o.activation ?? "relu";
    this.config = {
      dimFeedforward: o.dimFeedforward ?? 2048, dropout: o.dropout ?? 0.1, activation: act, layerNormEps: o.layerNormEps ?? 1e-5,
      batchFirst: o.batchFirst ?? false, normFirst: o.normFirst ?? false,
    };
    const c = this.config;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: c.dropout, batchFirst: c.batchFirst });
    this.linear1 = new Linear(dModel, c.dimFeedforward);
    this.dropout = new Dropout(c.dropout);
    this.linear2 = new Linear(c.dimFeedforward, dModel);
    this.normFirst = c.normFirst;
    this.norm1 = new LayerNorm(dModel, { eps: c.layerNormEps });
    this.norm2 = new LayerNorm(dModel, { eps: c.layerNormEps });
    this.dropout1 = new Dropout(c.dropout);
    this.dropout2 = new Dropout(c.dropout);
    if (act === "relu") this.activation = relu;
    else if (act === "gelu") this.activation = (x: Tensor) => gelu(x);
    else if (typeof act === "function" || act instanceof Module) this.activation = act;
    else throw opError("TransformerEncoderLayer", `activation should be "relu" or "gelu", a function or a Module, not ${String(act)}`);
  }

  get selfAttn(): MultiheadAttention {
    return this.self_attn;
  }

  /** A new layer with the same configuration and a copy of this one's weights (PyTorch's deepcopy in TransformerEncoder). */
  clone(): TransformerEncoderLayer {
    if (this.activation instanceof Module) {
      throw opError("TransformerEncoderLayer", "clone() cannot copy an activation Module; pass \"relu\", \"gelu\" or a function");
    }
    const copy = new TransformerEncoderLayer(this.dModel, this.nhead, this.config);
    copy.loadStateDict(this.stateDict());
    copy.train(this.training);
    return copy;
  }

  override forward(src: Tensor, o: EncoderForwardOptions = {}): Tensor {
    let x = src;
    if (this.normFirst) {
      x = x.add(this.saBlock(this.norm1.forward(x), o));
      x = x.add(this.ffBlock(this.norm2.forward(x)));
    } else {
      x = this.norm1.forward(x.add(this.saBlock(x, o)));
      x = this.norm2.forward(x.add(this.ffBlock(x)));
    }
    return x;
  }

  private act(x: Tensor): Tensor {
    return this.activation instanceof Module ? (this.activation.forward(x) as Tensor) : this.activation(x);
  }

  private saBlock(x: Tensor, o: EncoderForwardOptions): Tensor {
    const [y] = this.self_attn.forward(x, x, x, { attnMask: o.srcMask, keyPaddingMask: o.srcKeyPaddingMask, needWeights: false });
    return this.dropout1.forward(y);
  }

  private ffBlock(x: Tensor): Tensor {
    return this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x)))));
  }
}

/** numLayers copies of encoderLayer (same initial weights, as PyTorch's deepcopy gives), then an optional norm. */
export class TransformerEncoder extends Module {
  layers: ModuleList;
  norm: Module | null;

  constructor(
    encoderLayer: TransformerEncoderLayer,
    readonly numLayers: number,
    o: { norm?: Module | null } = {},
  ) {
    super();
    if (!(numLayers >= 1)) throw opError("TransformerEncoder", `numLayers must be at least 1, got ${numLayers}`);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => encoderLayer.clone()));
    noteConsumed(encoderLayer);
    this.norm = o.norm ?? null;
  }

  /** mask / srcKeyPaddingMask as in TransformerEncoderLayer. */
  override forward(src: Tensor, o: { mask?: Tensor | null; srcKeyPaddingMask?: Tensor | null } = {}): Tensor {
    let x = src;
    for (const layer of this.layers) x = (layer as TransformerEncoderLayer).forward(x, { srcMask: o.mask, srcKeyPaddingMask: o.srcKeyPaddingMask });
    return this.norm ? (this.norm.forward(x) as Tensor) : x;
  }
}
