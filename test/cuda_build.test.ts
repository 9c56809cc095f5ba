// What the build guarantees about the CUDA pieces on a machine without a GPU: our driver declarations match NVIDIA's
// headers (when they are installed), and with nvcc the fatbin exists and holds the kernels.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const CUDA_INCLUDE = process.env.CUDA_HOME ? path.join(process.env.CUDA_HOME, "include") : "/usr/local/cuda/include";
const noHeaders = !fs.existsSync(path.join(CUDA_INCLUDE, "cuda.h")) && `no ${CUDA_INCLUDE}/cuda.h`;
const cxx = process.env.CXX ?? "c++";

function syntaxCheck(dir: string): { status: number | null; stderr: string } {
  const r = spawnSync(cxx, ["-std=c++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", `-I${CUDA_INCLUDE}`, path.join(dir, "abi_check.cc")], { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

test("native/cuda/cuda_api.h agrees with cuda.h (static_asserts in abi_check.cc)", { skip: noHeaders }, () => {
  const r = syntaxCheck(path.join(root, "native", "cuda"));
  assert.equal(r.status, 0, r.stderr);
});

test("the ABI check fails when a declaration drifts (a wrong enum value, a legacy 32-bit pointer)", { skip: noHeaders }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-abi-"));
  fs.copyFileSync(path.join(root, "native", "cuda", "abi_check.cc"), path.join(dir, "abi_check.cc"));
  const header = fs.readFileSync(path.join(root, "native", "cuda", "cuda_api.h"), "utf8");
  const drifted = header
    .replace("CUDA_ERROR_NOT_READY = 600", "CUDA_ERROR_NOT_READY = 601")
    .replace("using PFN_cuMemFreeAsync = CUresult (*)(CUdeviceptr, CUstream);", "using PFN_cuMemFreeAsync = CUresult (*)(unsigned, CUstream);");
  assert.notEqual(drifted, header);
  fs.writeFileSync(path.join(dir, "cuda_api.h"), drifted);
  const r = syntaxCheck(dir);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /CUDA_ERROR_NOT_READY/);
  assert.match(r.stderr, /cuMemFreeAsync differs from cuda\.h/);
});

function hasNvcc(): boolean {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/local/cuda/bin"];
  return dirs.some((d) => fs.existsSync(path.join(d, "nvcc")));
}

test("with nvcc, the build leaves one non-empty fatbin holding every kernel source's kernels", { skip: !hasNvcc() && "no nvcc on this machine" }, () => {
  const fatbin = path.join(root, "build", "cuda", "kindling.fatbin");
  assert.ok(fs.existsSync(fatbin), `${fatbin} is missing: run \`npm run build\``);
  const bytes = fs.readFileSync(fatbin);
  assert.ok(bytes.byteLength > 0);
  // Kernel names appear in the SASS images' symbol tables.
  const kdir = path.join(root, "native", "cuda", "kernels");
  for (const f of fs.readdirSync(kdir).filter((n) => n.endsWith(".cu"))) {
    for (const m of fs.readFileSync(path.join(kdir, f), "utf8").matchAll(/extern "C" __global__ void (k_\w+)/g)) {
      assert.ok(bytes.includes(Buffer.from(m[1]!)), `${m[1]} (${f}) is not in the fatbin: rebuild with \`npm run build\``);
    }
  }
});
