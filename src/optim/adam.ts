import type { DeviceKernels } from "../backend/device.js";
import { zerosLike } from "../tensor/factories.js";
import type { Tensor } from "../tensor/tensor.js";
import { Optimizer, type ParamsArg } from "./optimizer.js";

export type AdamOptions = {
  lr: number;
  betas: number[];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
};

abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected constructor(params: ParamsArg<AdamOptions>, o: Partial<AdamOptions>, defaultWd: number) {
    const d: AdamOptions = {
      lr: o.lr ?? 1e-3,
      betas: o.betas ?? [0.9, 0.999],
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? defaultWd,
      amsgrad: o.amsgrad ?? false,
      maximize: o.maximize ?? false,
    };
    if (d.lr < 0) throw new Error(`invalid learning rate ${d.lr}`);
    if (d.betas.length !== 2 || d.betas.some((b) => b < 0 || b >= 1)) throw new Error(`invalid betas [${d.betas}]: each must be in [0, 1)`);
    if (d.eps < 0) throw new Error(`invalid epsilon ${d.eps}`);
    super(params, d);
  }

  protected stepGroup(k: DeviceKernels, params: Tensor[], o: AdamOptions): void {
    const avg: Tensor[] = [];
    const sq: Tensor[] = [];
    const mx: (Tensor | null)[] = [];
    const steps: number[] = [];
    for (const p of params) {
      const s = this.paramState(p);
      if (s.step === undefined) {
        s.step = 0;
        s.exp_avg = zerosLike(p);
        s.exp_avg_sq = zerosLike(p);
        if (o.amsgrad) s.max_exp_avg_sq = zerosLike(p);
      }
      this.checkDevice(p, s.exp_avg as Tensor);
      this.checkDevice(p, s.exp_avg_sq as Tensor);
      s.step = (s.step as number) + 1;
      steps.push(s.step);
      avg.push(s.exp_avg as Tensor);
      sq.push(s.exp_avg_sq as Tensor);
      mx.push((s.max_exp_avg_sq as Tensor | undefined) ?? null);
    }
    k.adamStep(params, params.map((p) => p.grad!), avg, sq, mx, steps, {
      lr: o.lr,
      beta1: o.betas[0],
      beta2: o.betas[1],
      eps: o.eps,
      weightDecay: o.weightDecay,
      decoupled: this.decoupled,
      amsgrad: o.amsgrad,
      maximize: o.maximize,
    });
  }
}

export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: ParamsArg<AdamOptions>, o: Partial<AdamOptions> = {}) {
    super(params, o, 0);
  }
}

/** Adam with decoupled weight decay (default 1e-2, as in PyTorch). */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: ParamsArg<AdamOptions>, o: Partial<AdamOptions> = {}) {
    super(params, o, 1e-2);
  }
}
