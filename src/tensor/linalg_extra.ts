// diag, outer, addmm / baddbmm and einsum, built on the matmul kernels and strided copies. einsum reduces every
// expression to at most one bmm per pair of operands: each operand's own repeated letters become a diagonal, its
// private letters are summed out, and the rest are permuted into [batch, free, contracted] blocks.
import { fmtShape, opError } from "../core/errors.js";
import { numelOf } from "../core/shape.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record } from "./dispatch.js";
import { bmm, mm } from "./linalg.js";
import { Tensor } from "./tensor.js";

/** The k-th diagonal of a 2-D x as a strided view (no autograd; copied by the caller). */
function diagonalView(x: Tensor, k: number): Tensor {
  const [r, c] = x.shape;
  const len = Math.max(0, k >= 0 ? Math.min(r, c - k) : Math.min(r + k, c));
  const offset = x.offset + (len === 0 ? 0 : k >= 0 ? k * x.strides[1] : -k * x.strides[0]);
  return new Tensor(x.storage, [len], [x.strides[0] + x.strides[1]], offset);
}

/** The k-th diagonal of a 2-D tensor, as a new 1-D tensor. */
export function diagonalOf(x: Tensor, k: number): Tensor {
  const view = diagonalView(x, k);
  const res = emptyTensor(view.shape, x.dtype, x.storage.device);
  kernelsFor(x).copy(view, res);
  if (needsGrad(x)) {
    const [r, c] = x.shape;
    record(res, "diag", [x], (g) => [embedDiagonal(g, k, r, c)]);
  }
  return res;
}

/** An r x c matrix of zeros with v on its k-th diagonal. */
function embedDiagonal(v: Tensor, k: number, r: number, c: number): Tensor {
  const out = emptyTensor([r, c], v.dtype, v.storage.device).fill_(0);
  const view = diagonalView(out, k);
  if (view.numel() > 0) kernelsFor(v).copy(v.contiguous(), view);
  if (needsGrad(v)) record(out, "diag", [v], (g) => [diagonalOf(g, k)]);
  return out;
}

/** torch.diag: a 1-D input becomes a square matrix with it on the k-th diagonal; a 2-D input gives that diagonal. */
export function diag(x: Tensor, k = 0): Tensor {
  if (!Number.isInteger(k)) throw opError("diag", `diagonal must be an integer, got ${k}`);
  if (x.dim() === 1) {
    const n = x.shape[0] + Math.abs(k);
    return embedDiagonal(x, k, n, n);
  }
  if (x.dim() === 2) return diagonalOf(x, k);
  throw opError("diag", `matrix or a vector expected, got a ${x.dim()}-D tensor of shape ${fmtShape(x.shape)}`);
}

export function outer(a: Tensor, b: Tensor): Tensor {
  if (a.dim() !== 1 || b.dim() !== 1) throw opError("outer", `expected 1-D tensors, got ${a.dim()}-D and ${b.dim()}-D`);
  return a.reshape([a.shape[0], 1]).mul(b.reshape([1, b.shape[0]]));
}

export interface AddmmOptions {
  beta?: number;
  alpha?: number;
}

/** beta * input + alpha * (m1 @ m2); with beta = 0 input is ignored (its NaN and inf do not propagate). */
function scaledSum(op: string, input: Tensor, prod: Tensor, o: AddmmOptions): Tensor {
  const beta = o.beta ?? 1;
  const alpha = o.alpha ?? 1;
  const p = alpha === 1 ? prod : prod.mul(alpha);
  // beta = 0: input only contributes its shape (and a zero gradient), never its NaN or inf.
  if (beta === 0) return p.add(input.mul(0).where(input.sub(input).eq(0), 0));
  try {
    return p.add(beta === 1 ? input : input.mul(beta));
  } catch (e) {
    throw opError(op, `input ${fmtShape(input.shape)} does not broadcast to the product's shape ${fmtShape(prod.shape)}: ${(e as Error).message}`);
  }
}

