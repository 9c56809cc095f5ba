// `kindling predict --checkpoint PATH image.png…`: the top-3 classes of each image with their probabilities.

import { noGrad } from "../autograd/grad_mode.js";
import { fromTypedArray } from "../tensor/create.js";
import type { Specs } from "./args.js";
import { checkDevice, ExitError, loadModel, Out, resolveCheckpointPath } from "./common.js";
import { EXIT } from "./failures.js";
import { readImage, resizeRgb, toRgb } from "./image.js";

export const PREDICT_SPECS: Specs = {
  checkpoint: { kind: "string", metavar: "PATH", help: "checkpoint.safetensors from `kindling train`, a run directory, a safetensors file of tutorial-Net weights, or a PyTorch torch.save file of them (cifar_net.pth)" },
  top: { kind: "int", min: 1, help: "classes to show per image", default: 3 },
  device: { kind: "string", help: "cpu, cuda or cuda:N", default: "cpu", choices: ["cpu", "cuda", "cuda:N"] },
  quiet: { kind: "bool", help: "print nothing but errors (and --json)" },
  json: { kind: "bool", help: "machine-readable result on stdout" },
};

export async function predictCommand(o: Record<string, string | number | boolean | undefined>, images: string[]): Promise<{ summary: unknown; code: number }> {
  if (!o.checkpoint) throw new ExitError("--checkpoint PATH is required", EXIT.usage);
  if (images.length === 0) throw new ExitError("give one or more image files (PNG or JPEG)", EXIT.usage);
  const device = checkDevice((o.device as string | undefined) ?? "cpu");
  const ckpt = resolveCheckpointPath(o.checkpoint as string);
  const out = new Out(!!o.quiet, !!o.json);
  const { net, classes } = loadModel(ckpt, device);
  const k = Math.min((o.top as number | undefined) ?? 3, classes.length);
  const results: { image: string; width: number; height: number; top: { class: string; index: number; probability: number }[] }[] = [];
  for (const file of images) {
    const img = readImage(file);
    const rgb = resizeRgb(toRgb(img), img.width, img.height, 32, 32);
    // ToTensor + Normalize(0.5, 0.5): CHW float in [-1, 1].
    const x = new Float32Array(3 * 32 * 32);
    for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) x[c * 1024 + p] = (rgb[p * 3 + c]! / 255 - 0.5) / 0.5;
    const probs = noGrad(() => {
      const input = fromTypedArray(x, [1, 3, 32, 32], "float32");
      return Array.from(net.forward(device === "cpu" ? input : input.to(device)).softmax(1).cpu().toTypedArray());
    });
    const order = probs.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
    const top = order.map(([p, i]) => ({ class: classes[i]!, index: i, probability: p }));
    results.push({ image: file, width: img.width, height: img.height, top });
    out.line(`${file}: ${top.map((t) => `${t.class} ${(t.probability * 100).toFixed(1)}%`).join(", ")}`);
  }
  return { summary: { command: "predict", checkpoint: ckpt, results }, code: 0 };
}
