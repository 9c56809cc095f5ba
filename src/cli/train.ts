// `kindling train`: the CIFAR-10 tutorial end to end, with checkpoints, exact resume, metrics, TensorBoard events
// and report.html.

import * as fs from "node:fs";
import * as path from "node:path";
import { DataLoader, DistributedSampler } from "../data/index.js";
import { withPath } from "../io/atomic.js";
import { loadCheckpoint, loadCheckpointBytes, readCheckpoint, saveCheckpoint } from "../io/checkpoint.js";
import { saveFile } from "../io/safetensors.js";
import { CIFAR10_CLASSES, TutorialNet } from "../models/tutorial_net.js";
import { CrossEntropyLoss } from "../nn/index.js";
import { DistributedDataParallel } from "../nn/parallel/index.js";
import { destroyProcessGroup } from "../distributed/index.js";
import { SGD } from "../optim/index.js";
import { writeReport, type LossPoint, type SampleGrid } from "../report/index.js";
import { Generator, defaultGenerator, manualSeed } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { SummaryWriter } from "../utils/tensorboard/index.js";
import { encodePng } from "../vision/png.js";
import { makeGrid, toImageBytes } from "../vision/utils.js";
import type { Specs } from "./args.js";
import { accuracyLines, checkDevice, evaluate, ExitError, labelsLine, Out, predictBatch, type EvalResult } from "./common.js";
import { DataError, loadSplit, testLoader, trainLoader, type DatasetName } from "./data.js";
import { Progress, RateMeter } from "./progress.js";
import { defaultRunDir, prepareRunDir, runFiles } from "./run_dir.js";
import { joinProcessGroup, launchedRank } from "./train_ddp.js";
import { agreeOnStop, RANK_STOP_SIGNALS } from "./ddp_stop.js";
import { appendMetric, truncateMetrics } from "./metrics_file.js";
import { pinnedOptions, resumeCheckpointPath } from "./resume_options.js";
import { signalExitCode, stepDelayMs as testStepDelayMs, stopSignalHandler, STOP_SIGNALS } from "./stop_signals.js";

export const TRAIN_SPECS: Specs = {
  dataset: { kind: "string", help: "cifar10, or synthetic: a small built-in generated 10-class set (offline)", default: "cifar10", choices: ["cifar10", "synthetic"] },
  data: { kind: "string", metavar: "DIR", help: "CIFAR-10 root (holding cifar-10-batches-py/ or -bin/)", default: "$KINDLING_DATA or ./data" },
  download: { kind: "bool", help: "download CIFAR-10 into --data when it is missing" },
  epochs: { kind: "number", min: 0, help: "passes over the training set (a whole number; airbench94 also takes fractions)", default: "2 (airbench94: 9.9)" },
  "batch-size": { kind: "int", min: 1, help: "mini-batch size", default: 4 },
  lr: { kind: "number", min: 0, help: "SGD learning rate", default: 0.001 },
  momentum: { kind: "number", min: 0, help: "SGD momentum", default: 0.9 },
  workers: { kind: "int", min: 0, help: "DataLoader worker threads", default: 2 },
  seed: { kind: "int", min: 0, help: "random seed (weights init and shuffling)", default: "random, recorded in the checkpoint" },
  device: { kind: "string", help: "cpu, cuda, cuda:N, or auto (cuda when available)", default: "cpu", choices: ["cpu", "cuda", "cuda:N", "auto"] },
  out: { kind: "string", metavar: "DIR", help: "output directory (refused when it holds another run: see --resume, --force)", default: "runs/<timestamp> (the checkpoint's directory with --resume)" },
  force: { kind: "bool", help: "let --out replace the run already there (its files are removed first)" },
  resume: { kind: "string", metavar: "PATH", help: "continue from a checkpoint (file, or a run directory holding checkpoint.safetensors)" },
  "log-every": { kind: "int", min: 1, help: "print the running loss every N mini-batches", default: 2000 },
  "checkpoint-every": { kind: "int", min: 0, help: "also save a checkpoint every N steps (0: at epoch ends only)", default: 0 },
  "train-size": { kind: "int", min: 1, help: "use only the first N training images", default: "all (synthetic: 2000)" },
  "test-size": { kind: "int", min: 1, help: "use only the first N test images", default: "all (synthetic: 500)" },
  "data-seed": { kind: "int", min: 0, help: "seed of the synthetic images", default: 0 },
  report: { kind: "bool", help: "write report.html (--no-report to skip)", default: true },
  tensorboard: { kind: "bool", help: "write TensorBoard event files (--no-tensorboard to skip)", default: true },
  quiet: { kind: "bool", help: "print nothing but errors (and the --json summary)" },
  json: { kind: "bool", help: "print a machine-readable summary on stdout (human lines go to stderr)" },
  progress: { kind: "bool", help: "progress bar on TTYs, status lines otherwise (--no-progress to hide)", default: true },
  "nproc-per-node": { kind: "int", min: 1, help: "train data-parallel in N processes (--batch-size is per process; with --device cuda each takes cuda:LOCAL_RANK)", default: 1 },
  recipe: { kind: "string", help: "tutorial (the PyTorch CIFAR-10 tutorial) or airbench94 (94 %-class CIFAR-10 recipe; batch 1024, 9.9 epochs by default)", default: "tutorial", choices: ["tutorial", "airbench94"] },
  runs: { kind: "int", min: 1, help: "airbench94: independent runs from consecutive seeds, then mean ± std", default: 1 },
  "dist-backend": { kind: "string", help: "with --nproc-per-node: nccl (CUDA only, no mpirun) or mpi (mpirun; CUDA tensors through a host copy)", default: "nccl for --device cuda when libnccl.so.2 loads, else mpi", choices: ["mpi", "nccl"] },
};

