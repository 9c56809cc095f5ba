// A safe unpickler for Python pickle protocols 0-5, for reading data files such as the CIFAR-10
// python batches. It interprets the opcode stream itself and never executes anything: globals come
// from a small allow-list of pure data constructors (see pickle_globals.ts), and every length read
// from the input is checked against what is left of the input before anything is allocated.
//
// Python values map to JS as follows:
//   None → null, bool → boolean, int → number (bigint beyond 2^53), float → number, str → string,
//   bytes / bytearray / Python 2 str → Uint8Array (may view the input buffer),
//   list → array, tuple → frozen array, dict → Map (bytes keys become latin-1 strings, so Python 2
//   and Python 3 pickles give the same keys), set/frozenset → Set, numpy arrays → NdArray.

import { NdArray, NdDtype } from "./ndarray.js";
import {
  ALLOWED_GLOBALS,
  PyGlobal,
  UnpicklingError,
  describe,
  latin1Decode,
  resolveGlobal,
  setArrayState,
  setDtypeState,
} from "./pickle_globals.js";

export { NdArray, NdDtype } from "./ndarray.js";
export type { NdTypedArray, NdDtypeCode } from "./ndarray.js";
export { UnpicklingError, ALLOWED_GLOBALS, pyText } from "./pickle_globals.js";

export interface UnpickleOptions {
  /** Named in error messages (usually the file path). */
  source?: string;
  /** Most memo entries a pickle may create (default 1 << 20). */
  maxMemo?: number;
  /**
   * Resolves persistent ids (PERSID / BINPERSID), which a plain pickle never holds; torch.save uses them for
   * tensor storages. Without it such pickles are refused.
   */
  persistentLoad?: (pid: unknown) => unknown;
  /** Extra allow-listed globals for this call (full name → pure data constructor, or null for a class token). */
  globals?: Readonly<Record<string, GlobalCall | null>>;
}

/** A pure JS constructor of data that an allow-listed global stands for. */
export type GlobalCall = (args: readonly unknown[]) => unknown;

/**
 * Attributes a pickle set on a dict subclass (BUILD on an OrderedDict, such as a state dict's `_metadata`): kept
 * beside the Map, never mixed into its items.
 */
export const pyAttributes = new WeakMap<Map<unknown, unknown>, Map<unknown, unknown>>();

const MARK = Symbol("MARK");
type Stack = unknown[];

const utf8 = new TextDecoder("utf-8");

class Reader {
  pos = 0;
  private readonly view: DataView;
  readonly buf: Uint8Array;
  constructor(input: Uint8Array) {
    // A plain Uint8Array view, so results are Uint8Array even when the input is a Node Buffer.
    this.buf = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const buf = this.buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  need(n: number, what: string): void {
    if (n < 0 || n > this.remaining) {
      throw new UnpicklingError(`${what} of ${n} bytes runs past the end of the input (${this.remaining} left)`);
    }
  }
  u8(): number {
    this.need(1, "opcode argument");
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2, "opcode argument");
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4, "opcode argument");
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4, "opcode argument");
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8, "opcode argument");
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    // Anything beyond the input is refused by `bytes` anyway; clamp so the comparison stays exact.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  f64be(): number {
    this.need(8, "opcode argument");
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) throw new UnpicklingError("text argument is missing its newline");
    const s = latin1Decode(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

function toInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** LONG1/LONG4 payload: little-endian two's complement. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let hex = "";
  for (let i = b.length - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, "0");
  let v = BigInt("0x" + hex);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return toInt(v);
}

function parseTextInt(s: string): number | bigint {
  const t = s.endsWith("L") ? s.slice(0, -1) : s;
  if (!/^[+-]?\d+$/.test(t)) throw new UnpicklingError(`bad integer literal '${s}'`);
  return toInt(BigInt(t));
}

// Protocol 0 STRING arguments are Python reprs: 'text' or "text" with backslash escapes.
function decodeStringRepr(s: string): Uint8Array {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) {
    throw new UnpicklingError("STRING argument is not a quoted string");
  }
  return decodeEscapes(s.slice(1, -1), false) as Uint8Array;
}

