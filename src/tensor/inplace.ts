import { isGradEnabled } from "../autograd/grad_mode.js";
import { numelOf } from "../core/shape.js";
import { kernelsFor, needsGrad, record, sameDevice } from "./dispatch.js";
import { canCast, resultTypeOf, type DType } from "../core/dtype.js";
import { opError } from "../core/errors.js";
import { binaryOps, type BinaryName } from "../ops/binary.js";
import { resultType, scalarOperand, sumTo } from "./elementwise.js";
import { fromHost } from "./create.js";
import { copyAcross } from "./convert.js";
import { expandTo } from "./movement.js";
import { fillNormal, fillUniform } from "./random.js";
import type { Tensor, TensorOrScalar } from "./tensor.js";

function checkWritable(self: Tensor, tracked: boolean): void {
  if (isGradEnabled() && self.requiresGrad && self.isLeaf) {
    throw new Error(
      "a leaf Variable that requires grad is being used in an in-place operation. Wrap parameter updates in " +
        "torch.noGrad(() => ...), or use an out-of-place op.",
    );
  }
  if (tracked && self.base !== null) {
    throw new Error(
      "in-place operations on views of tensors that require grad are not supported yet; use the out-of-place op " +
        "(e.g. y = x.add(1) instead of x.add_(1))",
    );
  }
}

/**
 * Runs an out-of-place op and writes its result into self. When autograd tracks it, the op reads a clone of self
 * (nodes that saved the old self must not see the new values) and self takes over the op's history.
 */
export function apply<T extends Tensor>(self: T, op: (s: Tensor) => Tensor, others: (Tensor | undefined)[] = []): T {
  const tracked = needsGrad(self, others[0], others[1]);
  checkWritable(self, tracked);
  const result = op(tracked ? self.clone() : self);
  kernelsFor(self).copy(numelOf(result.shape) === numelOf(self.shape) ? result.reshape(self.shape) : expandTo(result, self.shape), self);
  self.storage.version++;
  if (tracked) {
    self.gradFn = result.gradFn;
    self.requiresGrad = result.requiresGrad;
  }
  return self;
}

/**
 * self op= other. Without autograd the kernel writes straight into self (elementwise ops read and write the same
 * index, so aliasing is safe); with autograd it goes through apply().
 */
export function binaryInPlace<T extends Tensor>(self: T, op: BinaryName, other: TensorOrScalar): T {
  if (typeof other !== "object") {
    const [dt, s] = scalarOperand(other, self.dtype);
    checkCast(op, resultType(op, dt), self.dtype);
    if (needsGrad(self) || !self.isContiguous() || binaryOps[op].result !== "promote" || dt !== self.dtype) {
      return apply(self, (x) => x.binary(op, other));
    }
    checkWritable(self, false);
    kernelsFor(self).binaryScalar(op, self, s, self);
    self.storage.version++;
    return self;
  }
  sameDevice(`${op}_`, self, other);
  const common = resultTypeOf(self.dtype, self.shape.length, other.dtype, other.shape.length);
  checkCast(op, resultType(op, common), self.dtype);
  if (needsGrad(self, other) || !self.isContiguous() || binaryOps[op].result !== "promote" || common !== self.dtype) {
    return apply(self, (x) => x.binary(op, other), [other]);
  }
  checkWritable(self, false);
  kernelsFor(self).binary(op, self, expandTo(other, self.shape), self);
  self.storage.version++;
  return self;
}

/** PyTorch refuses an in-place op whose result type can't be stored in self (int_tensor.add_(1.5)). */
function checkCast(op: BinaryName, result: DType, self: DType): void {
  if (!canCast(result, self)) {
    throw opError(`${op}_`, `result type ${result} can't be cast to the desired output type ${self}; convert first (x = x.to("${result}")) or use the out-of-place ${op}`);
  }
}

export function fill<T extends Tensor>(self: T, value: number): T {
  checkWritable(self, false);
  kernelsFor(self).fill(self, value);
  self.storage.version++;
  if (!self.isLeaf) {
    self.gradFn = null;
    self.requiresGrad = false;
  }
  return self;
}

export function copyFrom<T extends Tensor>(self: T, src: Tensor): T {
  const tracked = needsGrad(src) || (needsGrad(self) && !self.isLeaf);
  checkWritable(self, tracked);
  // copy_ is the one op that crosses devices (PyTorch's too): the values travel through the host.
  const from = src.storage.device === self.storage.device ? src : copyAcross(src, self.storage.device, "copy_");
  kernelsFor(self).copy(expandTo(from, self.shape), self);
  self.storage.version++;
  if (tracked) {
    const alias = self.detach();
    record(alias, "copy_", [src], (g) => [sumTo(g, src.shape).to(src.dtype)]);
    self.gradFn = alias.gradFn;
    self.requiresGrad = true;
  }
  return self;
}

export function uniform<T extends Tensor>(self: T, from: number, to: number): T {
  checkWritable(self, false);
  randomInto(self, (n) => fillUniform(n, from, to));
  return self;
}

export function normal<T extends Tensor>(self: T, mean: number, std: number): T {
  checkWritable(self, false);
  randomInto(self, (n) => fillNormal(n, mean, std));
  return self;
}

/** Draws on the host, uploads once, and lets the device's copy kernel cast and scatter into self's layout. */
function randomInto(self: Tensor, draw: (n: number) => Float64Array): void {
  const values = fromHost(draw(numelOf(self.shape)), self.shape, "float64", self.storage.device);
  kernelsFor(self).copy(values, self);
  self.storage.version++;
}
