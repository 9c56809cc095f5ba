// Op-table rows for the indexing, sorting, scan and everyday math ops of issue 14 (appended to the table by
// op_cases.ts). Gathers and sorts take fixed indices or distinct values so that every row has one right answer.
import * as torch from "kindling";
import type { InputSpec, OpCase } from "./op_cases.js";
import * as O from "./compare.js";

type Tensor = torch.Tensor;
type Arr = O.Arr;
const i64 = "int64" as torch.DType;

const x = (shape: number[], range: readonly [number, number] = [-2, 2]): InputSpec => ({ shape, range });
const idx = (shape: number[], values: number[]): InputSpec => ({ shape, values, dtype: i64, grad: false });
const fixed = (shape: number[], values: number[]): InputSpec => ({ shape, values });
const ints = (shape: number[], values: number[], dtype: torch.DType): InputSpec => ({ shape, values, dtype, grad: false });

export const opsCases: OpCase[] = [];
function row(family: string, name: string, inputs: InputSpec[], fn: (...xs: Tensor[]) => Tensor, extra: Partial<OpCase> = {}): void {
  opsCases.push({ name, family, inputs, fn, differentiable: true, ...extra });
}
const nd = { differentiable: false };

const cumprodO = (a: Arr): Arr => {
  const [r, c] = a.shape;
  const data = a.data.slice();
  for (let i = 0; i < r; i++) for (let j = 1; j < c; j++) data[i * c + j] *= data[i * c + j - 1];
  return { shape: a.shape, data };
};

// ---- indexing
row("gather", "gather dim=1", [x([3, 4]), idx([3, 2], [0, 3, 2, 2, 1, 0])], (a, i) => a.gather(1, i), {
  oracle: (a, i) => ({ shape: [3, 2], data: i.data.map((k, e) => a.data[Math.floor(e / 2) * 4 + k]) }),
});
row("gather", "gather dim=0 smaller index", [x([3, 4]), idx([2, 3], [2, 0, 1, 1, 1, 0])], (a, i) => torch.gather(a, 0, i));
row("gather", "scatter src dim=0", [x([3, 4]), idx([2, 4], [0, 1, 2, 0, 2, 0, 1, 1]), x([2, 4])], (a, i, s) => a.scatter(0, i, s));
row("gather", "scatter value dim=1", [x([3, 4]), idx([3, 1], [1, 0, 3])], (a, i) => a.scatter(1, i, -0.5));
row("gather", "scatter src larger than index", [x([3, 4]), idx([1, 4], [2, 0, 1, 1]), x([2, 5])], (a, i, s) => torch.scatter(a, 0, i, s));
row("gather", "scatterAdd repeated indices", [x([2, 3]), idx([2, 4], [0, 0, 2, 0, 1, 1, 1, 2]), x([2, 4])], (a, i, s) => a.scatterAdd(1, i, s));
row("gather", "scatter_ on a clone", [x([3, 4]), idx([1, 4], [2, 0, 1, 1]), x([1, 4])], (a, i, s) => a.mul(1).scatter_(0, i, s));
row("gather", "scatterAdd_ on a clone", [x([3, 4]), idx([3, 2], [0, 0, 3, 1, 2, 2]), x([3, 2])], (a, i, s) => a.mul(1).scatterAdd_(1, i, s));
row("gather", "take negative positions", [x([3, 4]), idx([2, 2], [0, -1, 5, 11])], (a, i) => a.take(i), {
  oracle: (a, i) => ({ shape: [2, 2], data: i.data.map((k) => a.data[k < 0 ? k + 12 : k]) }),
});
row("gather", "indexPut accumulate", [x([4, 3]), idx([3], [0, 2, 0]), x([3, 3])], (a, i, v) => a.indexPut([i], v, true));
row("gather", "indexPut two indices", [x([3, 4]), idx([2], [0, 2]), idx([2], [1, -1]), x([2])], (a, i, j, v) => torch.indexPut(a, [i, j], v));
row("gather", "indexPut_ bool mask on a clone", [x([3, 4]), { shape: [3], values: [1, 0, 1], dtype: "bool" as torch.DType, grad: false }, x([4])],
  (a, m, v) => a.mul(1).indexPut_([m], v));