export interface TrainConfig {
  dataset: DatasetName;
  data?: string;
  download: boolean;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  workers: number;
  seed: number;
  device: string;
  out: string;
  /** --out was not given: a fresh runs/<timestamp> directory. */
  outIsDefault: boolean;
  force: boolean;
  resume?: string;
  logEvery: number;
  checkpointEvery: number;
  trainSize?: number;
  testSize?: number;
  dataSeed: number;
  report: boolean;
  tensorboard: boolean;
  quiet: boolean;
  json: boolean;
  progress: boolean;
  /** --dist-backend as given (undefined: chosen by the ranks, see ddp_backend.ts). */
  distBackend?: string;
}

/** Options that decide the numbers a run computes: a resumed run takes them from its checkpoint. */
const PINNED = ["dataset", "batchSize", "lr", "momentum", "seed", "trainSize", "testSize", "dataSeed"] as const;

export function resolveConfig(o: Record<string, string | number | boolean | undefined>): TrainConfig {
  let resume = o.resume as string | undefined;
  let pinned: Partial<TrainConfig> = {};
  // In a data-parallel run only rank 0 reads the checkpoint (the others' nodes need not have it); they take rank 0's
  // resolved options in joinProcessGroup.
  if (resume && (launchedRank() ?? 0) === 0) {
    resume = resumeCheckpointPath(resume);
    const ck = readCheckpoint(resume);
    if (ck.extra.recipe === "airbench94") throw new ExitError(`--resume: ${resume} is an airbench94 run: resume it with --recipe airbench94 (or without --recipe)`, 2);
    const saved = (ck.extra.config ?? {}) as Partial<TrainConfig>;
    pinned = pinnedOptions(o, saved, PINNED) as Partial<TrainConfig>;
    // Everything else defaults to the interrupted run's choice, and may be changed (e.g. --epochs to train longer).
    for (const k of ["data", "epochs", "workers", "device", "logEvery", "checkpointEvery", "report", "tensorboard"] as const) {
      if (saved[k] !== undefined) (pinned as Record<string, unknown>)[k] = saved[k];
    }
  } else if (resume && o.device === undefined) {
    // The other ranks take everything from rank 0 once the group is up, except the device, which decides the group's
    // backend first: the checkpoint's, where this node has the file too (a plain `mpirun ... --resume DIR`).
    const file = fs.existsSync(resume) && fs.statSync(resume).isDirectory() ? path.join(resume, "checkpoint.safetensors") : resume;
    if (fs.existsSync(file)) pinned.device = ((readCheckpoint(file).extra.config ?? {}) as Partial<TrainConfig>).device;
  }
  const pick = <T>(k: string, dflt: T): T => ((o[k] ?? (pinned as Record<string, unknown>)[k] ?? dflt) as T);
  return {
    dataset: pick("dataset", "cifar10"),
    data: pick<string | undefined>("data", undefined),
    download: pick("download", false),
    epochs: pick("epochs", 2),
    batchSize: pick("batchSize", 4),
    lr: pick("lr", 0.001),
    momentum: pick("momentum", 0.9),
    workers: pick("workers", 2),
    seed: pick("seed", Math.floor(Math.random() * 2 ** 31)),
    device: pick("device", "cpu"),
    out: (o.out as string | undefined) ?? (resume ? path.dirname(resume) : defaultRunDir()),
    outIsDefault: o.out === undefined && !resume,
    force: o.force === true,
    resume,
    logEvery: pick("logEvery", 2000),
    checkpointEvery: pick("checkpointEvery", 0),
    trainSize: pick<number | undefined>("trainSize", undefined),
    testSize: pick<number | undefined>("testSize", undefined),
    dataSeed: pick("dataSeed", 0),
    report: pick("report", true),
    tensorboard: pick("tensorboard", true),
    quiet: pick("quiet", false),
    json: pick("json", false),
    progress: pick("progress", true),
    distBackend: o.distBackend as string | undefined,
  };
}

