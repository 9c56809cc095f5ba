// `kindling train --recipe airbench94`: airbench94's CIFAR-10 recipe (src/recipes/airbench94.ts), N runs from
// consecutive seeds, airbench's per-epoch table, mean ± std of the TTA accuracy over the runs, and the same run
// directory as the tutorial recipe (checkpoint and model of the last run, metrics.jsonl, report.html).

import * as fs from "node:fs";
import { withPath } from "../io/atomic.js";
import { saveCheckpoint } from "../io/checkpoint.js";
import { saveFile } from "../io/safetensors.js";
import { CIFAR10_CLASSES } from "../models/tutorial_net.js";
import { AIRBENCH94, imageSetFromHWC, meanStd, trainAirbench94, type EpochStats, type RunResult } from "../recipes/airbench94.js";
import { writeReport, type LossPoint } from "../report/index.js";
import { defaultGenerator } from "../tensor/random.js";
import { UsageError } from "./args.js";
import { checkDevice, Out } from "./common.js";
import { loadSplit, type DatasetName } from "./data.js";
import { Progress, RateMeter } from "./progress.js";
import { defaultRunDir, prepareRunDir, runFiles } from "./run_dir.js";

export interface AirbenchConfig {
  dataset: DatasetName;
  data?: string;
  download: boolean;
  epochs: number;
  batchSize: number;
  runs: number;
  seed: number;
  device: string;
  out: string;
  outIsDefault: boolean;
  force: boolean;
  trainSize?: number;
  testSize?: number;
  dataSeed: number;
  report: boolean;
  quiet: boolean;
  json: boolean;
  progress: boolean;
}

/** Tutorial options the recipe does not take: refused rather than silently ignored. */
const NOT_FOR_AIRBENCH = ["lr", "momentum", "workers", "resume", "logEvery", "checkpointEvery", "nprocPerNode"] as const;

export function resolveAirbenchConfig(o: Record<string, string | number | boolean | undefined>): AirbenchConfig {
  for (const k of NOT_FOR_AIRBENCH) {
    if (o[k] !== undefined) {
      const flag = "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
      throw new UsageError(`${flag} does not apply to --recipe airbench94 (its hyper-parameters are the recipe's; it always trains from scratch in one process)`);
    }
  }
  const pick = <T>(k: string, d: T): T => (o[k] ?? d) as T;
  if (o.epochs !== undefined && !((o.epochs as number) > 0)) throw new UsageError(`--epochs must be more than 0, got ${o.epochs}`);
  return {
    dataset: pick("dataset", "cifar10"),
    data: pick<string | undefined>("data", undefined),
    download: pick("download", false),
    epochs: pick("epochs", AIRBENCH94.epochs),
    batchSize: pick("batchSize", AIRBENCH94.batchSize),
    runs: pick("runs", 1),
    seed: pick("seed", Math.floor(Math.random() * 2 ** 31)),
    device: pick("device", "cpu"),
    out: (o.out as string | undefined) ?? defaultRunDir(),
    outIsDefault: o.out === undefined,
    force: o.force === true,
    trainSize: pick<number | undefined>("trainSize", undefined),
    testSize: pick<number | undefined>("testSize", undefined),
    dataSeed: pick("dataSeed", 0),
    report: pick("report", true),
    quiet: pick("quiet", false),
    json: pick("json", false),
    progress: pick("progress", true),
  };
}

export interface AirbenchSummary {
  command: "train";
  recipe: "airbench94";
  out: string;
  dataset: DatasetName;
  seeds: number[];
  epochs: number;
  runs: { seed: number; ttaValAcc: number; valAcc: number; trainSeconds: number; steps: number; epochs: EpochStats[] }[];
  ttaValAcc: { mean: number; std: number };
  trainSeconds: { mean: number; std: number };
  peakRssMB: number;
  files: Record<string, string>;
}

const COLS = ["run", "epoch", "train_loss", "train_acc", "val_acc", "tta_val_acc", "seconds"] as const;

function row(cells: readonly string[]): string {
  return "|" + cells.map((c, i) => ` ${c.padStart(COLS[i]!.length + 2)} `).join("|") + "|";
}

function fmt(v: number | null, d: number): string {
  return v === null || !Number.isFinite(v) ? "" : v.toFixed(d);
}

