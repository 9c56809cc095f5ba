// Rebuilding a dataset from its WorkerSpec inside a worker thread.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type { Dataset, WorkerSpec } from "./dataset.js";
import type { CopySpec } from "./auto_spec.js";
import { unpack } from "./pack.js";

type DatasetClass = { new (...args: unknown[]): Dataset<unknown> } & {
  fromWorkerSpec?: (...args: unknown[]) => Dataset<unknown> | Promise<Dataset<unknown>>;
};

/** tsx's register API: the copy that started this process (its flags name it), else one the module can resolve. */
async function tsxApi(url: string): Promise<{ register(): unknown } | null> {
  const fromFlags = process.execArgv.map((a) => /^(.*[\\/]node_modules[\\/]tsx)[\\/]dist[\\/]/.exec(a.replace(/^file:\/\//, ""))?.[1]).find(Boolean);
  const roots = [fromFlags];
  for (const base of [url, `${process.cwd()}/package.json`]) {
    try {
      roots.push(dirname(createRequire(base).resolve("tsx/package.json")));
    } catch {
      // not resolvable from there
    }
  }
  for (const root of roots) {
    if (!root) continue;
    try {
      return (await import(pathToFileURL(`${root}/dist/esm/api/index.mjs`).href)) as { register(): unknown };
    } catch {
      // try the next copy
    }
  }
  return null;
}

/**
 * Imports a dataset's module in this worker. Under tsx on Node 20 the TypeScript hooks are registered in the main
 * thread only, so a .ts module fails here with ERR_UNKNOWN_FILE_EXTENSION: then tsx's own API registers them in
 * this thread too, found from the module's location (the project that runs tsx has it installed).
 */
let tsxRegistered = false;

async function importModule(url: string): Promise<Record<string, unknown>> {
  // A failed import is cached, so the hooks go in before the first try (tsx tolerates a second registration).
  if (/\.[cm]?tsx?$/.test(new URL(url).pathname) && !tsxRegistered) {
    const api = await tsxApi(url);
    if (api) {
      api.register();
      tsxRegistered = true;
    }
  }
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    if ((e as { code?: string }).code !== "ERR_UNKNOWN_FILE_EXTENSION") throw e;
    throw new Error(`${url} is TypeScript and this worker thread has no loader for it: install tsx (npm i -D tsx) and run with it, or compile the module to JavaScript`, { cause: e });
  }
}

export async function rebuildDataset(spec: WorkerSpec): Promise<Dataset<unknown>> {
  const mod = await importModule(spec.module);
  const copied = "fields" in spec;
  // A copied dataset's class may be exported under another name (export default class ...).
  // A module loaded as CommonJS (a .ts file outside a "type": "module" package, under tsx) has its exports on default.
  const cjs = mod.default !== null && typeof mod.default === "object" ? (mod.default as Record<string, unknown>) : {};
  const Ctor = (mod[spec.export] ??
    cjs[spec.export] ??
    (copied ? Object.values(mod).find((v) => typeof v === "function" && v.name === spec.export) : undefined)) as DatasetClass | undefined;
  if (typeof Ctor !== "function") {
    throw new Error(
      copied
        ? `${spec.export} is not exported from ${spec.module}, so a worker thread can't import it: export the class ` +
            `(export class ${spec.export} extends Dataset ...), or give it a workerSpec() that names the module exporting it`
        : `worker spec: ${spec.module} has no export '${spec.export}'`,
    );
  }
  if (copied) {
    // The dataset as the main thread holds it: its fields, on its class's prototype, without rerunning its constructor.
    const ds = Object.create(Ctor.prototype) as Dataset<unknown>;
    return Object.assign(ds, unpack((spec as CopySpec).fields));
  }
  return Ctor.fromWorkerSpec ? await Ctor.fromWorkerSpec(...spec.args) : new Ctor(...spec.args);
}
