// Training checkpoints as one safetensors file: the model's state dict under PyTorch's key names, optimizer state
// tensors under `optim.state.<i>.<key>`, and everything else (epoch, step, optimizer hyperparameters, RNG states,
// kindling version, caller extras, a SHA-256 of the data section) as JSON in the header's __metadata__.
// Any safetensors reader opens the file, but PyTorch's strict load_state_dict refuses it for the `optim.*` keys: a
// PyTorch user loads the weights with strict=False, or reads the plain weights file (`kindling train` writes
// model.safetensors beside the checkpoint for that). Written atomically: a temporary file, fsync, rename, directory
// fsync. Loading validates everything against the model and optimizer first and applies nothing on failure.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { Module } from "../nn/module.js";
import type { OptimizerStateDict, ParamState } from "../optim/optimizer.js";
import { defaultGenerator, Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { removeStaleTemps, writeFileAtomicSync } from "./atomic.js";
import { load, SafetensorsError, encodeTensors, fileChunks, type Metadata } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "kindling.checkpoint/1";

/** A kindling checkpoint that can't be used: corrupt bookkeeping, a failed checksum, or state that doesn't fit. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** A safetensors file without kindling's checkpoint metadata (plain weights). */
export class NotACheckpointError extends CheckpointError {
  override name = "NotACheckpointError";
}
const OPTIM_PREFIX = "optim.state.";
/** Caller tensors that are neither weights nor optimizer state (e.g. a weight average), under `extra.<name>`. */
const EXTRA_PREFIX = "extra.";

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
  /** The caller's extraTensors, by the names they were saved under. */
  extraTensors: Record<string, Tensor>;
}

/** What a checkpoint uses of an optimizer; every kindling optimizer fits, whatever its hyperparameters' type. */
export interface CheckpointOptimizer {
  readonly paramGroups: readonly { readonly params: readonly Tensor[] }[];
  stateDict(): OptimizerStateDict;
  loadStateDict(sd: OptimizerStateDict): void;
}

export interface SaveCheckpointOptions {
  model: Module;
  optimizer?: CheckpointOptimizer | null;
  epoch?: number;
  step?: number;
  globalStep?: number;
  /** Defaults to { torch: getRngState() }. */
  rng?: CheckpointRng;
  extra?: Record<string, unknown>;
  /** Tensors saved beside the weights (stored as `extra.<name>`; readCheckpoint gives them back as extraTensors). */
  extraTensors?: Record<string, Tensor>;
}

export interface LoadCheckpointOptions {
  model?: Module | null;
  optimizer?: CheckpointOptimizer | null;
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
  if (typeof r !== "object") throw new CheckpointError(`${file}: checkpoint rng state is not an object`);
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) {
    if (!Array.isArray(v) || !v.every((x) => x === null || typeof x === "number")) {
      throw new CheckpointError(`${file}: checkpoint rng state "${k}" is not a list of numbers`);
    }
    out[k] = v.map((x) => (x === null ? NaN : (x as number)));
  }
  return out;
}


/** The tensors and metadata of a checkpoint, without touching the disk (and without the data checksum). */
export function checkpointContents(o: SaveCheckpointOptions): { tensors: Record<string, Tensor>; metadata: Metadata } {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(o.model.stateDict())) {
    if (k.startsWith(OPTIM_PREFIX) || k.startsWith(EXTRA_PREFIX)) throw new Error(`model state key "${k}" collides with the checkpoint's "${OPTIM_PREFIX}" or "${EXTRA_PREFIX}" prefix`);
    tensors[k] = t;
  }
  for (const [k, t] of Object.entries(o.extraTensors ?? {})) tensors[EXTRA_PREFIX + k] = t;
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

function sha256(chunks: readonly Uint8Array[]): string {
  const h = createHash("sha256");
  for (const c of chunks) h.update(c);
  return h.digest("hex");
}

/**
 * Writes the checkpoint atomically: killing the process at any instant leaves the old file or the new one. The
 * metadata carries the SHA-256 of the data section (every tensor's bytes), checked by readCheckpoint.
 */
