// torch.autograd.grad: the gradients of outputs with respect to chosen inputs, returned instead of accumulated
// into .grad. Runs the same tape as backward(), from several roots at once, and only through the nodes that lead
// to an input (so a kernel-backed op elsewhere in the graph is never asked for a graph of its own gradient).
import { fmtShape } from "../core/errors.js";
import { sameShape } from "../core/shape.js";
import { onesLike } from "../tensor/convert.js";
import type { Tensor } from "../tensor/tensor.js";
import { topoOrder } from "./engine.js";
import { isGradEnabled, setGradEnabled } from "./grad_mode.js";
import { Node, type Edge } from "./node.js";

export interface GradOptions {
  /** The vector in the vector-Jacobian product, one per output (null: ones, allowed for one-element outputs). */
  gradOutputs?: Tensor | (Tensor | null)[] | null;
  /** Keep the graph for another backward pass (defaults to createGraph). */
  retainGraph?: boolean;
  /** Record the gradient computation itself, for higher-order derivatives. */
  createGraph?: boolean;
  /** Return null for an input the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

const asList = (t: Tensor | readonly Tensor[]): Tensor[] => (Array.isArray(t) ? [...(t as Tensor[])] : [t as Tensor]);

/**
 * grad(outputs, inputs, { gradOutputs, retainGraph, createGraph, allowUnused }): one gradient per input, in order
 * (null only for unused inputs with allowUnused). Leaves' .grad fields are left untouched.
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], o: GradOptions = {}): (Tensor | null)[] {
  const outs = asList(outputs);
  const ins = asList(inputs);
  if (outs.length === 0) throw new Error("grad requires at least one output");
  if (ins.length === 0) throw new Error("grad requires at least one input");
  const gos = o.gradOutputs === undefined || o.gradOutputs === null ? outs.map(() => null) : asList(o.gradOutputs as Tensor | Tensor[]);
  if (gos.length !== outs.length) {
    throw new Error(`grad: got ${outs.length} outputs but ${gos.length} gradOutputs; pass one per output (null for ones)`);
  }
  const seeds: Tensor[] = outs.map((out, i) => {
    if (!out.requiresGrad) throw new Error(`element ${i} of tensors does not require grad and does not have a grad_fn`);
    const g = gos[i];
    if (!g) {
      if (out.numel() !== 1) throw new Error(`grad can be implicitly created only for scalar outputs (output ${i} has shape ${fmtShape(out.shape)})`);
      return onesLike(out);
    }
    if (!sameShape(g.shape, out.shape)) {
      throw new Error(`Mismatch in shape: gradOutputs[${i}] has a shape of ${fmtShape(g.shape)} and output[${i}] has a shape of ${fmtShape(out.shape)}`);
    }
    return g;
  });
  ins.forEach((x, i) => {
    if (!x.requiresGrad) throw new Error(`One of the differentiated Tensors (input ${i}) does not require grad`);
  });

  const createGraph = o.createGraph ?? false;
  const retain = o.retainGraph ?? createGraph;
  // Where each input's gradient collects: a leaf at its own edge, a non-leaf at the node that produced it.
  const leafSlot = new Map<Tensor, number[]>();
  const nodeSlot = new Map<Node, number[]>();
  ins.forEach((x, i) => {
    if (x.gradFn) nodeSlot.set(x.gradFn, [...(nodeSlot.get(x.gradFn) ?? []), i]);
    else leafSlot.set(x, [...(leafSlot.get(x) ?? []), i]);
  });
  const result: (Tensor | null)[] = ins.map(() => null);
  const addTo = (slots: number[] | undefined, g: Tensor) => {
    for (const i of slots ?? []) result[i] = result[i] ? result[i]!.add(g) : g;
  };

  // A synthetic root whose inputs are the outputs, so several outputs share one topological order.
  const rootEdges: Edge[] = outs.map((t) => t.gradFn ?? t);
  const root = new Node("GradRoot", rootEdges, () => seeds, []);
  const order = topoOrder(root);
  const needed = reaching(order, leafSlot, nodeSlot);

  const prevMode = isGradEnabled();
  setGradEnabled(createGraph);
  try {
    const grads = new Map<Node, Tensor>();
    for (const node of order) {
      const g = node === root ? null : grads.get(node);
      if (node !== root) {
        if (!g) continue;
        grads.delete(node);
        addTo(nodeSlot.get(node), g);
      }
      if (node !== root && !hasNeededEdge(node, needed, leafSlot)) continue;
      const fn = node.backwardFn;
      if (!fn) {
        throw new Error(
          "Trying to backward through the graph a second time (or directly access saved tensors after they have " +
            "already been freed). Specify retainGraph: true if you need to backward through the graph a second time.",
        );
      }
      node.checkSaved();
      const gins = node === root ? seeds : fn(g!);
      if (!retain && node !== root) node.release();
      for (let i = 0; i < node.next.length; i++) {
        const e = node.next[i];
        const gi = gins[i];
        if (!gi || !e) continue;
        if (e instanceof Node) {
          if (!needed.has(e)) continue;
          const prev = grads.get(e);
          grads.set(e, prev ? prev.add(gi) : gi);
        } else {
          addTo(leafSlot.get(e), gi.dtype === e.dtype ? gi : gi.to(e.dtype));
        }
      }
    }
  } finally {
    setGradEnabled(prevMode);
  }
  return result.map((g, i) => {
    if (g) return createGraph ? g : g.detach();
    if (!o.allowUnused) {
      throw new Error(
        `One of the differentiated Tensors (input ${i}) appears to not have been used in the graph. ` +
          "Set allowUnused: true if this is the desired behavior.",
      );
    }
    return null;
  });
}

/** The nodes from which some input can be reached (they are the only ones worth running). */
function reaching(order: Node[], leafSlot: Map<Tensor, number[]>, nodeSlot: Map<Node, number[]>): Set<Node> {
  const needed = new Set<Node>();
  // Reverse topological order visits every node after all the nodes it feeds.
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    if (nodeSlot.has(node) || node.next.some((e) => (e instanceof Node ? needed.has(e) : e !== null && leafSlot.has(e)))) {
      needed.add(node);
    }
  }
  return needed;
}

function hasNeededEdge(node: Node, needed: Set<Node>, leafSlot: Map<Tensor, number[]>): boolean {
  return node.next.some((e) => (e instanceof Node ? needed.has(e) : e !== null && leafSlot.has(e)));
}