interface History {
  /** Mean loss over each curve window. */
  curve: LossPoint[];
  runningLoss: number;
  runningCount: number;
  windowLoss: number;
  windowCount: number;
  curveEvery: number;
  trainSeconds: number;
}

function unnormalizedGrid(images: Tensor): Tensor {
  return makeGrid(images.div(2).add(0.5));
}

function gridPng(images: Tensor): Uint8Array {
  return encodePng(toImageBytes(unnormalizedGrid(images)));
}

export interface TrainSummary {
  command: "train";
  out: string;
  dataset: DatasetName;
  seed: number;
  epochs: number;
  steps: number;
  /** Where the resumed checkpoint was: epoch 1-based (as printed), steps done in it, global step. */
  resumedFrom: { epoch: number; step: number; globalStep: number } | null;
  interrupted: boolean;
  trainSeconds: number;
  imagesPerSec: number;
  finalLoss: number | null;
  lossLog: { epoch: number; step: number; loss: number }[];
  accuracy: number | null;
  perClass: Record<string, number> | null;
  peakRssMB: number;
  files: Record<string, string>;
}

export async function train(cfg: TrainConfig): Promise<{ summary: TrainSummary; code: number; silent?: boolean }> {
  // One of several data-parallel ranks: rank 0 alone prints and writes; the others train silently.
  const ranks = await joinProcessGroup(cfg);
  try {
    const shared = ranks ? ({ ...cfg, ...ranks.config, seed: ranks.seed } as TrainConfig) : cfg;
    return await trainIn(shared, ranks?.rank ?? 0, ranks?.worldSize ?? 1, ranks?.resumeBytes ?? null, ranks && { device: ranks.device, note: ranks.note });
  } finally {
    if (ranks) destroyProcessGroup();
  }
}

