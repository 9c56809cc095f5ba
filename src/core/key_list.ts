// Names and lists of names inside error messages: a state dict with a million unexpected keys, or a file with a
// 90 MB tensor name, must give a readable line, not megabytes.

/** How many names an error message shows before it summarises the rest. */
export const KEYS_SHOWN = 10;

/** `"a", "b"`, or the first `shown` quoted (each cut short if long) and then `… and 1,299,990 more`. */
export function quoteKeys(keys: readonly string[], shown = KEYS_SHOWN): string {
  const head = keys.slice(0, shown).map((k) => brief(k));
  const rest = keys.length - head.length;
  return rest > 0 ? `${head.join(", ")}, … and ${rest.toLocaleString("en-US")} more` : head.join(", ");
}

/** A value as JSON for an error message, cut to about `max` characters: a hostile file can hold a 90 MB name. */
export function brief(value: unknown, max = 80): string {
  if (typeof value === "string" && value.length > max) return `${JSON.stringify(value.slice(0, max))}… (${value.length.toLocaleString("en-US")} characters)`;
  const s = JSON.stringify(value) ?? String(value);
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length.toLocaleString("en-US")} characters)`;
}