export function saveCheckpoint(path: string, o: SaveCheckpointOptions): void {
  const { tensors, metadata } = checkpointContents(o);
  // The header holds the checksum of the data section, which does not depend on the header: encode the tensors once,
  // hash their bytes, then write the header around them.
  const entries = encodeTensors(tensors);
  const info = { ...(JSON.parse(metadata.kindling!) as Record<string, unknown>), dataSha256: sha256(entries.map((e) => e.bytes)) };
  const chunks = fileChunks(entries, { ...metadata, kindling: JSON.stringify(info) });
  removeStaleTemps(path);
  writeFileAtomicSync(path, chunks);
}

export interface ReadCheckpoint extends CheckpointInfo {
  /** The model's state dict (every tensor but the optimizer's). */
  tensors: Record<string, Tensor>;
  optimizerState: OptimizerStateDict | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isHyper = (v: unknown): boolean =>
  v === null || typeof v === "boolean" || typeof v === "number" || (Array.isArray(v) && v.every((x) => typeof x === "number"));

/** The optimizer entry of the metadata, checked piece by piece: it comes from a file, not from stateDict(). */
function parseOptimizer(raw: unknown, optimTensors: Record<string, Tensor>, file: string): { type: string; state: OptimizerStateDict } {
  const bad = (what: string): never => {
    throw new CheckpointError(`${file}: the checkpoint's optimizer entry is corrupt: ${what}`);
  };
  if (!isObject(raw)) return bad("not an object");
  if (typeof raw.type !== "string") bad(`"type" is ${JSON.stringify(raw.type)}, not a class name`);
  if (!Array.isArray(raw.paramGroups)) return bad(`"paramGroups" is ${JSON.stringify(raw.paramGroups)?.slice(0, 40)}, not a list`);
  const seen = new Set<number>();
  const paramGroups = raw.paramGroups.map((g, gi) => {
    if (!isObject(g)) return bad(`parameter group ${gi} is not an object`);
    if (!Array.isArray(g.params) || !g.params.every(isCount)) return bad(`parameter group ${gi} has no list of parameter indices`);
    for (const id of g.params as number[]) {
      if (seen.has(id)) bad(`parameter ${id} appears twice`);
      seen.add(id);
    }
    for (const [k, v] of Object.entries(g)) if (k !== "params" && !isHyper(v)) bad(`parameter group ${gi} option "${k}" is ${JSON.stringify(v)}`);
    return g as OptimizerStateDict["paramGroups"][number];
  });
  const state: Record<number, ParamState> = {};
  // Per-parameter entries get null prototypes: a "__proto__" name in the metadata stays a plain (rejected) key.
  const entry = (id: number): ParamState => (state[id] ??= Object.create(null) as ParamState);
  const paramIndex = (i: string, where: string): number => {
    const id = Number(i);
    if (!seen.has(id)) bad(`${where} names parameter ${JSON.stringify(i)}, which no parameter group holds`);
    return id;
  };
  const scalars = raw.scalarState ?? {};
  if (!isObject(scalars)) return bad(`"scalarState" is not an object`);
  for (const [i, sc] of Object.entries(scalars)) {
    const id = paramIndex(i, "scalarState");
    if (!isObject(sc) || !Object.values(sc).every((v) => typeof v === "number")) bad(`scalarState of parameter ${i} is not an object of numbers`);
    Object.assign(entry(id), sc);
  }
  const tensorState = raw.tensorState ?? {};
  if (!isObject(tensorState)) return bad(`"tensorState" is not an object`);
  for (const [i, keys] of Object.entries(tensorState)) {
    const id = paramIndex(i, "tensorState");
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) return bad(`tensorState of parameter ${i} is not a list of names`);
    for (const key of keys as string[]) {
      const t = optimTensors[`${OPTIM_PREFIX}${i}.${key}`];
      if (!t) throw new CheckpointError(`${file}: optimizer state tensor "${OPTIM_PREFIX}${i}.${key}" is missing`);
      entry(id)[key] = t;
    }
  }
  return { type: raw.type as string, state: { state, paramGroups } };
}

/**
 * Parses a checkpoint from the file's bytes: checks the data checksum (when the file has one: checkpoints written
 * before it was added load unchecked) and every piece of bookkeeping. Restores nothing.
 */
