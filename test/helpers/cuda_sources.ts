// Reads the CUDA kernel sources (native/cuda/kernels/*.cu + common.cuh) into what the CUDA tests check against:
// every `extern "C" __global__` kernel's parameter list as argument kinds and C ABI offsets, and the by-value
// structs' sizes and alignments. A small C declaration parser: enough for the subset the kernels are written in.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const kernelDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "native", "cuda", "kernels");

export type ParamKind = "ptr" | "i32" | "i64" | "f32" | "f64" | { raw: number; align: number };

export interface KernelSig {
  name: string;
  file: string;
  params: { kind: ParamKind; decl: string }[];
  /** __launch_bounds__ when declared (the most threads a block may have), else null. */
  maxThreads: number | null;
}

export interface StructInfo {
  size: number;
  align: number;
}

export function cuFiles(): string[] {
  return readdirSync(kernelDir).filter((f) => f.endsWith(".cu")).sort();
}

function stripComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

function allText(): { file: string; text: string }[] {
  return [...cuFiles(), "common.cuh"].map((f) => ({ file: f, text: stripComments(readFileSync(join(kernelDir, f), "utf8")) }));
}

const SCALARS: Record<string, { kind: ParamKind; size: number }> = {
  int: { kind: "i32", size: 4 }, u32: { kind: "i32", size: 4 }, unsigned: { kind: "i32", size: 4 },
  i64: { kind: "i64", size: 8 }, u64: { kind: "i64", size: 8 },
  float: { kind: "f32", size: 4 }, double: { kind: "f64", size: 8 },
  u8: { kind: "i32", size: 1 }, char: { kind: "i32", size: 1 },
};

function defines(texts: { text: string }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const { text } of texts) for (const d of text.matchAll(/#define\s+(\w+)\s+(\d+)\s*$/gm)) m.set(d[1], Number(d[2]));
  return m;
}

/** Every struct of the sources with its C layout (fields of scalar types and fixed arrays). */
export function structs(): Map<string, StructInfo> {
  const texts = allText();
  const defs = defines(texts);
  const out = new Map<string, StructInfo>();
  for (const { text } of texts) {
    for (const m of text.matchAll(/struct\s+(\w+)\s*\{([^}]*)\};/g)) {
      let size = 0, align = 1;
      for (const decl of m[2].split(";").map((s) => s.trim()).filter(Boolean)) {
        const dm = /^(\w+)\s+(.*)$/.exec(decl);
        if (!dm) throw new Error(`struct ${m[1]}: cannot read field '${decl}'`);
        const t = SCALARS[dm[1]];
        if (!t) throw new Error(`struct ${m[1]}: unknown field type '${dm[1]}'`);
        for (const name of dm[2].split(",").map((s) => s.trim())) {
          const arr = /\[(\w+)\]/.exec(name);
          const count = arr ? (/^\d+$/.test(arr[1]) ? Number(arr[1]) : defs.get(arr[1])) : 1;
          if (count === undefined) throw new Error(`struct ${m[1]}: unknown array size ${arr![1]}`);
          size = Math.ceil(size / t.size) * t.size + t.size * count;
          align = Math.max(align, t.size);
        }
      }
      out.set(m[1], { size: Math.ceil(size / align) * align, align });
    }
  }
  return out;
}

/** Every `extern "C" __global__` kernel with its parameters as argument kinds. */
export function kernelSignatures(): Map<string, KernelSig> {
  const st = structs();
  const out = new Map<string, KernelSig>();
  for (const { file, text } of allText()) {
    for (const m of text.matchAll(/extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\((\d+)\)\s+)?(\w+)\s*\(([^)]*)\)/g)) {
      const [, bound, name, plist] = m;
      const params = plist.split(",").map((s) => s.trim()).filter(Boolean).map((decl) => {
        if (decl.includes("*")) return { kind: "ptr" as ParamKind, decl };
        const words = decl.replace(/\bconst\b/g, "").trim().split(/\s+/);
        const type = words.slice(0, -1).join(" ");
        const s = st.get(type);
        if (s) return { kind: { raw: s.size, align: s.align } as ParamKind, decl };
        const t = SCALARS[type === "long long" ? "i64" : type];
        if (!t) throw new Error(`${name}: unknown parameter type in '${decl}'`);
        return { kind: t.kind, decl };
      });
      if (out.has(name)) throw new Error(`kernel ${name} is defined twice (${out.get(name)!.file} and ${file})`);
      out.set(name, { name, file, params, maxThreads: bound ? Number(bound) : null });
    }
  }
  return out;
}

export function kindSize(k: ParamKind): { size: number; align: number } {
  if (typeof k === "object") return { size: k.raw, align: k.align };
  return k === "i32" || k === "f32" ? { size: 4, align: 4 } : { size: 8, align: 8 };
}

/** Byte offsets of the parameters as the C ABI lays them out (each aligned to its own alignment). */
export function abiOffsets(kinds: readonly ParamKind[]): number[] {
  let at = 0;
  return kinds.map((k) => {
    const { size, align } = kindSize(k);
    const off = Math.ceil(at / align) * align;
    at = off + size;
    return off;
  });
}

export function kindName(k: ParamKind): string {
  return typeof k === "object" ? `struct(${k.raw}B, align ${k.align})` : k;
}

/** Every function body of the sources by name (overloads and template specialisations joined). */
function functionBodies(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { text } of allText()) {
    for (const m of text.matchAll(/(\w+)\s*\([^;{}()]*(?:\([^()]*\)[^;{}()]*)*\)\s*(?:const\s*)?\{/g)) {
      if (/^(if|for|while|switch|return|sizeof)$/.test(m[1])) continue;
      let depth = 0, i = m.index! + m[0].length - 1;
      const start = i;
      for (; i < text.length; i++) {
        if (text[i] === "{") depth++;
        else if (text[i] === "}" && --depth === 0) break;
      }
      out.set(m[1], (out.get(m[1]) ?? "") + text.slice(start, i + 1));
    }
  }
  return out;
}

/**
 * The kernels from which a barrier (__syncthreads or a warp shuffle) is reachable through the functions they call:
 * the emulator runs only these as fibers, every other kernel as a plain loop over its threads (and stops with the
 * kernel's name should one of those reach a barrier after all).
 */
export function kernelsWithBarriers(): Set<string> {
  const bodies = functionBodies();
  const syncing = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, body] of bodies) {
      if (syncing.has(name)) continue;
      if (/__syncthreads|__shfl_\w+_sync/.test(body) || [...syncing].some((s) => new RegExp(`\\b${s}\\b`).test(body))) {
        syncing.add(name);
        grew = true;
      }
    }
  }
  return new Set([...kernelSignatures().keys()].filter((k) => syncing.has(k)));
}
