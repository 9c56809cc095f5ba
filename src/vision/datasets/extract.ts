// Extracting a dataset archive so that nothing half-extracted is ever left looking complete:
// unpack into a temporary directory inside root, check the result, then rename it into place.

import { existsSync } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { join } from "node:path";

export class ExtractError extends Error {
  override name = "ExtractError";
}

export interface ExtractOptions {
  /** The .tar.gz to unpack. */
  archive: string;
  /** Directory that receives `dirName`. */
  root: string;
  /** The top-level directory the archive must contain (e.g. cifar-10-batches-py). */
  dirName: string;
  /** Checks the unpacked directory before it is moved into place; throws to reject it. */
  validate?: (dir: string) => void;
}

export async function extractArchive(opts: ExtractOptions): Promise<string> {
  const dest = join(opts.root, opts.dirName);
  if (existsSync(dest)) {
    throw new ExtractError(`${dest} already exists but is incomplete; remove it and try again`);
  }
  // Loaded on demand: most runs never extract, and DataLoader workers import this module's dataset.
  const { ReadEntry, x: tarExtract } = await import("tar");
  const tmp = await mkdtemp(join(opts.root, ".extract-"));
  try {
    try {
      await tarExtract({
        file: opts.archive,
        cwd: tmp,
        strict: true,
        // Plain files and directories only: links could point outside root.
        filter: (_path, entry) => {
          const type = entry instanceof ReadEntry ? entry.type : "File";
          return type === "File" || type === "OldFile" || type === "ContiguousFile" || type === "Directory";
        },
      });
    } catch (e) {
      throw new ExtractError(
        `archive ${opts.archive} could not be extracted (${(e as Error).message}); it is corrupt or truncated: delete it and download it again`,
      );
    }
    const unpacked = join(tmp, opts.dirName);
    if (!existsSync(unpacked)) {
      throw new ExtractError(`archive ${opts.archive} does not contain ${opts.dirName}/`);
    }
    try {
      opts.validate?.(unpacked);
    } catch (e) {
      throw new ExtractError(`archive ${opts.archive} holds an incomplete dataset: ${(e as Error).message}`);
    }
    await rename(unpacked, dest);
    return dest;
  } finally {
    // After a failed extraction tar may still be closing files in tmp: retry ENOTEMPTY/EBUSY.
    await rm(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}
