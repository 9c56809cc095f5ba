// Process-wide CUDA switches read at each call (torch.backends.cuda). Kept apart so public.ts and the runtime share
// them without importing each other.

export const cudaFlags = {
  /** torch.backends.cuda.matmul.allowTf32: false by default, as in PyTorch since 1.12. */
  matmulAllowTf32: false,
};