export function parseCheckpoint(bytes: Uint8Array, file: string): ReadCheckpoint {
  const { tensors, metadata } = load(bytes, file);
  const raw = metadata.kindling;
  if (raw === undefined) throw new NotACheckpointError(`${file}: not a kindling checkpoint (no "kindling" entry in __metadata__); use loadFile() for plain weights`);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(raw) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${file}: the checkpoint metadata is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(info)) throw new CheckpointError(`${file}: the checkpoint metadata is not a JSON object`);
  if (info.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${file}: unsupported checkpoint format ${JSON.stringify(info.format)}`);
  if (info.dataSha256 !== undefined) {
    const dataStart = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    const actual = sha256([bytes.subarray(dataStart)]);
    if (actual !== info.dataSha256) {
      throw new CheckpointError(`${file}: checksum mismatch: the tensor data is corrupt (SHA-256 ${actual.slice(0, 12)}…, the checkpoint recorded ${String(info.dataSha256).slice(0, 12)}…); use an intact copy`);
    }
  }
  for (const k of ["epoch", "step", "globalStep"]) {
    if (!isCount(info[k])) throw new CheckpointError(`${file}: checkpoint "${k}" is ${JSON.stringify(info[k])}, not a count`);
  }
  // Null prototypes: a tensor named "__proto__" must stay a tensor, not replace the object's prototype.
  const modelTensors = Object.create(null) as Record<string, Tensor>;
  const optimTensors = Object.create(null) as Record<string, Tensor>;
  const extraTensors = Object.create(null) as Record<string, Tensor>;
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith(EXTRA_PREFIX)) extraTensors[k.slice(EXTRA_PREFIX.length)] = t;
    else (k.startsWith(OPTIM_PREFIX) ? optimTensors : modelTensors)[k] = t;
  }
  const optimizer = info.optimizer === null || info.optimizer === undefined ? null : parseOptimizer(info.optimizer, optimTensors, file);
  const extra = info.extra ?? {};
  if (!isObject(extra)) throw new CheckpointError(`${file}: the checkpoint's "extra" entry is not an object`);
  return {
    epoch: info.epoch as number,
    step: info.step as number,
    globalStep: info.globalStep as number,
    rng: decodeRng(info.rng, file),
    extra,
    kindlingVersion: String(info.kindlingVersion ?? "unknown"),
    optimizerType: optimizer?.type ?? null,
    extraTensors,
    tensors: modelTensors,
    optimizerState: optimizer?.state ?? null,
  };
}

/** Reads a checkpoint's bookkeeping (and validates the whole file, checksum included) without restoring anything. */
export function readCheckpoint(path: string): ReadCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot read (${(e as Error).message})`);
  }
  return parseCheckpoint(bytes, path);
}

/** `"a", "b", "c" … and 7 more`: key lists stay one readable line however many keys there are. */
function listKeys(keys: readonly string[], shown = 3): string {
  const head = keys.slice(0, shown).map((k) => JSON.stringify(k)).join(", ");
  return keys.length > shown ? `${head} … and ${keys.length - shown} more` : head;
}

const dtypeKind = (d: string): string => (d === "float32" || d === "float64" ? "floating-point" : d === "bool" ? "bool" : "integer");
const fmtShape = (s: readonly number[]): string => `[${s.join(", ")}]`;

/** Why `sd` can't be loaded into `model` (keys, shapes, dtypes), as PyTorch's load_state_dict would refuse it. */
export function stateDictProblems(model: Module, sd: Record<string, Tensor>, strict: boolean): string[] {
  const own = model.stateDict();
  const problems: string[] = [];
  const missing = Object.keys(own).filter((k) => !Object.hasOwn(sd, k));
  const unexpected = Object.keys(sd).filter((k) => !Object.hasOwn(own, k));
  if (strict && missing.length) problems.push(`missing key(s) ${listKeys(missing)}`);
  if (strict && unexpected.length) problems.push(`unexpected key(s) ${listKeys(unexpected)}`);
  for (const [k, dst] of Object.entries(own)) {
    if (!Object.hasOwn(sd, k)) continue;
    const src = sd[k]!;
    if (src.shape.join() !== dst.shape.join()) problems.push(`size mismatch for ${k}: ${fmtShape(src.shape)} in the checkpoint, ${fmtShape(dst.shape)} in the model`);
    else if (dtypeKind(src.dtype) !== dtypeKind(dst.dtype)) problems.push(`${k} is ${src.dtype} in the checkpoint, ${dst.dtype} in the model`);
  }
  return problems;
}

function optimizerProblems(opt: CheckpointOptimizer, type: string | null, sd: OptimizerStateDict): string[] {
  const name = opt.constructor.name;
  if (type && type !== name) return [`the checkpoint's optimizer is ${type}, not ${name}`];
  if (sd.paramGroups.length !== opt.paramGroups.length) {
    return [`the checkpoint's optimizer has ${sd.paramGroups.length} parameter group(s), this ${name} has ${opt.paramGroups.length}`];
  }
  const problems: string[] = [];
  sd.paramGroups.forEach((sg, gi) => {
    const g = opt.paramGroups[gi]!;
    if (sg.params.length !== g.params.length) {
      problems.push(`optimizer parameter group ${gi} holds ${sg.params.length} parameters in the checkpoint, ${g.params.length} here`);
      return;
    }
    sg.params.forEach((id, j) => {
      const p = g.params[j]!;
      for (const [k, v] of Object.entries(sd.state[id] ?? {})) {
        if (typeof v !== "number" && v.shape.join() !== p.shape.join()) {
          problems.push(`optimizer state "${k}" of parameter ${id} has shape ${fmtShape(v.shape)}, the parameter ${fmtShape(p.shape)}`);
        }
      }
    });
  });
  return problems;
}

