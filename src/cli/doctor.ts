// `kindling doctor`: what this installation runs on. Which native addon loaded (file, prebuilt package or source
// build, ISA) or why none did and how to get one, and whether the CUDA driver, cuBLAS, cuDNN, NCCL and MPI
// libraries are on the machine (searched for, not loaded: see backends/system_libs.ts).
import type { Specs } from "./args.js";
import { backends, type CpuBackendInfo, type LibraryProbe, type SystemLibraries } from "../backends_api.js";
import { kindlingVersion } from "../io/checkpoint.js";
import * as cuda from "../backends/cuda.js";

export const DOCTOR_SPECS: Specs = {
  json: { kind: "bool", help: "the report as JSON on stdout" },
};

export interface DoctorReport {
  kindling: string;
  node: string;
  platform: string;
  cpu: CpuBackendInfo;
  /** torch.cuda as kindling sees it, and why it is unavailable. */
  cuda: {
    available: boolean;
    devices: number;
    reason: string | null;
    /** The CUDA backend's own view: addon, driver, GPUs, where the kernels and libraries come from. */
    status: cuda.CudaStatus;
    kernels: string;
    libraries: cuda.CudaLibraryLine[];
  };
  libraries: SystemLibraries;
}

function platformLine(): string {
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  return `${process.platform} ${process.arch}${glibc ? ` (glibc ${glibc})` : ""}`;
}

function sourceText(info: NonNullable<CpuBackendInfo["addon"]>): string {
  return info.source === "prebuilt" ? `prebuilt package ${info.package}` : "source build (build/Release in kindling's folder)";
}

function libLine(p: LibraryProbe): string {
  const label = p.name.padEnd(12);
  const via = p.via && p.path && !p.path.startsWith(p.via) ? ` (via ${p.via})` : "";
  return `  ${label} ${p.path ? `found: ${p.path}${via}` : `not found: ${p.reason}`}`;
}

function cudaReport(libs: SystemLibraries): DoctorReport["cuda"] {
  const extra = { status: cuda.status(), kernels: cuda.kernelReport(), libraries: cuda.libraryReport() };
  if (cuda.isAvailable()) return { available: true, devices: cuda.deviceCount(), reason: null, ...extra };
  const why = [`torch.cuda.isAvailable() is false: ${cuda.unavailableReason()}`];
  if (!libs.cuda.path) why.push(`${libs.cuda.files.join(", ")} not found`);
  if (process.platform === "linux" && !libs.nvidiaDriver) why.push("no NVIDIA kernel driver loaded");
  return { available: false, devices: 0, reason: why.join("; "), ...extra };
}

function cudaLines(c: DoctorReport["cuda"]): string[] {
  const s = c.status;
  const lines = [`  addon         ${s.addon ?? "not loaded"}`];
  if (s.driver.path) lines.push(`  driver        ${s.driver.path} (CUDA ${s.driver.version})`);
  for (const d of s.devices) lines.push(`  cuda:${d.index}        ${d.name}, compute capability ${d.capability}, ${d.memoryGiB.toFixed(1)} GiB`);
  lines.push(`  kernels       ${c.kernels}`);
  for (const l of c.libraries) {
    const where = l.path ? `${l.path}${l.via ? ` (via ${l.via})` : ""}` : "";
    lines.push(`  ${l.library.padEnd(13)} ${l.state === "missing" ? `not found: ${l.hint}` : `${l.state}: ${where}`}`);
  }
  return lines;
}

export function doctorReport(): DoctorReport {
  const libraries = backends.systemLibraries();
  return {
    kindling: kindlingVersion(),
    node: process.version,
    platform: platformLine(),
    cpu: backends.cpu.info(),
    cuda: cudaReport(libraries),
    libraries,
  };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [`kindling ${r.kindling} on Node ${r.node}, ${r.platform}`, ""];
  const cpu = r.cpu;
  if (cpu.addon) {
    lines.push(`CPU backend: ${cpu.backend} (native addon loaded)`);
    lines.push(`  addon    ${cpu.addon.file}`);
    lines.push(`  from     ${sourceText(cpu.addon)}`);
    lines.push(`  ISA      ${cpu.addon.isa}${process.env.KINDLING_ISA ? ` (capped by KINDLING_ISA=${process.env.KINDLING_ISA})` : ""}`);
    lines.push(`  threads  ${cpu.addon.threads}`);
  } else {
    lines.push(`CPU backend: ${cpu.backend} (no native addon: the pure-TypeScript reference kernels)`);
    lines.push(`  why      ${cpu.reason}`);
    if (cpu.howToGetNative) lines.push(`  fix      ${cpu.howToGetNative}`);
  }
  // With an addon loaded, a source build or platform package that simply is not there is no news.
  const failed = cpu.attempts.filter((a) => a.error && !(cpu.addon && (a.error === "not built" || a.error === "package not installed")));
  if (failed.length) {
    lines.push("  tried    " + failed.map((a) => `${a.where}: ${a.error}`).join("\n           "));
  }
  lines.push("");
  lines.push(r.cuda.available ? `CUDA: ${r.cuda.devices} device(s)` : `CUDA: not available (${r.cuda.reason})`);
  lines.push(...cudaLines(r.cuda));
  lines.push(`  NVIDIA driver ${r.libraries.nvidiaDriver ?? (process.platform === "linux" ? "not loaded (no /proc/driver/nvidia/version)" : "n/a")}`);
  lines.push("");
  lines.push("Libraries (searched for, not loaded):");
  const libs = r.libraries;
  for (const p of [libs.cuda, libs.cublas, libs.cudnn, libs.nccl, libs.mpi]) lines.push(libLine(p));
  if (libs.searched.length) lines.push(`  searched: ${libs.searched.join(", ")}`);
  return lines.join("\n") + "\n";
}

export function doctorCommand(opts: Record<string, unknown>): { summary: DoctorReport; code: number } {
  const report = doctorReport();
  if (!opts.json) process.stdout.write(formatDoctor(report));
  return { summary: report, code: 0 };
}
