import type { DeviceKernels } from "../backend/device.js";
import { zerosLike } from "../tensor/factories.js";
import type { Tensor } from "../tensor/tensor.js";
import { Optimizer, REQUIRED, type ParamGroupSpec } from "./optimizer.js";

export type SGDOptions = {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
};

/**
 * torch.optim.SGD with PyTorch's exact rule (momentum buffer starts as the first gradient). lr has no default, as
 * in PyTorch: give it in the options, or in every parameter group.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Iterable<Tensor>, o: Partial<SGDOptions> & { lr: number });
  constructor(groups: (ParamGroupSpec<SGDOptions> & { lr: number })[], o?: Partial<SGDOptions>);
  constructor(groups: ParamGroupSpec<SGDOptions>[], o: Partial<SGDOptions> & { lr: number });
  constructor(params: Iterable<Tensor> | ParamGroupSpec<SGDOptions>[], o: Partial<SGDOptions> = {}) {
    const lr: number | typeof REQUIRED = o.lr ?? REQUIRED;
    if (typeof lr === "number" && !(lr >= 0)) throw new Error(`SGD: invalid learning rate ${lr}`);
    const d: { lr: number | typeof REQUIRED } & Omit<SGDOptions, "lr"> = {
      lr,
      momentum: o.momentum ?? 0,
      dampening: o.dampening ?? 0,
      weightDecay: o.weightDecay ?? 0,
      nesterov: o.nesterov ?? false,
      maximize: o.maximize ?? false,
    };
    if (d.momentum < 0) throw new Error(`SGD: invalid momentum value ${d.momentum}`);
    if (d.weightDecay < 0) throw new Error(`SGD: invalid weightDecay value ${d.weightDecay}`);
    if (d.nesterov && (d.momentum <= 0 || d.dampening !== 0)) throw new Error("SGD: nesterov momentum requires a momentum and zero dampening");
    super(params, d);
  }

  protected stepGroup(k: DeviceKernels, params: Tensor[], o: SGDOptions): void {
    const bufs: (Tensor | null)[] = [];
    const first: boolean[] = [];
    for (const p of params) {
      if (o.momentum === 0) {
        bufs.push(null);
        first.push(false);
        continue;
      }
      const s = this.paramState(p);
      const b = s.momentum_buffer as Tensor | undefined;
      first.push(!b);
      if (!b) s.momentum_buffer = zerosLike(p);
      else this.checkDevice(p, b);
      bufs.push(s.momentum_buffer as Tensor);
    }
    k.sgdStep(params, params.map((p) => p.grad!), bufs, o, first);
  }
}
