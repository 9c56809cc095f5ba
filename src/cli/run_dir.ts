// A training run's output directory: which files belong to a run, a fresh default name, and the checks made before
// any data is loaded (an existing run is never overwritten by accident; an unusable --out fails at once).

import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT, ExitError, isSystemError, systemReason } from "./failures.js";

/** Files `kindling train` writes into its run directory (TensorBoard's event files are matched by prefix). */
export const RUN_FILES = ["checkpoint.safetensors", "model.safetensors", "metrics.jsonl", "report.html", "train_samples.png", "test_samples.png"];
const EVENTS_PREFIX = "events.out.tfevents.";

function runFilesIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => RUN_FILES.includes(n) || n.startsWith(EVENTS_PREFIX));
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** runs/<timestamp>, with -2, -3, ... when a run started in the same second. */
export function defaultRunDir(now = new Date(), parent = "runs"): string {
  const base = path.join(parent, stamp(now));
  let dir = base;
  for (let i = 2; fs.existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/**
 * mkdir -p that fails once instead of looping: Node's own recursive mkdir never returns for some paths (e.g.
 * under /proc, where the parent exists but refuses new entries with ENOENT).
 */
function makeDirs(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && fs.statSync(dir).isDirectory()) return;
    const parent = path.dirname(dir);
    if (code !== "ENOENT" || parent === dir) throw e;
    makeDirs(parent);
    fs.mkdirSync(dir);
  }
}

export interface PrepareOptions {
  /** The directory is the one of the checkpoint being resumed: its files are the run's own. */
  resuming: boolean;
  /** Replace the run already there (its files are removed; other files are left alone). */
  force: boolean;
}

/**
 * Creates the run directory, or checks the existing one: it must be a writable directory, and may hold another
 * run's files only with --force (which removes them, so old and new results never mix). Returns the files removed.
 */
export function prepareRunDir(dir: string, o: PrepareOptions): string[] {
  const fail = (e: unknown): never => {
    if (isSystemError(e)) {
      const reason = e.code === "EEXIST" || e.code === "ENOTDIR" ? "it (or a part of its path) is a file, not a directory" : systemReason(e);
      throw new ExitError(`--out ${dir}: cannot use it as the run directory: ${reason}`, EXIT.filesystem);
    }
    throw e;
  };
  try {
    makeDirs(path.resolve(dir));
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    fail(e);
  }
  if (o.resuming) return [];
  const existing = runFilesIn(dir);
  if (!existing.length) return [];
  if (!o.force) {
    const shown = existing.slice(0, 3).join(", ") + (existing.length > 3 ? `, … (${existing.length} files)` : "");
    throw new ExitError(
      `--out ${dir} already holds a run (${shown}). Continue it with 'kindling train --resume ${dir}', ` +
        `replace it with --force, or choose another --out`,
      EXIT.usage,
    );
  }
  const removed: string[] = [];
  for (const n of existing) {
    try {
      fs.rmSync(path.join(dir, n));
      removed.push(n);
    } catch (e) {
      fail(e);
    }
  }
  return removed;
}

/** The files every recipe writes in its run directory. */
export function runFiles(dir: string): { checkpoint: string; model: string; metrics: string; report: string } {
  return {
    checkpoint: path.join(dir, "checkpoint.safetensors"),
    model: path.join(dir, "model.safetensors"),
    metrics: path.join(dir, "metrics.jsonl"),
    report: path.join(dir, "report.html"),
  };
}