export async function trainAirbench(cfg: AirbenchConfig): Promise<{ summary: AirbenchSummary; code: number }> {
  const out = new Out(cfg.quiet, cfg.json);
  const device = checkDevice(cfg.device);
  const removed = prepareRunDir(cfg.out, { resuming: false, force: cfg.force });
  if (cfg.outIsDefault) out.line(`Run directory: ${cfg.out}`);
  if (removed.length) out.line(`--force: removed the earlier run's ${removed.join(", ")} from ${cfg.out}`);
  const files = runFiles(cfg.out);
  if (fs.existsSync(files.metrics)) fs.rmSync(files.metrics);
  const metric = (rec: Record<string, unknown>): void => withPath(files.metrics, () => fs.appendFileSync(files.metrics, JSON.stringify(rec) + "\n"));

  const dataOpts = { dataset: cfg.dataset, root: cfg.data, download: cfg.download, trainSize: cfg.trainSize, testSize: cfg.testSize, dataSeed: cfg.dataSeed, quiet: cfg.quiet || cfg.json };
  const trainDs = loadSplit(dataOpts, true);
  const testDs = loadSplit(dataOpts, false);
  const train = imageSetFromHWC(trainDs.data, trainDs.targets);
  const test = imageSetFromHWC(testDs.data, testDs.targets);
  const classes = cfg.dataset === "cifar10" && trainDs.classes.length === 10 ? [...CIFAR10_CLASSES] : trainDs.classes;
  out.line(`airbench94: ${train.images.shape[0]} training / ${test.images.shape[0]} test images, batch ${cfg.batchSize}, ${cfg.epochs} epochs, ${cfg.runs} run${cfg.runs > 1 ? "s" : ""}, device ${device}`);

  const rule = "-".repeat(row(COLS).length);
  out.line(rule);
  out.line(row(COLS));
  out.line(rule);
  const progress = new Progress(out.humanStream, cfg.progress && !cfg.quiet, out.humanStream.isTTY ? 100 : 10_000);
  const results: RunResult[] = [];
  const seeds: number[] = [];
  const curve: LossPoint[] = [];
  const accuracyCurve: { step: number; accuracy: number }[] = [];
  for (let r = 0; r < cfg.runs; r++) {
    const seed = cfg.seed + r;
    seeds.push(seed);
    const meter = new RateMeter();
    const lastRun = r === cfg.runs - 1;
    let lastYield = Date.now();
    let window = { sum: 0, n: 0 };
    const res = await trainAirbench94(train, test, {
      hyper: { epochs: cfg.epochs, batchSize: cfg.batchSize },
      device,
      seed,
      onStep: async (s) => {
        window.sum += s.loss;
        window.n++;
        const every = Math.max(1, Math.round(s.totalSteps / 250));
        if (s.globalStep % every === 0 || s.globalStep === s.totalSteps) {
          const mean = window.sum / window.n;
          metric({ type: "train", run: r + 1, epoch: s.epoch, step: s.step, globalStep: s.globalStep, loss: mean, time: Date.now() / 1000 });
          if (lastRun) curve.push({ step: s.globalStep, loss: mean, epoch: s.epoch - 1 });
          window = { sum: 0, n: 0 };
        }
        meter.add(performance.now(), s.globalStep);
        const rate = meter.perSecond();
        progress.update({ epoch: s.epoch, epochs: Math.ceil(cfg.epochs), step: s.step, steps: s.stepsPerEpoch, loss: s.loss, imagesPerSec: rate * cfg.batchSize, etaSec: (s.totalSteps - s.globalStep) / rate });
        if (Date.now() - lastYield > 50) {
          await new Promise((res2) => setImmediate(res2));
          lastYield = Date.now();
        }
      },
      onEpoch: (e) => {
        progress.clear();
        out.line(row([String(r + 1), String(e.epoch), fmt(e.trainLoss, 4), fmt(e.trainAcc, 4), fmt(e.valAcc, 4), fmt(e.ttaValAcc, 4), fmt(e.seconds, 1)]));
        metric({ type: "epoch", run: r + 1, ...e });
        if (lastRun) accuracyCurve.push({ step: e.globalStep, accuracy: e.valAcc });
      },
    });
    results.push(res);
  }
  progress.clear();
  out.line(rule);
  const tta = meanStd(results.map((x) => x.ttaValAcc));
  const secs = meanStd(results.map((x) => x.trainSeconds));
  out.line(`TTA val accuracy: ${(100 * tta.mean).toFixed(2)} % ± ${(100 * tta.std).toFixed(2)} over ${cfg.runs} run${cfg.runs > 1 ? "s" : ""} (training ${secs.mean.toFixed(1)} ± ${secs.std.toFixed(1)} s per run)`);
  metric({ type: "summary", runs: cfg.runs, seeds, ttaValAcc: tta, trainSeconds: secs });

  const last = results[results.length - 1]!;
  const runsOut = results.map((x, i) => ({ seed: seeds[i]!, ttaValAcc: x.ttaValAcc, valAcc: x.epochs[x.epochs.length - 1]!.valAcc, trainSeconds: x.trainSeconds, steps: x.steps, epochs: x.epochs }));
  saveCheckpoint(files.checkpoint, {
    model: last.net,
    optimizer: last.optimizer,
    epoch: Math.ceil(cfg.epochs),
    step: 0,
    globalStep: last.steps,
    rng: { torch: defaultGenerator.getState() },
    extra: { recipe: "airbench94", config: { ...cfg, seed: seeds[seeds.length - 1] }, classes, runs: runsOut },
  });
  saveFile(last.net.stateDict(), files.model, { format: "pt" });

  const y = test.labels.toTypedArray();
  const confusion = classes.map(() => classes.map(() => 0));
  last.predictions.forEach((p, i) => confusion[Number(y[i])]![p]!++);
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  if (cfg.report) {
    writeReport(files.report, {
      title: `kindling — airbench94 on ${cfg.dataset === "synthetic" ? "the synthetic 10-class set" : "CIFAR-10"}`,
      classes,
      loss: curve,
      accuracyCurve,
      confusion,
      info: {
        recipe: "airbench94",
        dataset: cfg.dataset,
        "train / test images": `${train.images.shape[0]} / ${test.images.shape[0]}`,
        epochs: cfg.epochs,
        "batch size": cfg.batchSize,
        runs: cfg.runs,
        seeds: seeds.join(", "),
        "TTA accuracy (last run)": `${(100 * last.ttaValAcc).toFixed(2)} %`,
        "TTA accuracy (mean ± std)": `${(100 * tta.mean).toFixed(2)} ± ${(100 * tta.std).toFixed(2)} %`,
        "training time per run": `${secs.mean.toFixed(1)} ± ${secs.std.toFixed(1)} s`,
        device,
        "peak RSS": `${peakRssMB.toFixed(0)} MB`,
        written: new Date().toISOString(),
      },
    });
  }
  if (!cfg.report) delete (files as Partial<typeof files>).report;
  return {
    summary: { command: "train", recipe: "airbench94", out: cfg.out, dataset: cfg.dataset, seeds, epochs: cfg.epochs, runs: runsOut, ttaValAcc: tta, trainSeconds: secs, peakRssMB, files },
    code: 0,
  };
}
