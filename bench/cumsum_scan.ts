// cumsum / cumprod on a [1024, 3, 32, 32] float32 tensor: `node dist/bench/cumsum_scan.js [--runs N]`. Prints the
// median ms per call of the scan kernel beside the composite cumsum kindling had before issue 14 (log2(n) passes of
// Hillis-Steele adds, rebuilt here from the kernels it used), for a leading and a last dim.
import * as torch from "kindling";
import { emptyTensor } from "../src/tensor/create.js";
import { kernelsFor } from "../src/tensor/dispatch.js";
import { Tensor } from "../src/tensor/tensor.js";
import { medianMs } from "./stats.js";

const args = process.argv.slice(2);
const runs = Number(args.includes("--runs") ? args[args.indexOf("--runs") + 1] : 9);

const time = (f: () => unknown): number => medianMs(f, runs);

function rows(t: Tensor, start: number, len: number): Tensor {
  const shape = t.shape.slice();
  shape[0] = len;
  return new Tensor(t.storage, shape, t.strides, t.offset + start * t.strides[0]);
}

/** The pre-issue-14 cumsum: scanned dim moved first, then doubling passes of copy + add, then moved back. */
function compositeCumsum(t: Tensor, d: number): Tensor {
  const k = kernelsFor(t);
  const perm = [d, ...t.shape.map((_, i) => i).filter((i) => i !== d)];
  const shape = perm.map((i) => t.shape[i]);
  let cur = emptyTensor(shape, t.dtype, t.storage.device);
  k.copy(new Tensor(t.storage, shape, perm.map((i) => t.strides[i]), t.offset), cur);
  const n = shape[0];
  for (let s = 1; s < n; s *= 2) {
    const next = emptyTensor(shape, t.dtype, t.storage.device);
    k.copy(rows(cur, 0, s), rows(next, 0, s));
    k.binary("add", rows(cur, s, n - s), rows(cur, 0, n - s), rows(next, s, n - s));
    cur = next;
  }
  const out = emptyTensor(t.shape, t.dtype, t.storage.device);
  const back = new Array<number>(t.dim());
  perm.forEach((p, i) => (back[p] = cur.strides[i]));
  k.copy(new Tensor(cur.storage, t.shape, back, 0), out);
  return out;
}

torch.manualSeed(0);
const x = torch.randn([1024, 3, 32, 32]);
console.log(`backend ${torch.backends.cpu.current()}, median of ${runs} runs (ms)`);
for (const dim of [0, 3]) {
  const diff = compositeCumsum(x, dim).sub(x.cumsum(dim)).abs().max().item();
  console.log(
    `dim ${dim}: cumsum scan ${time(() => x.cumsum(dim)).toFixed(2)}  cumprod scan ${time(() => x.cumprod(dim)).toFixed(2)}  ` +
      `cumsum composite (before) ${time(() => compositeCumsum(x, dim)).toFixed(2)}  max |diff| ${diff.toExponential(1)}`,
  );
}
