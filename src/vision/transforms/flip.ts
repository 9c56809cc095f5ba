import { defaultGenerator, type Generator } from "../../tensor/random.js";
import { applyStep, identityMap, sizeOf, type Geometric, type GeometricStep, type Image } from "./geometry.js";
import { Transform, registerTransform, type TransformSpec } from "./transform.js";

function reversed(n: number): Int32Array {
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = n - 1 - i;
  return m;
}

/** Mirror left-right with probability p (torchvision.transforms.RandomHorizontalFlip). */
export class RandomHorizontalFlip extends Transform<Image, Image> implements Geometric {
  readonly fill = 0;
  constructor(readonly p = 0.5, readonly generator?: Generator) {
    super();
  }
  outputSize(h: number, w: number): [number, number] {
    return [h, w];
  }
  drawStep(h: number, w: number): GeometricStep {
    const flip = (this.generator ?? defaultGenerator).random() < this.p;
    return { rows: identityMap(h), cols: flip ? reversed(w) : identityMap(w) };
  }
  /** An 8-bit image stays one, a tensor stays a tensor. */
  forward<X extends Image>(x: X): X {
    const [h, w] = sizeOf(x);
    return applyStep(x, this.drawStep(h, w), 0) as X;
  }
  override toSpec(): TransformSpec | null {
    return this.generator ? null : { name: "RandomHorizontalFlip", p: this.p };
  }
  override toString(): string {
    return `RandomHorizontalFlip(p=${this.p})`;
  }
}
registerTransform("RandomHorizontalFlip", (s) => new RandomHorizontalFlip(s["p"] as number));

/** Mirror top-bottom with probability p (torchvision.transforms.RandomVerticalFlip). */
export class RandomVerticalFlip extends Transform<Image, Image> implements Geometric {
  readonly fill = 0;
  constructor(readonly p = 0.5, readonly generator?: Generator) {
    super();
  }
  outputSize(h: number, w: number): [number, number] {
    return [h, w];
  }
  drawStep(h: number, w: number): GeometricStep {
    const flip = (this.generator ?? defaultGenerator).random() < this.p;
    return { rows: flip ? reversed(h) : identityMap(h), cols: identityMap(w) };
  }
  /** An 8-bit image stays one, a tensor stays a tensor. */
  forward<X extends Image>(x: X): X {
    const [h, w] = sizeOf(x);
    return applyStep(x, this.drawStep(h, w), 0) as X;
  }
  override toSpec(): TransformSpec | null {
    return this.generator ? null : { name: "RandomVerticalFlip", p: this.p };
  }
  override toString(): string {
    return `RandomVerticalFlip(p=${this.p})`;
  }
}
registerTransform("RandomVerticalFlip", (s) => new RandomVerticalFlip(s["p"] as number));
