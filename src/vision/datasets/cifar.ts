// torchvision.datasets.CIFAR10 for kindling.

import { Dataset, type WorkerSpec } from "../../data/dataset.js";
import { fromTypedArray } from "../../tensor/create.js";
import type { Tensor } from "../../tensor/tensor.js";
import { planBatch, planOutputShape, runBatchPlan, type BatchPlan } from "../transforms/batch_plan.js";
import type { ImageU8 } from "../transforms/image.js";
import "../transforms/index.js"; // registers every transform's spec factory, for workers
import { applyTransform, specOf, transformFromSpec, type TransformLike, type TransformSpec } from "../transforms/transform.js";
import { defaultRoot, prepareCifar10, type PrepareOptions } from "./cifar_download.js";
import { findCifar10, readCifar10, type CifarArrays } from "./cifar_files.js";
import { prepareCifar10Sync } from "./prepare_sync.js";

/** I: what `transform` makes of an 8-bit image (an ImageU8 without one); L: what `targetTransform` makes of a label. */
export interface CIFAR10Options<I = ImageU8, L = number> {
  /** Directory holding cifar-10-batches-py/ or cifar-10-batches-bin/ (default $KINDLING_DATA, else ./data). */
  root?: string;
  /** Training set (50 000 images) or test set (10 000). Default true. */
  train?: boolean;
  /** Fetch and extract the official archive when the data is not under root. */
  download?: boolean;
  transform?: TransformLike<ImageU8, I> | null;
  targetTransform?: TransformLike<number, L> | null;
  /** No status lines or progress bar. */
  quiet?: boolean;
  /** Mirror URL / checksum (tests, local mirrors). */
  url?: string;
  md5?: string;
}

interface SharedArrays {
  data: Uint8Array;
  targets: number[];
  classes: string[];
}

interface CifarWorkerArgs {
  root: string;
  train: boolean;
  arrays: SharedArrays;
  transform: TransformSpec | null;
  targetTransform: TransformSpec | null;
}

const H = 32, W = 32, C = 3, IMG = H * W * C;

/**
 * Samples are [image, label]: with the tutorial's `transform` (ToTensor, Normalize) a CIFAR10<Tensor>, whose get(i)
 * is [Tensor, number]; without a transform the image is an 8-bit ImageU8.
 */
export class CIFAR10<I = ImageU8, L = number> extends Dataset<[I, L]> {
  static readonly baseFolder = "cifar-10-batches-py";
  static readonly url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz";
  static readonly filename = "cifar-10-python.tar.gz";
  static readonly tgzMd5 = "c58f30108f718f92721af3b95e74349a";

  readonly root: string;
  readonly train: boolean;
  /** N x 32 x 32 x 3 uint8 (HWC), shared memory. */
  readonly data: Uint8Array;
  readonly targets: number[];
  readonly classes: string[];
  readonly classToIdx: Record<string, number>;
  transform: TransformLike<ImageU8, I> | null;
  targetTransform: TransformLike<number, L> | null;
  private planCache: { t: TransformLike | null; plan: BatchPlan | null } | null = null;

  constructor(opts: CIFAR10Options<I, L> = {}, arrays?: SharedArrays) {
    super();
    this.root = defaultRoot(opts.root);
    this.train = opts.train ?? true;
    this.transform = opts.transform ?? null;
    this.targetTransform = opts.targetTransform ?? null;
    let a: SharedArrays | CifarArrays | undefined = arrays;
    if (!a) {
      let layout = findCifar10(this.root);
      if (layout === null) {
        // Download or extract: asynchronous work, run to completion in a child process.
        layout = prepareCifar10Sync({ root: this.root, download: opts.download, quiet: opts.quiet, url: opts.url, md5: opts.md5 });
      } else if (opts.download && !opts.quiet) {
        console.log("Files already downloaded and verified");
      }
      a = readCifar10(this.root, this.train, layout);
    }
    this.data = a.data;
    this.targets = a.targets;
    this.classes = a.classes;
    this.classToIdx = Object.fromEntries(this.classes.map((c, i) => [c, i]));
  }

