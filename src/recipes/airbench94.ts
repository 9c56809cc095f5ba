// airbench94 (Keller Jordan, "94% on CIFAR-10 in 3.29 seconds on a single GPU") as a library recipe: the
// hyper-parameters, the schedules, the whole-batch data pipeline, the Lookahead-style EMA, test-time augmentation
// and one training run. The CLI (`kindling train --recipe airbench94`) and examples/airbench94.ts drive it.

import { noGrad } from "../autograd/grad_mode.js";
import { opError } from "../core/errors.js";
import { AIRBENCH_WIDTHS, AirbenchNet, initWhitening } from "../models/airbench_net.js";
import { crossEntropy } from "../nn/functional.js";
import type { Module } from "../nn/module.js";
import { SGD } from "../optim/sgd.js";
import { LambdaLR } from "../optim/lr_scheduler.js";
import { fromTypedArray } from "../tensor/create.js";
import { randperm } from "../tensor/factories.js";
import { stack } from "../tensor/movement.js";
import { pad } from "../tensor/pad.js";
import { Generator, manualSeed } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { batchCrop, batchFlipLR, batchReflectPad } from "../vision/transforms/batch_aug.js";

export interface Airbench94Hyper {
  /** Fractional: the last epoch stops after this share of its steps (airbench's 9.9). */
  epochs: number;
  batchSize: number;
  /** Decoupled learning rate and weight decay, "per 1024 examples" (airbench's convention). */
  lr: number;
  weightDecay: number;
  momentum: number;
  /** BatchNorm biases train at this multiple of the learning rate. */
  biasScaler: number;
  labelSmoothing: number;
  /** The whitening conv's bias trains for this many epochs, then freezes. */
  whitenBiasEpochs: number;
  /** Images whose 2x2 patches give the whitening layer. */
  whitenImages: number;
  flip: boolean;
  /** Random translation by up to this many pixels (from a reflect-padded copy). */
  translate: number;
  widths: readonly [number, number, number];
  /** airbench's BatchNorm momentum (weight of the old running value; PyTorch's momentum is 1 minus it). */
  bnMomentum: number;
  /** 0: plain; 1: + mirror; 2: mirror × {identity, two 1-pixel translations}, six views. */
  ttaLevel: 0 | 1 | 2;
  /** The EMA is applied every this many steps. */
  emaEvery: number;
}

export const AIRBENCH94: Readonly<Airbench94Hyper> = Object.freeze({
  epochs: 9.9,
  batchSize: 1024,
  lr: 11.5,
  weightDecay: 0.0153,
  momentum: 0.85,
  biasScaler: 64,
  labelSmoothing: 0.2,
  whitenBiasEpochs: 3,
  whitenImages: 5000,
  flip: true,
  translate: 2,
  widths: AIRBENCH_WIDTHS,
  bnMomentum: 0.6,
  ttaLevel: 2,
  emaEvery: 5,
});

/** CIFAR-10's per-channel mean and standard deviation (in [0, 1] units), as airbench normalises. */
export const CIFAR_MEAN = [0.4914, 0.4822, 0.4465] as const;
export const CIFAR_STD = [0.247, 0.2435, 0.2616] as const;

/** The triangular schedule's factor at `step` of `total`: 0.2 → 1.0 over the first 23 % of steps, then → 0.07. */
export function lrFactor(step: number, total: number): number {
  const warm = Math.floor(total * 0.23);
  if (step < warm) {
    const f = step / warm;
    return 0.2 * (1 - f) + f;
  }
  const f = (step - warm) / (total - warm);
  return 1 - f + 0.07 * f;
}

/** The EMA's decay at `step`: 0.95^5 · (step / total)^3 (weights follow the net early, average late). */
export function emaDecay(step: number, total: number): number {
  return 0.95 ** 5 * (step / total) ** 3;
}

/** Training steps of a run: ceil(steps per epoch × epochs). */
export function totalSteps(stepsPerEpoch: number, epochs: number): number {
  return Math.ceil(stepsPerEpoch * epochs);
}

/**
 * Nesterov SGD with two groups (BatchNorm biases at biasScaler × lr, everything else at lr), with airbench's
 * conversion of the decoupled lr / weight decay into PyTorch SGD's: the per-step lr is divided by
 * 1024 · (1 + 1/(1 − momentum)) (the steady-state gain of Nesterov momentum over 1024 summed examples), and the
 * weight decay is set per group so that lr × weightDecay is the decoupled decay per batch.
 */
