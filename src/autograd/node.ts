import type { Tensor } from "../tensor/tensor.js";

/** Where an input's gradient goes: the node that produced it, the leaf that accumulates it, or nowhere. */
export type Edge = Node | Tensor | null;

export type BackwardFn = (g: Tensor) => (Tensor | null)[];

/**
 * One recorded op of the dynamic tape. The backward closure holds what it saved; dropping it after backward()
 * releases that memory, and `saved` remembers each saved tensor's storage version to catch in-place edits.
 */
export class Node {
  backwardFn: BackwardFn | null;
  /** The non-leaf output whose .grad should be kept (Tensor.retainGrad()). */
  retained: Tensor | null = null;
  readonly savedVersions: number[];

  constructor(
    readonly name: string,
    readonly next: Edge[],
    backwardFn: BackwardFn,
    readonly saved: Tensor[],
  ) {
    this.backwardFn = backwardFn;
    this.savedVersions = saved.map((t) => t.storage.version);
  }

  checkSaved(): void {
    for (let i = 0; i < this.saved.length; i++) {
      const t = this.saved[i];
      if (t.storage.version !== this.savedVersions[i]) {
        throw new Error(
          `one of the variables needed for gradient computation has been modified by an inplace operation: ` +
            `[${t.dtype} ${JSON.stringify(t.shape)}] is at version ${t.storage.version}; expected version ` +
            `${this.savedVersions[i]} instead (saved by ${this.name})`,
        );
      }
    }
  }

  release(): void {
    this.backwardFn = null;
    (this.saved as Tensor[]).length = 0;
  }
}
