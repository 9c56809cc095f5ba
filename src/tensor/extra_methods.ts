// Tensor methods for indexing by tensors, sorting, scans and the everyday math ops (src/tensor/scatter.ts, sort.ts,
// scan.ts, math_extra.ts, linalg_extra.ts). Declared by interface merging and installed on the prototype here, so
// these ~40 methods do not crowd tensor.ts; src/index.ts imports this module once, before any user code runs.
import type { DType } from "../core/dtype.js";
import * as la from "./linalg_extra.js";
import * as m from "./math_extra.js";
import { apply } from "./inplace.js";
import { cumprod } from "./scan.js";
import * as sc from "./scatter.js";
import * as so from "./sort.js";
import { Tensor, type Dims, type KeepDim, type MaxResult, type Scalar, type TensorOrScalar } from "./tensor.js";

export interface SortOptions {
  descending?: boolean;
  /** Accepted for PyTorch compatibility: the sort is always stable. */
  stable?: boolean;
}

export interface TopkOptions {
  largest?: boolean;
  /** Accepted for PyTorch compatibility: the result is always sorted. */
  sorted?: boolean;
}

declare module "./tensor.js" {
  interface Tensor {
    /** out[i][j] = self[index[i][j]][j] for dim 0 (index int64, same rank as self). */
    gather(dim: number, index: Tensor): Tensor;
    /** A copy of self with src (a tensor, or one value) written at index along dim. */
    scatter(dim: number, index: Tensor, src: Tensor | Scalar): Tensor;
    scatter_(dim: number, index: Tensor, src: Tensor | Scalar): this;
    /** A copy of self with src added at index along dim (repeated indices accumulate). */
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    scatterAdd_(dim: number, index: Tensor, src: Tensor): this;
    /** self.flatten()[index] shaped like index (negative positions count from the end). */
    take(index: Tensor): Tensor;
    /** self[indices] = values (or += with accumulate): one int64 or bool tensor per leading dim. */
    indexPut(indices: readonly Tensor[], values: Tensor | Scalar, accumulate?: boolean): Tensor;
    indexPut_(indices: readonly Tensor[], values: Tensor | Scalar, accumulate?: boolean): this;
    /** { values, indices } sorted along dim (stable; NaN sorts last ascending). */
    sort(dim?: number, opts?: SortOptions): MaxResult;
    argsort(dim?: number, opts?: SortOptions): Tensor;
    /** The k largest (or smallest with largest: false) along dim, as { values, indices }. */
    topk(k: number, dim?: number, opts?: TopkOptions): MaxResult;
    /** The k-th smallest (1-based) along dim, as { values, indices }. */
    kthvalue(k: number, dim?: number, opts?: KeepDim): MaxResult;
    unique(): Tensor;
    unique(opts: so.UniqueOptions & { returnInverse?: false; returnCounts?: false }): Tensor;
    unique(opts: so.UniqueOptions): Tensor | Tensor[];
    cumprod(dim: number, opts?: { dtype?: DType }): Tensor;
    logsumexp(dim: Dims, opts?: KeepDim): Tensor;
    /** torch.norm: p "fro" (2, the default), a number, Infinity or -Infinity; over dim (all by default). */
    norm(p?: number | "fro", dim?: Dims | null, opts?: KeepDim): Tensor;
    /** self - floor(self / other) * other: the sign of other, like Python's %. */
    remainder(other: TensorOrScalar): Tensor;
    floorDivide(other: TensorOrScalar): Tensor;
    isnan(): Tensor;
    isinf(): Tensor;
    isfinite(): Tensor;
    nanToNum(nan?: number, posinf?: number | null, neginf?: number | null): Tensor;
    logicalAnd(other: TensorOrScalar): Tensor;
    logicalOr(other: TensorOrScalar): Tensor;
    logicalXor(other: TensorOrScalar): Tensor;
    bitwiseAnd(other: TensorOrScalar): Tensor;
    bitwiseOr(other: TensorOrScalar): Tensor;
    bitwiseXor(other: TensorOrScalar): Tensor;
    bitwiseNot(): Tensor;
    /** A 1-D self becomes a matrix with it on the k-th diagonal; a 2-D self gives its k-th diagonal. */
    diag(diagonal?: number): Tensor;
    outer(other: Tensor): Tensor;
    /** max over one or several dims (all by default); ties share the gradient evenly. */
    amax(dim?: Dims | null, opts?: KeepDim): Tensor;
    amin(dim?: Dims | null, opts?: KeepDim): Tensor;
    /** Same shape and values (a JS boolean: waits for the device). */
    equal(other: Tensor): boolean;
    /** beta * self + alpha * (mat1 @ mat2). */
    addmm(mat1: Tensor, mat2: Tensor, opts?: la.AddmmOptions): Tensor;
    /** beta * self + alpha * bmm(batch1, batch2). */
    baddbmm(batch1: Tensor, batch2: Tensor, opts?: la.AddmmOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.gather = function (dim, index) { return sc.gather(this, dim, index); };
P.scatter = function (dim, index, src) { return sc.scatter(this, dim, index, src); };
P.scatter_ = function (dim, index, src) {
  return apply(this, (s) => sc.scatter(s, dim, index, src), [typeof src === "object" ? src : undefined]);
};
P.scatterAdd = function (dim, index, src) { return sc.scatterAdd(this, dim, index, src); };
P.scatterAdd_ = function (dim, index, src) { return apply(this, (s) => sc.scatterAdd(s, dim, index, src), [src]); };
P.take = function (index) { return sc.take(this, index); };
P.indexPut = function (indices, values, accumulate = false) { return sc.indexPut(this, indices, values, accumulate); };
P.indexPut_ = function (indices, values, accumulate = false) {
  return apply(this, (s) => sc.indexPut(s, indices, values, accumulate), [typeof values === "object" ? values : undefined]);
};
P.sort = function (dim = -1, o = {}) { return so.sort(this, dim, o.descending ?? false); };
P.argsort = function (dim = -1, o = {}) { return so.argsort(this, dim, o.descending ?? false); };
P.topk = function (k, dim = -1, o = {}) { return so.topk(this, k, dim, o.largest ?? true); };
P.kthvalue = function (k, dim = -1, o = {}) { return so.kthvalue(this, k, dim, o.keepdim ?? false); };
P.unique = function (this: Tensor, o: so.UniqueOptions = {}) { return so.unique(this, o); } as Tensor["unique"];
P.cumprod = function (dim, o) { return cumprod(this, dim, o?.dtype); };
P.logsumexp = function (dim, o) { return m.logsumexp(this, dim, o?.keepdim ?? false); };
P.norm = function (p = "fro", dim, o) { return m.norm(this, p, dim, o?.keepdim ?? false); };
P.remainder = function (other) { return m.remainder(this, other); };
P.floorDivide = function (other) { return m.floorDivide(this, other); };
P.isnan = function () { return m.isnan(this); };
P.isinf = function () { return m.isinf(this); };
P.isfinite = function () { return m.isfinite(this); };
P.nanToNum = function (nan, posinf, neginf) { return m.nanToNum(this, { nan, posinf, neginf }); };
P.logicalAnd = function (other) { return m.logicalAnd(this, other); };
P.logicalOr = function (other) { return m.logicalOr(this, other); };
P.logicalXor = function (other) { return m.logicalXor(this, other); };
P.bitwiseAnd = function (other) { return m.bitwise("and", this, other); };
P.bitwiseOr = function (other) { return m.bitwise("or", this, other); };
P.bitwiseXor = function (other) { return m.bitwise("xor", this, other); };
P.bitwiseNot = function () { return m.bitwiseNot(this); };
P.diag = function (diagonal = 0) { return la.diag(this, diagonal); };
P.outer = function (other) { return la.outer(this, other); };
P.amax = function (dim, o) { return m.amax(this, dim, o?.keepdim ?? false, false); };
P.amin = function (dim, o) { return m.amax(this, dim, o?.keepdim ?? false, true); };
P.equal = function (other) { return m.equal(this, other); };
P.addmm = function (mat1, mat2, o) { return la.addmm(this, mat1, mat2, o); };
P.baddbmm = function (b1, b2, o) { return la.baddbmm(this, b1, b2, o); };
