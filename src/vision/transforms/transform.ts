// The transform protocol: an object with forward(x), or a plain function. Transforms that can
// describe themselves as data (toSpec) can be rebuilt inside DataLoader worker threads.

export interface TransformSpec {
  name: string;
  [key: string]: unknown;
}

export abstract class Transform<I = unknown, O = unknown> {
  abstract forward(x: I): O;
  /** A structured-clonable description, or null when this transform can't be rebuilt elsewhere. */
  toSpec(): TransformSpec | null {
    return null;
  }
}

/**
 * A transform object or a function, as datasets accept them (torchvision transforms are callables). Without type
 * arguments it is any transform: one whose input is unknown (never, by contravariance) and output unknown.
 */
export type TransformLike<I = never, O = unknown> = Transform<I, O> | ((x: I) => O);

export function applyTransform<I, O>(t: TransformLike<I, O>, x: I): O {
  return typeof t === "function" ? t(x) : t.forward(x);
}

type Factory = (spec: TransformSpec) => Transform;
const FACTORIES = new Map<string, Factory>();

/** Each transform module registers how to rebuild itself from its spec. */
export function registerTransform(name: string, factory: Factory): void {
  FACTORIES.set(name, factory);
}

export function transformFromSpec(spec: TransformSpec): Transform {
  const f = FACTORIES.get(spec.name);
  if (!f) throw new Error(`transform '${spec.name}' cannot be rebuilt from a spec (not registered)`);
  return f(spec);
}

/** The spec of a TransformLike, or a reason why there is none. */
export function specOf(t: TransformLike | null | undefined): TransformSpec | null | { unsupported: string } {
  if (t == null) return null;
  if (typeof t === "function") return { unsupported: `a plain function (${t.name || "anonymous"})` };
  const s = t.toSpec();
  if (s) return s;
  // Name the part that can't be described, not the Compose around it.
  const parts = (t as { transforms?: unknown }).transforms;
  if (Array.isArray(parts)) {
    for (const p of parts as TransformLike[]) {
      const ps = specOf(p);
      if (ps && "unsupported" in ps) return ps;
    }
  }
  return { unsupported: t.constructor.name };
}
