// The CUDA kernels compile: every native/cuda/kernels/*.cu as one translation unit (the way the build compiles
// them into the fatbin), with every warning an error. Skipped, with a message, where nvcc is missing. Also checks
// the sources' rules that compiling here would not catch: no header but our own common.cuh (NVRTC on a user's
// machine has no toolkit headers), and every kernel `extern "C"` with a k_ name, each defined once.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cuFiles, kernelDir, kernelSignatures } from "./helpers/cuda_sources.js";

function findNvcc(): string | null {
  for (const p of [process.env.NVCC, "/usr/local/bin/nvcc", "/usr/local/cuda/bin/nvcc"]) if (p && existsSync(p)) return p;
  const r = spawnSync("nvcc", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? "nvcc" : null;
}

const nvcc = findNvcc();
const skip = nvcc ? false : "nvcc not found (set NVCC or install the CUDA toolkit); the CUDA kernels were not compiled";
if (skip) console.log(`# ${skip}`);

test("the kernel sources include no header but common.cuh", () => {
  const bad: string[] = [];
  for (const f of [...cuFiles(), "common.cuh"]) {
    const text = readFileSync(join(kernelDir, f), "utf8");
    for (const m of text.matchAll(/^\s*#\s*include\s*(\S+)/gm)) if (m[1] !== '"common.cuh"') bad.push(`${f}: #include ${m[1]}`);
  }
  assert.deepEqual(bad, []);
  assert.ok(cuFiles().length >= 9, "expected the kernel families' .cu files");
});

test("every kernel is extern \"C\", named k_*, defined once", () => {
  const sigs = kernelSignatures();
  assert.ok(sigs.size > 50, `found only ${sigs.size} kernels`);
  for (const name of sigs.keys()) assert.match(name, /^k_[a-z0-9_]+$/);
  for (const f of cuFiles()) {
    const text = readFileSync(join(kernelDir, f), "utf8");
    const globals = [...text.matchAll(/__global__\s+void\s+(?:__launch_bounds__\(\d+\)\s+)?(\w+)/g)].map((m) => m[1]);
    const externs = [...text.matchAll(/extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\(\d+\)\s+)?(\w+)/g)].map((m) => m[1]);
    assert.deepEqual(globals, externs, `${f}: every __global__ must be extern "C"`);
  }
});

test("all kernels compile as one translation unit with warnings as errors (sm_80)", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "kindling-cuda-"));
  try {
    const tu = join(dir, "all_kernels.cu");
    writeFileSync(tu, cuFiles().map((f) => `#include "${join(kernelDir, f)}"\n`).join(""));
    const out = join(dir, "all.cubin");
    let log = "";
    try {
      log = execFileSync(nvcc!, ["--cubin", "-arch=sm_80", "-std=c++17", "-Werror", "all-warnings", "-o", out, tu], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string };
      assert.fail(`nvcc failed:\n${err.stderr ?? ""}${err.stdout ?? ""}`);
    }
    assert.ok(existsSync(out), `no cubin written; nvcc said:\n${log}`);
    // Each kernel is in the cubin under its unmangled name (extern "C").
    const bin = readFileSync(out).toString("latin1");
    const missing = [...kernelSignatures().keys()].filter((k) => !bin.includes(`${k}\0`));
    assert.deepEqual(missing, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the NVRTC bundle inlines common.cuh and compiles with no include path", async () => {
  const { kernelSourceBundle, kernelSourceFiles } = await import("../src/backends/cuda/locate.js");
  const bundle = kernelSourceBundle(kernelSourceFiles());
  assert.deepEqual([...bundle.matchAll(/^\s*#\s*include\b.*$/gm)].map((m) => m[0]), [], "NVRTC has no include path: nothing may be left to include");
  assert.ok(bundle.includes("KINDLING_CUDA_COMMON_CUH"), "common.cuh inlined");
  if (!nvcc) return;
  const dir = mkdtempSync(join(tmpdir(), "kindling-nvrtc-"));
  try {
    // Outside the kernels' folder, so a leftover quoted include could not be found.
    const tu = join(dir, "bundle.cu");
    writeFileSync(tu, bundle);
    const out = join(dir, "bundle.cubin");
    try {
      execFileSync(nvcc, ["--cubin", "-arch=sm_80", "-std=c++17", "-Werror", "all-warnings", "-o", out, tu], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const err = e as { stderr?: Buffer };
      assert.fail(`nvcc failed on the NVRTC bundle:\n${err.stderr?.toString() ?? ""}`);
    }
    assert.ok(existsSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
