// Runs the CUDA kernels on the CPU: EmuRuntime records the device operations cudaKernels() issues (fills, uploads,
// copies, launches, library gemms) as a trace; runEmulator() builds test/cuda_emu (the kernels compiled as host C++
// with shim.h, a kernel table generated from their signatures) and replays the trace, returning the dumped memory.
// buildEmulatedDriver() builds the same kernels into a stand-in libcuda.so.1 the real addon loads.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DevicePtr, Dim3, GemmArgs, KernelArgs } from "../../src/backends/cuda/runtime.js";
import { FakeRuntime } from "./cuda_fake_runtime.js";
import { abiOffsets, cuFiles, kernelDir, kernelSignatures, kernelsWithBarriers } from "./cuda_sources.js";

const BASE = 0x100000000000n;
const SPAN = 1n << 30n;

function hex(b: ArrayBufferView): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

export class EmuRuntime extends FakeRuntime {
  readonly trace: string[] = [];
  private dumps = 0;
  constructor(hasBlas: boolean) {
    super(hasBlas, false, BASE);
  }
  override memsetD32(ptr: DevicePtr, bits: number, count: number): void {
    super.memsetD32(ptr, bits, count);
    this.trace.push(`memset ${ptr.toString(16)} ${bits >>> 0} ${count}`);
  }
  override copyHtoD(dst: DevicePtr, src: ArrayBufferView): void {
    super.copyHtoD(dst, src);
    this.trace.push(`htod ${dst.toString(16)} ${src.byteLength} ${hex(src)}`);
  }
  override copyDtoD(dst: DevicePtr, src: DevicePtr, bytes: number): void {
    super.copyDtoD(dst, src, bytes);
    this.trace.push(`dtod ${dst.toString(16)} ${src.toString(16)} ${bytes}`);
  }
  override launch(kernel: string, grid: Dim3, block: Dim3, sharedBytes: number, args: KernelArgs): void {
    super.launch(kernel, grid, block, sharedBytes, args);
    this.trace.push(`launch ${kernel} ${grid.join(" ")} ${block.join(" ")} ${args.bytes.byteLength} ${hex(args.bytes)}`);
  }
  override gemm(g: GemmArgs): void {
    super.gemm(g);
    const p = (x: bigint) => x.toString(16);
    this.trace.push(`gemm ${g.dtype} ${g.transA ? 1 : 0} ${g.transB ? 1 : 0} ${g.M} ${g.N} ${g.K} ${p(g.a)} ${g.lda} ${g.strideA} ${p(g.b)} ${g.ldb} ${g.strideB} ${p(g.c)} ${g.ldc} ${g.strideC} ${g.batch} ${g.alpha} ${g.beta}`);
  }
  /** Asks for `bytes` at ptr after everything traced so far; returns the index of the dump in runEmulator's result. */
  dump(ptr: DevicePtr, bytes: number): number {
    this.trace.push(`dump ${ptr.toString(16)} ${bytes}`);
    return this.dumps++;
  }
}

/**
 * C++ for every kernel: a runner that reads its parameters from cuLaunchKernel-style pointers and runs the launch
 * (exec.h), its ABI offsets, and the table emuFindKernel searches. The one generator for the trace emulator and the
 * emulated driver.
 */
function kernelTableSource(): string {
  const barriers = kernelsWithBarriers();
  const lines: string[] = [];
  const rows: string[] = [];
  for (const sig of kernelSignatures().values()) {
    const offs = abiOffsets(sig.params.map((p) => p.kind));
    lines.push(`static void emuRun_${sig.name}(void** p) {`);
    const names: string[] = [];
    sig.params.forEach((p, i) => {
      const type = p.decl.replace(/\s*\b\w+\s*$/, "");
      lines.push(`  ${type} a${i}; std::memcpy((void*)&a${i}, p[${i}], sizeof(a${i}));`);
      names.push(`a${i}`);
    });
    lines.push(`  emu::run("${sig.name}", ${barriers.has(sig.name)}, [&] { ${sig.name}(${names.join(", ")}); });`, "}");
    lines.push(`static const unsigned emuOffs_${sig.name}[] = {${offs.length ? offs.join(", ") : "0"}};`);
    rows.push(`  {"${sig.name}", ${offs.length}, emuOffs_${sig.name}, emuRun_${sig.name}},`);
  }
  lines.push("static const EmuKernel emuKernels[] = {", ...rows, "};");
  lines.push("static const EmuKernel* emuFindKernel(const char* name) {");
  lines.push("  for (const EmuKernel& k : emuKernels) if (!std::strcmp(k.name, name)) return &k;");
  lines.push("  return nullptr;", "}");
  return lines.join("\n");
}

const emuDir = join(kernelDir, "..", "..", "..", "test", "cuda_emu");

