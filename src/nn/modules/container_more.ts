// ModuleDict and ParameterList: containers whose entries register under their keys ("0", "1", ... for lists).
import { Module } from "../module.js";
import { Parameter } from "../parameter.js";
import type { Tensor } from "../../tensor/tensor.js";

/** A key must not shadow a member of the container (its methods, training, ...), as PyTorch's add_module checks. */
function checkKey(owner: Module, key: string, kind: string): void {
  if (key === "" || key.includes(".")) throw new Error(`${kind} key can't be empty or contain ".", got "${key}"`);
  const cur: unknown = (owner as unknown as Record<string, unknown>)[key];
  if (key in owner && !(cur instanceof Module) && !(cur instanceof Parameter)) {
    throw new Error(`attribute '${key}' already exists on ${owner.constructor.name}; pick another key`);
  }
}

/** Holds submodules by name, in insertion order; state-dict keys are "<key>.<param>", as in PyTorch. */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> | Iterable<[string, Module]> = {}) {
    super();
    this.update(modules);
  }
  set(key: string, m: Module): this {
    checkKey(this, key, "ModuleDict");
    this.registerModule(key, m);
    return this;
  }
  get(key: string): Module | undefined {
    return this.has(key) ? ((this as unknown as Record<string, Module>)[key]) : undefined;
  }
  has(key: string): boolean {
    return this.keys().includes(key);
  }
  delete(key: string): boolean {
    if (!this.has(key)) return false;
    delete (this as unknown as Record<string, unknown>)[key];
    return true;
  }
  update(modules: Record<string, Module> | Iterable<[string, Module]>): this {
    const entries = Symbol.iterator in modules ? [...(modules as Iterable<[string, Module]>)] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
    return this;
  }
  keys(): string[] {
    return [...this.namedChildren()].map(([k]) => k);
  }
  values(): Module[] {
    return this.children();
  }
  items(): [string, Module][] {
    return [...this.namedChildren()];
  }
  get size(): number {
    return this.keys().length;
  }
  override forward(): never {
    throw new Error("ModuleDict has no forward(); look modules up with get(key) and call them");
  }
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }
}

/** Holds parameters in a list, registered as "0", "1", ...; plain tensors are wrapped in Parameters. */
export class ParameterList extends Module {
  constructor(params: Iterable<Tensor> = []) {
    super();
    for (const p of params) this.append(p);
  }
  get length(): number {
    return [...this.ownParameters()].length;
  }
  at(i: number): Parameter {
    const ps = [...this.ownParameters()].map(([, p]) => p);
    const p = ps[i < 0 ? i + ps.length : i];
    if (!p) throw new RangeError(`index ${i} is out of range for ParameterList of length ${ps.length}`);
    return p;
  }
  append(p: Tensor): this {
    this.registerParameter(String(this.length), p instanceof Parameter ? p : new Parameter(p));
    return this;
  }
  extend(ps: Iterable<Tensor>): this {
    for (const p of ps) this.append(p);
    return this;
  }
  override forward(): never {
    throw new Error("ParameterList has no forward(); index it with at(i)");
  }
  [Symbol.iterator](): Iterator<Parameter> {
    return [...this.ownParameters()].map(([, p]) => p)[Symbol.iterator]();
  }
  override toString(): string {
    const lines = [...this.ownParameters()].map(
      ([k, p]) => `    (${k}): Parameter containing: [torch.${p.dtype} of size ${p.shape.length ? p.shape.join("x") : ""}]`,
    );
    return lines.length ? `ParameterList(\n${lines.join("\n")}\n)` : "ParameterList()";
  }
}