export function makeOptimizer(net: Module, h: Pick<Airbench94Hyper, "lr" | "weightDecay" | "momentum" | "biasScaler" | "batchSize">): SGD {
  const kilostep = 1024 * (1 + 1 / (1 - h.momentum));
  const lr = h.lr / kilostep;
  const wd = (h.weightDecay * h.batchSize) / kilostep;
  const lrBias = lr * h.biasScaler;
  const named = net.namedParameters().filter(([, p]) => p.requiresGrad);
  const normBiases = named.filter(([k]) => k.includes("norm")).map(([, p]) => p);
  const others = named.filter(([k]) => !k.includes("norm")).map(([, p]) => p);
  return new SGD(
    [
      { params: normBiases, lr: lrBias, weightDecay: wd / lrBias },
      { params: others, lr, weightDecay: wd / lr },
    ],
    { momentum: h.momentum, nesterov: true },
  );
}

/**
 * Lookahead-style EMA over every floating-point entry of the state dict (parameters and BatchNorm running stats):
 * update() moves the average toward the net by (1 − decay) and puts the net back on the average.
 */
export class LookaheadState {
  private readonly ema: Map<string, Tensor>;

  constructor(net: Module) {
    this.ema = new Map(Object.entries(net.stateDict()).filter(([, v]) => v.isFloatingPoint()).map(([k, v]) => [k, v.detach().clone()]));
  }

  update(net: Module, decay: number): void {
    const sd = net.stateDict();
    noGrad(() => {
      for (const [k, e] of this.ema) {
        const cur = sd[k]!;
        e.lerp_(cur, 1 - decay);
        cur.copy_(e);
      }
    });
  }

  /** The averages (copies), by state-dict key. */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.ema].map(([k, e]) => [k, e.clone()]));
  }

  /** Restores averages saved by stateDict(): every key, with its shape. */
  loadStateDict(sd: Record<string, Tensor>): void {
    const keys = Object.keys(sd);
    if (keys.length !== this.ema.size || !keys.every((k) => this.ema.has(k))) {
      throw opError("LookaheadState.loadStateDict", `expected the averages of ${[...this.ema.keys()].length} state-dict entries, got ${keys.length} that do not match the net's`);
    }
    noGrad(() => {
      for (const [k, e] of this.ema) {
        const v = sd[k]!;
        if (v.shape.join() !== e.shape.join()) throw opError("LookaheadState.loadStateDict", `${k} has shape [${v.shape}], the net's [${e.shape}]`);
        e.copy_(v);
      }
    });
  }
}

/** Images as uint8 N x 3 x H x W with their labels. */
export interface ImageSet {
  images: Tensor;
  labels: Tensor;
}

/** N x H x W x C uint8 (the CIFAR datasets' layout) to an ImageSet. */
export function imageSetFromHWC(data: Uint8Array, labels: readonly number[], size = 32, channels = 3): ImageSet {
  const n = labels.length;
  if (data.length !== n * size * size * channels) throw opError("imageSetFromHWC", `expected ${n} images of ${size}x${size}x${channels} bytes, got ${data.length} bytes`);
  const nchw = new Uint8Array(data.length);
  const plane = size * size;
  for (let i = 0; i < n; i++) {
    const b = i * plane * channels;
    for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) nchw[b + c * plane + p] = data[b + p * channels + c]!;
  }
  return { images: fromTypedArray(nchw, [n, channels, size, size]), labels: fromTypedArray(Float64Array.from(labels), [n], "int64") };
}

/** uint8 NCHW → float32 normalised with CIFAR's mean and std, on `device`. */
export function normalize(images: Tensor, device = "cpu"): Tensor {
  const x = (device === "cpu" ? images : images.to(device)).float();
  const scale = fromTypedArray(Float32Array.from(CIFAR_STD, (s) => 1 / (255 * s)), [1, 3, 1, 1]).to(x.device);
  const shift = fromTypedArray(Float32Array.from(CIFAR_MEAN, (m, i) => m / CIFAR_STD[i]!), [1, 3, 1, 1]).to(x.device);
  return x.mul(scale).sub(shift);
}

/** Where an AirbenchLoader is at the start of an epoch: the epoch's index and its generator's state. */
export interface AirbenchLoaderState {
  epoch: number;
  rng: number[];
}