/** The kernels as host C++: shim.h, every .cu file, exec.h and the generated kernel table, then `tail`. */
function emulatedSource(tail: string[]): { source: string; parts: string[] } {
  const inc = (p: string) => `#include "${p}"`;
  const kernels = [...cuFiles(), "common.cuh"].map((f) => join(kernelDir, f));
  const source = [
    inc(join(emuDir, "shim.h")),
    ...cuFiles().map((f) => inc(join(kernelDir, f))),
    inc(join(emuDir, "exec.h")),
    kernelTableSource(),
    ...tail.map(inc),
    "",
  ].join("\n");
  return { source, parts: [join(emuDir, "shim.h"), join(emuDir, "exec.h"), ...kernels, ...tail] };
}

/**
 * Compiles once (g++ -O1, about half a minute), cached in the temp directory under a hash of everything that goes
 * into it, so a rerun with unchanged sources starts at once. Returns the output's path.
 */
function compileCached(what: string, source: string, parts: string[], flags: string[]): string {
  const hash = createHash("sha256").update(source).update(flags.join(" "));
  for (const p of parts) hash.update(readFileSync(p));
  const out = join(tmpdir(), `kindling-${what}-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(out)) {
    const dir = mkdtempSync(join(tmpdir(), `kindling-${what}-build-`));
    try {
      const src = join(dir, "emu.cc");
      writeFileSync(src, source);
      // No _FORTIFY_SOURCE: its longjmp check refuses the jumps between fiber stacks (exec.h).
      execFileSync("g++", ["-std=c++17", "-O1", "-w", "-U_FORTIFY_SOURCE", ...flags, "-x", "c++", src, "-o", join(dir, "out")], { stdio: ["ignore", "pipe", "pipe"] });
      renameSync(join(dir, "out"), out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

let binary: string | null = null;

/** The trace emulator (driver.h's main loop over the kernels). */
export function buildEmulator(): string {
  if (binary) return binary;
  const { source, parts } = emulatedSource([join(emuDir, "driver.h")]);
  binary = compileCached("cuda-emu", source, parts, []);
  return binary;
}

let driver: string | null = null;

/**
 * The emulated driver: test/fixtures/fake_libcuda.c built as a libcuda.so.1 whose cuModuleGetFunction and
 * cuLaunchKernel run the kernels compiled as host C++ (FAKE_CUDA_EMULATED_KERNELS). The real addon loads it through
 * KINDLING_LIBCUDA_PATH (emulatedCudaEnv).
 */
export function buildEmulatedDriver(): string {
  if (driver) return driver;
  const fake = join(kernelDir, "..", "..", "..", "test", "fixtures", "fake_libcuda.c");
  const { source, parts } = emulatedSource([]);
  const full = `${source}#define FAKE_CUDA_EMULATED_KERNELS 1\n#include "${fake}"\n`;
  driver = compileCached("cuda-emu-driver", full, [...parts, fake], ["-shared", "-fPIC"]);
  return driver;
}

export function hasCompiler(): boolean {
  try {
    execFileSync("g++", ["--version"], { stdio: "ignore" });
    return existsSync(join(kernelDir, "common.cuh"));
  } catch {
    return false;
  }
}

/** Replays the runtime's trace; returns each dump's bytes in order. */
export function runEmulator(rt: EmuRuntime): Uint8Array[] {
  const bin = buildEmulator();
  const input = `${BASE.toString(16)} ${SPAN}\n${rt.trace.join("\n")}\n`;
  const out = execFileSync(bin, [], { input, maxBuffer: 1 << 28, encoding: "utf8" });
  return out.split("\n").filter((l) => l.startsWith("D")).map((l) => new Uint8Array(Buffer.from(l.slice(1), "hex")));
}

/**
 * The environment under which a child process's cuda:0 is the emulated driver: no cuBLAS/cuDNN (the kernels' own
 * gemm and convolution paths run), no NVRTC, and a stand-in module image (the driver runs its own compiled kernels
 * whatever image it is handed, so this works without nvcc's fatbin).
 */
export function emulatedCudaEnv(scratch: string): NodeJS.ProcessEnv {
  const image = join(scratch, "emulated-kernels.image");
  writeFileSync(image, "the emulated driver ignores the module image");
  const none = "none";
  return {
    ...process.env,
    KINDLING_LIBCUDA_PATH: buildEmulatedDriver(),
    KINDLING_CUDA_FATBIN: image,
    KINDLING_CUBLASLT_PATH: none,
    KINDLING_CUBLAS_PATH: none,
    KINDLING_CUDNN_PATH: none,
    KINDLING_NVRTC_PATH: none,
    FAKE_CUDA_MEM: String(8 * 2 ** 30),
    CUDA_LAUNCH_BLOCKING: undefined,
  };
}
