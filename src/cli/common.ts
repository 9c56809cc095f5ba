// Pieces shared by the CLI commands: output routing, model loading, evaluation.

import * as fs from "node:fs";
import * as path from "node:path";
import { noGrad } from "../autograd/grad_mode.js";
import * as cuda from "../backends/cuda.js";
import { CheckpointError, NotACheckpointError, parseCheckpoint, stateDictProblems } from "../io/checkpoint.js";
import { load } from "../io/safetensors.js";
import { CIFAR10_CLASSES, TutorialNet } from "../models/tutorial_net.js";
import { Tensor } from "../tensor/tensor.js";
import { loadTorchBytes } from "../io/torch_load.js";
import { EXIT, ExitError } from "./failures.js";

export { ExitError };

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

/** The canonical device string for --device, refused up front (before any data is loaded) when it can't be used. */
export function checkDevice(device: string): string {
  // auto: the GPU when there is one, as the tutorial's `torch.cuda.isAvailable() ? "cuda:0" : "cpu"`.
  if (device === "auto") return cuda.isAvailable() ? "cuda:0" : "cpu";
  const d = device === "cuda" ? "cuda:0" : device;
  if (d.startsWith("cuda:")) {
    if (!cuda.isAvailable()) {
      throw new ExitError(`--device ${device}: CUDA is not available (${cuda.unavailableReason()}); use --device cpu or --device auto`, EXIT.device);
    }
    const n = cuda.deviceCount();
    if (Number(d.slice(5)) >= n) throw new ExitError(`--device ${device}: there ${n === 1 ? "is 1 CUDA device" : `are ${n} CUDA devices`} (cuda:0…cuda:${n - 1})`, EXIT.device);
  }
  return d;
}

/** --checkpoint: a file as given (whatever its name), or a run directory's checkpoint (else its model weights). */
export function resolveCheckpointPath(p: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new ExitError(`checkpoint not found: ${p}`, EXIT.usage);
  }
  if (!st.isDirectory()) return p;
  for (const name of ["checkpoint.safetensors", "model.safetensors"]) {
    const f = path.join(p, name);
    if (fs.existsSync(f)) return f;
  }
  throw new ExitError(`checkpoint not found: ${p} is a directory without checkpoint.safetensors or model.safetensors`, EXIT.usage);
}

/** torch.save's formats: a zip archive (PyTorch >= 1.6) or the legacy pickles, which open with the magic number's LONG1. */
function isTorchPickle(file: string, bytes: Uint8Array): boolean {
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const legacy = bytes[0] === 0x80 && bytes[1]! <= 5 && bytes[2] === 0x8a;
  return zip || legacy || /\.(pth|pt|pkl|ckpt)$/i.test(file) && !(bytes.length >= 9 && bytes[8] === 0x7b);
}

/**
 * The state dict in a torch.save file: the saved object itself (`torch.save(net.state_dict(), PATH)`, as the
 * tutorial does) or, for the common training-checkpoint dicts, its `model_state_dict` / `state_dict` / `model` entry.
 */
function torchStateDict(bytes: Uint8Array, file: string): Record<string, Tensor> {
  let obj: unknown;
  try {
    obj = loadTorchBytes(bytes, file);
  } catch (e) {
    throw new CheckpointError((e as Error).message, { cause: e });
  }
  const isStateDict = (v: unknown): v is Record<string, Tensor> =>
    v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Map) && Object.keys(v).length > 0 &&
    Object.values(v).every((x) => x instanceof Tensor);
  if (isStateDict(obj)) return obj;
  if (obj !== null && typeof obj === "object" && !Array.isArray(obj) && !(obj instanceof Map)) {
    for (const k of ["model_state_dict", "state_dict", "model"]) {
      const v = (obj as Record<string, unknown>)[k];
      if (isStateDict(v)) return v;
    }
  }
  throw new CheckpointError(
    `${file}: a torch.save file, but not a state dict of tensors (nor a dict with one under model_state_dict, state_dict or model); ` +
      `in PyTorch save it with torch.save(net.state_dict(), PATH)`,
  );
}

export interface LoadedModel {
  net: TutorialNet;
  classes: string[];
  /** Checkpoint extras (run options) when the file is a kindling checkpoint. */
  extra: Record<string, unknown>;
  kind: "checkpoint" | "weights";
}

/**
 * A `kindling train` checkpoint, or any safetensors state dict of the tutorial Net (e.g. exported by PyTorch). The
 * path is a file or a run directory (see resolveCheckpointPath).
 */
export function loadModel(file: string, device = "cpu"): LoadedModel {
  const bytes = fs.readFileSync(file);
  const net = new TutorialNet();
  let extra: Record<string, unknown> = {};
  let kind: LoadedModel["kind"] = "weights";
  let tensors: Record<string, Tensor>;
  if (isTorchPickle(file, bytes)) {
    tensors = torchStateDict(bytes, file);
  } else {
    try {
      const ck = parseCheckpoint(bytes, file);
      tensors = ck.tensors;
      extra = ck.extra;
      kind = "checkpoint";
    } catch (e) {
      if (!(e instanceof NotACheckpointError)) throw e;
      tensors = Object.fromEntries(Object.entries(load(bytes, file).tensors).filter(([k]) => !k.startsWith("optim.")));
    }
  }
  const problems = stateDictProblems(net, tensors, true);
  if (problems.length) throw new CheckpointError(`${file}: not weights of the tutorial's Net: ${problems.slice(0, 3).join("; ")}`);
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