async function trainIn(cfg0: TrainConfig, rank: number, worldSize: number, resumeBytes: Uint8Array | null,
  /** Set in a process group (even of one rank): this rank's device, and rank 0's line about the backend. */
  ddp: { device: string; note: string | null } | null): Promise<{ summary: TrainSummary; code: number; silent?: boolean }> {
  const lead = rank === 0;
  const cfg: TrainConfig = lead ? cfg0 : { ...cfg0, quiet: true, json: false, progress: false, report: false, tensorboard: false };
  const out = new Out(cfg.quiet, cfg.json);
  if (ddp?.note) out.line(ddp.note);
  // Checked before any data is loaded: the device (a data-parallel rank's was checked as it joined), then the run
  // directory.
  const device = ddp?.device ?? checkDevice(cfg.device);
  const removed = !lead ? [] : prepareRunDir(cfg.out, {
    resuming: !!cfg.resume && path.resolve(cfg.out) === path.resolve(path.dirname(cfg.resume)),
    force: cfg.force,
  });
  if (cfg.outIsDefault) out.line(`Run directory: ${cfg.out}`);
  if (removed.length) out.line(`--force: removed the earlier run's ${removed.join(", ")} from ${cfg.out}`);
  const files = {
    ...runFiles(cfg.out),
    trainGrid: path.join(cfg.out, "train_samples.png"),
    testGrid: path.join(cfg.out, "test_samples.png"),
  };

  // ---- data ----
  const dataOpts = {
    dataset: cfg.dataset,
    root: cfg.data,
    download: cfg.download,
    trainSize: cfg.trainSize,
    testSize: cfg.testSize,
    dataSeed: cfg.dataSeed,
    quiet: cfg.quiet || cfg.json,
  };
  const trainset = loadSplit(dataOpts, true);
  const loaderGen = new Generator(cfg.seed + 1);
  // Data-parallel: each rank takes its share of the same seeded permutation, reshuffled by setEpoch.
  const sampler = ddp ? new DistributedSampler(trainset, { numReplicas: worldSize, rank, seed: cfg.seed }) : undefined;
  const loader = trainLoader(trainset, cfg.batchSize, cfg.workers, loaderGen, sampler);
  // The workers load while the main thread reads the test set and builds the model.
  if (loader.persistentWorkers) loader.startWorkers();
  const testset = loadSplit(dataOpts, false);
  // The seed's own class names ('plane', 'car', ...) rather than the dataset's ('airplane', 'automobile', ...).
  const classes = cfg.dataset === "cifar10" && trainset.classes.length === 10 ? [...CIFAR10_CLASSES] : trainset.classes;

  // ---- model, optimizer, generators ----
  manualSeed(cfg.seed);
  const net = new TutorialNet();
  if (device !== "cpu") net.to(device);
  // DDP starts every rank from rank 0's weights; checkpoints keep saving `net`, so no `module.` prefix appears.
  const model: { forward(x: Tensor): unknown } = ddp ? new DistributedDataParallel(net) : net;
  const criterion = new CrossEntropyLoss();
  const optimizer = new SGD(net.parameters(), { lr: cfg.lr, momentum: cfg.momentum });
  const stepsPerEpoch = loader.length;
  let startEpoch = 0;
  let skip = 0;
  let globalStep = 0;
  let resumedFrom: TrainSummary["resumedFrom"] = null;
  const hist: History = {
    curve: [],
    runningLoss: 0,
    runningCount: 0,
    windowLoss: 0,
    windowCount: 0,
    curveEvery: Math.max(1, Math.round((stepsPerEpoch * cfg.epochs) / 250)),
    trainSeconds: 0,
  };
  let lossLog: TrainSummary["lossLog"] = [];
  if (cfg.resume) {
    const into = { model: net, optimizer, loaderGenerator: loaderGen };
    const info = resumeBytes ? loadCheckpointBytes(resumeBytes, cfg.resume, into) : loadCheckpoint(cfg.resume, into);
    startEpoch = info.epoch;
    skip = info.step;
    globalStep = info.globalStep;
    Object.assign(hist, info.extra.history ?? {});
    lossLog = (info.extra.lossLog as TrainSummary["lossLog"]) ?? [];
    resumedFrom = { epoch: info.epoch + 1, step: info.step, globalStep: info.globalStep };
    // The records (of every type) logged after the checkpoint are logged again by the resumed run.
    if (lead) truncateMetrics(files.metrics, (r) => typeof r.globalStep === "number" && r.globalStep <= globalStep);
    out.line(`Resuming from ${cfg.resume}: epoch ${info.epoch + 1}, step ${info.step} (global step ${info.globalStep})`);
  } else if (lead && fs.existsSync(files.metrics)) {
    fs.rmSync(files.metrics);
  }

  const tb = cfg.tensorboard ? new SummaryWriter(cfg.out, resumedFrom ? { purgeStep: globalStep + 1 } : {}) : null;
  const metric = (rec: Record<string, unknown>): void => void (lead && appendMetric(files.metrics, rec));

  // ---- a look at the training images (own generator: does not disturb the training order) ----
  const samples: SampleGrid[] = [];
  if (lead) {
    const preview = new DataLoader(trainset, { batchSize: cfg.batchSize, shuffle: true, generator: new Generator(cfg.seed + 2) });
    const first = preview[Symbol.iterator]().next();
    if (!first.done) {
      const [images, labels] = first.value as [Tensor, Tensor];
      const names = Array.from(labels.toTypedArray(), (l) => classes[l]!);
      const png = gridPng(images);
      withPath(files.trainGrid, () => fs.writeFileSync(files.trainGrid, png));
      tb?.addImage("train/samples", unnormalizedGrid(images), globalStep);
      samples.push({ title: "Training images", png, truth: names });
      out.line(labelsLine(classes, labels.toTypedArray()));
    }
  }

  // ---- training ----
  const progress = new Progress(out.humanStream, cfg.progress && !cfg.quiet, out.humanStream.isTTY ? 100 : 10_000);
  // The signal that asked to stop; the loop finishes its step, saves where it is and returns 128 + its number.
  let stop: NodeJS.Signals | null = null;
  let interrupted = false;
  // Under DDP only rank 0 talks; the stop itself waits for the ranks to agree (agreeOnStop below).
  const onSignal = stopSignalHandler({ stopped: () => stop, stop: (sig) => void (stop = sig), announce: lead, beforeMessage: () => progress.clear() });
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  // Under DDP the launcher's stop arrives as SIGUSR1/SIGUSR2 (see ddp_stop.ts).
  const onForwarded = (sig: NodeJS.Signals): void => onSignal(RANK_STOP_SIGNALS[sig]!);
  if (ddp) for (const sig of Object.keys(RANK_STOP_SIGNALS)) process.on(sig, onForwarded);
  const unhook = (): void => {
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    for (const sig of Object.keys(RANK_STOP_SIGNALS)) process.off(sig, onForwarded);
  };
  // Every rank stops after the same step, whichever of them got the signal.
  const agreed = (): void => {
    if (ddp) stop = agreeOnStop(stop);
  };

  const priorSeconds = hist.trainSeconds;
  const checkpoint = (epoch: number, step: number, loaderState: number[]): void => {
    if (!lead) return;
    const history = { ...hist, trainSeconds: priorSeconds + (performance.now() - t0) / 1000 };
    // TensorBoard points up to here must survive a crash as the checkpoint does: a resumed run purges the steps
    // after the checkpoint, so points still buffered would be lost for good.
    tb?.flush({ sync: true });
    saveCheckpoint(files.checkpoint, {
      model: net,
      optimizer,
      epoch,
      step,
      globalStep,
      rng: { torch: defaultGenerator.getState(), loader: loaderState },
      extra: { config: cfg, classes, history, lossLog },
    });
  };

  const totalSteps = stepsPerEpoch * cfg.epochs;
  const stepDelayMs = testStepDelayMs();
  const t0 = performance.now();
  const meter = new RateMeter();
  let lastYield = Date.now();
  const stepsAtStart = globalStep;
  let epochStartState = loaderGen.getState();
  for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
    epochStartState = loaderGen.getState();
    sampler?.setEpoch(epoch);
    if (skip === 0) {
      // running_loss = 0.0 at the top of each epoch, as in the seed (a resumed epoch keeps its saved partial sum).
      hist.runningLoss = 0;
      hist.runningCount = 0;
    }
    let i = 0;
    const epochT0 = performance.now();
    for await (const [inputs0, labels0] of loader) {
      if (i < skip) {
        i++;
        continue;
      }
      const inputs = device === "cpu" ? inputs0 : inputs0.to(device, { nonBlocking: true });
      const labels = device === "cpu" ? labels0 : labels0.to(device, { nonBlocking: true });
      optimizer.zeroGrad();
      const outputs = model.forward(inputs) as Tensor;
      const loss = criterion.forward(outputs, labels);
      loss.backward();
      optimizer.step();
      const l = loss.item();
      i++;
      globalStep++;
      hist.runningLoss += l;
      hist.runningCount++;
      hist.windowLoss += l;
      hist.windowCount++;
      if (i % cfg.logEvery === 0) {
        const avg = hist.runningLoss / cfg.logEvery;
        progress.clear();
        out.line(`[${epoch + 1}, ${String(i).padStart(5)}] loss: ${avg.toFixed(3)}`);
        lossLog.push({ epoch: epoch + 1, step: i, loss: avg });
        hist.runningLoss = 0;
        hist.runningCount = 0;
      }
      if (globalStep % hist.curveEvery === 0) {
        const mean = hist.windowLoss / hist.windowCount;
        hist.curve.push({ step: globalStep, loss: mean, epoch });
        const elapsed = (performance.now() - t0) / 1000;
        metric({ type: "train", epoch: epoch + 1, step: i, globalStep, loss: mean, lr: optimizer.paramGroups[0]!.options.lr, imagesPerSec: ((globalStep - stepsAtStart) * cfg.batchSize * worldSize) / Math.max(1e-9, elapsed), time: Date.now() / 1000 });
        tb?.addScalar("train/loss", mean, globalStep);
        hist.windowLoss = 0;
        hist.windowCount = 0;
      }
      agreed();
      if (stop && i < stepsPerEpoch) {
        checkpoint(epoch, i, epochStartState);
        interrupted = true;
        break;
      }
      if (cfg.checkpointEvery > 0 && globalStep % cfg.checkpointEvery === 0 && i < stepsPerEpoch) {
        checkpoint(epoch, i, epochStartState);
        if (!cfg.quiet) {
          progress.clear();
          process.stderr.write(`checkpoint: epoch ${epoch + 1}, step ${i} (global step ${globalStep}) saved to ${files.checkpoint}\n`);
        }
      }
      if (stepDelayMs > 0) await new Promise((r) => setTimeout(r, stepDelayMs));
      if (Date.now() - lastYield > 50) {
        meter.add(performance.now(), globalStep - stepsAtStart);
        const rate = meter.perSecond();
        progress.update({ epoch: epoch + 1, epochs: cfg.epochs, step: i, steps: stepsPerEpoch, loss: l, imagesPerSec: rate * cfg.batchSize * worldSize, etaSec: (totalSteps - globalStep) / rate });
        // Let signals (Ctrl-C) and I/O in.
        await new Promise((r) => setImmediate(r));
        lastYield = Date.now();
      }
    }
    if (interrupted) break;
    skip = 0;
    const rss = process.memoryUsage().rss;
    metric({ type: "epoch", epoch: epoch + 1, globalStep, seconds: (performance.now() - epochT0) / 1000, rssMB: rss / 2 ** 20 });
    // A stop requested during the epoch's last step (or while the loader ran dry) lands here: the epoch is complete,
    // the run is not. The checkpoint says exactly that, even after the last epoch (the evaluation is still to do).
    agreed();
    if (stop) {
      checkpoint(epoch + 1, 0, loaderGen.getState());
      interrupted = true;
      break;
    }
    if (epoch + 1 < cfg.epochs) checkpoint(epoch + 1, 0, loaderGen.getState());
  }
  hist.trainSeconds = priorSeconds + (performance.now() - t0) / 1000;
  progress.clear();
  const trained = globalStep - stepsAtStart;
  const imagesPerSec = (trained * cfg.batchSize * worldSize) / Math.max(1e-9, (performance.now() - t0) / 1000);

  const summaryBase = {
    command: "train" as const,
    out: cfg.out,
    dataset: cfg.dataset,
    seed: cfg.seed,
    epochs: cfg.epochs,
    steps: globalStep,
    resumedFrom,
    trainSeconds: hist.trainSeconds,
    imagesPerSec,
    finalLoss: hist.curve.length ? hist.curve[hist.curve.length - 1]!.loss : null,
    lossLog,
    files,
  };
  if (interrupted) {
    unhook();
    tb?.close();
    out.line(`Interrupted: checkpoint saved to ${files.checkpoint} (resume with: kindling train --resume ${files.checkpoint})`);
    return {
      summary: { ...summaryBase, interrupted: true, accuracy: null, perClass: null, peakRssMB: process.resourceUsage().maxRSS / 1024 },
      code: signalExitCode(stop ?? "SIGINT"),
      // Rank 0 alone reports the run.
      silent: !lead,
    };
  }
  out.line("Finished Training");
  checkpoint(cfg.epochs, 0, loaderGen.getState());
  if (!lead) {
    unhook();
    // Rank 0 alone evaluates and writes the rest of the run.
    return { summary: { ...summaryBase, interrupted: false, accuracy: null, perClass: null, peakRssMB: process.resourceUsage().maxRSS / 1024 }, code: 0, silent: true };
  }
  saveFile(net.stateDict(), files.model, { format: "pt" });
  // From here on the run's training is saved: a signal during the evaluation takes its default course.
  unhook();

  // ---- testing ----
  const tl = testLoader(testset, cfg.batchSize, cfg.workers);
  const firstTest = new DataLoader(testset, { batchSize: cfg.batchSize })[Symbol.iterator]().next();
  if (!firstTest.done) {
    const [images, labels] = firstTest.value as [Tensor, Tensor];
    const png = gridPng(images);
    withPath(files.testGrid, () => fs.writeFileSync(files.testGrid, png));
    out.line(`GroundTruth:  ${labelsLine(classes, labels.toTypedArray())}`);
    const pred = predictBatch(net, images, device);
    out.line(`Predicted:  ${labelsLine(classes, pred)}`);
    tb?.addImage("test/samples", unnormalizedGrid(images), globalStep);
    samples.push({ title: "First test batch", png, truth: Array.from(labels.toTypedArray(), (l) => classes[l]!), predicted: pred.map((p) => classes[p]!) });
  }
  net.eval();
  const r: EvalResult = await evaluate(net, tl, classes, device);
  for (const line of accuracyLines(r)) out.line(line);
  metric({ type: "eval", epoch: cfg.epochs, globalStep, accuracy: r.accuracy, correct: r.correct, total: r.total, perClass: Object.fromEntries(r.perClass.map((c) => [c.name, c.accuracy])), confusion: r.confusion });
  tb?.addScalar("test/accuracy", r.accuracy, globalStep);
  tb?.close();

  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  if (cfg.report) {
    writeReport(files.report, {
      title: `kindling — ${cfg.dataset === "synthetic" ? "synthetic 10-class set" : "CIFAR-10"} tutorial run`,
      classes,
      loss: hist.curve,
      accuracyCurve: [{ step: globalStep, accuracy: r.accuracy }],
      confusion: r.confusion,
      samples,
      info: {
        dataset: cfg.dataset,
        "train / test images": `${trainset.length} / ${testset.length}`,
        epochs: cfg.epochs,
        "batch size": worldSize > 1 ? `${cfg.batchSize} per process × ${worldSize} processes` : cfg.batchSize,
        optimizer: `SGD lr ${cfg.lr} momentum ${cfg.momentum}`,
        seed: cfg.seed,
        device,
        workers: cfg.workers,
        steps: globalStep,
        "training time": `${hist.trainSeconds.toFixed(1)} s (${Math.round(imagesPerSec)} images/s this session)`,
        "peak RSS": `${peakRssMB.toFixed(0)} MB`,
        resumed: resumedFrom ? `from epoch ${resumedFrom.epoch}, step ${resumedFrom.step}` : "no",
        "written": new Date().toISOString(),
      },
    });
  }
  if (!cfg.report) delete (files as Partial<typeof files>).report;
  return {
    summary: {
      ...summaryBase,
      interrupted: false,
      accuracy: r.accuracy,
      perClass: Object.fromEntries(r.perClass.map((c) => [c.name, c.accuracy])),
      peakRssMB,
    },
    code: 0,
  };
}

export { DataError };
