// The contract of a CPU kernel set ("ref", "native"): the cpu device runs one of them, completed by the reference
// kernels for whatever a faster set leaves out. The device registry itself is src/backends/registry.ts.
import type { Kernels } from "../ops/kernels.js";

export interface Backend {
  readonly name: string;
  readonly kernels: Partial<Kernels>;
}
