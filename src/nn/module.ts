import { noGrad } from "../autograd/grad_mode.js";
import { fmtShape } from "../core/errors.js";
import { quoteKeys } from "../core/key_list.js";
import { DTYPES, type DType } from "../core/dtype.js";
import { sameShape } from "../core/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { Parameter } from "./parameter.js";
import { keepUnchecked, noteConstruction, takeBuilt } from "./construction.js";

export type StateDict = Record<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

interface BufferEntry {
  tensor: Tensor | null;
  persistent: boolean;
}

/**
 * Base class of every layer. Submodules and Parameters assigned to fields register themselves, in declaration order,
 * by being found among the instance's own properties (JavaScript has no __setattr__ hook); buffers are registered
 * explicitly with registerBuffer, under PyTorch's names, so state dicts match PyTorch key for key.
 */
export abstract class Module {
  training = true;
  private readonly buffersMap = new Map<string, BufferEntry>();

  constructor() {
    noteConstruction(this, true, Module);
  }

  abstract forward(...args: unknown[]): unknown;

  /** Same as forward, typed as the subclass's forward (a Net's `forward(x: Tensor): Tensor` makes call() a Tensor). */
  call(...args: Parameters<this["forward"]>): ReturnType<this["forward"]> {
    return this.forward(...args) as ReturnType<this["forward"]>;
  }

  protected registerBuffer(name: string, tensor: Tensor | null, persistent = true): void {
    this.buffersMap.set(name, { tensor, persistent });
  }

  /** Replaces a registered buffer's tensor (e.g. after a dtype change). */
  protected setBuffer(name: string, tensor: Tensor | null): void {
    const e = this.buffersMap.get(name);
    if (!e) throw new Error(`${this.constructor.name} has no buffer '${name}'`);
    e.tensor = tensor;
  }

  protected getBuffer(name: string): Tensor | null {
    return this.buffersMap.get(name)?.tensor ?? null;
  }

  registerModule(name: string, module: Module): void {
    (this as unknown as Record<string, unknown>)[name] = module;
  }

  registerParameter(name: string, param: Parameter | null): void {
    (this as unknown as Record<string, unknown>)[name] = param;
  }

  /**
   * Refuses, at the first enumeration after the constructor returned, a Module or Parameter that the constructor built
   * but that this module can't reach (a #private field, a non-enumerable property, a plain array): it would be left
   * out of parameters(), stateDict() and to() without a word.
   */
  private checkConstruction(): void {
    const list = takeBuilt(this);
    if (!list) return;
    const mods = new Set<object>(this.modules());
    const params = new Set<object>(this.parameters());
    const lost = list.filter((o) => (o instanceof Module && !mods.has(o)) || (o instanceof Parameter && !params.has(o)));
    if (!lost.length) return;
    keepUnchecked(this, list);
    const what = lost.map((o) => (o instanceof Parameter ? `a Parameter of shape ${fmtShape(o.shape)}` : `a ${o.constructor.name}`));
    throw new Error(
      `${this.constructor.name} built ${what.join(", ")} in its constructor that nn.Module cannot see: it is held in a ` +
        "#private field, a non-enumerable property or a plain array/Map, so its parameters would be missing from " +
        "parameters(), stateDict() and to(). Hold it in a public field (fc = new nn.Linear(...)), put modules in an " +
        'nn.ModuleList or nn.Sequential, or register it: this.registerModule("fc", module) / this.registerParameter("w", param).',
    );
  }