/**
 * airbench's training data: flipped at random once, reflect-padded once; each epoch a fresh random crop of the whole
 * set (the translation), mirrored as a whole on odd epochs, then shuffled into full batches.
 */

export class AirbenchLoader {
  epoch = 0;
  private padded: Tensor | null = null;
  private flipped: Tensor | null = null;

  constructor(
    readonly data: ImageSet,
    readonly batchSize: number,
    readonly aug: { flip: boolean; translate: number },
    readonly generator: Generator,
    readonly device = "cpu",
  ) {
    if (Math.floor(data.images.shape[0]! / batchSize) === 0) {
      throw opError("airbench94", `the training set (${data.images.shape[0]} images) is smaller than one batch of ${batchSize}: lower --batch-size`);
    }
  }

  get length(): number {
    return Math.floor(this.data.images.shape[0]! / this.batchSize);
  }

  /** The one-off random flip (the generator's first draw), before the first epoch. */
  private prepare(): Tensor {
    if (!this.flipped) {
      this.flipped = this.aug.flip ? batchFlipLR(this.data.images, { generator: this.generator }) : this.data.images;
      if (this.aug.translate > 0) this.padded = batchReflectPad(this.flipped, this.aug.translate);
    }
    return this.flipped;
  }

  /** The epoch's augmented images (uint8), before shuffling. */
  epochImages(): Tensor {
    const flipped = this.prepare();
    const [, , H, W] = this.data.images.shape as [number, number, number, number];
    let images = this.padded ? batchCrop(this.padded, [H, W], { generator: this.generator }) : flipped;
    if (this.aug.flip && this.epoch % 2 === 1) images = images.flip(-1);
    return images;
  }

  /** Where the next epoch starts (after the one-off flip, which a fresh loader of the same seed redraws alike). */
  getState(): AirbenchLoaderState {
    this.prepare();
    return { epoch: this.epoch, rng: this.generator.getState() };
  }

  /** Puts a loader built with the same seed at the start of a saved epoch. */
  setState(s: AirbenchLoaderState): void {
    this.prepare();
    this.generator.setState(s.rng);
    this.epoch = s.epoch;
  }

  [Symbol.iterator](): Iterator<[Tensor, Tensor]> {
    return this.batches(0);
  }

  /** One epoch's batches after the first `skip` (which are drawn alike, but not built). */
  *batches(skip: number): IterableIterator<[Tensor, Tensor]> {
    const images = this.epochImages();
    this.epoch++;
    const order = randperm(images.shape[0]!, { generator: this.generator });
    for (let i = skip; i < this.length; i++) {
      const idx = order.narrow(0, i * this.batchSize, this.batchSize);
      const x = normalize(images.indexSelect(0, idx), this.device);
      const y = this.data.labels.indexSelect(0, idx);
      yield [x, this.device === "cpu" ? y : y.to(this.device)];
    }
  }
}

/**
 * Logits with test-time augmentation (inputs already normalised): level 0 the plain net; 1 the mean over the image and
 * its mirror; 2 half that plus half the mean of the same over the two 1-pixel diagonal translations (six views).
 */
export function inferTTA(net: Module, x: Tensor, level: 0 | 1 | 2): Tensor {
  const f = (t: Tensor) => net.forward(t) as Tensor;
  const mirror = (t: Tensor) => f(t).add(f(t.flip(-1))).mul(0.5);
  if (level === 0) return f(x);
  if (level === 1) return mirror(x);
  const [, , H, W] = x.shape as [number, number, number, number];
  const padded = pad(x, [1, 1, 1, 1], { mode: "reflect" });
  const shifted = [padded.narrow(2, 0, H).narrow(3, 0, W), padded.narrow(2, 2, H).narrow(3, 2, W)].map((t) => mirror(t.contiguous()));
  return mirror(x).mul(0.5).add(stack(shifted).mean(0).mul(0.5));
}

/** Predicted classes of a test set, in chunks, with the net in eval mode. */
export function predict(net: Module, test: ImageSet, level: 0 | 1 | 2, device = "cpu", chunk = 2000): Int32Array {
  const n = test.images.shape[0]!;
  const out = new Int32Array(n);
  const was = net.training;
  net.eval();
  noGrad(() => {
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const x = normalize(test.images.narrow(0, s, m), device);
      const pred = inferTTA(net, x, level).argmax(1).to("cpu").toTypedArray();
      for (let i = 0; i < m; i++) out[s + i] = Number(pred[i]);
    }
  });
  net.train(was);
  return out;
}

