// Training checkpoints as one safetensors file: the model's state dict under PyTorch's key names (so the file loads
// straight into PyTorch), optimizer state tensors under `optim.state.<i>.<key>`, and everything else (epoch, step,
// optimizer hyperparameters, RNG states, kindling version, caller extras) as JSON in the header's __metadata__.
// Written atomically: a temporary file, fsync, rename, directory fsync.

import * as fs from "node:fs";
import type { Module } from "../nn/module.js";
import type { Optimizer, OptimizerStateDict, ParamState } from "../optim/optimizer.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { removeStaleTemps } from "./atomic.js";
import { loadFile, saveFile, SafetensorsError, type Metadata } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "kindling.checkpoint/1";
const OPTIM_PREFIX = "optim.state.";

export type RngState = number[];

export interface CheckpointRng {
  /** State of torch's default generator (getRngState()). */
  torch?: RngState;
  /** State of the data loader's generator at the start of the current epoch. */
  loader?: RngState;
  [name: string]: RngState | undefined;
}

export interface CheckpointInfo {
  /** Epoch in progress (0-based). */
  epoch: number;
  /** Batches of that epoch already trained. */
  step: number;
  /** Optimizer steps since the start of training. */
  globalStep: number;
  rng: CheckpointRng;
  /** Anything JSON-serializable the caller wants back (run options, metrics so far, ...). */
  extra: Record<string, unknown>;
  kindlingVersion: string;
  optimizerType: string | null;
}

export interface SaveCheckpointOptions {
  model: Module;
  optimizer?: Optimizer<any> | null;
  epoch?: number;
  step?: number;
  globalStep?: number;
  /** Defaults to { torch: getRngState() }. */
  rng?: CheckpointRng;
  extra?: Record<string, unknown>;
}

export interface LoadCheckpointOptions {
  model?: Module | null;
  optimizer?: Optimizer<any> | null;
  /** Restore torch's default generator from the checkpoint (default true). */
  restoreRng?: boolean;
  /** A data loader generator to set to the checkpoint's `rng.loader` state. */
  loaderGenerator?: Generator | null;
  strict?: boolean;
}

let versionCache: string | undefined;
export function kindlingVersion(): string {
  if (versionCache === undefined) {
    versionCache = "unknown";
    for (const rel of ["../../../package.json", "../../package.json"]) {
      try {
        const pkg = JSON.parse(fs.readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
        if (pkg.name === "kindling" && pkg.version) {
          versionCache = pkg.version;
          break;
        }
      } catch {
        /* try the next */
      }
    }
  }
  return versionCache;
}

// Generator states hold NaN (no spare normal), which JSON can't: encode it as null.
function encodeRng(r: CheckpointRng): Record<string, (number | null)[]> {
  const out: Record<string, (number | null)[]> = {};
  for (const [k, v] of Object.entries(r)) if (v) out[k] = v.map((x) => (Number.isNaN(x) ? null : x));
  return out;
}

function decodeRng(r: unknown, file: string): CheckpointRng {
  const out: CheckpointRng = {};
  if (r === undefined || r === null) return out;
  if (typeof r !== "object") throw new SafetensorsError(`${file}: checkpoint rng state is not an object`);
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) {
    if (!Array.isArray(v) || !v.every((x) => x === null || typeof x === "number")) {
      throw new SafetensorsError(`${file}: checkpoint rng state "${k}" is not a list of numbers`);
    }
    out[k] = v.map((x) => (x === null ? NaN : (x as number)));
  }
  return out;
}

/** The tensors and metadata of a checkpoint, without touching the disk. */
export function checkpointContents(o: SaveCheckpointOptions): { tensors: Record<string, Tensor>; metadata: Metadata } {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(o.model.stateDict())) {
    if (k.startsWith(OPTIM_PREFIX)) throw new Error(`model state key "${k}" collides with the optimizer prefix`);
    tensors[k] = t;
  }
  let optimizer: Record<string, unknown> | null = null;
  if (o.optimizer) {
    const sd = o.optimizer.stateDict();
    const scalars: Record<string, Record<string, number>> = {};
    const tensorKeys: Record<string, string[]> = {};
    for (const [i, st] of Object.entries(sd.state)) {
      for (const [key, v] of Object.entries(st)) {
        if (typeof v === "number") (scalars[i] ??= {})[key] = v;
        else {
          tensors[`${OPTIM_PREFIX}${i}.${key}`] = v;
          (tensorKeys[i] ??= []).push(key);
        }
      }
    }
    optimizer = { type: o.optimizer.constructor.name, paramGroups: sd.paramGroups, scalarState: scalars, tensorState: tensorKeys };
  }
  const info = {
    format: CHECKPOINT_FORMAT,
    kindlingVersion: kindlingVersion(),
    epoch: o.epoch ?? 0,
    step: o.step ?? 0,
    globalStep: o.globalStep ?? 0,
    rng: encodeRng(o.rng ?? { torch: defaultGenerator.getState() }),
    optimizer,
    extra: o.extra ?? {},
  };
  return { tensors, metadata: { format: "pt", kindling: JSON.stringify(info) } };
}

