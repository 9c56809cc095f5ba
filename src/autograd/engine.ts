import { fmtShape } from "../core/errors.js";
import type { Storage } from "../backend/device.js";
import { sameShape } from "../core/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { isGradEnabled, setGradEnabled } from "./grad_mode.js";
import { Node } from "./node.js";

/** Hooks registered by Tensor.registerPostAccumulateGradHook; while none exist backward skips their bookkeeping. */
let hookedLeaves = 0;
export function countHookedLeaf(delta: 1 | -1): void {
  hookedLeaves += delta;
}

/** Runs a leaf's post-accumulate hooks (each sees the leaf, whose .grad is final for this pass). */
function runLeafHooks(leaf: Tensor): void {
  const hooks = leaf.postAccumulateGradHooks;
  if (hooks) for (const h of hooks.slice()) h(leaf);
}

/**
 * For the leaves that have hooks: how many edges of the pass's nodes still lead to each, so a hook runs once, after
 * the leaf's last accumulation of the pass (a parameter used twice accumulates twice), as PyTorch's does.
 */
function hookEdgeCounts(order: Node[]): Map<Tensor, number> | null {
  if (hookedLeaves === 0) return null;
  let counts: Map<Tensor, number> | null = null;
  for (const node of order) {
    for (const e of node.next) {
      if (e && !(e instanceof Node) && e.postAccumulateGradHooks) {
        counts ??= new Map();
        counts.set(e, (counts.get(e) ?? 0) + 1);
      }
    }
  }
  return counts;
}

function edgeDone(counts: Map<Tensor, number>, node: Node, pass: PassState): void {
  for (const e of node.next) {
    if (!e || e instanceof Node) continue;
    const n = counts.get(e);
    if (n === undefined) continue;
    if (n > 1) counts.set(e, n - 1);
    else {
      counts.delete(e);
      if (pass.assigned.has(e)) runLeafHooks(e);
    }
  }
}

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

/** Nodes reachable from root, each after every node that feeds it a gradient. */
export function topoOrder(root: Node): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.next.length) {
      top[1]++;
      const e = node.next[i];
      if (e instanceof Node && !seen.has(e)) {
        seen.add(e);
        stack.push([e, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

export function runBackward(root: Tensor, gradient: Tensor, opts: BackwardOptions = {}): void {
  if (!sameShape(gradient.shape, root.shape)) {
    throw new Error(`backward: gradient has shape ${fmtShape(gradient.shape)} but the tensor has shape ${fmtShape(root.shape)}`);
  }
  const retain = opts.retainGraph ?? opts.createGraph ?? false;
  const pass: PassState = { assigned: new Set(), storages: new Set([gradient.storage]) };
  if (!root.gradFn) {
    accumulateLeaf(root, gradient, pass);
    if (hookedLeaves > 0) runLeafHooks(root);
    return;
  }
  const prevMode = isGradEnabled();
  const createGraph = opts.createGraph ?? false;
  setGradEnabled(createGraph);
  // Gradients this pass creates and consumes are counted per storage: when the last pending reference is consumed
  // and no leaf or caller holds the storage, its memory is recycled (never under createGraph, whose gradients are
  // themselves saved by new graph nodes).
  const pending = new Map<Storage, number>();
  const hold = (t: Tensor) => pending.set(t.storage, (pending.get(t.storage) ?? 0) + 1);
  const dropped: Storage[] = [];
  const release = (t: Tensor) => {
    const n = (pending.get(t.storage) ?? 1) - 1;
    if (n > 0) pending.set(t.storage, n);
    else {
      pending.delete(t.storage);
      dropped.push(t.storage);
    }
  };
  try {
    const order = topoOrder(root.gradFn);
    const hookCounts = hookEdgeCounts(order);
    const grads = new Map<Node, Tensor>([[root.gradFn, gradient]]);
    hold(gradient);
    for (const node of order) {
      const g = grads.get(node);
      if (!g) {
        if (hookCounts) edgeDone(hookCounts, node, pass);
        continue;
      }
      grads.delete(node);
      const fn = node.backwardFn;
      if (!fn) {
        throw new Error(
          "Trying to backward through the graph a second time (or directly access saved tensors after they have " +
            "already been freed). Specify retainGraph: true if you need to backward through the graph a second time.",
        );
      }
      if (node.retained) {
        const r = node.retained;
        r.grad = r.grad ? r.grad.add(g.detach()) : g.detach().clone();
      }
      node.checkSaved();
      const gins = fn(g);
      if (!retain) node.release();
      for (let i = 0; i < node.next.length; i++) {
        const e = node.next[i];
        const gi = gins[i];
        if (!gi) continue;
        if (!e) {
          dropped.push(gi.storage);
        } else if (e instanceof Node) {
          const prev = grads.get(e);
          if (prev) {
            const sum = prev.add(gi);
            grads.set(e, sum);
            hold(sum);
            release(prev);
            dropped.push(gi.storage);
          } else {
            grads.set(e, gi);
            hold(gi);
          }
        } else {
          accumulateLeaf(e, gi, pass);
          dropped.push(gi.storage);
        }
      }
      release(g);
      if (hookCounts) edgeDone(hookCounts, node, pass);
      if (!createGraph) {
        for (const st of dropped) if (st.recyclable && !pending.has(st) && !pass.storages.has(st)) st.release();
      }
      dropped.length = 0;
    }
  } finally {
    setGradEnabled(prevMode);
  }
}

/**
 * Adds g into leaf.grad. A leaf's .grad owns its storage (later passes add into it in place), so a gradient whose
 * storage was already handed out in this pass, or is the caller's, is copied first.
 */
function accumulateLeaf(leaf: Tensor, g: Tensor, pass: PassState): void {
  if (!isGradEnabled()) g = g.detach();
  if (g.dtype !== leaf.dtype) g = g.to(leaf.dtype);
  if (leaf.grad) {
    if (isGradEnabled() || pass.assigned.has(leaf)) leaf.grad = leaf.grad.add(g);
    else leaf.grad.add_(g);
  } else {
    leaf.grad = pass.storages.has(g.storage) || !g.isContiguous() ? g.clone() : g;
  }
  pass.assigned.add(leaf);
  pass.storages.add(leaf.grad.storage);
}

interface PassState {
  readonly assigned: Set<Tensor>;
  readonly storages: Set<unknown>;
}
