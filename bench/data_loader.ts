// DataLoader throughput over the real CIFAR-10 training set with the tutorial's pipeline
// (ToTensor + Normalize), batch 4 and 128, numWorkers 0 and 2. Median of >= 5 full epochs.
//
//   npx tsc -p tsconfig.json && node dist/bench/data_loader.js [--runs 5] [--root DIR]
// The data comes from --root, $KINDLING_DATA, or ../shared/data (cifar-10-batches-bin or -py).

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DataLoader } from "../src/data/dataloader.js";
import { manualSeed } from "../src/tensor/random.js";
import { CIFAR10 } from "../src/vision/datasets/cifar.js";
import { findCifar10 } from "../src/vision/datasets/cifar_files.js";
import * as T from "../src/vision/transforms/index.js";
import { median } from "./stats.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(arg("runs") ?? 5);
const candidates = [arg("root"), process.env["KINDLING_DATA"], resolve("../shared/data"), resolve("../../shared/data")];
const root = candidates.find((r) => r !== undefined && existsSync(r) && findCifar10(r) !== null);
if (!root) {
  console.error("bench/data_loader: no CIFAR-10 found (pass --root, set KINDLING_DATA, or provide ../shared/data)");
  process.exit(1);
}

const transform = new T.Compose([new T.ToTensor(), new T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])]);
const t0 = performance.now();
const trainset = new CIFAR10({ root, train: true, transform });
console.log(`loaded ${trainset.length} images from ${root} in ${(performance.now() - t0).toFixed(0)} ms`);

const results: Array<{ batchSize: number; numWorkers: number; persistentWorkers: boolean; imgPerSec: number; runs: number[] }> = [];
// Worker rows are shown twice: fresh workers every epoch (the default, as in PyTorch, which
// includes the worker start-up in each epoch) and persistentWorkers: true.
const configs: Array<[number, boolean]> = [[0, false], [2, false], [2, true]];
for (const batchSize of [4, 128]) {
  for (const [numWorkers, persistentWorkers] of configs) {
    manualSeed(0);
    const loader = new DataLoader(trainset, { batchSize, shuffle: true, numWorkers, persistentWorkers });
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) {
      let n = 0;
      let check = 0;
      const start = performance.now();
      for (const [images, labels] of loader) {
        n += labels.shape[0];
        check += images.shape[0];
      }
      const secs = (performance.now() - start) / 1000;
      if (n !== trainset.length || check !== n) throw new Error(`epoch saw ${n} images`);
      rates.push(n / secs);
    }
    loader.close();
    const med = median(rates);
    results.push({ batchSize, numWorkers, persistentWorkers, imgPerSec: Math.round(med), runs: rates.map(Math.round) });
    console.log(
      `batch ${String(batchSize).padStart(3)}  numWorkers ${numWorkers}${persistentWorkers ? " (persistent)" : "             "}: ${(med / 1000).toFixed(0).padStart(5)} k img/s` +
        `  (runs: ${rates.map((x) => (x / 1000).toFixed(0)).join(", ")} k)`,
    );
  }
}
console.log(JSON.stringify({ bench: "data_loader", pipeline: "ToTensor+Normalize", shuffle: true, results }));