// ---- sorting and search
row("sort", "sort dim=1", [x([3, 5])], (a) => a.sort(1).values, {
  oracle: (a) => ({ shape: a.shape, data: [0, 1, 2].flatMap((r) => a.data.slice(r * 5, r * 5 + 5).sort((u, v) => u - v)) }),
});
row("sort", "sort descending dim=0", [x([4, 3])], (a) => torch.sort(a, 0, { descending: true }).values);
row("sort", "sort indices", [x([4, 3])], (a) => a.sort(0).indices, nd);
row("sort", "argsort descending", [x([3, 5])], (a) => a.argsort(1, { descending: true }), nd);
row("sort", "topk 2", [x([3, 5])], (a) => a.topk(2).values);
row("sort", "topk smallest dim=0", [x([5, 3])], (a) => torch.topk(a, 3, 0, { largest: false }).values);
row("sort", "topk indices", [x([3, 5])], (a) => a.topk(2).indices, nd);
row("sort", "kthvalue keepdim", [x([3, 5])], (a) => a.kthvalue(2, 1, { keepdim: true }).values);
row("sort", "kthvalue dim=0", [x([5, 3])], (a) => torch.kthvalue(a, 5, 0).values);
row("sort", "unique", [fixed([6], [3, 1, 2, 3, 1, 7])], (a) => a.unique(), { ...nd, oracle: () => ({ shape: [4], data: [1, 2, 3, 7] }) });
row("sort", "unique inverse", [fixed([2, 3], [3, 1, 2, 3, 1, 7])], (a) => (a.unique({ returnInverse: true }) as Tensor[])[1], { ...nd, oracle: () => ({ shape: [2, 3], data: [2, 0, 1, 2, 0, 3] }) });
row("sort", "unique counts", [fixed([6], [3, 1, 2, 3, 1, 1])], (a) => (torch.unique(a, { returnCounts: true }) as Tensor[])[1], { ...nd, oracle: () => ({ shape: [3], data: [3, 1, 2] }) });
row("sort", "searchsorted", [fixed([5], [1, 3, 5, 7, 9]), fixed([2, 2], [3, 6, 9, 0])], (s, v) => torch.searchsorted(s, v), { ...nd, oracle: () => ({ shape: [2, 2], data: [1, 3, 4, 0] }) });
row("sort", "searchsorted right 2-D", [fixed([2, 3], [1, 3, 5, 2, 4, 6]), fixed([2, 2], [3, 1, 6, 7])], (s, v) => torch.searchsorted(s, v, { right: true }), { ...nd, oracle: () => ({ shape: [2, 2], data: [2, 1, 3, 3] }) });

// ---- scans
row("scan", "cumprod(1)", [x([3, 4], [0.5, 1.5])], (a) => a.cumprod(1), { oracle: cumprodO });
row("scan", "cumprod with zeros", [fixed([3, 4], [1.5, 0, 2, -1, 0.5, 2, 0, 0, 0, 3, 1, 2])], (a) => torch.cumprod(a, 1), { oracle: cumprodO });
row("scan", "cumprod(0) long", [x([13, 2], [0.8, 1.2])], (a) => a.cumprod(0), { rtol: 1e-5, atol: 1e-5 });

