import { isGradEnabled } from "../autograd/grad_mode.js";
import { opError } from "../core/errors.js";
import { broadcastShapes, numelOf } from "../core/shape.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record, sameDevice, sameDevices } from "./dispatch.js";
import type { Tensor } from "./tensor.js";

/**
 * A matrix operand as the GEMM kernels want it: contiguous in memory, possibly transposed. A transposed view (the
 * common case in backward) is passed as-is with trans=true instead of being copied.
 */
function operand(t: Tensor): [Tensor, boolean] {
  const n = t.dim();
  const r = t.shape[n - 2];
  const c = t.shape[n - 1];
  const batchOk = n === 2 || t.strides[0] === r * c || t.shape[0] === 1;
  if (batchOk && (t.strides[n - 1] === 1 || c === 1) && (t.strides[n - 2] === c || r === 1)) return [t, false];
  if (batchOk && (t.strides[n - 2] === 1 || r === 1) && (t.strides[n - 1] === r || c === 1)) return [t, true];
  return [t.contiguous(), false];
}

function checkFloat(op: string, a: Tensor, b: Tensor): void {
  sameDevice(op, a, b);
  if (a.dtype !== b.dtype) throw opError(op, `expected both operands to have the same dtype, but got ${a.dtype} and ${b.dtype}`);
}

export function mm(a: Tensor, b: Tensor): Tensor {
  if (a.dim() !== 2 || b.dim() !== 2) {
    throw opError("mm", `expected 2-D tensors, got ${a.dim()}-D and ${b.dim()}-D`);
  }
  if (a.shape[1] !== b.shape[0]) {
    throw opError("mm", `mat1 and mat2 shapes cannot be multiplied (${a.shape.join("x")} and ${b.shape.join("x")})`);
  }
  checkFloat("mm", a, b);
  const [M, K] = a.shape;
  const N = b.shape[1];
  const out = emptyTensor([M, N], a.dtype, a.storage.device);
  const [A, ta] = operand(a);
  const [B, tb] = operand(b);
  kernelsFor(a).bmm(A, B, out, 1, M, N, K, ta, tb);
  if (needsGrad(a, b)) {
    record(out, "mm", [a, b], (g) => [a.requiresGrad ? mm(g, b.t()) : null, b.requiresGrad ? mm(a.t(), g) : null], [a, b]);
  }
  return out;
}

export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.dim() !== 3 || b.dim() !== 3) throw opError("bmm", `expected 3-D tensors, got ${a.dim()}-D and ${b.dim()}-D`);
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw opError("bmm", `batch1 and batch2 shapes cannot be multiplied (${a.shape.join("x")} and ${b.shape.join("x")})`);
  }
  checkFloat("bmm", a, b);
  const [batch, M, K] = a.shape;
  const N = b.shape[2];
  const out = emptyTensor([batch, M, N], a.dtype, a.storage.device);
  const [A, ta] = operand(a);
  const [B, tb] = operand(b);
  kernelsFor(a).bmm(A, B, out, batch, M, N, K, ta, tb);
  if (needsGrad(a, b)) {
    record(out, "bmm", [a, b], (g) => [
      a.requiresGrad ? bmm(g, b.transpose(1, 2)) : null,
      b.requiresGrad ? bmm(a.transpose(1, 2), g) : null,
    ], [a, b]);
  }
  return out;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  const da = a.dim();
  const db = b.dim();
  if (da === 0 || db === 0) throw opError("matmul", "both arguments to matmul need to be at least 1D");
  if (da === 1 && db === 1) {
    if (a.shape[0] !== b.shape[0]) {
      throw opError("matmul", `inconsistent tensor size, expected tensor [${a.shape[0]}] and src [${b.shape[0]}] to have the same number of elements`);
    }
    return a.mul(b).sum();
  }
  const kA = a.shape[da - 1];
  const kB = db === 1 ? b.shape[0] : b.shape[db - 2];
  if (kA !== kB) {
    throw opError("matmul", `shapes cannot be multiplied (${a.shape.join("x")} and ${b.shape.join("x")})`);
  }
  if (da === 2 && db === 2) return mm(a, b);
  if (da === 1 && db === 2) return mm(a.unsqueeze(0), b).squeeze(0);
  if (da === 2 && db === 1) return mm(a, b.unsqueeze(1)).squeeze(1);
  const a3 = da === 1 ? a.unsqueeze(0) : a;
  const b3 = db === 1 ? b.unsqueeze(1) : b;
  const [M, K] = a3.shape.slice(-2);
  const [K2, N] = b3.shape.slice(-2);
  if (K !== K2) {
    throw opError("matmul", `shapes cannot be multiplied (${a.shape.join("x")} and ${b.shape.join("x")})`);
  }
  const batch = broadcastShapes("matmul", a3.shape.slice(0, -2), b3.shape.slice(0, -2));
  const B = numelOf(batch);
  const aa = a3.expand([...batch, M, K]).reshape([B, M, K]);
  const bb = b3.expand([...batch, K, N]).reshape([B, K, N]);
  let out = bmm(aa, bb).reshape([...batch, M, N]);
  if (da === 1) out = out.squeeze(-2);
  if (db === 1) out = out.squeeze(-1);
  return out;
}

/** y = x @ weight^T + bias over the last dim of x, as one fused kernel. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const K = x.shape[x.dim() - 1];
  if (weight.dim() !== 2 || x.dim() === 0 || weight.shape[1] !== K) {
    const rows = x.dim() <= 1 ? 1 : numelOf(x.shape.slice(0, -1));
    throw opError(
      "linear",
      `mat1 and mat2 shapes cannot be multiplied (${rows}x${K} and ${[...weight.shape].reverse().join("x")})`,
    );
  }
  checkFloat("linear", x, weight);
  sameDevices("linear", x, weight, bias);
  const N = weight.shape[0];
  if (bias && (bias.dim() !== 1 || bias.shape[0] !== N)) {
    throw opError("linear", `bias has shape [${bias.shape.join(", ")}] but the layer has ${N} output features`);
  }
  const lead = x.shape.slice(0, -1);
  const M = numelOf(lead);
  const x2 = x.dim() === 2 && x.isContiguous() ? x : x.reshape([M, K]).contiguous();
  const w = weight.contiguous();
  const b = bias ? bias.contiguous() : null;
  const out = emptyTensor([M, N], x.dtype, x.storage.device);
  kernelsFor(x).linear(x2, w, b, out);
  if (needsGrad(x, weight, bias)) {
    record(
      out,
      "linear",
      [x2, weight, bias ?? null],
      (g) => {
        // createGraph needs differentiable pieces; otherwise one fused kernel computes all three gradients.
        if (isGradEnabled()) {
          return [x2.requiresGrad ? mm(g, w) : null, weight.requiresGrad ? mm(g.t(), x2) : null, bias?.requiresGrad ? g.sum(0) : null];
        }
        const gx = x2.requiresGrad ? emptyTensor(x2.shape, x2.dtype, x2.storage.device) : null;
        const gw = weight.requiresGrad ? emptyTensor(weight.shape, weight.dtype, weight.storage.device) : null;
        const gb = bias?.requiresGrad ? emptyTensor([N], weight.dtype, weight.storage.device) : null;
        kernelsFor(g).linearBackward(g.contiguous(), x2, w, gx, gw, gb);
        return [gx, gw, gb];
      },
      [x2, w],
    );
  }
  return lead.length === 1 ? out : out.reshape([...lead, N]);
}
