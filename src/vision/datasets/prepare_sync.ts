// A synchronous prepareCifar10 for constructors (`new CIFAR10({ download: true })` as in the
// tutorial): runs the asynchronous version in a child Node process and waits for it. The child
// shares stdout/stderr, so the progress bar shows as usual.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DatasetNotFoundError, type PrepareOptions } from "./cifar_download.js";
import type { CifarLayout } from "./cifar_files.js";

const CHILD = fileURLToPath(new URL("./prepare_child.js", import.meta.url));

export function prepareCifar10Sync(opts: Omit<PrepareOptions, "fetch" | "log">): CifarLayout {
  const r = spawnSync(process.execPath, [CHILD, JSON.stringify(opts)], {
    stdio: ["ignore", "inherit", "inherit", "pipe"],
    env: process.env,
  });
  const out = r.output?.[3]?.toString() ?? "";
  if (r.error) throw new DatasetNotFoundError(`CIFAR-10: could not run the download helper: ${r.error.message}`);
  let answer: { ok: boolean; layout?: CifarLayout; name?: string; message?: string };
  try {
    answer = JSON.parse(out);
  } catch {
    throw new DatasetNotFoundError(`CIFAR-10: the download helper exited with status ${r.status ?? r.signal} and no answer`);
  }
  if (!answer.ok) {
    const err = new DatasetNotFoundError(answer.message ?? "CIFAR-10: preparing the data failed");
    if (answer.name) err.name = answer.name;
    throw err;
  }
  return answer.layout!;
}
