// Runs the CUDA backend end to end without a GPU: the test files below, each with a cuda:0 part that skips without
// CUDA, run again in a child `node --test` whose cuda:0 is the emulated driver (test/helpers/cuda_emulator.ts:
// fake_libcuda.c with the real kernels compiled for the host). So the real addon, src/backends/cuda and every
// kernel these tests reach execute; cuBLAS and cuDNN are off (the kernels' own gemm and convolution run). It checks
// logic, not the GPU's memory model, the real driver, or speed.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emulatedCudaEnv, hasCompiler } from "./helpers/cuda_emulator.js";

const here = dirname(fileURLToPath(import.meta.url));
const addon = join(here, "..", "..", "build", "Release", "kindling_cuda.node");

// The op table (every row, forward and backward, contiguous and strided), the tutorial network's training, and the
// device-parameterised suites' "[cuda:0]" variants (test/helpers/devices.ts).
const FILES = [
  "cuda_op_table", "cuda_train", "cuda_large_shapes", "autograd", "golden_nn", "nn", "nn_modules", "optim", "reorder_masks",
  "gradcheck", "golden", "golden_ops", "cuda_tutorial_train", "tutorial_example", "airbench_cuda",
];

const skip = !existsSync(addon) ? "kindling_cuda.node is not built" : !hasCompiler() ? "g++ not found: no emulated CUDA driver" : false;

test("the cuda:0 tests pass on the emulated CUDA driver", { skip, timeout: 600_000 }, (t) => {
  const env = emulatedCudaEnv(mkdtempSync(join(tmpdir(), "kindling-cuda-emulated-")));
  // The child is a test runner of its own, not a file of this run (which would make it report in the parent's format).
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", "--test-name-pattern=cuda:0", ...FILES.map((f) => join(here, `${f}.test.js`))], {
    env, encoding: "utf8", maxBuffer: 1 << 28,
  });
  const out = r.stdout + r.stderr;
  const failed = out.split("\n").filter((l) => /^\s*not ok /.test(l));
  assert.equal(r.status, 0, `the emulated cuda:0 run failed (exit ${r.status}):\n${failed.join("\n")}\n${out.slice(-4000)}`);
  // The cuda:0 parts really ran: none of them reports CUDA as missing.
  assert.doesNotMatch(out, /# SKIP no CUDA/, "a cuda:0 test was skipped: the emulated driver did not load");
  const ran = out.split("\n").filter((l) => /^\s*ok .*(\[cuda:0\]|on cuda:0)/.test(l)).length;
  assert.ok(ran >= 100, `only ${ran} cuda:0 tests ran`);
  t.diagnostic(`${ran} cuda:0 tests passed on the emulated driver`);
});
