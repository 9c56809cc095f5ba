// torch.* free functions for the ops of src/tensor/extra_methods.ts (torch.gather(x, 1, idx), torch.einsum, ...).
import type { DType } from "./core/dtype.js";
import * as la from "./tensor/linalg_extra.js";
import * as m from "./tensor/math_extra.js";
import type { SortOptions, TopkOptions } from "./tensor/extra_methods.js";
import { searchsorted as searchsortedOp, type SearchSortedOptions, type UniqueOptions } from "./tensor/sort.js";
import type { Dims, KeepDim, MaxResult, Scalar, Tensor, TensorOrScalar } from "./tensor/tensor.js";

export type { SortOptions, TopkOptions, SearchSortedOptions, UniqueOptions };
export type { AddmmOptions } from "./tensor/linalg_extra.js";
export type { VectorNormOptions } from "./tensor/math_extra.js";

export const gather = (a: Tensor, dim: number, index: Tensor): Tensor => a.gather(dim, index);
export const scatter = (a: Tensor, dim: number, index: Tensor, src: Tensor | Scalar): Tensor => a.scatter(dim, index, src);
export const scatterAdd = (a: Tensor, dim: number, index: Tensor, src: Tensor): Tensor => a.scatterAdd(dim, index, src);
export const take = (a: Tensor, index: Tensor): Tensor => a.take(index);
export const indexPut = (a: Tensor, indices: readonly Tensor[], values: Tensor | Scalar, accumulate = false): Tensor => a.indexPut(indices, values, accumulate);
export const sort = (a: Tensor, dim = -1, o?: SortOptions): MaxResult => a.sort(dim, o);
export const argsort = (a: Tensor, dim = -1, o?: SortOptions): Tensor => a.argsort(dim, o);
export const topk = (a: Tensor, k: number, dim = -1, o?: TopkOptions): MaxResult => a.topk(k, dim, o);
export const kthvalue = (a: Tensor, k: number, dim = -1, o?: KeepDim): MaxResult => a.kthvalue(k, dim, o);
export function unique(a: Tensor): Tensor;
export function unique(a: Tensor, o: UniqueOptions & { returnInverse?: false; returnCounts?: false }): Tensor;
export function unique(a: Tensor, o: UniqueOptions): Tensor | Tensor[];
export function unique(a: Tensor, o: UniqueOptions = {}): Tensor | Tensor[] {
  return a.unique(o);
}
/** Insertion points of values into the sorted innermost dim of sortedSequence (int64; `right` for the upper one). */
export const searchsorted = (sortedSequence: Tensor, values: Tensor | Scalar, o: SearchSortedOptions = {}): Tensor => searchsortedOp(sortedSequence, values, o);
export const cumprod = (a: Tensor, dim: number, o?: { dtype?: DType }): Tensor => a.cumprod(dim, o);
export const logsumexp = (a: Tensor, dim: Dims, o?: KeepDim): Tensor => a.logsumexp(dim, o);
export const norm = (a: Tensor, p: number | "fro" = "fro", dim?: Dims | null, o?: KeepDim): Tensor => a.norm(p, dim, o);
export const remainder = (a: Tensor, b: TensorOrScalar): Tensor => a.remainder(b);
export const floorDivide = (a: Tensor, b: TensorOrScalar): Tensor => a.floorDivide(b);
export const isnan = (a: Tensor): Tensor => a.isnan();
export const isinf = (a: Tensor): Tensor => a.isinf();
export const isfinite = (a: Tensor): Tensor => a.isfinite();
export const nanToNum = (a: Tensor, o: { nan?: number; posinf?: number | null; neginf?: number | null } = {}): Tensor => a.nanToNum(o.nan, o.posinf, o.neginf);
export const logicalAnd = (a: Tensor, b: TensorOrScalar): Tensor => a.logicalAnd(b);
export const logicalOr = (a: Tensor, b: TensorOrScalar): Tensor => a.logicalOr(b);
export const logicalXor = (a: Tensor, b: TensorOrScalar): Tensor => a.logicalXor(b);
export const logicalNot = (a: Tensor): Tensor => a.logicalNot();
export const bitwiseAnd = (a: Tensor, b: TensorOrScalar): Tensor => a.bitwiseAnd(b);
export const bitwiseOr = (a: Tensor, b: TensorOrScalar): Tensor => a.bitwiseOr(b);
export const bitwiseXor = (a: Tensor, b: TensorOrScalar): Tensor => a.bitwiseXor(b);
export const bitwiseNot = (a: Tensor): Tensor => a.bitwiseNot();
export const diag = (a: Tensor, diagonal = 0): Tensor => a.diag(diagonal);
export const outer = (a: Tensor, b: Tensor): Tensor => a.outer(b);
export const amax = (a: Tensor, dim?: Dims | null, o?: KeepDim): Tensor => a.amax(dim, o);
export const amin = (a: Tensor, dim?: Dims | null, o?: KeepDim): Tensor => a.amin(dim, o);
export const equal = (a: Tensor, b: Tensor): boolean => a.equal(b);
export const addmm = (input: Tensor, mat1: Tensor, mat2: Tensor, o?: la.AddmmOptions): Tensor => input.addmm(mat1, mat2, o);
export const baddbmm = (input: Tensor, b1: Tensor, b2: Tensor, o?: la.AddmmOptions): Tensor => input.baddbmm(b1, b2, o);
/** torch.einsum("bij,bjk->bik", a, b): matmul, batched, transpose, trace, diagonal, outer, sums and "...". */
export const einsum = (equation: string, ...operands: (Tensor | readonly Tensor[])[]): Tensor =>
  la.einsum(equation, operands.length === 1 && Array.isArray(operands[0]) ? (operands[0] as readonly Tensor[]) : (operands as Tensor[]));