/** Writes the checkpoint atomically: killing the process at any instant leaves the old file or the new one. */
export function saveCheckpoint(path: string, o: SaveCheckpointOptions): void {
  const { tensors, metadata } = checkpointContents(o);
  removeStaleTemps(path);
  saveFile(tensors, path, metadata);
}

/** Reads a checkpoint's bookkeeping (and validates the whole file) without restoring anything. */
export function readCheckpoint(path: string): CheckpointInfo & { tensors: Record<string, Tensor>; optimizerState: OptimizerStateDict | null } {
  const { tensors, metadata } = loadFile(path);
  const raw = metadata.kindling;
  if (raw === undefined) throw new SafetensorsError(`${path}: not a kindling checkpoint (no "kindling" entry in __metadata__); use loadFile() for plain weights`);
  let info: Record<string, any>;
  try {
    info = JSON.parse(raw);
  } catch (e) {
    throw new SafetensorsError(`${path}: the checkpoint metadata is not valid JSON (${(e as Error).message})`);
  }
  if (info.format !== CHECKPOINT_FORMAT) throw new SafetensorsError(`${path}: unsupported checkpoint format ${JSON.stringify(info.format)}`);
  for (const k of ["epoch", "step", "globalStep"]) {
    if (!Number.isInteger(info[k]) || info[k] < 0) throw new SafetensorsError(`${path}: checkpoint "${k}" is ${JSON.stringify(info[k])}, not a count`);
  }
  const modelTensors: Record<string, Tensor> = {};
  const optimTensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) (k.startsWith(OPTIM_PREFIX) ? optimTensors : modelTensors)[k] = t;
  let optimizerState: OptimizerStateDict | null = null;
  if (info.optimizer) {
    const state: Record<number, ParamState> = {};
    for (const [i, sc] of Object.entries((info.optimizer.scalarState ?? {}) as Record<string, Record<string, number>>)) {
      Object.assign((state[Number(i)] ??= {}), sc);
    }
    for (const [i, keys] of Object.entries((info.optimizer.tensorState ?? {}) as Record<string, string[]>)) {
      for (const key of keys) {
        const t = optimTensors[`${OPTIM_PREFIX}${i}.${key}`];
        if (!t) throw new SafetensorsError(`${path}: optimizer state tensor "${OPTIM_PREFIX}${i}.${key}" is missing`);
        (state[Number(i)] ??= {})[key] = t;
      }
    }
    optimizerState = { state, paramGroups: info.optimizer.paramGroups };
  }
  return {
    epoch: info.epoch,
    step: info.step,
    globalStep: info.globalStep,
    rng: decodeRng(info.rng, path),
    extra: info.extra ?? {},
    kindlingVersion: String(info.kindlingVersion ?? "unknown"),
    optimizerType: info.optimizer?.type ?? null,
    tensors: modelTensors,
    optimizerState,
  };
}

/**
 * Restores model weights, optimizer state and RNG states from a checkpoint written by saveCheckpoint, and
 * returns where training was (epoch, step within it, global step) plus the caller's extras.
 */
export function loadCheckpoint(path: string, o: LoadCheckpointOptions = {}): CheckpointInfo {
  const ck = readCheckpoint(path);
  if (o.model) o.model.loadStateDict(ck.tensors, { strict: o.strict ?? true });
  if (o.optimizer) {
    if (!ck.optimizerState) throw new Error(`${path}: the checkpoint holds no optimizer state`);
    if (ck.optimizerType && ck.optimizerType !== o.optimizer.constructor.name) {
      throw new Error(`${path}: the checkpoint's optimizer is ${ck.optimizerType}, not ${o.optimizer.constructor.name}`);
    }
    o.optimizer.loadStateDict(ck.optimizerState);
  }
  if ((o.restoreRng ?? true) && ck.rng.torch) defaultGenerator.setState(ck.rng.torch);
  if (o.loaderGenerator && ck.rng.loader) o.loaderGenerator.setState(ck.rng.loader);
  const { tensors: _t, optimizerState: _o, ...info } = ck;
  return info;
}
