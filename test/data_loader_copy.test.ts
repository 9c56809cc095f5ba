// Dataset subclasses without workerSpec() work with numWorkers > 0: the workers import the class's module and copy
// the dataset's fields, compiled or through tsx. What can't be copied is refused with the code to write instead.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import { DataLoader, Dataset } from "../src/data/index.js";
import type { Tensor } from "../src/tensor/tensor.js";
import BareDataset, { FieldsDataset, FunctionFieldDataset, InstanceFieldDataset, makeHidden } from "./helpers/copy_fixtures.js";

const flat = (batches: unknown[], k: number) => batches.flatMap((b) => (b as Tensor[])[k]!.tolist() as number[]);

test("an exported Dataset subclass without workerSpec() loads in workers, same batches as the main thread", async () => {
  const ds = new FieldsDataset(10);
  const main = [...new DataLoader(ds, { batchSize: 4 })];
  const workers = [...new DataLoader(ds, { batchSize: 4, numWorkers: 2 })];
  assert.deepEqual(flat(workers, 0), flat(main, 0));
  assert.deepEqual(flat(workers, 1), flat(main, 1));
  assert.ok(flat(workers, 2).every((t) => t !== threadId), "the samples were made in worker threads");
  const asyncBatches: unknown[] = [];
  for await (const b of new DataLoader(ds, { batchSize: 4, numWorkers: 1 })) asyncBatches.push(b);
  assert.deepEqual(flat(asyncBatches, 0), flat(main, 0));
  // A default export with no constructor or fields of its own is found too.
  const bare = [...new DataLoader(new BareDataset(), { batchSize: 3, numWorkers: 1 })] as Tensor[];
  assert.equal(bare.length, 2);
  assert.ok(bare.flatMap((t) => t.tolist() as number[]).slice(1).every((v) => v !== 0));
});

test("fields a worker can't receive intact are refused with the workerSpec() to write", () => {
  assert.throws(
    () => [...new DataLoader(new FunctionFieldDataset(), { numWorkers: 1 })],
    /FunctionFieldDataset has no workerSpec\(\) and can't be copied into a worker thread: this\.fn \(a function\)\. Instead, give FunctionFieldDataset a workerSpec\(\).*module: import\.meta\.url, export: "FunctionFieldDataset", args: \[/,
  );
  assert.throws(() => [...new DataLoader(new InstanceFieldDataset(), { numWorkers: 1 })], /this\.scaler \(a Scaler: a worker would get a plain object without its methods\)/);
});

test("a class the worker can't import: defined in the running script, or not exported", () => {
  class ScriptDataset extends Dataset<number> {
    get length(): number {
      return 2;
    }
    get(i: number): number {
      return i;
    }
  }
  assert.throws(() => [...new DataLoader(new ScriptDataset(), { numWorkers: 1 })], /ScriptDataset has no workerSpec\(\) and is defined in the script being run.*Move ScriptDataset into a module of its own/s);
  assert.throws(() => [...new DataLoader(makeHidden(), { numWorkers: 1 })], /HiddenDataset is not exported from .*copy_fixtures\.js.*export class HiddenDataset extends Dataset/s);
});

test("through tsx: a Dataset class in a .ts module works with numWorkers > 0", () => {
  const dir = mkdtempSync(join(tmpdir(), "kindling-tsx-"));
  try {
    const engine = new URL("../src/index.js", import.meta.url).href;
    writeFileSync(join(dir, "dataset.ts"), `import { threadId } from "node:worker_threads";
import * as torch from ${JSON.stringify(engine)};
export class SquaresDataset extends torch.utils.data.Dataset<[number, number]> {
  constructor(readonly n: number) { super(); }
  get length(): number { return this.n; }
  get(i: number): [number, number] { return [i * i, threadId]; }
}
`);
    writeFileSync(join(dir, "main.ts"), `import * as torch from ${JSON.stringify(engine)};
import { SquaresDataset } from "./dataset.js";
const batches = [...new torch.utils.data.DataLoader(new SquaresDataset(8), { batchSize: 4, numWorkers: 2 })] as torch.Tensor[][];
console.log(JSON.stringify({ squares: batches.flatMap((b) => b[0]!.tolist()), threads: batches.flatMap((b) => b[1]!.tolist()) }));
`);
    // As `npx tsx main.ts` runs it (the CLI starts node with tsx's hooks in the main thread).
    const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
    const r = spawnSync(process.execPath, [tsx, join(dir, "main.ts")], { encoding: "utf8", timeout: 60_000, cwd: fileURLToPath(new URL("../..", import.meta.url)) });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { squares: number[]; threads: number[] };
    assert.deepEqual(out.squares, [0, 1, 4, 9, 16, 25, 36, 49]);
    assert.ok(out.threads.every((t) => t !== 0), "made in worker threads");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
