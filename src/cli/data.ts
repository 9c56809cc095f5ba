// The CLI's data: CIFAR-10 (the tutorial's) or the built-in synthetic set, both as torchvision-style CIFAR10
// datasets with the tutorial's transform, so the same loader fast path and workers are used.

import { DataLoader, type Sampler } from "../data/index.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { CIFAR10 } from "../vision/datasets/index.js";
import { Compose, Normalize, ToTensor } from "../vision/transforms/index.js";
import { syntheticArrays } from "./synthetic.js";

export class DataError extends Error {
  override name = "DataError";
}

export type DatasetName = "cifar10" | "synthetic";

export interface DataOptions {
  dataset: DatasetName;
  /** CIFAR-10 root (default $KINDLING_DATA, else ./data). */
  root?: string;
  download?: boolean;
  /** Use only the first N training / test images (default: all; synthetic: 2000 / 500). */
  trainSize?: number;
  testSize?: number;
  /** Seed of the synthetic images (not of training). */
  dataSeed?: number;
  quiet?: boolean;
  /** Status lines (download progress, "Files already downloaded and verified"). */
  log?: (line: string) => void;
}

export const SYNTHETIC_DEFAULT_SIZES = { train: 2000, test: 500 };

/** ToTensor + Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)): the tutorial's transform. */
export function tutorialTransform(): Compose<Tensor> {
  return new Compose([new ToTensor(), new Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])]);
}

const DATA_ERRORS = new Set(["DatasetNotFoundError", "CifarDataError", "DownloadError", "ExtractError", "PngError"]);

function limit(ds: CIFAR10<Tensor>, n: number | undefined, root: string | undefined, train: boolean): CIFAR10<Tensor> {
  if (n === undefined || n >= ds.length) return ds;
  return new CIFAR10(
    { root, train, transform: ds.transform },
    { data: ds.data.subarray(0, n * 3072), targets: ds.targets.slice(0, n), classes: ds.classes },
  );
}

export function loadSplit(o: DataOptions, train: boolean): CIFAR10<Tensor> {
  const transform = tutorialTransform();
  if (o.dataset === "synthetic") {
    const n = (train ? o.trainSize : o.testSize) ?? (train ? SYNTHETIC_DEFAULT_SIZES.train : SYNTHETIC_DEFAULT_SIZES.test);
    const a = syntheticArrays(n, o.dataSeed ?? 0, train);
    return new CIFAR10({ root: o.root, train, transform }, a);
  }
  let ds: CIFAR10<Tensor>;
  try {
    ds = new CIFAR10({ root: o.root, train, download: o.download ?? false, transform, quiet: o.quiet });
  } catch (e) {
    if (e instanceof Error && DATA_ERRORS.has(e.name)) throw new DataError(e.message);
    throw e;
  }
  return limit(ds, train ? o.trainSize : o.testSize, o.root, train);
}

export function trainLoader(ds: CIFAR10<Tensor>, batchSize: number, numWorkers: number, generator: Generator, sampler?: Sampler): DataLoader<[Tensor, number]> {
  // Workers stay up across epochs: starting them (loading the engine in each) costs more than an epoch of batch 4.
  return new DataLoader(ds, { batchSize, shuffle: sampler === undefined, sampler, numWorkers, generator, persistentWorkers: numWorkers > 0 });
}

export function testLoader(ds: CIFAR10<Tensor>, batchSize: number, numWorkers: number): DataLoader<[Tensor, number]> {
  return new DataLoader(ds, { batchSize, shuffle: false, numWorkers, persistentWorkers: numWorkers > 0 });
}
