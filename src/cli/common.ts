// Pieces shared by the CLI commands: output routing, model loading, evaluation.

import * as fs from "node:fs";
import { noGrad } from "../autograd/grad_mode.js";
import { readCheckpoint } from "../io/checkpoint.js";
import { loadFile } from "../io/safetensors.js";
import { CIFAR10_CLASSES, TutorialNet } from "../models/tutorial_net.js";
import type { Tensor } from "../tensor/tensor.js";

export class ExitError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

/** Human lines: stdout normally, stderr when stdout carries --json, nowhere with --quiet. */
export class Out {
  constructor(readonly quiet: boolean, readonly json: boolean) {}
  line(s = ""): void {
    if (this.quiet) return;
    (this.json ? process.stderr : process.stdout).write(s + "\n");
  }
  get humanStream(): NodeJS.WriteStream {
    return this.json ? process.stderr : process.stdout;
  }
}

export interface LoadedModel {
  net: TutorialNet;
  classes: string[];
  /** Checkpoint extras (run options) when the file is a kindling checkpoint. */
  extra: Record<string, unknown>;
  kind: "checkpoint" | "weights";
}

/** A `kindling train` checkpoint, or any safetensors state dict of the tutorial Net (e.g. exported by PyTorch). */
export function loadModel(path: string, device = "cpu"): LoadedModel {
  if (!fs.existsSync(path)) throw new ExitError(`checkpoint not found: ${path}`, 2);
  const net = new TutorialNet();
  let extra: Record<string, unknown> = {};
  let kind: LoadedModel["kind"] = "weights";
  let tensors: Record<string, Tensor>;
  try {
    const ck = readCheckpoint(path);
    tensors = ck.tensors;
    extra = ck.extra;
    kind = "checkpoint";
  } catch (e) {
    if (!/not a kindling checkpoint/.test((e as Error).message)) throw e;
    tensors = Object.fromEntries(Object.entries(loadFile(path).tensors).filter(([k]) => !k.startsWith("optim.")));
  }
  net.loadStateDict(tensors);
  if (device !== "cpu") net.to(device);
  net.eval();
  const classes = Array.isArray(extra.classes) ? (extra.classes as string[]) : [...CIFAR10_CLASSES];
  return { net, classes, extra, kind };
}

export interface EvalResult {
  correct: number;
  total: number;
  accuracy: number;
  confusion: number[][];
  perClass: { name: string; correct: number; total: number; accuracy: number }[];
}

/** Argmax predictions of a batch as plain numbers. */
export function predictBatch(net: TutorialNet, images: Tensor, device: string): number[] {
  return noGrad(() => {
    const out = net.forward(device === "cpu" ? images : images.to(device));
    return Array.from(out.argmax(1).cpu().toTypedArray());
  });
}

export async function evaluate(
  net: TutorialNet,
  loader: AsyncIterable<[Tensor, Tensor]>,
  classes: readonly string[],
  device: string,
  yieldEveryMs = 50,
): Promise<EvalResult> {
  const n = classes.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let last = Date.now();
  for await (const [images, labels] of loader) {
    const pred = predictBatch(net, images, device);
    const lab = labels.toTypedArray();
    for (let j = 0; j < pred.length; j++) confusion[lab[j]!]![pred[j]!]! += 1;
    if (Date.now() - last > yieldEveryMs) {
      await new Promise((r) => setImmediate(r));
      last = Date.now();
    }
  }
  const perClass = classes.map((name, i) => {
    const total = confusion[i]!.reduce((a, b) => a + b, 0);
    const correct = confusion[i]![i]!;
    return { name, correct, total, accuracy: total ? correct / total : 0 };
  });
  const correct = perClass.reduce((a, c) => a + c.correct, 0);
  const total = perClass.reduce((a, c) => a + c.total, 0);
  return { correct, total, accuracy: total ? correct / total : 0, confusion, perClass };
}

/** The tutorial's lines: overall accuracy then `Accuracy of %5s : %2d %%` per class. */
export function accuracyLines(r: EvalResult): string[] {
  return [
    `Accuracy of the network on the ${r.total} test images: ${Math.floor((100 * r.correct) / Math.max(1, r.total))} %`,
    ...r.perClass.map((c) => `Accuracy of ${c.name.padStart(5)} : ${String(Math.floor(100 * c.accuracy)).padStart(2)} %`),
  ];
}

export function confusionLines(r: EvalResult, classes: readonly string[]): string[] {
  const w = Math.max(5, ...classes.map((c) => c.length), ...r.confusion.flat().map((v) => String(v).length));
  const head = " ".repeat(w) + " | " + classes.map((c) => c.slice(0, w).padStart(w)).join(" ");
  return [
    "Confusion matrix (rows: true class, columns: predicted):",
    head,
    "-".repeat(head.length),
    ...r.confusion.map((row, i) => classes[i]!.padStart(w) + " | " + row.map((v) => String(v).padStart(w)).join(" ")),
  ];
}

/** ' '.join('%5s' % classes[labels[j]] for j in range(n)) */
export function labelsLine(classes: readonly string[], labels: ArrayLike<number>): string {
  return Array.from(labels, (l) => classes[l]!.padStart(5)).join(" ");
}