export function addmm(input: Tensor, m1: Tensor, m2: Tensor, o: AddmmOptions = {}): Tensor {
  return scaledSum("addmm", input, mm(m1, m2), o);
}

export function baddbmm(input: Tensor, b1: Tensor, b2: Tensor, o: AddmmOptions = {}): Tensor {
  return scaledSum("baddbmm", input, bmm(b1, b2), o);
}

// ---- einsum ------------------------------------------------------------------------------------------------------

interface Term {
  t: Tensor;
  letters: string[];
}

const ELLIPSIS_BASE = 0x3b1; // ellipsis dims get Greek letters, which no subscript uses

function parseOperand(spec: string, t: Tensor, equation: string, nEllipsis: number): string[] {
  const letters: string[] = [];
  const parts = spec.split("...");
  if (parts.length > 2) throw opError("einsum", `more than one ellipsis in "${spec}" of "${equation}"`);
  const check = (s: string) => {
    for (const ch of s) {
      if (!/[a-zA-Z]/.test(ch)) throw opError("einsum", `invalid subscript '${ch}' in "${equation}": use letters a-z, A-Z and "..."`);
    }
  };
  parts.forEach(check);
  const named = parts.join("").length;
  if (parts.length === 1) {
    if (named !== t.dim()) throw opError("einsum", `the subscript "${spec}" has ${named} letters but the operand has ${t.dim()} dims ${fmtShape(t.shape)}`);
    return [...spec];
  }
  const ell = t.dim() - named;
  if (ell < 0) throw opError("einsum", `the subscript "${spec}" names more dims than the operand's ${t.dim()}`);
  letters.push(...parts[0]);
  for (let i = 0; i < ell; i++) letters.push(String.fromCharCode(ELLIPSIS_BASE + nEllipsis - ell + i));
  letters.push(...parts[1]);
  return letters;
}

/** Folds repeated letters of one operand into a diagonal and sums out the letters nobody else needs. */
function simplify(term: Term, needed: Set<string>): Term {
  let { t, letters } = term;
  for (;;) {
    const dup = letters.findIndex((l, i) => letters.indexOf(l) !== i);
    if (dup < 0) break;
    const first = letters.indexOf(letters[dup]);
    if (t.shape[first] !== t.shape[dup]) {
      throw opError("einsum", `subscript ${letters[dup]} is repeated for an operand but the sizes don't match, ${t.shape[first]} != ${t.shape[dup]}`);
    }
    const rest = letters.map((_, i) => i).filter((i) => i !== first && i !== dup);
    const moved = t.permute([...rest, first, dup]);
    const n = t.shape[first];
    // The diagonal of the last two dims: a strided view through one copy, differentiable by composition.
    const flat = moved.reshape([-1, n * n]);
    const idx = arangeInt(n, n + 1, t);
    t = flat.indexSelect(1, idx).reshape([...rest.map((i) => t.shape[i]), n]);
    letters = [...rest.map((i) => letters[i]), letters[first]];
  }
  const drop = letters.map((l, i) => (needed.has(l) ? -1 : i)).filter((i) => i >= 0);
  if (drop.length) {
    t = t.sum(drop);
    letters = letters.filter((l) => needed.has(l));
  }
  return { t, letters };
}

/** [0, step, 2 step, ...] (n entries) as int64 on like's device. */
function arangeInt(n: number, step: number, like: Tensor): Tensor {
  const ones = emptyTensor([n], "int64", like.storage.device).fill_(step);
  return ones.cumsum(0).sub(step);
}

