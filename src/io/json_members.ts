// The members of a JSON object, one at a time and in order, without building the object. A safetensors header may
// hold a million entries; JSON.parse of the whole object then takes seconds and Object.entries over it many more
// (dictionary-mode objects), while parsing each small member by itself stays linear, lets the caller stop at a
// limit, and never gives a key like "__proto__" a chance to act on an object.

import { brief } from "../core/key_list.js";

export class JsonSyntaxError extends Error {
  override name = "JsonSyntaxError";
}

/** A member's value left unparsed (see `raw` below): its UTF-8 text and where it starts, for jsonObjectMembers again. */
export class RawJson {
  constructor(readonly text: Uint8Array, readonly offset: number) {}
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Yields [key, value] for each member of the JSON object that `text` (UTF-8) holds, keys and values as JSON.parse
 * gives them, except that the value of a key in `raw` comes as RawJson (a nested object the caller walks member by
 * member too). Duplicate keys are yielded twice: the caller decides. Throws JsonSyntaxError, with the byte offset
 * (plus `offset`, where `text` starts in a larger text), on anything that is not one well-formed object followed by
 * whitespace only.
 */
export function* jsonObjectMembers(text: Uint8Array, raw: ReadonlySet<string> = new Set(), offset = 0): Generator<[string, unknown]> {
  const buf = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  const n = buf.length;
  const fail = (what: string, at: number): never => {
    throw new JsonSyntaxError(at >= n ? `${what} at the end of the text` : `${what} at byte ${offset + at}`);
  };
  const skipSpace = (p: number): number => {
    while (p < n && isSpace(buf[p]!)) p++;
    return p;
  };
  // Whether the last string stringEnd passed over needs JSON.parse (escapes or raw control characters, which
  // JSON.parse refuses) or reads as it stands.
  let plain = true;
  // Index just past the string that starts at p (a quote).
  const stringEnd = (p: number): number => {
    plain = true;
    for (let i = p + 1; i < n; i++) {
      const c = buf[i]!;
      if (c === BACKSLASH) {
        plain = false;
        i++;
      } else if (c === QUOTE) return i + 1;
      else if (c < 0x20) plain = false;
    }
    return fail("unterminated string", p);
  };
  // Index just past the value that starts at p; JSON.parse checks its inside afterwards.
  const valueEnd = (p: number): number => {
    const c = buf[p]!;
    if (c === QUOTE) return stringEnd(p);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      let depth = 0;
      for (let i = p; i < n; ) {
        const d = buf[i]!;
        if (d === QUOTE) {
          i = stringEnd(i);
          continue;
        }
        if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
        else if ((d === CLOSE_BRACE || d === CLOSE_BRACKET) && --depth === 0) return i + 1;
        i++;
      }
      return fail("unclosed object or array", p);
    }
    let i = p;
    while (i < n && !isSpace(buf[i]!) && buf[i] !== COMMA && buf[i] !== CLOSE_BRACE && buf[i] !== CLOSE_BRACKET) i++;
    return i;
  };
  const parse = (from: number, to: number, what: string): unknown => {
    try {
      return JSON.parse(buf.toString("utf8", from, to));
    } catch (e) {
      return fail(`${what}: ${(e as Error).message}`, from);
    }
  };

  let p = skipSpace(0);
  if (buf[p] !== OPEN_BRACE) fail("expected '{'", p);
  p = skipSpace(p + 1);
  if (buf[p] === CLOSE_BRACE) {
    p++;
  } else {
    for (;;) {
      if (buf[p] !== QUOTE) fail("expected a quoted key", p);
      const keyEnd = stringEnd(p);
      const key = plain ? buf.toString("utf8", p + 1, keyEnd - 1) : (parse(p, keyEnd, "bad key") as string);
      p = skipSpace(keyEnd);
      if (buf[p] !== COLON) fail(`expected ':' after the key ${brief(key)}`, p);
      const start = skipSpace(p + 1);
      if (start >= n) fail(`missing value for the key ${brief(key)}`, start);
      const end = valueEnd(start);
      yield [key, raw.has(key) ? new RawJson(text.subarray(start, end), offset + start) : parse(start, end, `bad value for the key ${brief(key)}`)];
      p = skipSpace(end);
      if (buf[p] === CLOSE_BRACE) {
        p++;
        break;
      }
      if (buf[p] !== COMMA) fail("expected ',' or '}'", p);
      p = skipSpace(p + 1);
    }
  }
  p = skipSpace(p);
  if (p < n) fail("unexpected text after the object", p);
}
