// Lists of names inside error messages: a state dict with a million unexpected keys must give a readable line,
// not a 14 MB one.

/** How many names an error message shows before it summarises the rest. */
export const KEYS_SHOWN = 10;

/** `"a", "b"`, or the first `shown` quoted and then `… and 1,299,990 more`. */
export function quoteKeys(keys: readonly string[], shown = KEYS_SHOWN): string {
  const head = keys.slice(0, shown).map((k) => JSON.stringify(k));
  const rest = keys.length - head.length;
  return rest > 0 ? `${head.join(", ")}, … and ${rest.toLocaleString("en-US")} more` : head.join(", ");
}