function contract(a: Term, b: Term, keep: Set<string>): Term {
  const inB = new Set(b.letters);
  const inA = new Set(a.letters);
  const batch = a.letters.filter((l) => inB.has(l) && keep.has(l));
  const summed = a.letters.filter((l) => inB.has(l) && !keep.has(l));
  const left = a.letters.filter((l) => !inB.has(l));
  const right = b.letters.filter((l) => !inA.has(l));
  const size = (l: string): number => {
    const sa = inA.has(l) ? a.t.shape[a.letters.indexOf(l)] : 1;
    const sb = inB.has(l) ? b.t.shape[b.letters.indexOf(l)] : 1;
    if (sa !== sb && sa !== 1 && sb !== 1) throw opError("einsum", `operands do not broadcast: subscript ${l} has sizes ${sa} and ${sb}`);
    return Math.max(sa, sb);
  };
  const order = (term: Term, ls: string[]) => term.t.permute(ls.map((l) => term.letters.indexOf(l)));
  const bs = batch.map(size), ks = summed.map(size), ls = left.map(size), rs = right.map(size);
  const A = order(a, [...batch, ...left, ...summed]).expand([...bs, ...ls, ...ks]).reshape([numelOf(bs), numelOf(ls), numelOf(ks)]);
  const B = order(b, [...batch, ...summed, ...right]).expand([...bs, ...ks, ...rs]).reshape([numelOf(bs), numelOf(ks), numelOf(rs)]);
  const out = bmm(A, B).reshape([...bs, ...ls, ...rs]);
  return { t: out, letters: [...batch, ...left, ...right] };
}

/** torch.einsum("ij,jk->ik", a, b): any number of operands, repeated letters (traces, diagonals), "..." and sums. */
export function einsum(equation: string, operands: readonly Tensor[]): Tensor {
  const eq = equation.replace(/\s+/g, "");
  const [lhs, rhs] = eq.includes("->") ? eq.split("->") : [eq, undefined];
  const specs = lhs.split(",");
  if (specs.length !== operands.length) {
    throw opError("einsum", `"${equation}" has ${specs.length} operand subscripts but ${operands.length} tensors were given`);
  }
  if (operands.length === 0) throw opError("einsum", "must provide at least one operand");
  const nEll = Math.max(0, ...specs.map((s, i) => (s.includes("...") ? operands[i].dim() - s.replace("...", "").length : 0)));
  let terms: Term[] = specs.map((s, i) => ({ t: operands[i], letters: parseOperand(s, operands[i], equation, nEll) }));
  const ellLetters = Array.from({ length: nEll }, (_, i) => String.fromCharCode(ELLIPSIS_BASE + i));
  let out: string[];
  if (rhs === undefined) {
    const count = new Map<string, number>();
    for (const t of terms) for (const l of t.letters) if (l.charCodeAt(0) < ELLIPSIS_BASE) count.set(l, (count.get(l) ?? 0) + 1);
    out = [...ellLetters.filter((l) => terms.some((t) => t.letters.includes(l))), ...[...count].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  } else {
    const parts = rhs.split("...");
    if (parts.length > 2) throw opError("einsum", `more than one ellipsis in the output of "${equation}"`);
    out = parts.length === 1 ? [...rhs] : [...parts[0], ...ellLetters, ...parts[1]];
    const all = new Set(terms.flatMap((t) => t.letters));
    for (const l of out) {
      if (l.charCodeAt(0) < ELLIPSIS_BASE && !all.has(l)) throw opError("einsum", `output subscript ${l} does not appear in the equation for any input operand`);
    }
    if (new Set(out).size !== out.length) throw opError("einsum", `output subscript appears more than once in "${equation}"`);
  }
  const outSet = new Set(out);
  const neededAfter = (i: number) => new Set([...out, ...terms.slice(i + 1).flatMap((t) => t.letters)]);
  let acc = simplify(terms[0], new Set([...outSet, ...terms.slice(1).flatMap((t) => t.letters)]));
  for (let i = 1; i < terms.length; i++) {
    const needed = neededAfter(i);
    const cur = simplify(terms[i], new Set([...needed, ...acc.letters]));
    acc = contract(acc, cur, needed);
    acc = simplify(acc, needed);
  }
  terms = [];
  acc = simplify(acc, outSet);
  return acc.letters.length === 0 && out.length === 0 ? acc.t : acc.t.permute(out.map((l) => acc.letters.indexOf(l)));
}
