// DistributedDataParallel's gradient reducer (PyTorch's c10d Reducer, much reduced): parameters grouped into buckets
// in reverse registration order (the order backward tends to produce their gradients), each bucket's averaging
// all-reduce started from a post-accumulate-grad hook as soon as its last gradient is in, buckets launched in index
// order so every rank issues the same sequence of collectives, and all of them waited before the backward pass that
// completed the last bucket returns.
import type { DType } from "../../core/dtype.js";
import { noGrad } from "../../autograd/grad_mode.js";
import { allReduce } from "../../distributed/collectives.js";
import type { Work } from "../../distributed/work.js";
import { Node } from "../../autograd/node.js";
import { Tensor } from "../../tensor/tensor.js";
import { zeros } from "../../tensor/factories.js";
import { cat } from "../../tensor/movement.js";
import type { Parameter } from "../parameter.js";

interface Bucket {
  readonly params: Parameter[];
  readonly numels: number[];
  readonly dtype: DType;
  ready: number;
  flat: Tensor | null;
  work: Work | null;
}

const MiB = 1 << 20;

/** Buckets over params (reverse order), the first capped at min(firstCap, cap) bytes as PyTorch does, split by dtype. */
export function assignBuckets(params: readonly Parameter[], capBytes: number, firstCapBytes: number): Parameter[][] {
  const out: Parameter[][] = [];
  const open = new Map<DType, { params: Parameter[]; bytes: number }>();
  for (let i = params.length - 1; i >= 0; i--) {
    const p = params[i]!;
    const cap = out.length === 0 ? Math.min(firstCapBytes, capBytes) : capBytes;
    let b = open.get(p.dtype);
    if (!b) open.set(p.dtype, (b = { params: [], bytes: 0 }));
    b.params.push(p);
    b.bytes += p.numel() * p.elementSize();
    if (b.bytes >= cap) {
      out.push(b.params);
      open.delete(p.dtype);
    }
  }
  for (const b of open.values()) out.push(b.params);
  return out;
}

export class Reducer {
  readonly buckets: Bucket[];
  private readonly where = new Map<Parameter, number>();
  private readonly readySet = new Set<Parameter>();
  private nextLaunch = 0;
  private readonly handles: { remove(): void }[] = [];
  /** False inside noSync(): gradients accumulate locally. */
  requireSync = true;

  constructor(params: readonly Parameter[], bucketCapMb: number, private readonly findUnused: boolean, private readonly device = "cpu") {
    const groups = assignBuckets(params, bucketCapMb * MiB, 1 * MiB);
    this.buckets = groups.map((ps) => ({ params: ps, numels: ps.map((p) => p.numel()), dtype: ps[0]!.dtype, ready: 0, flat: null, work: null }));
    this.buckets.forEach((b, i) => b.params.forEach((p) => this.where.set(p, i)));
    for (const p of params) this.handles.push(p.registerPostAccumulateGradHook((t) => this.markReady(t as Parameter)));
  }

  /** Buckets whose all-reduce has started in the current backward pass. */
  get launched(): number {
    return this.nextLaunch;
  }

  /** True while a synced backward pass has started reducing and not finished (a gradient never arrived). */
  get inFlight(): boolean {
    return this.readySet.size > 0;
  }

  /** Called before a synced forward: errors out on an unfinished reduction, and pre-marks unused parameters. */
  prepareForward(): void {
    if (this.inFlight) {
      const missing = [...this.where.keys()].filter((p) => !this.readySet.has(p)).length;
      this.reset();
      throw new Error(
        "DistributedDataParallel: Expected to have finished reduction in the prior iteration before starting a new " +
          `one: ${missing} parameter(s) received no gradient. This error indicates that your module has parameters ` +
          "that were not used in producing loss; pass { findUnusedParameters: true }, and make sure all forward " +
          "outputs participate in calculating the loss.",
      );
    }
  }

  /** With findUnusedParameters: the parameters the forward output does not depend on count as ready now. */
  markUnused(output: unknown): void {
    if (!this.findUnused || !this.requireSync) return;
    const used = reachableLeaves(output);
    for (const p of this.where.keys()) if (!used.has(p)) this.markReady(p, false);
  }

  remove(): void {
    for (const h of this.handles) h.remove();
    this.handles.length = 0;
  }

  private markReady(p: Parameter, launch = true): void {
    if (!this.requireSync) return;
    if (this.readySet.has(p)) {
      throw new Error("DistributedDataParallel: Expected to mark a variable ready only once; a parameter received " +
        "gradients in two backward passes of one iteration (use noSync() for gradient accumulation)");
    }
    this.readySet.add(p);
    this.buckets[this.where.get(p)!]!.ready++;
    if (launch) this.launchReady();
  }

  private launchReady(): void {
    while (this.nextLaunch < this.buckets.length) {
      const b = this.buckets[this.nextLaunch]!;
      if (b.ready < b.params.length) return;
      noGrad(() => {
        b.flat = cat(b.params.map((p, i) => (p.grad ?? zeros([b.numels[i]!], { dtype: b.dtype, device: this.device })).reshape(-1)));
      });
      b.work = allReduce(b.flat!, { op: "avg", asyncOp: true });
      this.nextLaunch++;
    }
    this.finish();
  }

  /** Every bucket launched: wait for them in order and write the averages back into the gradients. */
  private finish(): void {
    try {
      noGrad(() => {
        for (const b of this.buckets) {
          b.work!.wait();
          let off = 0;
          b.params.forEach((p, i) => {
            const n = b.numels[i]!;
            const avg = b.flat!.narrow(0, off, n).view(p.shape);
            if (p.grad) p.grad.copy_(avg);
            else p.grad = avg.clone();
            off += n;
          });
        }
      });
    } finally {
      this.reset();
    }
  }

  private reset(): void {
    for (const b of this.buckets) {
      b.ready = 0;
      b.flat = null;
      b.work = null;
    }
    this.readySet.clear();
    this.nextLaunch = 0;
  }
}

/** The leaf tensors a forward output's autograd graph reaches. */
function reachableLeaves(output: unknown): Set<Tensor> {
  const leaves = new Set<Tensor>();
  const seen = new Set<Node>();
  const stack: Node[] = [];
  const visitValue = (v: unknown, depth: number): void => {
    if (v instanceof Tensor) {
      if (v.gradFn) stack.push(v.gradFn);
      else if (v.requiresGrad) leaves.add(v);
    } else if (depth < 4 && Array.isArray(v)) v.forEach((x) => visitValue(x, depth + 1));
    else if (depth < 4 && v && typeof v === "object") Object.values(v).forEach((x) => visitValue(x, depth + 1));
  };
  visitValue(output, 0);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const e of n.next) {
      if (e instanceof Node) stack.push(e);
      else if (e) leaves.add(e);
    }
  }
  return leaves;
}
