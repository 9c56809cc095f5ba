// `kindling eval --checkpoint PATH`: test accuracy, per class, and the confusion matrix.

import { CIFAR10_CLASSES } from "../models/tutorial_net.js";
import type { Specs } from "./args.js";
import { accuracyLines, checkDevice, confusionLines, evaluate, ExitError, loadModel, Out, resolveCheckpointPath } from "./common.js";
import { loadSplit, testLoader, type DatasetName } from "./data.js";
import { EXIT } from "./failures.js";

export const EVAL_SPECS: Specs = {
  checkpoint: { kind: "string", metavar: "PATH", help: "checkpoint.safetensors from `kindling train`, a run directory, a safetensors file of tutorial-Net weights, or a PyTorch torch.save file of them (cifar_net.pth)" },
  dataset: { kind: "string", help: "cifar10 or synthetic", default: "the checkpoint's", choices: ["cifar10", "synthetic"] },
  data: { kind: "string", metavar: "DIR", help: "CIFAR-10 root", default: "the checkpoint's, else $KINDLING_DATA or ./data" },
  download: { kind: "bool", help: "download CIFAR-10 when missing" },
  "batch-size": { kind: "int", min: 1, help: "evaluation batch size", default: 100 },
  workers: { kind: "int", min: 0, help: "DataLoader worker threads", default: 2 },
  device: { kind: "string", help: "cpu, cuda or cuda:N", default: "cpu", choices: ["cpu", "cuda", "cuda:N"] },
  "test-size": { kind: "int", min: 1, help: "use only the first N test images", default: "the checkpoint's, else all" },
  "data-seed": { kind: "int", min: 0, help: "seed of the synthetic images", default: "the checkpoint's" },
  quiet: { kind: "bool", help: "print nothing but errors (and --json)" },
  json: { kind: "bool", help: "machine-readable result on stdout" },
};

export async function evalCommand(o: Record<string, string | number | boolean | undefined>): Promise<{ summary: unknown; code: number }> {
  if (!o.checkpoint) throw new ExitError("--checkpoint PATH is required", EXIT.usage);
  const device = checkDevice((o.device as string | undefined) ?? "cpu");
  const ckpt = resolveCheckpointPath(o.checkpoint as string);
  const out = new Out(!!o.quiet, !!o.json);
  const m = loadModel(ckpt, device);
  const saved = (m.extra.config ?? {}) as Record<string, unknown>;
  const dataset = ((o.dataset as string | undefined) ?? (saved.dataset as string | undefined) ?? "cifar10") as DatasetName;
  const testset = loadSplit(
    {
      dataset,
      root: (o.data as string | undefined) ?? (saved.data as string | undefined),
      download: !!o.download,
      testSize: (o.testSize as number | undefined) ?? (saved.testSize as number | undefined),
      dataSeed: (o.dataSeed as number | undefined) ?? (saved.dataSeed as number | undefined) ?? 0,
      quiet: !!o.quiet || !!o.json,
    },
    false,
  );
  const classes = dataset === "cifar10" && testset.classes.length === 10 ? [...CIFAR10_CLASSES] : testset.classes;
  const r = await evaluate(m.net, testLoader(testset, (o.batchSize as number | undefined) ?? 100, (o.workers as number | undefined) ?? 2), classes, device);
  for (const l of accuracyLines(r)) out.line(l);
  out.line();
  for (const l of confusionLines(r, classes)) out.line(l);
  return {
    summary: {
      command: "eval",
      checkpoint: ckpt,
      dataset,
      accuracy: r.accuracy,
      correct: r.correct,
      total: r.total,
      perClass: Object.fromEntries(r.perClass.map((c) => [c.name, c.accuracy])),
      classes,
      confusion: r.confusion,
    },
    code: 0,
  };
}
