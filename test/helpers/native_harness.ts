// Harness of the native addon tests (test/native_*.test.ts): float64 reference helpers, and a runner that repeats a
// file's checks in child processes, one per ISA path (avx512 / avx2 / scalar), because KINDLING_ISA is read once
// when the addon loads. The three paths run concurrently.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { addonLoadError, loadAddon, type NativeAddon } from "../../src/backends/cpu/addon.js";

// ------------------------------------------------------------------ helpers
let seed = 12345;
export function rnd(): number {
  // xorshift32 -> [0,1)
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
export function randArr(n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rnd();
  return a;
}
export function randInt(lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}
/** Buffer of `n` random values placed at offset `off` inside a larger array. */
export function withOff(n: number, off: number, lo = -1, hi = 1): Float32Array {
  const a = randArr(n + off + 3, lo, hi);
  return a;
}

/** Failed checks of this process (the child reports them). */
export const failures: string[] = [];
let checks = 0;
/** Counts a check that reports its own failures. */
export function countCheck(): void {
  checks++;
}
export function close(name: string, got: ArrayLike<number>, gOff: number, want: ArrayLike<number>, rtol: number,
  atol = 0, scale?: ArrayLike<number>): void {
  checks++;
  for (let i = 0; i < want.length; i++) {
    const g = got[gOff + i], w = want[i];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) { failures.push(`${name}[${i}]: got ${g}, want NaN`); return; }
      continue;
    }
    if (!Number.isFinite(w)) {
      if (g !== w) { failures.push(`${name}[${i}]: got ${g}, want ${w}`); return; }
      continue;
    }
    const s = scale ? scale[i] : Math.abs(w);
    if (!(Math.abs(g - w) <= rtol * s + atol)) {
      failures.push(`${name}[${i}]: got ${g}, want ${w} (tol ${rtol * s + atol})`);
      return;
    }
  }
}
export function eqInt(name: string, got: ArrayLike<number>, gOff: number, want: ArrayLike<number>): void {
  checks++;
  for (let i = 0; i < want.length; i++)
    if (got[gOff + i] !== want[i]) { failures.push(`${name}[${i}]: got ${got[gOff + i]}, want ${want[i]}`); return; }
}

// erfc to ~1e-14 relative: positive-term series for |x| < 3, continued fraction beyond.
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    let term = x, sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * sum; n++) { term *= (2 * x * x) / (2 * n + 1); sum += term; }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  let t = 0;
  for (let k = 120; k >= 1; k--) t = k / 2 / (x + t);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + t);
}

export type Section = [name: string, check: (a: NativeAddon) => void];

/**
 * In a child (KINDLING_NATIVE_CHILD=1): runs the sections (those named in singleThreaded again on one thread) and
 * prints the result. Otherwise: one test per ISA path that runs this file as such a child and asserts no failures.
 */
export function nativeChecks(file: string, family: string, sections: Section[], singleThreaded: string[] = []): void {
  if (process.env.KINDLING_NATIVE_CHILD === "1") return runChecks(sections, singleThreaded);
  const addon = loadAddon();
  for (const isa of ["avx512", "avx2", "scalar"]) {
    test(`native ${family} kernels match float64 references (KINDLING_ISA=${isa})`, async (t) => {
      if (!addon) {
        t.skip(`native addon not available: ${addonLoadError()}`);
        return;
      }
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [fileURLToPath(file)], {
          env: { ...process.env, KINDLING_NATIVE_CHILD: "1", KINDLING_ISA: isa },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let so = "", se = "";
        child.stdout.on("data", (d: Buffer) => (so += d.toString()));
        child.stderr.on("data", (d: Buffer) => (se += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(so) : reject(new Error(`child exited ${code}: ${se}\n${so}`))));
      });
      const line = out.split("\n").find((l) => l.startsWith("@@RESULT "));
      assert.ok(line, `no result from child: ${out}`);
      const r = JSON.parse(line.slice(9)) as { isa: string; checks: number; failures: string[]; nfail: number; times: string[] };
      t.diagnostic(`isa=${r.isa} checks=${r.checks} ${r.times.join(" ")}`);
      assert.ok(r.checks >= 5, "too few checks ran");
      assert.deepEqual(r.failures, [], `${r.nfail} failing checks on ${r.isa}`);
    });
  }
}

function runChecks(sections: Section[], singleThreaded: string[]): void {
  const a = loadAddon();
  if (!a) throw new Error(`addon missing: ${addonLoadError()}`);
  const times: string[] = [];
  for (const threads of [0, 1]) {
    if (threads) a.setNumThreads(1);
    for (const [name, f] of sections) {
      if (threads && !singleThreaded.includes(name)) continue;
      const t0 = Date.now();
      try {
        f(a);
      } catch (e) {
        failures.push(`${name} threw ${e instanceof Error ? e.stack : String(e)}`);
      }
      times.push(`${name}${threads ? "(1t)" : ""}:${Date.now() - t0}ms`);
    }
  }
  process.stdout.write(`@@RESULT ${JSON.stringify({ isa: a.isa(), checks, failures: failures.slice(0, 20), nfail: failures.length, times })}\n`);
}