export function accuracyOf(pred: Int32Array, labels: Tensor): number {
  const y = labels.to("cpu").toTypedArray();
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === Number(y[i])) ok++;
  return pred.length ? ok / pred.length : 0;
}

export interface EpochStats {
  epoch: number;
  /** Loss per example and accuracy of the epoch's last batch (airbench's columns). */
  trainLoss: number;
  trainAcc: number;
  valAcc: number;
  /** Only after the last epoch. */
  ttaValAcc: number | null;
  /** Training time so far (evaluation excluded). */
  seconds: number;
  /** Optimizer steps taken so far. */
  globalStep: number;
}

export interface RunResult {
  net: AirbenchNet;
  optimizer: SGD;
  epochs: EpochStats[];
  steps: number;
  totalSteps: number;
  ttaValAcc: number;
  /** TTA predictions on the test set. */
  predictions: Int32Array;
  trainSeconds: number;
}

export interface RunOptions {
  hyper?: Partial<Airbench94Hyper>;
  device?: string;
  seed?: number;
  /** After every training step (for progress bars); may be async to let the event loop in. */
  onStep?: (s: { epoch: number; step: number; stepsPerEpoch: number; totalSteps: number; globalStep: number; loss: number }) => void | Promise<void>;
  /** After every epoch's evaluation; may be async (it is awaited). */
  onEpoch?: (e: EpochStats) => void;
  /** Evaluate on the test set after every epoch (airbench's val_acc column; default true). */
  evalEachEpoch?: boolean;
}

/** Where a stopped run is, beyond its weights, optimizer state and EMA: JSON, for a checkpoint's metadata. */
export interface Airbench94Progress {
  /** The epoch in progress (0-based) and the batches of it already trained. */
  epoch: number;
  batch: number;
  /** Optimizer steps taken. */
  step: number;
  /** The loader at the start of `epoch`. */
  loader: AirbenchLoaderState;
  scheduler: { lastEpoch: number };
  /** The epoch's last batch's loss and accuracy, once it is trained (its table row is still to come); else null. */
  last: { loss: number; acc: number } | null;
  /** The finished epochs' rows. */
  epochs: EpochStats[];
  trainSeconds: number;
}

/** What a run stopped by `shouldStop` leaves: everything `resume` needs to continue it exactly. */
export interface StoppedRun {
  stopped: true;
  net: AirbenchNet;
  optimizer: SGD;
  progress: Airbench94Progress;
  /** The Lookahead averages (LookaheadState.stateDict()). */
  ema: Record<string, Tensor>;
}

export interface ResumableRunOptions extends RunOptions {
  /** Consulted after every step and every epoch's evaluation: true stops the run there (see StoppedRun). */
  shouldStop?: () => boolean;
  /**
   * Continues a stopped run (same seed, hyper-parameters and data): `restore` loads the saved weights, optimizer
   * state and torch's generator into the freshly built net and optimizer.
   */
  resume?: { progress: Airbench94Progress; ema: Record<string, Tensor>; restore: (net: AirbenchNet, optimizer: SGD) => void };
}

/** One airbench94 training run from scratch, evaluated with test-time augmentation. */
export async function trainAirbench94(train: ImageSet, test: ImageSet, o: RunOptions = {}): Promise<RunResult> {
  return (await runAirbench94(train, test, o)) as RunResult;
}

/** JSON turned NaN into null: back to NaN. */
const nan = (v: number | null): number => (v === null ? NaN : v);

