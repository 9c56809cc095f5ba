import { noGrad } from "../autograd/grad_mode.js";
import type { Tensor } from "../tensor/tensor.js";
import { deviceMismatch } from "../tensor/dispatch.js";
import type { DeviceKernels } from "../backend/device.js";

export type Hyper = Record<string, number | boolean | number[] | null>;

/**
 * One parameter group: its parameters and its hyper-parameters as own properties, as in PyTorch
 * (`opt.paramGroups[0].lr = 0.01` sets what the next step uses). `options` is the same group seen as its
 * hyper-parameters (kept for code written before groups carried them directly).
 */
export type ParamGroup<H extends Hyper = Hyper> = string extends keyof H
  ? { params: Tensor[]; readonly options: H; [hyper: string]: unknown }
  : H & { params: Tensor[]; readonly options: H };

/** A group as handed to the constructor or addParamGroup: its parameters and any hyper-parameters to override. */
export type ParamGroupSpec<H extends Hyper = Hyper> = { params: Iterable<Tensor> } & Partial<H>;

export type ParamState = Record<string, Tensor | number>;

export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: (Hyper & { params: number[] })[];
}

export type ParamsArg<H extends Hyper> = Iterable<Tensor> | ParamGroupSpec<H>[];

/** PyTorch's `required` marker: a default no group may leave out (SGD's lr). */
export const REQUIRED: unique symbol = Symbol("required");

/**
 * Holds parameter groups and per-parameter state. Subclasses implement stepGroup, which hands every parameter of a
 * group to one optimizer kernel call.
 */
export abstract class Optimizer<H extends Hyper = Hyper> {
  readonly paramGroups: ParamGroup<H>[] = [];
  readonly state = new Map<Tensor, ParamState>();

  readonly defaults: H;

  /** `defaults` entries set to REQUIRED must be given by every group. */
  protected constructor(params: ParamsArg<H>, defaults: { [K in keyof H]: H[K] | typeof REQUIRED }) {
    this.defaults = defaults as H;
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new Error(`${this.constructor.name} got an empty parameter list`);
    const isGroup = (v: unknown): v is { params: Iterable<Tensor> } => typeof v === "object" && v !== null && "params" in v && !("storage" in v);
    if (isGroup(list[0])) for (const g of list as ParamGroupSpec<H>[]) this.addParamGroup(g);
    else this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupSpec<H>);
  }

  addParamGroup(group: ParamGroupSpec<H>): void {
    const { params, ...rest } = group;
    if (params === undefined || params === null || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== "function") {
      throw new Error(`${this.constructor.name}: a parameter group needs "params", an iterable of tensors`);
    }
    const ps = [...params];
    for (const p of ps) {
      if (!p.isLeaf) throw new Error("can't optimize a non-leaf Tensor");
      if (this.paramGroups.some((g) => g.params.includes(p))) throw new Error("some parameters appear in more than one parameter group");
    }
    const g: Record<string, unknown> = { params: ps };
    for (const [k, v] of Object.entries(this.defaults) as [string, unknown][]) {
      const given = (rest as Record<string, unknown>)[k];
      if (given === undefined && v === REQUIRED) {
        throw new Error(`${this.constructor.name}: parameter group didn't specify a value of required optimization parameter ${k}`);
      }
      g[k] = given === undefined ? v : given;
    }
    for (const [k, v] of Object.entries(rest)) if (v !== undefined && !(k in g)) g[k] = v;
    Object.defineProperty(g, "options", { get: () => g, enumerable: false });
    this.paramGroups.push(g as ParamGroup<H>);
  }

  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        if (setToNone) p.grad = null;
        else noGrad(() => p.grad!.zero_());
      }
    }
  }

  step(closure?: () => Tensor): Tensor | undefined {
    const loss = closure ? closure() : undefined;
    noGrad(() => {
      for (const g of this.paramGroups) {
        const ps: Tensor[] = [];
        let mixed = false;
        for (const p of g.params) {
          // Frozen parameters (requiresGrad_(false)) are skipped even when a gradient was left on them.
          if (!p.grad || !p.requiresGrad) continue;
          if (!p.isContiguous() || !p.grad.isContiguous()) throw new Error(`${this.constructor.name}: parameters and gradients must be contiguous`);
          this.checkDevice(p, p.grad);
          if (ps.length && p.storage.device !== ps[0]!.storage.device) mixed = true;
          ps.push(p);
        }
        if (ps.length === 0) continue;
        // One kernel call per device: a group may hold parameters of several devices, as in PyTorch.
        const devices = mixed ? [...new Set(ps.map((p) => p.storage.device))] : [ps[0]!.storage.device];
        for (const dev of devices) {
          const mine = mixed ? ps.filter((p) => p.storage.device === dev) : ps;
          this.stepGroup(dev.kernels, mine, g.options);
          for (const p of mine) p.storage.version++;
        }
      }
    });
    return loss;
  }

  protected abstract stepGroup(k: DeviceKernels, params: Tensor[], o: H): void;

  /** A gradient or state tensor must live on its parameter's device (PyTorch's message, naming both). */
  protected checkDevice(p: Tensor, t: Tensor): void {
    if (t.storage.device !== p.storage.device) throw deviceMismatch(`${this.constructor.name}.step`, p.device, t.device);
  }

  protected paramState(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** Parameters are named by their index across groups, as in PyTorch. */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const paramGroups: OptimizerStateDict["paramGroups"] = [];
    let i = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) state[i] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === "number" ? v : v.clone()]));
        ids.push(i++);
      }
      paramGroups.push({ ...(g as Hyper), params: ids });
    }
    return { state, paramGroups };
  }

  loadStateDict(sd: OptimizerStateDict): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`loaded state dict has ${sd.paramGroups.length} parameter groups; this optimizer has ${this.paramGroups.length}`);
    }
    sd.paramGroups.forEach((sg, gi) => {
      if (sg.params.length !== this.paramGroups[gi].params.length) {
        throw new Error(`loaded state dict contains a parameter group (${gi}) that doesn't match the size of this optimizer's group`);
      }
    });
    this.state.clear();
    sd.paramGroups.forEach((sg, gi) => {
      const g = this.paramGroups[gi];
      const { params: ids, ...opts } = sg;
      Object.assign(g, opts);
      ids.forEach((id, j) => {
        const s = sd.state[id];
        const p = g.params[j];
        if (!s) return;
        const copy: ParamState = {};
        for (const [k, v] of Object.entries(s)) {
          if (typeof v === "number") copy[k] = v;
          else {
            if (v.shape.join() !== p.shape.join()) {
              throw new Error(`optimizer state '${k}' for parameter ${id} has shape [${v.shape}] but the parameter has shape [${p.shape}]`);
            }
            // Like PyTorch, state follows its parameter's device and dtype.
            const moved = v.to(p.device, p.dtype);
            copy[k] = moved === v ? v.clone() : moved;
          }
        }
        this.state.set(p, copy);
      });
    });
  }
}