// ---- reductions
row("reduce14", "logsumexp dim=1", [x([3, 4])], (a) => a.logsumexp(1), {
  oracle: (a) => ({ shape: [3], data: [0, 1, 2].map((r) => Math.log(a.data.slice(r * 4, r * 4 + 4).reduce((s, v) => s + Math.exp(v), 0))) }),
});
row("reduce14", "logsumexp dims keepdim large", [x([2, 3, 4], [-60, 60])], (a) => torch.logsumexp(a, [0, 2], { keepdim: true }), { rtol: 1e-5, atol: 1e-4 });
row("reduce14", "norm", [x([3, 4])], (a) => a.norm(), { oracle: (a) => ({ shape: [], data: [Math.hypot(...a.data)] }) });
row("reduce14", "norm p=1 dim=1", [x([3, 4])], (a) => torch.norm(a, 1, 1));
row("reduce14", "vectorNorm inf", [x([3, 4])], (a) => torch.linalg.vectorNorm(a, Infinity));
row("reduce14", "vectorNorm -inf dim=0", [x([3, 4])], (a) => torch.linalg.vectorNorm(a, -Infinity, { dim: 0 }));
row("reduce14", "vectorNorm 3 keepdim", [x([3, 4])], (a) => torch.linalg.vectorNorm(a, 3, { dim: [0, 1], keepdim: true }));
row("reduce14", "vectorNorm 0", [fixed([2, 3], [1, 0, 2, 0, 0, -1])], (a) => torch.linalg.vectorNorm(a, 0, { dim: 1 }), { ...nd, oracle: () => ({ shape: [2], data: [2, 1] }) });
row("reduce14", "amax dims keepdim", [x([2, 3, 4])], (a) => a.amax([0, 2], { keepdim: true }));
row("reduce14", "amin dim=1", [x([3, 4])], (a) => torch.amin(a, 1));
row("reduce14", "amax all", [x([3, 4])], (a) => a.amax(), { oracle: (a) => ({ shape: [], data: [Math.max(...a.data)] }) });

// ---- elementwise composites
row("math14", "remainder tensor", [x([3, 4], [-6, 6]), fixed([4], [1.5, -1.5, 2, -0.7])], (a, b) => a.remainder(b), {
  oracle: (a, b) => ({ shape: a.shape, data: a.data.map((v, i) => { const d = b.data[i % 4]; return v - Math.floor(v / d) * d; }) }),
  rtol: 1e-4, atol: 1e-5,
});
row("math14", "remainder scalar", [x([3, 4], [-6, 6])], (a) => torch.remainder(a, -1.25), { rtol: 1e-4, atol: 1e-5 });
row("math14", "remainder int64", [ints([5], [-7, -3, 0, 3, 7], i64), ints([5], [2, -2, 3, -4, 3], i64)], (a, b) => a.remainder(b), { ...nd, oracle: () => ({ shape: [5], data: [1, -1, 0, -1, 1] }) });
row("math14", "floorDivide", [x([3, 4], [-6, 6]), x([4], [0.5, 2])], (a, b) => a.floorDivide(b), nd);
row("math14", "isnan isinf isfinite", [fixed([4], [NaN, Infinity, -Infinity, 1])], (a) => torch.stack([a.isnan(), a.isinf(), a.isfinite()]), { ...nd, oracle: () => ({ shape: [3, 4], data: [1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1] }) });
row("math14", "nanToNum", [fixed([4], [NaN, Infinity, -Infinity, 1])], (a) => a.nanToNum(0.5, 9, -9), { ...nd, oracle: () => ({ shape: [4], data: [0.5, 9, -9, 1] }) });
row("math14", "nanToNum gradient", [x([3, 4])], (a) => torch.nanToNum(a));
row("math14", "logical and/or/xor", [fixed([4], [0, 1.5, -2, 0]), fixed([4], [1, 0, 3, 0])], (a, b) => torch.stack([a.logicalAnd(b), a.logicalOr(b), a.logicalXor(b)]), { ...nd, oracle: () => ({ shape: [3, 4], data: [0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0] }) });
row("math14", "bitwise int32", [ints([4], [12, -5, 7, 0], "int32" as torch.DType), ints([4], [10, 3, -1, 9], "int32" as torch.DType)], (a, b) => torch.stack([a.bitwiseAnd(b), a.bitwiseOr(b), a.bitwiseXor(b), a.bitwiseNot()]), { ...nd, oracle: () => ({ shape: [4, 4], data: [8, 3, 7, 0, 14, -5, -1, 9, 6, -8, -8, 9, -13, 4, -8, -1] }) });
row("math14", "bitwise int64 broadcast", [ints([2], [2 ** 40 + 5, -6], i64), ints([1], [3], i64)], (a, b) => a.bitwiseAnd(b), { ...nd, oracle: () => ({ shape: [2], data: [1, 2] }) });

