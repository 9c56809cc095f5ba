// `kindling train --resume PATH`, for every recipe: where the checkpoint is, and the options the interrupted run
// fixed (given again, they must agree).

import * as fs from "node:fs";
import * as path from "node:path";
import { ExitError } from "./common.js";

/** A checkpoint file, or a run directory holding checkpoint.safetensors. */
export function resumeCheckpointPath(resume: string): string {
  const file = fs.existsSync(resume) && fs.statSync(resume).isDirectory() ? path.join(resume, "checkpoint.safetensors") : resume;
  if (!fs.existsSync(file)) throw new ExitError(`--resume: no checkpoint at ${file}`, 2);
  return file;
}

const flag = (k: string): string => "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

/**
 * The options that decide the numbers a resumed run computes (`pinned`), from its checkpoint's config: a different
 * value given on the command line is refused.
 */
export function pinnedOptions(given: Record<string, unknown>, saved: Record<string, unknown>, pinned: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of pinned) {
    const g = given[k];
    if (g !== undefined && saved[k] !== undefined && g !== saved[k]) {
      throw new ExitError(`--resume: the checkpoint was trained with ${flag(k)} ${saved[k]}; got ${g}`, 2);
    }
    out[k] = saved[k];
  }
  return out;
}