  *namedChildren(): Generator<[string, Module]> {
    this.checkConstruction();
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) yield [k, v];
  }

  children(): Module[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  *namedModules(prefix = ""): Generator<[string, Module]> {
    const seen = new Set<Module>();
    function* walk(m: Module, p: string): Generator<[string, Module]> {
      if (seen.has(m)) return;
      seen.add(m);
      yield [p, m];
      for (const [k, c] of m.namedChildren()) yield* walk(c, p ? `${p}.${k}` : k);
    }
    yield* walk(this, prefix);
  }

  modules(): Module[] {
    return [...this.namedModules()].map(([, m]) => m);
  }

  *ownParameters(): Generator<[string, Parameter]> {
    this.checkConstruction();
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) yield [k, v];
  }

  namedParameters(prefix = "", recurse = true): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    const mods: [string, Module][] = recurse ? [...this.namedModules(prefix)] : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([mp ? `${mp}.${k}` : k, p]);
      }
    }
    return out;
  }

  parameters(recurse = true): Parameter[] {
    return this.namedParameters("", recurse).map(([, p]) => p);
  }

  namedBuffers(prefix = "", recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const mods: [string, Module][] = recurse ? [...this.namedModules(prefix)] : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [k, e] of m.buffersMap) if (e.tensor) out.push([mp ? `${mp}.${k}` : k, e.tensor]);
    }
    return out;
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers("", recurse).map(([, b]) => b);
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  requiresGrad_(on = true): this {
    for (const p of this.parameters()) p.requiresGrad_(on);
    return this;
  }

  /** Clears gradients (to null by default, as PyTorch 2 does; setToNone=false zeroes them in place). */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (setToNone) p.grad = null;
      else noGrad(() => p.grad!.zero_());
    }
  }

  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Moves or casts parameters and buffers: `.to("cuda:0")`, `.to("meta")`, `.to(torch.float64)`. Parameters change in
   * place (PyTorch's `param.data = ...`): the same Parameter objects now hold the moved values, so an optimizer built
   * before `.to()` keeps training them. Integer buffers keep their dtype under a dtype cast.
   */
  to(target: string | DType | { toString(): string }): this {
    const spec = String(target);
    const isDtype = (DTYPES as readonly string[]).includes(spec);
    noGrad(() => {
      for (const m of this.modules()) {
        for (const [, p] of m.ownParameters()) {
          const moved = p.to(spec);
          if (moved === p) continue;
          p.data = moved;
          if (p.grad) p.grad = p.grad.to(spec);
        }
        for (const e of m.buffersMap.values()) {
          if (e.tensor && (!isDtype || e.tensor.isFloatingPoint())) e.tensor = e.tensor.to(spec);
        }
      }
    });
    return this;
  }

  double(): this {
    return this.to("float64");
  }

  float(): this {
    return this.to("float32");
  }

  cpu(): this {
    return this.to("cpu");
  }

  cuda(index = 0): this {
    return this.to(`cuda:${index}`);
  }

  /** Parameters then persistent buffers, module by module, under PyTorch's key names. */
  stateDict(o: { keepVars?: boolean } = {}): StateDict {
    const out: StateDict = {};
    for (const [mp, m] of this.namedModules()) {
      const pre = mp ? `${mp}.` : "";
      for (const [k, p] of m.ownParameters()) out[pre + k] = o.keepVars ? p : p.detach();
      for (const [k, e] of m.buffersMap) if (e.tensor && e.persistent) out[pre + k] = o.keepVars ? e.tensor : e.tensor.detach();
    }
    return out;
  }

  loadStateDict(sd: StateDict, o: { strict?: boolean } = {}): LoadResult {
    const strict = o.strict ?? true;
    const own = this.stateDict({ keepVars: true });
    // Own keys only: "constructor" or "__proto__" in a loaded dict are keys like any other, not inherited members.
    const missingKeys = Object.keys(own).filter((k) => !Object.hasOwn(sd, k));
    const unexpectedKeys = Object.keys(sd).filter((k) => !Object.hasOwn(own, k));
    const errors: string[] = [];
    if (strict && unexpectedKeys.length) errors.push(`Unexpected key(s) in state_dict: ${quoteKeys(unexpectedKeys)}.`);
    if (strict && missingKeys.length) errors.push(`Missing key(s) in state_dict: ${quoteKeys(missingKeys)}.`);
    for (const [k, dst] of Object.entries(own)) {
      const src = Object.hasOwn(sd, k) ? sd[k] : undefined;
      if (!src) continue;
      if (!(src instanceof Tensor)) {
        errors.push(`While copying the parameter named "${k}", expected a Tensor but got ${typeof src}.`);
      } else if (!sameShape(src.shape, dst.shape)) {
        errors.push(
          `size mismatch for ${k}: copying a param with shape ${fmtShape(src.shape)} from checkpoint, the shape in ` +
            `current model is ${fmtShape(dst.shape)}.`,
        );
      }
    }
    if (errors.length) {
      throw new Error(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${errors.join("\n\t")}`);
    }
    noGrad(() => {
      for (const [k, dst] of Object.entries(own)) if (sd[k]) dst.copy_(sd[k]);
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Extra text inside this module's line when printed, like PyTorch's extra_repr. */
  extraRepr(): string {
    return "";
  }

  toString(): string {
    const kids = [...this.namedChildren()];
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const lines = kids.map(([k, m]) => `  (${k}): ${m.toString().split("\n").join("\n  ")}`);
    return `${head}\n${lines.join("\n")}\n)`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
