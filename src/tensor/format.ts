// Printing like PyTorch: one number format for the whole tensor, aligned columns, "..." past 1000 elements.
import { isFloating } from "../core/dtype.js";
import { dataSync } from "./convert.js";
import type { Tensor } from "./tensor.js";

const THRESHOLD = 1000;
const EDGE = 3;

function chooseFormatter(values: ArrayLike<number>, floating: boolean, isBool: boolean): (v: number) => string {
  if (isBool) return (v) => (v ? "True" : "False");
  if (!floating) return (v) => String(v);
  let allInt = true;
  let maxAbs = 0;
  let minAbs = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v !== Math.round(v)) allInt = false;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (a !== 0 && a < minAbs) minAbs = a;
  }
  const special = (v: number) => (Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
  if (allInt) {
    if (maxAbs >= 1e8) return (v) => (Number.isFinite(v) ? sci(v) : special(v));
    return (v) => (Number.isFinite(v) ? `${v.toFixed(0)}.` : special(v));
  }
  if (maxAbs >= 1e8 || (minAbs !== Infinity && (minAbs < 1e-4 || maxAbs / minAbs > 1000))) {
    return (v) => (Number.isFinite(v) ? sci(v) : special(v));
  }
  return (v) => (Number.isFinite(v) ? v.toFixed(4) : special(v));
}

function sci(v: number): string {
  const s = v.toExponential(4);
  const [m, e] = s.split("e");
  const ex = Number(e);
  return `${m}e${ex < 0 ? "-" : "+"}${String(Math.abs(ex)).padStart(2, "0")}`;
}

export function formatTensor(t: Tensor): string {
  // Like PyTorch: a tensor without values prints its shape and device (printing is otherwise a sync point).
  if (!t.storage.device.hasData) return `tensor(..., ${trailer(t, true).join(", ")})`;
  const flat = dataSync(t);
  const shape = t.shape;
  const summarize = flat.length > THRESHOLD;
  const strides: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i];
  }
  const shown: number[] = [];
  const collect = (d: number, base: number) => {
    if (d === shape.length) {
      shown.push(flat[base]);
      return;
    }
    for (const i of indicesOf(shape[d], summarize)) if (i >= 0) collect(d + 1, base + i * strides[d]);
  };
  collect(0, 0);
  const fmt = chooseFormatter(shown, isFloating(t.dtype), t.dtype === "bool");
  const width = shown.reduce((w, v) => Math.max(w, fmt(v).length), 1);
  const indent = "tensor(".length;
  const render = (d: number, base: number): string => {
    if (d === shape.length) return fmt(flat[base]).padStart(width);
    const parts: string[] = [];
    for (const i of indicesOf(shape[d], summarize)) parts.push(i < 0 ? "..." : render(d + 1, base + i * strides[d]));
    if (d === shape.length - 1) return `[${parts.join(", ")}]`;
    const sep = "," + "\n".repeat(shape.length - d - 1) + " ".repeat(indent + d + 1);
    return `[${parts.join(sep)}]`;
  };
  const body = shape.length === 0 ? fmt(flat[0]) : render(0, 0);
  const extras = trailer(t, t.numel() === 0 && shape.length !== 1);
  return `tensor(${body}${extras.length ? ", " + extras.join(", ") : ""})`;
}

function trailer(t: Tensor, withSize: boolean): string[] {
  const extras: string[] = [];
  if (t.device !== "cpu") extras.push(`device='${t.device}'`);
  if (withSize) extras.push(`size=(${t.shape.join(", ")}${t.shape.length === 1 ? "," : ""})`);
  if (t.dtype !== "float32" && t.dtype !== "int64" && t.dtype !== "bool") extras.push(`dtype=torch.${t.dtype}`);
  if (t.gradFn) extras.push(`grad_fn=<${t.gradFn.name[0].toUpperCase()}${t.gradFn.name.slice(1)}Backward>`);
  else if (t.requiresGrad) extras.push("requires_grad=True");
  return extras;
}

function indicesOf(n: number, summarize: boolean): number[] {
  if (!summarize || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
  return [0, 1, 2, -1, n - 3, n - 2, n - 1];
}