/** One airbench94 training run, or its continuation, that may stop (resumably) when `shouldStop` says so. */
export async function runAirbench94(train: ImageSet, test: ImageSet, o: ResumableRunOptions = {}): Promise<RunResult | StoppedRun> {
  const h: Airbench94Hyper = { ...AIRBENCH94, ...o.hyper };
  const device = o.device ?? "cpu";
  const seed = o.seed ?? 0;
  manualSeed(seed);
  const gen = new Generator(seed + 1);
  const loader = new AirbenchLoader(train, h.batchSize, { flip: h.flip, translate: h.translate }, gen, device);
  const total = totalSteps(loader.length, h.epochs);

  const net = new AirbenchNet(h.widths, h.bnMomentum);
  if (device !== "cpu") net.to(device);
  const optimizer = makeOptimizer(net, h);
  const scheduler = new LambdaLR(optimizer, (step) => lrFactor(step, total));
  let lookahead = new LookaheadState(net);

  const epochs: EpochStats[] = [];
  let step = 0;
  let startEpoch = 0;
  let skip = 0;
  let resumedLast: { loss: number; acc: number } | null = null;
  let trainMs: number;
  const r = o.resume;
  if (r) {
    // The whitening weights come back with the others.
    r.restore(net, optimizer);
    scheduler.loadStateDict(r.progress.scheduler);
    lookahead.loadStateDict(r.ema);
    loader.setState(r.progress.loader);
    ({ step, epoch: startEpoch, batch: skip } = r.progress);
    resumedLast = r.progress.last;
    for (const e of r.progress.epochs) epochs.push({ ...e, trainLoss: nan(e.trainLoss), trainAcc: nan(e.trainAcc), valAcc: nan(e.valAcc) });
    trainMs = r.progress.trainSeconds * 1000;
  } else {
    const t0 = performance.now();
    const nWhiten = Math.min(h.whitenImages, train.images.shape[0]!);
    initWhitening(net.whiten, normalize(train.images.narrow(0, 0, nWhiten)));
    // The average starts from the net as training starts, whitening included (as airbench's does).
    lookahead = new LookaheadState(net);
    trainMs = performance.now() - t0;
  }

  const evalEach = o.evalEachEpoch ?? true;
  for (let epoch = startEpoch; epoch < Math.ceil(h.epochs); epoch++) {
    const e0 = performance.now();
    const epochStart = loader.getState();
    const stopped = (batch: number, last: { loss: number; acc: number } | null): StoppedRun => ({
      stopped: true,
      net,
      optimizer,
      progress: { epoch, batch, step, loader: epochStart, scheduler: { lastEpoch: scheduler.lastEpoch }, last, epochs: [...epochs], trainSeconds: (trainMs + performance.now() - e0) / 1000 },
      ema: lookahead.stateDict(),
    });
    net.whiten.bias!.requiresGrad_(epoch < h.whitenBiasEpochs);
    net.train();
    let last = resumedLast ?? { loss: NaN, acc: NaN };
    resumedLast = null;
    let i = skip;
    for (const [x, y] of loader.batches(skip)) {
      if (step >= total) break;
      const out = net.forward(x);
      const loss = crossEntropy(out, y, { labelSmoothing: h.labelSmoothing, reduction: "none" }).sum();
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      scheduler.step();
      step++;
      i++;
      if (step % h.emaEvery === 0) lookahead.update(net, emaDecay(step, total));
      const done = step >= total;
      if (done) lookahead.update(net, 1);
      const l = loss.item() / x.shape[0]!;
      if (done || i === loader.length) {
        const pred = out.argmax(1).eq(y).float().mean().item();
        last = { loss: l, acc: pred };
      }
      if (o.onStep) await o.onStep({ epoch: epoch + 1, step: i, stepsPerEpoch: loader.length, totalSteps: total, globalStep: step, loss: l });
      if (o.shouldStop?.()) return stopped(i, done || i === loader.length ? last : null);
      if (done) break;
    }
    skip = 0;
    trainMs += performance.now() - e0;
    const isLast = step >= total;
    const valAcc = evalEach || isLast ? accuracyOf(predict(net, test, 0, device), test.labels) : NaN;
    const stats: EpochStats = { epoch: epoch + 1, trainLoss: last.loss, trainAcc: last.acc, valAcc, ttaValAcc: null, seconds: trainMs / 1000, globalStep: step };
    if (!isLast) {
      epochs.push(stats);
      await o.onEpoch?.(stats);
      if (o.shouldStop?.()) {
        const s = stopped(0, null);
        s.progress = { ...s.progress, epoch: epoch + 1, loader: loader.getState(), trainSeconds: trainMs / 1000 };
        return s;
      }
    } else {
      const predictions = predict(net, test, h.ttaLevel, device);
      stats.ttaValAcc = accuracyOf(predictions, test.labels);
      epochs.push(stats);
      await o.onEpoch?.(stats);
      return { net, optimizer, epochs, steps: step, totalSteps: total, ttaValAcc: stats.ttaValAcc, predictions, trainSeconds: trainMs / 1000 };
    }
  }
  throw new Error("airbench94: the run ended before its last step");
}

/** Mean and (sample) standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}
