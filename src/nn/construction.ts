// Which Modules and Parameters were built inside which Module's constructor. JavaScript gives a Module no view of its
// #private fields (nor of modules kept in plain arrays or non-enumerable properties), so a layer held there would
// silently miss parameters(), stateDict() and to(). Instead, every construction records the call stack it ran on:
// an object built while module P's constructor was running has P's caller frames at the bottom of its own stack with
// more frames above them. At P's first enumeration (module.ts) whatever was built inside P must be reachable from P.
//
// The cost is one structured stack capture per Module or Parameter constructed (construction only, never forward).

interface OpenConstruction {
  owner: object;
  /** The frames below the owner's constructor chain: where `new Owner(...)` was called from, innermost first. */
  callers: string[];
  inside: object[];
}

const MAX_FRAMES = 400;
/** Constructions whose constructor may still be running, outermost first (they nest like the call stack). */
const open: OpenConstruction[] = [];
/** Owners whose construction finished, with what they built, until their first enumeration checks it. */
const built = new WeakMap<object, object[]>();
const unchecked = new WeakSet<object>();
/** Modules used as templates (copied, never held): not lost when their builder can't reach them. */
const consumed = new WeakSet<object>();

/** The frames of the current stack above `below` (exclusive) as "new? name@file:line:col" strings; null if too deep. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function frames(below: Function): { names: string[]; ctor: boolean[] } | null {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let sites: NodeJS.CallSite[];
  try {
    Error.prepareStackTrace = (_e, cs) => cs;
    Error.stackTraceLimit = MAX_FRAMES;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, below);
    sites = holder.stack as NodeJS.CallSite[];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  if (!Array.isArray(sites) || sites.length >= MAX_FRAMES) return null;
  return {
    names: sites.map((c) => `${c.isConstructor() ? "new " : ""}${c.getFunctionName()}@${c.getFileName()}:${c.getLineNumber()}:${c.getColumnNumber()}`),
    ctor: sites.map((c) => c.isConstructor()),
  };
}

/** The class names of obj's prototype chain, base first (Module, …, Net). */
function classChain(obj: object): string[] {
  const names: string[] = [];
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    names.unshift((p.constructor as { name: string }).name);
  }
  return names;
}

/** True when a stack whose frames below the new object's constructors are `rest` runs inside c's constructor. */
function runsInside(rest: readonly string[], c: OpenConstruction): boolean {
  const n = c.callers.length;
  if (rest.length <= n) return false;
  for (let i = 1; i <= n; i++) if (rest[rest.length - i] !== c.callers[n - i]) return false;
  return true;
}

/**
 * Forgets what has since become a field of its owner: that was registered, and a later replacement (weight tying,
 * `this.dec.weight = this.enc.weight`) is deliberate. Runs at every construction and check, so an object is seen
 * unless it was replaced before anything else was built.
 */
function sweepRegistered(): void {
  for (const c of open) {
    if (!c.inside.length) continue;
    const fields = new Set<unknown>(Object.values(c.owner));
    c.inside = c.inside.filter((o) => !fields.has(o));
  }
}

/** Drops the open constructions that the current stack (frames `rest`) is no longer inside: they have finished. */
function closeFinished(rest: readonly string[]): void {
  sweepRegistered();
  while (open.length && !runsInside(rest, open[open.length - 1]!)) {
    const done = open.pop()!;
    if (done.inside.length) built.set(done.owner, done.inside);
  }
}

/**
 * Called by the Module and Parameter constructors. `opens`: obj is a Module, whose own constructor may build more.
 * `below`: the function whose frame and callers' frames are skipped (the constructor calling this).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function noteConstruction(obj: object, opens: boolean, below: Function): void {
  const f = frames(below);
  if (!f) return;
  // Skip obj's own constructor chain (base first on the stack); default constructors may be missing from it.
  const chain = classChain(obj);
  let k = 0;
  for (let j = 0; k < f.names.length && f.ctor[k]; k++) {
    const name = f.names[k]!.slice(4, f.names[k]!.indexOf("@"));
    const at = chain.indexOf(name, j);
    if (at < 0) break;
    j = at + 1;
  }
  const rest = f.names.slice(k);
  closeFinished(rest);
  open[open.length - 1]?.inside.push(obj);
  if (opens) {
    open.push({ owner: obj, callers: rest, inside: [] });
    unchecked.add(obj);
  }
}

/**
 * What owner built in its constructor, once that constructor has returned (then forgotten: each owner is checked
 * once); null while it is still running or when there is nothing to check.
 */
export function takeBuilt(owner: object): object[] | null {
  if (!unchecked.has(owner)) return null;
  if (open.some((c) => c.owner === owner)) {
    const f = frames(takeBuilt);
    if (!f) return null;
    closeFinished(f.names);
    if (open.some((c) => c.owner === owner)) return null;
  }
  unchecked.delete(owner);
  const list = (built.get(owner) ?? []).filter((o) => !consumed.has(o));
  built.delete(owner);
  return list.length ? list : null;
}

/**
 * obj served as a template that the caller copies and does not keep (PyTorch's TransformerEncoder deep-copies its
 * layer): the module that built it is not missing anything when it holds no reference to it.
 */
export function noteConsumed(obj: object): void {
  consumed.add(obj);
  for (const c of open) c.inside = c.inside.filter((o) => o !== obj);
}

/** Puts an owner whose check failed back, so that every later enumeration fails the same way. */
export function keepUnchecked(owner: object, list: object[]): void {
  unchecked.add(owner);
  built.set(owner, list);
}