function decodeEscapes(body: string, unicode: boolean): Uint8Array | string {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\" || i + 1 >= body.length) {
      out.push(body.charCodeAt(i));
      continue;
    }
    const n = body[++i]!;
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, "\\": 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };
    if (!unicode && n in simple) out.push(simple[n]!);
    else if (!unicode && n === "x") {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (!unicode && n >= "0" && n <= "7") {
      let j = i;
      while (j < i + 3 && body[j]! >= "0" && body[j]! <= "7") j++;
      out.push(parseInt(body.slice(i, j), 8) & 0xff);
      i = j - 1;
    } else if (unicode && (n === "u" || n === "U")) {
      const len = n === "u" ? 4 : 8;
      const cp = parseInt(body.slice(i + 1, i + 1 + len), 16);
      if (Number.isNaN(cp) || cp > 0x10ffff) throw new UnpicklingError("bad \\u escape in UNICODE argument");
      out.push(cp);
      i += len;
    } else {
      out.push(92, n.charCodeAt(0));
    }
  }
  if (unicode) return String.fromCodePoint(...out);
  return Uint8Array.from(out);
}

function dictKey(k: unknown): unknown {
  // Python 2 str keys arrive as bytes; a latin-1 string makes them usable as Map keys.
  return k instanceof Uint8Array ? latin1Decode(k) : k;
}

function setItems(target: unknown, items: unknown[], where: string): void {
  if (!(target instanceof Map)) throw new UnpicklingError(`${where} needs a dict, got ${describe(target)}`);
  if (items.length % 2 !== 0) throw new UnpicklingError(`${where} has an odd number of items`);
  for (let i = 0; i < items.length; i += 2) target.set(dictKey(items[i]), items[i + 1]);
}

function appendItems(target: unknown, items: unknown[], where: string): void {
  if (!Array.isArray(target) || Object.isFrozen(target)) {
    throw new UnpicklingError(`${where} needs a list, got ${describe(target)}`);
  }
  for (const x of items) target.push(x);
}

function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items);
}

const OPNAMES: Record<number, string> = {
  0x69: "INST", 0x6f: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX",
  0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
};

/**
 * Decode a pickle. Throws UnpicklingError (naming `source` and the byte offset) on anything it
 * does not understand or refuses: globals off the allow-list, persistent ids, out-of-band
 * buffers, truncated or oversized input.
 */
export function unpickle(input: Uint8Array, options: UnpickleOptions = {}): unknown {
  return unpickleAt(input, 0, options).value;
}

