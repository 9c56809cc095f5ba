import { opError } from "../../core/errors.js";
import { noGrad } from "../../autograd/grad_mode.js";
import { empty } from "../../tensor/factories.js";
import type { Tensor } from "../../tensor/tensor.js";
import { embedding } from "../functional_attention.js";
import { normal_ } from "../init.js";
import { Module } from "../module.js";
import { Parameter } from "../parameter.js";

export interface EmbeddingOptions {
  /** Row whose gradient stays zero and which starts at zeros; negative counts from the end. */
  paddingIdx?: number | null;
  /** Initial weights (numEmbeddings, embeddingDim) instead of N(0, 1). */
  weight?: Tensor;
}

/** A lookup table: new Embedding(numEmbeddings, embeddingDim, { paddingIdx }). */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    o: EmbeddingOptions = {},
  ) {
    super();
    let p = o.paddingIdx ?? null;
    if (p !== null) {
      if (p >= numEmbeddings || p < -numEmbeddings) throw opError("Embedding", `paddingIdx must be within numEmbeddings (${numEmbeddings}), got ${p}`);
      if (p < 0) p += numEmbeddings;
    }
    this.paddingIdx = p;
    if (o.weight) {
      if (o.weight.dim() !== 2 || o.weight.shape[0] !== numEmbeddings || o.weight.shape[1] !== embeddingDim) {
        throw opError("Embedding", `weight must have shape [${numEmbeddings}, ${embeddingDim}], got [${o.weight.shape.join(", ")}]`);
      }
      this.weight = new Parameter(o.weight);
    } else {
      this.weight = new Parameter(empty([numEmbeddings, embeddingDim]));
      this.resetParameters();
    }
  }

  /** Embedding.from_pretrained: a table initialised from a 2-D tensor, frozen unless freeze is false. */
  static fromPretrained(embeddings: Tensor, o: { freeze?: boolean; paddingIdx?: number | null } = {}): Embedding {
    if (embeddings.dim() !== 2) throw opError("Embedding.fromPretrained", `Embeddings parameter is expected to be 2-dimensional, got ${embeddings.dim()}-D`);
    const e = new Embedding(embeddings.shape[0], embeddings.shape[1], { weight: embeddings, paddingIdx: o.paddingIdx });
    e.weight.requiresGrad = !(o.freeze ?? true);
    return e;
  }

  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.weight.narrow(0, this.paddingIdx, 1);
      noGrad(() => row.fill_(0));
    }
  }

  override forward(input: Tensor): Tensor {
    return embedding(input, this.weight, { paddingIdx: this.paddingIdx });
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ""}`;
  }
}
