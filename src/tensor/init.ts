// Registers the CPU backends once, before any op runs: the reference kernels always, the native addon when it
// loads. KINDLING_BACKEND=ref keeps the reference kernels active.
import { registerReference } from "../backend/registry.js";
import { refKernels } from "../backends/ref/index.js";

registerReference(refKernels);
