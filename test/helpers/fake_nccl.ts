// The stand-in NCCL (test/fixtures/fake_libnccl.c) on the emulated CUDA driver, for the tests that run the NCCL
// backend without a GPU: compiled into `dir`, with the reason to skip when it or the addons cannot be had.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hasCompiler } from "./cuda_emulator.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export function emulatedNccl(dir: string): { fakeNccl: string | null; skip: string | false } {
  const addons = ["kindling_cuda.node", "kindling_nccl.node"].every((f) => existsSync(join(root, "build", "Release", f)));
  if (!addons) return { fakeNccl: null, skip: "kindling_cuda.node or kindling_nccl.node is not built" };
  const out = join(dir, "libnccl.so.2");
  const r = spawnSync("cc", ["-shared", "-fPIC", "-O1", "-o", out, join(root, "test", "fixtures", "fake_libnccl.c")]);
  const fakeNccl = r.status === 0 ? out : null;
  return { fakeNccl, skip: !hasCompiler() || !fakeNccl ? "no C/C++ compiler for the emulated driver and the stand-in NCCL" : false };
}
