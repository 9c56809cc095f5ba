// torch.linalg.eigh: eigenvalues and eigenvectors of real symmetric matrices by the cyclic Jacobi method, in
// float64 on the host whatever the input's dtype and device (the matrices this library meets are small: the 12x12
// patch covariance of airbench's whitening layer). Jacobi is slower than tridiagonal QR for large n but accurate to
// the last bits for small ones, and its eigenvectors come out orthonormal without re-orthogonalisation.

import { isGradEnabled } from "../autograd/grad_mode.js";
import { fmtShape, opError } from "../core/errors.js";
import { fromTypedArray } from "./create.js";
import type { Tensor } from "./tensor.js";

/** PyTorch's named tuple: destructure as `[L, Q]` or read `.eigenvalues` / `.eigenvectors`. */
export type EighResult = [Tensor, Tensor] & { eigenvalues: Tensor; eigenvectors: Tensor };

const MAX_SWEEPS = 64;

/**
 * Diagonalises the symmetric n x n matrix `a` (row-major, overwritten) in place. Returns eigenvalues ascending and
 * eigenvectors as the columns of an n x n row-major matrix, each with its largest-magnitude component positive.
 */
export function jacobiEigh(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i]! * a[i]!;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off <= 1e-32 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        // The rotation angle that zeroes a[p][q]; t is the smaller root of t^2 + 2θt - 1 = 0 (stable for any θ).
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i * n + i]! - a[j * n + j]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src]!;
    // LAPACK leaves signs arbitrary; ours are fixed so results are reproducible: the largest |component| is positive.
    let big = 0;
    for (let k = 0; k < n; k++) if (Math.abs(v[k * n + src]!) > Math.abs(v[big * n + src]!)) big = k;
    const sign = v[big * n + src]! < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[k * n + dst] = sign * v[k * n + src]!;
  });
  return { values, vectors };
}

/**
 * torch.linalg.eigh(A, UPLO): A is (..., n, n); only the lower (UPLO "L", the default) or upper ("U") triangle is
 * read, as in PyTorch. Eigenvalues ascending, shape (..., n); eigenvectors the columns of (..., n, n). float32 and
 * float64 inputs; computed in float64. No backward: call it on a tensor that does not require grad.
 */
export function eigh(A: Tensor, UPLO: "L" | "U" = "L"): EighResult {
  if (A.dim() < 2 || A.shape[A.dim() - 1] !== A.shape[A.dim() - 2]) {
    throw opError("linalg.eigh", `A must be a batch of square matrices, but got shape ${fmtShape(A.shape)}`);
  }
  if (A.dtype !== "float32" && A.dtype !== "float64") {
    throw opError("linalg.eigh", `expected a float32 or float64 tensor, got ${A.dtype}`);
  }
  if (UPLO !== "L" && UPLO !== "U") throw opError("linalg.eigh", `UPLO must be "L" or "U", got ${JSON.stringify(UPLO)}`);
  if (A.requiresGrad && isGradEnabled()) {
    throw opError("linalg.eigh", "the backward of eigh is not implemented: call it on A.detach() or inside torch.noGrad");
  }
  const n = A.shape[A.dim() - 1]!;
  const batch = A.shape.slice(0, -2);
  const count = batch.reduce((x, y) => x * y, 1);
  const src = A.to("cpu", "float64").contiguous().toTypedArray() as Float64Array;
  const L = new Float64Array(count * n);
  const Q = new Float64Array(count * n * n);
  const m = new Float64Array(n * n);
  for (let b = 0; b < count; b++) {
    const base = b * n * n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const lower = i >= j;
        const [r, c] = lower === (UPLO === "L") ? [i, j] : [j, i];
        m[i * n + j] = src[base + r * n + c]!;
      }
    }
    for (let i = 0; i < n * n; i++) {
      if (!Number.isFinite(m[i]!)) throw opError("linalg.eigh", "the input contains NaN or infinite values");
    }
    const { values, vectors } = jacobiEigh(m, n);
    L.set(values, b * n);
    Q.set(vectors, base);
  }
  const vals = fromTypedArray(L, [...batch, n]).to(A.device, A.dtype);
  const vecs = fromTypedArray(Q, [...batch, n, n]).to(A.device, A.dtype);
  return Object.assign([vals, vecs] as [Tensor, Tensor], { eigenvalues: vals, eigenvectors: vecs });
}
