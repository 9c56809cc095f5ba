// Making CIFAR-10 available under a root: use what is there, else verify and extract a local
// archive, else (with download: true) fetch the official archive. Failures say what failed and
// the three ways to provide the data.

import { existsSync, mkdirSync } from "node:fs";
import { resolve, join } from "node:path";
import { CIFAR10_PY_DIR, checkCifar10Files, findCifar10, type CifarLayout } from "./cifar_files.js";
import { downloadFile, md5File, type FetchLike } from "./download.js";
import { extractArchive } from "./extract.js";

export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz";
export const CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a";
export const CIFAR10_ARCHIVE = "cifar-10-python.tar.gz";

export interface PrepareOptions {
  root?: string;
  download?: boolean;
  quiet?: boolean;
  /** Overridable for tests and mirrors. */
  url?: string;
  md5?: string;
  fetch?: FetchLike;
  /** Where status lines go (default console.log, like torchvision's prints). */
  log?: (line: string) => void;
}

export class DatasetNotFoundError extends Error {
  override name = "DatasetNotFoundError";
}

/** root, else $KINDLING_DATA, else ./data. */
export function defaultRoot(root?: string): string {
  return resolve(root ?? process.env["KINDLING_DATA"] ?? "./data");
}

export function howToProvide(root: string, md5: string): string {
  return [
    "Provide CIFAR-10 in one of three ways:",
    `  1. pass { root } pointing at a directory that contains ${CIFAR10_PY_DIR}/ or cifar-10-batches-bin/`,
    "  2. set the KINDLING_DATA environment variable to such a directory (the default root when none is given; otherwise ./data)",
    `  3. place the archive ${CIFAR10_ARCHIVE} (MD5 ${md5}) in ${root}; it is verified and extracted without network`,
  ].join("\n");
}

function notFound(root: string, what: string, md5: string): DatasetNotFoundError {
  return new DatasetNotFoundError(`CIFAR-10: ${what}.\n${howToProvide(root, md5)}`);
}

const validate = (dir: string) => checkCifar10Files({ layout: "py", dir });

/** Returns the layout to read; downloads and extracts when needed and allowed. */
export async function prepareCifar10(opts: PrepareOptions = {}): Promise<CifarLayout> {
  const root = defaultRoot(opts.root);
  const url = opts.url ?? CIFAR10_URL;
  const md5 = opts.md5 ?? CIFAR10_MD5;
  const log = opts.quiet ? () => {} : (opts.log ?? ((l: string) => console.log(l)));

  const found = findCifar10(root);
  if (found) {
    checkCifar10Files(found);
    if (opts.download) log("Files already downloaded and verified");
    return found;
  }

  const archive = join(root, CIFAR10_ARCHIVE);
  if (existsSync(archive)) {
    const got = await md5File(archive);
    if (got === md5) {
      await extractArchive({ archive, root, dirName: CIFAR10_PY_DIR, validate });
      return { layout: "py", dir: join(root, CIFAR10_PY_DIR) };
    }
    if (!opts.download) {
      throw notFound(root, `the archive ${archive} has MD5 ${got}, expected ${md5} (incomplete or not the official file)`, md5);
    }
    log(`${archive} has MD5 ${got}, expected ${md5}: downloading it again`);
  } else if (!opts.download) {
    throw notFound(root, `no ${CIFAR10_PY_DIR}/, cifar-10-batches-bin/ or ${CIFAR10_ARCHIVE} under ${root}, and download is false`, md5);
  }

  mkdirSync(root, { recursive: true });
  log(`Downloading ${url} to ${archive}`);
  try {
    await downloadFile({ url, dest: archive, md5, quiet: opts.quiet, fetch: opts.fetch });
  } catch (e) {
    throw notFound(root, `download failed: ${(e as Error).message}`, md5);
  }
  await extractArchive({ archive, root, dirName: CIFAR10_PY_DIR, validate });
  return { layout: "py", dir: join(root, CIFAR10_PY_DIR) };
}
