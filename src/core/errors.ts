/** Errors name the op that raised them, so a message reads like PyTorch's: "conv2d: expected 4-D input, got [3, 32]". */
export function opError(op: string, message: string): Error {
  return new Error(`${op}: ${message}`);
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