  /** Like the constructor, but downloads in-process (and accepts an injected fetch). */
  static async load<I = ImageU8, L = number>(opts: CIFAR10Options<I, L> & Pick<PrepareOptions, "fetch" | "log"> = {}): Promise<CIFAR10<I, L>> {
    const root = defaultRoot(opts.root);
    const layout = await prepareCifar10({ ...opts, root });
    return new CIFAR10({ ...opts, root, download: false }, readCifar10(root, opts.train ?? true, layout));
  }

  get length(): number {
    return this.targets.length;
  }

  /** The raw image i as an 8-bit HWC image (a copy). */
  image(index: number): ImageU8 {
    const i = this.checkIndex(index);
    return { width: W, height: H, channels: C, data: this.data.slice(i * IMG, (i + 1) * IMG) };
  }

  get(index: number): [I, L] {
    const i = this.checkIndex(index);
    const img = this.image(i);
    const target = this.targets[i]!;
    // Without a transform, I and L are ImageU8 and number (their defaults).
    return [
      this.transform ? applyTransform(this.transform, img) : (img as I),
      this.targetTransform ? applyTransform(this.targetTransform, target) : (target as L),
    ];
  }

  private checkIndex(index: number): number {
    const n = this.targets.length;
    const i = index < 0 ? index + n : index;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`CIFAR10: index ${index} is out of range for ${n} images`);
    return i;
  }

  private plan(): BatchPlan | null {
    if (!this.planCache || this.planCache.t !== this.transform) {
      this.planCache = { t: this.transform, plan: planBatch(this.transform) };
    }
    return this.planCache.plan;
  }

  /**
   * A whole collated batch [images float32 N x C x H x W, labels int64 N] straight from the uint8
   * data, when the transform is made of ToTensor/Normalize/RandomCrop/flips and there is no
   * targetTransform; null otherwise (the loader then goes sample by sample).
   */
  override getBatch(indices: readonly number[]): [Tensor, Tensor] | null {
    const plan = this.targetTransform ? null : this.plan();
    if (!plan) return null;
    const src = { data: this.data, height: H, width: W, channels: C };
    const [c, h, w] = planOutputShape(plan, src);
    const idx = indices.map((i) => this.checkIndex(i));
    const images = new Float32Array(idx.length * c * h * w);
    runBatchPlan(plan, src, idx, images);
    const labels = new Float64Array(idx.length);
    for (let k = 0; k < idx.length; k++) labels[k] = this.targets[idx[k]!]!;
    return [fromTypedArray(images, [idx.length, c, h, w], "float32"), fromTypedArray(labels, [idx.length], "int64")];
  }

  /** Workers share `data` (a SharedArrayBuffer) and rebuild the transforms from their specs. */
  override workerSpec(): WorkerSpec {
    const specs: Array<TransformSpec | null> = [];
    for (const [name, t] of [["transform", this.transform], ["targetTransform", this.targetTransform]] as const) {
      const s = specOf(t);
      if (s && "unsupported" in s) {
        throw new Error(
          `CIFAR10: the ${name} contains ${s.unsupported}, which can't be rebuilt in a DataLoader worker. ` +
            "Use the built-in transforms (Compose, ToTensor, Normalize, RandomCrop, RandomHorizontalFlip), or numWorkers: 0.",
        );
      }
      specs.push(s as TransformSpec | null);
    }
    const args: CifarWorkerArgs = {
      root: this.root,
      train: this.train,
      arrays: { data: this.data, targets: this.targets, classes: this.classes },
      transform: specs[0]!,
      targetTransform: specs[1]!,
    };
    return { module: import.meta.url, export: "CIFAR10", args: [args] };
  }

  static fromWorkerSpec(args: CifarWorkerArgs): CIFAR10<unknown, unknown> {
    return new CIFAR10(
      {
        root: args.root,
        train: args.train,
        transform: args.transform ? transformFromSpec(args.transform) : null,
        targetTransform: args.targetTransform ? transformFromSpec(args.targetTransform) : null,
      },
      args.arrays,
    );
  }

  override toString(): string {
    return [
      "Dataset CIFAR10",
      `    Number of datapoints: ${this.length}`,
      `    Root location: ${this.root}`,
      `    Split: ${this.train ? "Train" : "Test"}`,
      ...(this.transform ? [`    StandardTransform\nTransform: ${String(this.transform)}`] : []),
    ].join("\n");
  }
}
