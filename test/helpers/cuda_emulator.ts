// Runs the CUDA kernels on the CPU: EmuRuntime records the device operations cudaKernels() issues (fills, uploads,
// copies, launches, library gemms) as a trace; runEmulator() builds test/cuda_emu (the kernels compiled as host C++
// with shim.h, a dispatch generated from their signatures) and replays the trace, returning the dumped memory.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DevicePtr, Dim3, GemmArgs, KernelArgs } from "../../src/backends/cuda/runtime.js";
import { FakeRuntime } from "./cuda_fake_runtime.js";
import { abiOffsets, cuFiles, kernelDir, kernelSignatures } from "./cuda_sources.js";

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

/** C++ that unpacks each kernel's argument bytes at their ABI offsets and runs it over its grid. */
function dispatchSource(): string {
  const lines = ["static bool dispatch(const std::string& name, const unsigned char* args) {"];
  for (const sig of kernelSignatures().values()) {
    const offs = abiOffsets(sig.params.map((p) => p.kind));
    lines.push(`  if (name == "${sig.name}") {`);
    const names: string[] = [];
    sig.params.forEach((p, i) => {
      const type = p.decl.replace(/\s*\b\w+\s*$/, "");
      lines.push(`    ${type} a${i}; std::memcpy((void*)&a${i}, args + ${offs[i]}, sizeof(a${i}));`);
      names.push(`a${i}`);
    });
    lines.push(`    emuRun(gridDim, blockDim, [&] { ${sig.name}(${names.join(", ")}); });`, "    return true;", "  }");
  }
  lines.push("  return false;", "}");
  return lines.join("\n");
}

let binary: string | null = null;

/**
 * Builds the emulator (g++ -O1, about half a minute), cached in the temp directory under a hash of everything that
 * goes into it, so a rerun with unchanged kernels starts at once.
 */
export function buildEmulator(): string {
  if (binary) return binary;
  const emuDir = join(kernelDir, "..", "..", "..", "test", "cuda_emu");
  const parts = [join(emuDir, "shim.h"), ...[...cuFiles(), "common.cuh"].map((f) => join(kernelDir, f)), join(emuDir, "driver.h")];
  const source = [
    `#include "${parts[0]}"`,
    ...cuFiles().map((f) => `#include "${join(kernelDir, f)}"`),
    `#include "${parts[parts.length - 1]}"`,
    dispatchSource(),
    "",
  ].join("\n");
  const hash = createHash("sha256").update(source);
  for (const p of parts) hash.update(readFileSync(p));
  const out = join(tmpdir(), `kindling-cuda-emu-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(out)) {
    const dir = mkdtempSync(join(tmpdir(), "kindling-cuda-emu-build-"));
    try {
      const src = join(dir, "emu.cc");
      writeFileSync(src, source);
      execFileSync("g++", ["-std=c++17", "-O1", "-w", "-pthread", "-x", "c++", src, "-o", join(dir, "emu")], { stdio: ["ignore", "pipe", "pipe"] });
      renameSync(join(dir, "emu"), out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  binary = out;
  return out;
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
