/** A float as Python's repr writes it (1e-05, 0.1), so module printouts match PyTorch's. */
export function pyFloat(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    const [m, e] = v.toExponential().split("e");
    const ex = Number(e);
    return `${m}e${ex < 0 ? "-" : "+"}${String(Math.abs(ex)).padStart(2, "0")}`;
  }
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** A tuple as Python writes it: (3,) for one element. */
export function pyTuple(v: readonly (number | null)[]): string {
  const items = v.map((x) => (x === null ? "None" : String(x)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
}
