import { Transform, applyTransform, registerTransform, transformFromSpec, type TransformLike, type TransformSpec } from "./transform.js";

/**
 * Applies transforms in order (torchvision.transforms.Compose). Its output type is the last transform's:
 * `new Compose([new ToTensor(), new Normalize(...)])` is a Compose<Tensor>.
 */
export class Compose<O = unknown> extends Transform<unknown, O> {
  readonly transforms: TransformLike[];
  constructor(transforms: readonly [...TransformLike[], TransformLike<never, O>]) {
    super();
    this.transforms = [...transforms];
  }
  forward(x: unknown): O {
    let y = x;
    for (const t of this.transforms) y = applyTransform(t as TransformLike<unknown, unknown>, y);
    return y as O;
  }
  override toSpec(): TransformSpec | null {
    const parts: TransformSpec[] = [];
    for (const t of this.transforms) {
      const s = typeof t === "function" ? null : t.toSpec();
      if (!s) return null;
      parts.push(s);
    }
    return { name: "Compose", transforms: parts };
  }
  override toString(): string {
    return `Compose(\n${this.transforms.map((t) => `    ${String(t)}`).join("\n")}\n)`;
  }
}
registerTransform("Compose", (s) => new Compose((s["transforms"] as TransformSpec[]).map(transformFromSpec) as [...TransformLike[], TransformLike]));

/** Wraps a function as a transform. Functions can't cross into worker threads, so neither can Lambda. */
export class Lambda<I = unknown, O = unknown> extends Transform<I, O> {
  constructor(readonly fn: (x: I) => O) {
    super();
    if (typeof fn !== "function") throw new TypeError("Lambda: argument should be a function");
  }
  forward(x: I): O {
    return this.fn(x);
  }
  override toString(): string {
    return "Lambda()";
  }
}
