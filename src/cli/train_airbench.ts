// `kindling train --recipe airbench94`: airbench94's CIFAR-10 recipe (src/recipes/airbench94.ts), N runs from
// consecutive seeds, airbench's per-epoch table, mean ± std of the TTA accuracy over the runs, and the same run
// directory as the tutorial recipe (checkpoint and model of the last run, metrics.jsonl, report.html). Ctrl-C
// (SIGINT, SIGTERM, SIGHUP) stops after the current step with a checkpoint that --resume continues exactly.

import * as fs from "node:fs";
import * as path from "node:path";
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from "../io/checkpoint.js";
import { saveFile } from "../io/safetensors.js";
import { CIFAR10_CLASSES } from "../models/tutorial_net.js";
import { AIRBENCH94, imageSetFromHWC, meanStd, runAirbench94, type Airbench94Progress, type EpochStats, type RunResult, type StoppedRun } from "../recipes/airbench94.js";
import { writeReport, type LossPoint } from "../report/index.js";
import { defaultGenerator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import type { SGD } from "../optim/sgd.js";
import { UsageError } from "./args.js";
import { checkDevice, ExitError, Out } from "./common.js";
import { loadSplit, type DatasetName } from "./data.js";
import { appendMetric, truncateMetrics } from "./metrics_file.js";
import { Progress, RateMeter } from "./progress.js";
import { pinnedOptions, resumeCheckpointPath } from "./resume_options.js";
import { defaultRunDir, prepareRunDir, runFiles } from "./run_dir.js";
import { signalExitCode, stepDelayMs, watchStopSignals } from "./stop_signals.js";

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
  /** The checkpoint of a stopped run to continue. */
  resume?: string;
  trainSize?: number;
  testSize?: number;
  dataSeed: number;
  report: boolean;
  quiet: boolean;
  json: boolean;
  progress: boolean;
}

/** Tutorial options the recipe does not take: refused rather than silently ignored. */
const NOT_FOR_AIRBENCH = ["lr", "momentum", "workers", "logEvery", "checkpointEvery", "nprocPerNode"] as const;

/** Options that decide the numbers a run computes: a resumed run takes them from its checkpoint. */
const PINNED = ["dataset", "trainSize", "testSize", "dataSeed", "batchSize", "epochs", "runs", "seed"] as const;

/** What a stopped run's checkpoint holds beyond weights and optimizer state (its metadata's extra.stopped). */
interface StoppedState {
  signal: NodeJS.Signals;
  /** The run in progress (0-based; its seed is --seed + run), or the next one to start when `progress` is null. */
  run: number;
  progress: Airbench94Progress | null;
  /** The metrics window not yet logged, and the last run's curves so far. */
  window: { sum: number; n: number };
  curve: LossPoint[];
  accuracyCurve: { step: number; accuracy: number }[];
}

/** A finished run's line of the summary. */
type RunRow = AirbenchSummary["runs"][number];

/** True when `resume` names an airbench94 checkpoint (so `kindling train --resume` needs no --recipe). */
export function isAirbenchCheckpoint(resume: string): boolean {
  return readCheckpoint(resumeCheckpointPath(resume)).extra.recipe === "airbench94";
}