// ---- linear algebra
row("linalg14", "diag 1-D k=1", [x([3])], (a) => a.diag(1), {
  oracle: (a) => ({ shape: [4, 4], data: Array.from({ length: 16 }, (_, e) => (e % 4 === Math.floor(e / 4) + 1 ? a.data[Math.floor(e / 4)] : 0)) }),
});
row("linalg14", "diag 2-D k=-1", [x([3, 4])], (a) => torch.diag(a, -1), { oracle: (a) => ({ shape: [2], data: [a.data[4], a.data[9]] }) });
row("linalg14", "diag 2-D k=2", [x([3, 4])], (a) => a.diag(2), { oracle: (a) => ({ shape: [2], data: [a.data[2], a.data[7]] }) });
row("linalg14", "outer", [x([3]), x([4])], (a, b) => torch.outer(a, b), { oracle: (a, b) => ({ shape: [3, 4], data: a.data.flatMap((u) => b.data.map((v) => u * v)) }) });
const mmTol = { rtol: 1e-4, atol: 1e-5 };
row("linalg14", "addmm beta alpha", [x([3, 2]), x([3, 4]), x([4, 2])], (i, a, b) => torch.addmm(i, a, b, { beta: 0.5, alpha: 2 }), {
  oracle: (i, a, b) => { const m = O.matmul(a, b); return { shape: m.shape, data: m.data.map((v, e) => 2 * v + 0.5 * i.data[e]) }; }, ...mmTol,
});
row("linalg14", "addmm broadcast bias beta=0", [x([2]), x([3, 4]), x([4, 2])], (i, a, b) => i.addmm(a, b, { beta: 0 }), { oracle: (_i, a, b) => O.matmul(a, b), ...mmTol });
row("linalg14", "baddbmm", [x([2, 3, 2]), x([2, 3, 4]), x([2, 4, 2])], (i, a, b) => torch.baddbmm(i, a, b, { beta: -1, alpha: 0.5 }), {
  oracle: (i, a, b) => { const m = O.matmul(a, b); return { shape: m.shape, data: m.data.map((v, e) => 0.5 * v - i.data[e]) }; }, ...mmTol,
});
const ein = (eq: string, shapes: number[][], oracle?: (...xs: Arr[]) => Arr) =>
  row("einsum", `einsum ${eq}`, shapes.map((s) => x(s)), (...xs) => torch.einsum(eq, ...xs), { oracle, ...mmTol });
ein("ij,jk->ik", [[3, 4], [4, 2]], O.matmul);
ein("bij,bjk->bik", [[2, 3, 4], [2, 4, 5]], O.matmul);
ein("ij->ji", [[3, 4]]);
ein("ii", [[4, 4]], (a) => ({ shape: [], data: [a.data[0] + a.data[5] + a.data[10] + a.data[15]] }));
ein("ii->i", [[3, 3]]);
ein("i,j->ij", [[3], [4]]);
ein("ijk->j", [[2, 3, 4]]);
ein("...ij,jk->...ik", [[2, 3, 4], [4, 5]]);
ein("bi,bi->b", [[3, 4], [3, 4]]);
ein("ij,jk,kl->il", [[2, 3], [3, 4], [4, 2]]);
