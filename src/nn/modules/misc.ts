import { opError } from "../../core/errors.js";
import { ones, zeros } from "../../tensor/factories.js";
import type { Tensor } from "../../tensor/tensor.js";
import { batchNorm, dropout } from "../functional.js";
import { Module } from "../module.js";
import { Parameter } from "../parameter.js";
import { pyFloat } from "./py_repr.js";
import { noGrad } from "../../autograd/grad_mode.js";

export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p > 1) throw opError("Dropout", `dropout probability has to be between 0 and 1, but got ${p}`);
  }
  override forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

export interface BatchNormOptions {
  eps?: number;
  /** null: cumulative moving average, like PyTorch's momentum=None. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Batch norm over channel dim 1; BatchNorm1d/2d differ only in the input rank they accept. */
abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly trackRunningStats: boolean;
  protected abstract readonly ranks: readonly number[];

  constructor(
    readonly numFeatures: number,
    o: BatchNormOptions = {},
  ) {
    super();
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.trackRunningStats = o.trackRunningStats ?? true;
    const affine = o.affine ?? true;
    this.weight = affine ? new Parameter(ones([numFeatures])) : null;
    this.bias = affine ? new Parameter(zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("running_mean", zeros([numFeatures]));
      this.registerBuffer("running_var", ones([numFeatures]));
      this.registerBuffer("num_batches_tracked", zeros([], { dtype: "int64" }));
    }
  }

  get runningMean(): Tensor | null {
    return this.getBuffer("running_mean");
  }
  get runningVar(): Tensor | null {
    return this.getBuffer("running_var");
  }
  get numBatchesTracked(): Tensor | null {
    return this.getBuffer("num_batches_tracked");
  }

  override forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.dim())) {
      throw opError(this.constructor.name, `expected ${this.ranks.join("D or ")}D input, got ${x.dim()}D input`);
    }
    let momentum = this.momentum ?? 0;
    const useBatchStats = this.training || !this.trackRunningStats;
    if (this.training && this.trackRunningStats) {
      const n = this.numBatchesTracked!;
      noGrad(() => n.add_(1));
      if (this.momentum === null) momentum = 1 / n.item();
    }
    return batchNorm(x, useBatchStats && !this.training ? null : this.runningMean, useBatchStats && !this.training ? null : this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? "None" : pyFloat(this.momentum)}, affine=${this.weight ? "True" : "False"}, track_running_stats=${this.trackRunningStats ? "True" : "False"}`;
  }
}

export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4] as const;
}

export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3] as const;
}

