// torch.linalg.eigh against PyTorch 1.13 (test/golden/airbench.json): eigenvalues exactly, eigenvectors up to sign,
// plus reconstruction Q diag(L) Qᵀ = A and orthonormality, UPLO, the sign convention, and the errors.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assertClose, values } from "./helpers/compare.js";
import { golden } from "./helpers/airbench_golden.js";

test("linalg.eigh matches PyTorch's eigenvalues and (up to sign) eigenvectors, float64 and float32, L and U", () => {
  for (const c of golden.eigh) {
    const shape = [...(c.batch ?? []), c.n, c.n];
    const A = torch.tensor(c.a, { dtype: torch.float64 }).reshape(shape).to(c.dtype);
    const { eigenvalues: L, eigenvectors: Q } = torch.linalg.eigh(A, c.uplo);
    assert.equal(L.dtype, c.dtype);
    assert.deepEqual(L.shape, [...(c.batch ?? []), c.n]);
    assert.deepEqual(Q.shape, shape);
    const tol = c.dtype === "float32" ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-10, atol: 1e-10 };
    assertClose(values(L), c.eigenvalues, { ...tol, msg: `eigenvalues n=${c.n} ${c.dtype} ${c.uplo}` });
    const l = values(L);
    const q = values(Q);
    const n = c.n;
    for (let b = 0; b < (c.batch?.[0] ?? 1); b++) {
      for (let j = 0; j < n; j++) {
        // A repeated eigenvalue has no unique eigenvector: compare only isolated ones.
        const lj = l[b * n + j]!;
        const isolated = l.slice(b * n, b * n + n).every((x, k) => k === j || Math.abs(x - lj) > 1e-6);
        if (!isolated) continue;
        const col = (arr: number[]) => Array.from({ length: n }, (_, k) => arr[b * n * n + k * n + j]!);
        const mine = col(q);
        const theirs = col(c.eigenvectors);
        const dot = mine.reduce((s, x, k) => s + x * theirs[k]!, 0);
        assertClose(mine.map((x) => x * Math.sign(dot)), theirs, { ...tol, msg: `eigenvector ${j} of n=${c.n}` });
      }
    }
  }
});

test("linalg.eigh reconstructs A, gives orthonormal vectors, and fixes the sign (largest component positive)", () => {
  const n = 12;
  const raw = torch.randn([n, n], { dtype: torch.float64 });
  const A = raw.add(raw.t());
  const [L, Q] = torch.linalg.eigh(A);
  const rebuilt = Q.mul(L.reshape([1, n])).matmul(Q.t());
  assertClose(values(rebuilt), values(A), { rtol: 1e-10, atol: 1e-10 });
  assertClose(values(Q.t().matmul(Q)), values(torch.eye(n, { dtype: torch.float64 })), { atol: 1e-12 });
  const l = values(L);
  for (let i = 1; i < n; i++) assert.ok(l[i - 1]! <= l[i]!, "ascending");
  const q = values(Q);
  for (let j = 0; j < n; j++) {
    const col = Array.from({ length: n }, (_, k) => q[k * n + j]!);
    const big = col.reduce((b, x) => (Math.abs(x) > Math.abs(b) ? x : b), 0);
    assert.ok(big > 0, `column ${j}'s largest component is positive`);
  }
});

test("linalg.eigh reads only the UPLO triangle and refuses what it cannot do", () => {
  const sym = torch.tensor([[2, 1], [1, 3]], { dtype: torch.float64 });
  const lowerOnly = torch.tensor([[2, 99], [1, 3]], { dtype: torch.float64 });
  const upperOnly = torch.tensor([[2, 1], [-42, 3]], { dtype: torch.float64 });
  const want = values(torch.linalg.eigh(sym).eigenvalues);
  assertClose(values(torch.linalg.eigh(lowerOnly, "L").eigenvalues), want, { rtol: 1e-14 });
  assertClose(values(torch.linalg.eigh(upperOnly, "U").eigenvalues), want, { rtol: 1e-14 });
  assert.throws(() => torch.linalg.eigh(torch.zeros([2, 3])), /square matrices/);
  assert.throws(() => torch.linalg.eigh(torch.zeros([2, 2], { dtype: torch.int32 })), /float32 or float64/);
  assert.throws(() => torch.linalg.eigh(sym, "X" as "L"), /UPLO/);
  assert.throws(() => torch.linalg.eigh(sym.clone().requiresGrad_()), /backward of eigh is not implemented/);
  assert.throws(() => torch.linalg.eigh(torch.tensor([[NaN, 0], [0, 1]])), /NaN/);
  assert.doesNotThrow(() => torch.noGrad(() => torch.linalg.eigh(sym.clone().requiresGrad_())));
});