/**
 * Restores model weights, optimizer state and RNG states from a checkpoint written by saveCheckpoint, and
 * returns where training was (epoch, step within it, global step) plus the caller's extras. Everything is checked
 * before anything is applied: on a CheckpointError the model, optimizer and generators are untouched.
 */
export function loadCheckpoint(path: string, o: LoadCheckpointOptions = {}): CheckpointInfo {
  return applyCheckpoint(readCheckpoint(path), path, o);
}

/** loadCheckpoint from the file's bytes (a data-parallel rank gets them from rank 0); `path` names it in errors. */
export function loadCheckpointBytes(bytes: Uint8Array, path: string, o: LoadCheckpointOptions = {}): CheckpointInfo {
  return applyCheckpoint(parseCheckpoint(bytes, path), path, o);
}

function applyCheckpoint(ck: ReadCheckpoint, path: string, o: LoadCheckpointOptions): CheckpointInfo {
  const strict = o.strict ?? true;
  const problems: string[] = [];
  if (o.model) problems.push(...stateDictProblems(o.model, ck.tensors, strict));
  if (o.optimizer) {
    if (!ck.optimizerState) problems.push("the checkpoint holds no optimizer state");
    else problems.push(...optimizerProblems(o.optimizer, ck.optimizerType, ck.optimizerState));
  }
  const restoreRng = o.restoreRng ?? true;
  const rngs: [string, RngState | undefined][] = [
    ["torch", restoreRng ? ck.rng.torch : undefined],
    ["loader", o.loaderGenerator ? ck.rng.loader : undefined],
  ];
  for (const [name, state] of rngs) {
    if (!state) continue;
    try {
      new Generator(0).setState(state);
    } catch (e) {
      problems.push(`rng state "${name}" (${state.length} numbers) is unusable: ${(e as Error).message}`);
    }
  }
  if (problems.length) {
    const more = problems.length > 3 ? `; … and ${problems.length - 3} more problem(s)` : "";
    throw new CheckpointError(`${path}: ${problems.slice(0, 3).join("; ")}${more}`);
  }
  if (o.model) o.model.loadStateDict(ck.tensors, { strict });
  if (o.optimizer && ck.optimizerState) o.optimizer.loadStateDict(ck.optimizerState);
  if (restoreRng && ck.rng.torch) defaultGenerator.setState(ck.rng.torch);
  if (o.loaderGenerator && ck.rng.loader) o.loaderGenerator.setState(ck.rng.loader);
  const { tensors: _t, optimizerState: _o, ...info } = ck;
  return info;
}