/** Decode the pickle that starts at byte `start`; `end` is the byte after its STOP (several pickles can follow each other). */
export function unpickleAt(input: Uint8Array, start: number, options: UnpickleOptions = {}): { value: unknown; end: number } {
  const maxMemo = options.maxMemo ?? 1 << 20;
  const r = new Reader(input);
  r.pos = start;
  const extra = options.globals ?? {};
  const lookup = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    if (Object.hasOwn(extra, full)) return new PyGlobal(module, name, extra[full]!);
    return resolveGlobal(module, name);
  };
  const persistent = (pid: unknown, opcode: string): unknown => {
    if (!options.persistentLoad) {
      throw new UnpicklingError(`opcode ${opcode} is not supported here: this pickle refers to objects stored outside it by persistent id (a torch.save file? read it with torch.load)`);
    }
    return options.persistentLoad(pid);
  };
  let stack: Stack = [];
  const metastack: Stack[] = [];
  const memo = new Map<number, unknown>();
  let opPos = 0;

  const pop = (): unknown => {
    if (stack.length === 0) throw new UnpicklingError("stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new UnpicklingError("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) throw new UnpicklingError("MARK expected on the stack");
    stack = prev;
    return items;
  };
  const put = (idx: number): void => {
    if (!memo.has(idx) && memo.size >= maxMemo) throw new UnpicklingError(`memo exceeds ${maxMemo} entries`);
    memo.set(idx, top());
  };
  const get = (idx: number): void => {
    if (!memo.has(idx)) throw new UnpicklingError(`memo key ${idx} was never stored`);
    stack.push(memo.get(idx));
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal) || fn.call === null) {
      throw new UnpicklingError(`cannot call ${describe(fn)}`);
    }
    if (!Array.isArray(args)) throw new UnpicklingError(`arguments to ${fn.fullName} are not a tuple`);
    return fn.call(args);
  };

  try {
    for (;;) {
      opPos = r.pos;
      const op = r.u8();
      switch (op) {
        case 0x80: { // PROTO
          const p = r.u8();
          if (p > 5) throw new UnpicklingError(`unsupported pickle protocol ${p}`);
          break;
        }
        case 0x95: { // FRAME: a length hint for buffered readers; we have everything in memory.
          const n = r.u64();
          r.need(n, "FRAME");
          break;
        }
        case 0x2e: { // STOP
          // Like CPython, leftovers below the result are ignored: they are inert data.
          return { value: pop(), end: r.pos };
        }
        case 0x28: metastack.push(stack); stack = []; break; // MARK
        case 0x30: { // POP
          if (stack.length > 0) stack.pop();
          else popMark();
          break;
        }
        case 0x31: popMark(); break; // POP_MARK
        case 0x32: stack.push(top()); break; // DUP
        case 0x4e: stack.push(null); break; // NONE
        case 0x88: stack.push(true); break; // NEWTRUE
        case 0x89: stack.push(false); break; // NEWFALSE
        case 0x4a: stack.push(r.i32()); break; // BININT
        case 0x4b: stack.push(r.u8()); break; // BININT1
        case 0x4d: stack.push(r.u16()); break; // BININT2
        case 0x8a: stack.push(decodeLong(r.bytes(r.u8(), "LONG1"))); break; // LONG1
        case 0x8b: { // LONG4
          const n = r.i32();
          stack.push(decodeLong(r.bytes(n, "LONG4")));
          break;
        }
        case 0x49: { // INT (protocol 0); "01"/"00" are True/False
          const s = r.line();
          stack.push(s === "01" ? true : s === "00" ? false : parseTextInt(s));
          break;
        }
        case 0x4c: stack.push(parseTextInt(r.line())); break; // LONG
        case 0x46: { // FLOAT
          const s = r.line();
          const v = Number(s);
          if (Number.isNaN(v) && !/nan/i.test(s)) throw new UnpicklingError(`bad float literal '${s}'`);
          stack.push(v);
          break;
        }
        case 0x47: stack.push(r.f64be()); break; // BINFLOAT
        case 0x53: stack.push(decodeStringRepr(r.line())); break; // STRING (Python 2 str)
        case 0x54: { // BINSTRING (Python 2 str)
          const n = r.i32();
          stack.push(r.bytes(n, "BINSTRING"));
          break;
        }
        case 0x55: stack.push(r.bytes(r.u8(), "SHORT_BINSTRING")); break;
        case 0x42: stack.push(r.bytes(r.u32(), "BINBYTES")); break;
        case 0x43: stack.push(r.bytes(r.u8(), "SHORT_BINBYTES")); break;
        case 0x8e: stack.push(r.bytes(r.u64(), "BINBYTES8")); break;
        case 0x96: stack.push(r.bytes(r.u64(), "BYTEARRAY8").slice()); break; // a bytearray is mutable: copy
        case 0x56: stack.push(decodeEscapes(r.line(), true)); break; // UNICODE (raw-unicode-escape)
        case 0x58: stack.push(utf8.decode(r.bytes(r.u32(), "BINUNICODE"))); break;
        case 0x8c: stack.push(utf8.decode(r.bytes(r.u8(), "SHORT_BINUNICODE"))); break;
        case 0x8d: stack.push(utf8.decode(r.bytes(r.u64(), "BINUNICODE8"))); break;
        case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
        case 0x74: { // TUPLE (popMark swaps `stack`, so take the items before reading it)
          const t = tuple(popMark());
          stack.push(t);
          break;
        }
        case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
        case 0x86: { // TUPLE2
          const b = pop(), a = pop();
          stack.push(tuple([a, b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = pop(), b = pop(), a = pop();
          stack.push(tuple([a, b, c]));
          break;
        }
        case 0x5d: stack.push([]); break; // EMPTY_LIST
        case 0x6c: { // LIST
          const l = popMark();
          stack.push(l);
          break;
        }
        case 0x61: { // APPEND
          const v = pop();
          appendItems(top(), [v], "APPEND");
          break;
        }
        case 0x65: { // APPENDS
          const items = popMark();
          appendItems(top(), items, "APPENDS");
          break;
        }
        case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
        case 0x64: { // DICT
          const m = new Map();
          setItems(m, popMark(), "DICT");
          stack.push(m);
          break;
        }
        case 0x73: { // SETITEM
          const v = pop(), k = pop();
          setItems(top(), [k, v], "SETITEM");
          break;
        }
        case 0x75: { // SETITEMS
          const items = popMark();
          setItems(top(), items, "SETITEMS");
          break;
        }
        case 0x8f: stack.push(new Set()); break; // EMPTY_SET
        case 0x90: { // ADDITEMS
          const items = popMark();
          const s = top();
          if (!(s instanceof Set)) throw new UnpicklingError(`ADDITEMS needs a set, got ${describe(s)}`);
          for (const x of items) s.add(dictKey(x));
          break;
        }
        case 0x91: { // FROZENSET
          const fs = new Set(popMark().map(dictKey));
          stack.push(fs);
          break;
        }
        case 0x70: { // PUT
          const s = r.line();
          if (!/^\d+$/.test(s)) throw new UnpicklingError(`bad PUT index '${s}'`);
          put(Number(s));
          break;
        }
        case 0x71: put(r.u8()); break; // BINPUT
        case 0x72: put(r.u32()); break; // LONG_BINPUT
        case 0x94: put(memo.size); break; // MEMOIZE
        case 0x67: { // GET
          const s = r.line();
          if (!/^\d+$/.test(s)) throw new UnpicklingError(`bad GET index '${s}'`);
          get(Number(s));
          break;
        }
        case 0x68: get(r.u8()); break; // BINGET
        case 0x6a: get(r.u32()); break; // LONG_BINGET
        case 0x63: { // GLOBAL "module\nname\n"
          const module = r.line();
          const name = r.line();
          stack.push(lookup(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = pop(), module = pop();
          if (typeof name !== "string" || typeof module !== "string") {
            throw new UnpicklingError("STACK_GLOBAL needs two str arguments");
          }
          stack.push(lookup(module, name));
          break;
        }
        case 0x51: stack.push(persistent(pop(), "BINPERSID")); break; // BINPERSID
        case 0x50: stack.push(persistent(r.line(), "PERSID")); break; // PERSID
        case 0x52: { // REDUCE
          const args = pop();
          const fn = pop();
          stack.push(call(fn, args));
          break;
        }
        case 0x62: { // BUILD
          const state = pop();
          const obj = top();
          if (obj instanceof NdArray) setArrayState(obj, state);
          else if (obj instanceof NdDtype) setDtypeState(obj, state);
          else if (obj instanceof Map && state instanceof Map) {
            // A dict subclass's BUILD sets instance attributes (OrderedDict._metadata), not items.
            const attrs = pyAttributes.get(obj) ?? new Map<unknown, unknown>();
            for (const [k, v] of state) attrs.set(k, v);
            pyAttributes.set(obj, attrs);
          }
          else throw new UnpicklingError(`BUILD (__setstate__) is not supported for ${describe(obj)}`);
          break;
        }
        case 0x97: // NEXT_BUFFER
        case 0x98: // READONLY_BUFFER
          throw new UnpicklingError(
            "protocol 5 out-of-band buffers are not supported: pickle without buffer_callback so the data is in-band",
          );
        case 0x69: { // INST: name the class we refuse, not just the opcode
          const module = r.line();
          const name = r.line();
          lookup(module, name);
          throw new UnpicklingError(`opcode INST (creating ${module}.${name} instances) is not supported`);
        }
        default: {
          const name = OPNAMES[op];
          if (name) throw new UnpicklingError(`opcode ${name} is not supported by the safe unpickler`);
          throw new UnpicklingError(`unknown opcode 0x${op.toString(16).padStart(2, "0")}`);
        }
      }
    }
  } catch (e) {
    const where = `${options.source ? options.source + ": " : ""}pickle byte ${opPos}`;
    if (e instanceof UnpicklingError) {
      const err = new UnpicklingError(`${where}: ${e.message}`);
      throw err;
    }
    throw new UnpicklingError(`${where}: ${(e as Error).message}`, { cause: e });
  }
}

/** Globals the unpickler accepts, for documentation and error messages. */
export function allowedGlobals(): readonly string[] {
  return ALLOWED_GLOBALS;
}
