import type { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";

/** Runs its children in order: new Sequential(new Conv2d(3, 6, 5), new ReLU(), ...). */
export class Sequential extends Module {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.children().length;
  }

  at(i: number): Module {
    const kids = this.children();
    const m = kids[i < 0 ? i + kids.length : i];
    if (!m) throw new RangeError(`index ${i} is out of range for Sequential of length ${kids.length}`);
    return m;
  }

  append(m: Module): this {
    this.registerModule(String(this.length), m);
    return this;
  }

  /** Each module in turn; the usual Sequential of layers maps a Tensor to a Tensor. */
  override forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.children()) y = m.forward(y) as Tensor;
    return y;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }
}

/** Holds submodules in a list (registered as "0", "1", ...); it has no forward of its own. */
export class ModuleList extends Module {
  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m) => this.append(m));
  }
  get length(): number {
    return this.children().length;
  }
  at(i: number): Module {
    return this.children()[i < 0 ? i + this.length : i];
  }
  append(m: Module): this {
    this.registerModule(String(this.length), m);
    return this;
  }
  override forward(): never {
    throw new Error("ModuleList has no forward(); iterate over it and call its modules");
  }
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }
}
