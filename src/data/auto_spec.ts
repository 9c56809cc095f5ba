// A worker spec for Dataset subclasses that don't write workerSpec(): the worker imports the module that defines the
// class (found from the constructor's stack frame, so it works compiled and under tsx alike) and gives a fresh
// instance, made without running the constructor, a copy of the dataset's fields — what PyTorch's pickling of the
// dataset does for its workers. Fields a thread can't receive intact (functions, class instances other than
// tensors) are refused up front, with the workerSpec() to write instead.

import { pathToFileURL } from "node:url";
import { Tensor } from "../tensor/tensor.js";
import type { WorkerSpec } from "./dataset.js";
import { isPlainObject, pack } from "./pack.js";

/** A WorkerSpec whose dataset is rebuilt from a copy of its fields instead of by its constructor. */
export interface CopySpec extends WorkerSpec {
  fields: unknown;
}

/** Where a dataset's class was defined: the file of its constructor's frame (or, without one, of its caller's). */
const sites = new WeakMap<object, { url: string; fromCaller: boolean }>();

function toUrl(file: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(file) && !/^[a-z]:[\\/]/i.test(file) ? file : pathToFileURL(file).href;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function noteDatasetSite(ds: object, below: Function): void {
  const prepare = Error.prepareStackTrace;
  let sites_: NodeJS.CallSite[];
  try {
    Error.prepareStackTrace = (_e, cs) => cs;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, below);
    sites_ = holder.stack as NodeJS.CallSite[];
  } finally {
    Error.prepareStackTrace = prepare;
  }
  if (!Array.isArray(sites_)) return;
  const name = ds.constructor.name;
  // A class with neither a constructor nor field initializers may have no frame of its own (V8 skips default
  // constructors): the first frame outside the constructors is then where it was built, usually where it is defined.
  const own = sites_.find((c) => c.isConstructor() && c.getFunctionName() === name);
  const site = own ?? sites_.find((c) => !c.isConstructor());
  const file = site?.getFileName();
  if (file) sites.set(ds, { url: toUrl(file), fromCaller: !own });
}

function handWritten(name: string): string {
  return (
    `give ${name} a workerSpec() (kindling's Dataset docs): workerSpec() { return { module: import.meta.url, ` +
    `export: "${name}", args: [/* the constructor's arguments */] }; } in the module that exports ${name}, or use numWorkers: 0`
  );
}

/** The first field a worker thread could not receive intact, as "path (what)", or null. */
function unclonable(v: unknown, path: string, seen: Set<object>): string | null {
  if (v === null || typeof v !== "object") {
    return typeof v === "function" || typeof v === "symbol" ? `${path} (a ${typeof v})` : null;
  }
  if (seen.has(v)) return null;
  seen.add(v);
  if (v instanceof Tensor || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer || v instanceof Date || v instanceof RegExp) return null;
  if (Array.isArray(v) || v instanceof Set) {
    let i = 0;
    for (const x of v) {
      const bad = unclonable(x, `${path}[${i++}]`, seen);
      if (bad) return bad;
    }
    return null;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) {
      const bad = unclonable(k, `${path} key`, seen) ?? unclonable(x, `${path}.get(${String(k)})`, seen);
      if (bad) return bad;
    }
    return null;
  }
  if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const bad = unclonable(x, `${path}.${k}`, seen);
      if (bad) return bad;
    }
    return null;
  }
  return `${path} (a ${v.constructor?.name ?? "class instance"}: a worker would get a plain object without its methods)`;
}

/** The spec a worker rebuilds ds from, or an error that says exactly what to write instead. */
export function copySpec(ds: object, numWorkers: number): CopySpec {
  const name = ds.constructor.name;
  const prefix = `DataLoader(numWorkers=${numWorkers}): ${name} has no workerSpec() and`;
  const site = sites.get(ds);
  if (!site) throw new Error(`${prefix} kindling could not tell which module defines it; ${handWritten(name)}.`);
  const main = process.argv[1] ? toUrl(process.argv[1]) : null;
  if (main !== null && site.url === main) {
    throw new Error(
      `${prefix} is defined in the script being run (${site.url}): a worker thread would run the whole script again ` +
        `to import it. Move ${name} into a module of its own, export it, and import it from the script.`,
    );
  }
  const bad = unclonable(Object.fromEntries(Object.entries(ds)), "this", new Set());
  if (bad) throw new Error(`${prefix} can't be copied into a worker thread: ${bad}. Instead, ${handWritten(name)}.`);
  return { module: site.url, export: name, args: [], fields: pack(Object.fromEntries(Object.entries(ds)), new Set()) };
}
