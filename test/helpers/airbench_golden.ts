// test/golden/airbench.json (scripts/gen_golden_airbench.py, PyTorch 1.13) and the deterministic inputs it was
// made from.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "kindling") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the kindling repo root above " + import.meta.url);
    dir = up;
  }
}

export interface OptRun { init: number[][]; coef: number[][]; final: number[][]; lrs: number[][] }

export interface AirbenchGolden {
  eigh: { n: number; batch?: number[]; dtype: "float32" | "float64"; uplo: "L" | "U"; a: number[]; eigenvalues: number[]; eigenvectors: number[] }[];
  optim: Record<"sgd_groups_nesterov" | "adamw_groups" | "adam_groups" | "lambda_lr_per_group", OptRun>;
  dirac: { shape: number[]; groups: number; w: number[] }[];
  cross_entropy_ls: { logits: number[]; target: number[] } & Record<"none" | "sum" | "mean", { loss: number[]; grad: number[] }>;
  conv_same: { k: number; dilation: number; y: number[]; yshape: number[]; gx: number[]; gw: number[] }[];
  airbench_net: {
    widths: [number, number, number];
    whiten_shape: number[];
    whiten_weight: number[];
    patch_cov: number[];
    state: Record<string, number[]>;
    shapes: Record<string, number[]>;
    xshape: number[];
    y: number[];
    logits: number[];
    loss: number;
    grads: Record<string, number[]>;
    after_step: Record<string, number[]>;
  };
  schedule: { total: number; lr_factor: number[]; ema_decay: number[] };
}

export const golden = JSON.parse(readFileSync(join(repoRoot(), "test", "golden", "airbench.json"), "utf8")) as AirbenchGolden;

/** The generator's det(): sin of a ramp, so inputs need not be stored in the fixture. */
export function det(shape: number[], seed: number): torch.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.sin(i * 0.7311 + seed) * 1.3;
  return torch.fromTypedArray(d, shape);
}

/** The generator's chirp(): a quadratic-phase sine, whose 2x2 patches span all 12 dimensions. */
export function chirp(shape: number[], seed: number): torch.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.sin(i * i * 0.0137 + seed) * 1.3;
  return torch.fromTypedArray(d, shape);
}