export function resolveAirbenchConfig(o: Record<string, string | number | boolean | undefined>): AirbenchConfig {
  for (const k of NOT_FOR_AIRBENCH) {
    if (o[k] !== undefined) {
      const flag = "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
      throw new UsageError(`${flag} does not apply to --recipe airbench94 (its hyper-parameters are the recipe's; it trains in one process)`);
    }
  }
  if (o.epochs !== undefined && !((o.epochs as number) > 0)) throw new UsageError(`--epochs must be more than 0, got ${o.epochs}`);
  let resume = o.resume as string | undefined;
  let saved: Record<string, unknown> = {};
  if (resume) {
    resume = resumeCheckpointPath(resume);
    const ck = readCheckpoint(resume);
    if (ck.extra.recipe !== "airbench94") throw new ExitError(`--resume: ${resume} is a tutorial-recipe run: resume it without --recipe airbench94`, 2);
    if (!ck.extra.stopped) throw new ExitError(`--resume: ${resume} holds a finished airbench94 run, with nothing left to train; start a new run (another --out, or --force)`, 2);
    const config = (ck.extra.config ?? {}) as Record<string, unknown>;
    saved = pinnedOptions(o, config, PINNED);
    // The interrupted run's choices of the rest are defaults, and may be changed.
    for (const k of ["data", "device", "report"]) if (config[k] !== undefined) saved[k] = config[k];
  }
  const pick = <T>(k: string, d: T): T => (o[k] ?? saved[k] ?? d) as T;
  return {
    dataset: pick("dataset", "cifar10"),
    data: pick<string | undefined>("data", undefined),
    download: pick("download", false),
    epochs: pick("epochs", AIRBENCH94.epochs),
    batchSize: pick("batchSize", AIRBENCH94.batchSize),
    runs: pick("runs", 1),
    seed: pick("seed", Math.floor(Math.random() * 2 ** 31)),
    device: pick("device", "cpu"),
    out: (o.out as string | undefined) ?? (resume ? path.dirname(resume) : defaultRunDir()),
    outIsDefault: o.out === undefined && !resume,
    force: o.force === true,
    resume,
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
  /** Over the finished runs (null when none finished). */
  ttaValAcc: { mean: number; std: number } | null;
  trainSeconds: { mean: number; std: number } | null;
  /** Stopped by a signal, with a checkpoint to resume from. */
  interrupted: boolean;
  /** Where the resumed checkpoint was: run and epoch 1-based (as printed), steps done in the epoch and the run. */
  resumedFrom: { run: number; epoch: number; step: number; globalStep: number } | null;
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

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function trainAirbench(cfg: AirbenchConfig): Promise<{ summary: AirbenchSummary; code: number }> {
  const out = new Out(cfg.quiet, cfg.json);
  const device = checkDevice(cfg.device);
  const removed = prepareRunDir(cfg.out, { resuming: !!cfg.resume && path.resolve(cfg.out) === path.resolve(path.dirname(cfg.resume)), force: cfg.force });
  if (cfg.outIsDefault) out.line(`Run directory: ${cfg.out}`);
  if (removed.length) out.line(`--force: removed the earlier run's ${removed.join(", ")} from ${cfg.out}`);
  const files = runFiles(cfg.out);
  const metric = (rec: Record<string, unknown>): void => appendMetric(files.metrics, rec);

  // ---- a stopped run to continue ----
  const finished: RunRow[] = [];
  let resumed: { state: StoppedState; ema: Record<string, Tensor> } | null = null;
  let resumedFrom: AirbenchSummary["resumedFrom"] = null;
  if (cfg.resume) {
    const ck = readCheckpoint(cfg.resume);
    const state = ck.extra.stopped as StoppedState;
    // The loader's generator state goes through the checkpoint's rng entry, which keeps its NaN (JSON can't).
    if (state.progress) state.progress.loader.rng = ck.rng.loader ?? state.progress.loader.rng;
    resumed = { state, ema: ck.extraTensors };
    finished.push(...(ck.extra.runs as RunRow[]));
    const p = state.progress;
    resumedFrom = { run: state.run + 1, epoch: (p?.epoch ?? 0) + 1, step: p?.batch ?? 0, globalStep: p?.step ?? 0 };
    // The records logged after the checkpoint are logged again; the stop itself is no longer news.
    truncateMetrics(files.metrics, (r) => r.type !== "stopped" && typeof r.run === "number" && (r.run - 1 < state.run || (r.run - 1 === state.run && typeof r.globalStep === "number" && r.globalStep <= resumedFrom!.globalStep)));
    out.line(`Resuming from ${cfg.resume}: run ${resumedFrom.run}, epoch ${resumedFrom.epoch}, step ${resumedFrom.step} (step ${resumedFrom.globalStep} of the run)`);
  } else if (fs.existsSync(files.metrics)) {
    fs.rmSync(files.metrics);
  }

  const dataOpts = { dataset: cfg.dataset, root: cfg.data, download: cfg.download, trainSize: cfg.trainSize, testSize: cfg.testSize, dataSeed: cfg.dataSeed, quiet: cfg.quiet || cfg.json };
  const trainDs = loadSplit(dataOpts, true);
  const testDs = loadSplit(dataOpts, false);
  const train = imageSetFromHWC(trainDs.data, trainDs.targets);
  const test = imageSetFromHWC(testDs.data, testDs.targets);
  const classes = cfg.dataset === "cifar10" && trainDs.classes.length === 10 ? [...CIFAR10_CLASSES] : trainDs.classes;
  out.line(`airbench94: ${train.images.shape[0]} training / ${test.images.shape[0]} test images, batch ${cfg.batchSize}, ${cfg.epochs} epochs, ${cfg.runs} run${cfg.runs > 1 ? "s" : ""}, device ${device}`);

  const rule = "-".repeat(row(COLS).length);
  const tableRow = (run: number, e: EpochStats): string => row([String(run), String(e.epoch), fmt(e.trainLoss, 4), fmt(e.trainAcc, 4), fmt(e.valAcc, 4), fmt(e.ttaValAcc, 4), fmt(e.seconds, 1)]);
  out.line(rule);
  out.line(row(COLS));
  out.line(rule);
  // A resumed run's table starts with the rows printed before the stop.
  for (const [i, f] of finished.entries()) for (const e of f.epochs) out.line(tableRow(i + 1, e));
  for (const e of resumed?.state.progress?.epochs ?? []) out.line(tableRow(resumed!.state.run + 1, e));

  const progress = new Progress(out.humanStream, cfg.progress && !cfg.quiet, out.humanStream.isTTY ? 100 : 10_000);
  // The first signal lets the current step finish, then the run is saved where it is (see stop_signals.ts).
  const stops = watchStopSignals({ beforeMessage: () => progress.clear() });
  const delayMs = stepDelayMs();
  // The last run's curves (for the report).
  const curve: LossPoint[] = resumed?.state.curve ?? [];
  const accuracyCurve: { step: number; accuracy: number }[] = resumed?.state.accuracyCurve ?? [];
  let last: RunResult | null = null;
  let stoppedAt: StoppedState | null = null;
  try {
    for (let r = resumed?.state.run ?? 0; r < cfg.runs; r++) {
      const seed = cfg.seed + r;
      const meter = new RateMeter();
      const lastRun = r === cfg.runs - 1;
      const cont = resumed?.state.run === r && resumed.state.progress ? { state: resumed.state, progress: resumed.state.progress, ema: resumed.ema } : null;
      let lastYield = Date.now();
      let window = cont ? { ...cont.state.window } : { sum: 0, n: 0 };
      const res: RunResult | StoppedRun = await runAirbench94(train, test, {
        hyper: { epochs: cfg.epochs, batchSize: cfg.batchSize },
        device,
        seed,
        shouldStop: () => stops.signal !== null,
        resume: cont ? { progress: cont.progress, ema: cont.ema, restore: (net, optimizer) => void loadCheckpoint(cfg.resume!, { model: net, optimizer }) } : undefined,
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
          if (delayMs > 0) await new Promise((res2) => setTimeout(res2, delayMs));
          // Let signals (Ctrl-C) and I/O in.
          if (Date.now() - lastYield > 50) {
            await nextTick();
            lastYield = Date.now();
          }
        },
        onEpoch: async (e) => {
          progress.clear();
          out.line(tableRow(r + 1, e));
          metric({ type: "epoch", run: r + 1, ...e });
          if (lastRun) accuracyCurve.push({ step: e.globalStep, accuracy: e.valAcc });
          // A signal that came during the evaluation (or the test hook's pause after the row) stops the run here.
          if (delayMs > 0) await new Promise((res2) => setTimeout(res2, delayMs));
          await nextTick();
        },
      });
      if ("stopped" in res) {
        stoppedAt = { signal: stops.signal!, run: r, progress: res.progress, window, curve, accuracyCurve };
        saveStopped(files.checkpoint, cfg, classes, finished, res, stoppedAt, res.ema);
        break;
      }
      last = res;
      finished.push({ seed, ttaValAcc: res.ttaValAcc, valAcc: res.epochs[res.epochs.length - 1]!.valAcc, trainSeconds: res.trainSeconds, steps: res.steps, epochs: res.epochs });
      if (!lastRun) {
        // A signal during the last evaluation: the next run starts from scratch when resumed.
        await nextTick();
        if (stops.signal) {
          stoppedAt = { signal: stops.signal, run: r + 1, progress: null, window: { sum: 0, n: 0 }, curve: [], accuracyCurve: [] };
          saveStopped(files.checkpoint, cfg, classes, finished, res, stoppedAt, {});
          break;
        }
      }
    }
  } finally {
    stops.dispose();
  }
  progress.clear();
  const seeds = finished.map((f) => f.seed);
  const tta = finished.length ? meanStd(finished.map((x) => x.ttaValAcc)) : null;
  const secs = finished.length ? meanStd(finished.map((x) => x.trainSeconds)) : null;
  const summaryBase = { command: "train" as const, recipe: "airbench94" as const, out: cfg.out, dataset: cfg.dataset, seeds, epochs: cfg.epochs, runs: finished, ttaValAcc: tta, trainSeconds: secs, resumedFrom, files };

  if (stoppedAt) {
    const p = stoppedAt.progress;
    metric({ type: "stopped", signal: stoppedAt.signal, run: stoppedAt.run + 1, epoch: (p?.epoch ?? 0) + 1, step: p?.batch ?? 0, globalStep: p?.step ?? 0, time: Date.now() / 1000 });
    out.line(`Interrupted: checkpoint saved to ${files.checkpoint} (resume with: kindling train --recipe airbench94 --resume ${cfg.out})`);
    return { summary: { ...summaryBase, interrupted: true, peakRssMB: process.resourceUsage().maxRSS / 1024 }, code: signalExitCode(stoppedAt.signal) };
  }
  // Every run finished (the loop ends with the last one).
  const done = { last: last!, tta: tta!, secs: secs! };
  out.line(rule);
  out.line(`TTA val accuracy: ${(100 * done.tta.mean).toFixed(2)} % ± ${(100 * done.tta.std).toFixed(2)} over ${cfg.runs} run${cfg.runs > 1 ? "s" : ""} (training ${done.secs.mean.toFixed(1)} ± ${done.secs.std.toFixed(1)} s per run)`);
  metric({ type: "summary", runs: cfg.runs, seeds, ttaValAcc: tta, trainSeconds: secs });

  saveCheckpoint(files.checkpoint, {
    model: done.last.net,
    optimizer: done.last.optimizer,
    epoch: Math.ceil(cfg.epochs),
    step: 0,
    globalStep: done.last.steps,
    rng: { torch: defaultGenerator.getState() },
    extra: { recipe: "airbench94", config: { ...cfg, seed: seeds[seeds.length - 1] }, classes, runs: finished },
  });
  saveFile(done.last.net.stateDict(), files.model, { format: "pt" });

  const y = test.labels.toTypedArray();
  const confusion = classes.map(() => classes.map(() => 0));
  done.last.predictions.forEach((p, i) => confusion[Number(y[i])]![p]!++);
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
        "TTA accuracy (last run)": `${(100 * done.last.ttaValAcc).toFixed(2)} %`,
        "TTA accuracy (mean ± std)": `${(100 * done.tta.mean).toFixed(2)} ± ${(100 * done.tta.std).toFixed(2)} %`,
        "training time per run": `${done.secs.mean.toFixed(1)} ± ${done.secs.std.toFixed(1)} s`,
        device,
        resumed: resumedFrom ? `from run ${resumedFrom.run}, epoch ${resumedFrom.epoch}, step ${resumedFrom.step}` : "no",
        "peak RSS": `${peakRssMB.toFixed(0)} MB`,
        written: new Date().toISOString(),
      },
    });
  }
  if (!cfg.report) delete (files as Partial<typeof files>).report;
  return {
    summary: { ...summaryBase, interrupted: false, peakRssMB },
    code: 0,
  };
}

/** A stopped run's checkpoint: the net and optimizer in progress (or the last finished run's), and where it stopped. */
function saveStopped(file: string, cfg: AirbenchConfig, classes: readonly string[], finished: readonly RunRow[], run: { net: Module; optimizer: SGD }, st: StoppedState, ema: Record<string, Tensor>): void {
  const p = st.progress;
  saveCheckpoint(file, {
    model: run.net,
    optimizer: run.optimizer,
    epoch: p?.epoch ?? 0,
    step: p?.batch ?? 0,
    globalStep: p?.step ?? 0,
    rng: { torch: defaultGenerator.getState(), ...(p ? { loader: p.loader.rng } : {}) },
    extra: { recipe: "airbench94", config: cfg, classes, runs: finished, stopped: st },
    extraTensors: ema,
  });
}
