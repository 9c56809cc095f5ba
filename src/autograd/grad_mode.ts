import { AsyncLocalStorage } from "node:async_hooks";

let enabled = true;

/**
 * Grad mode of the async scopes opened by noGrad/enableGrad over async functions: the mode follows the scope's
 * continuations (after every await) and nothing else. Created on first use, and read only while such a scope is
 * pending, so synchronous code never pays for it.
 */
interface AsyncScope {
  enabled: boolean;
}
let scopes: AsyncLocalStorage<AsyncScope> | null = null;
let pendingScopes = 0;

function currentScope(): AsyncScope | undefined {
  return pendingScopes === 0 ? undefined : scopes!.getStore();
}

export function isGradEnabled(): boolean {
  if (pendingScopes === 0) return enabled;
  const s = scopes!.getStore();
  return s ? s.enabled : enabled;
}

export function setGradEnabled(on: boolean): void {
  const s = currentScope();
  if (s) s.enabled = on;
  else enabled = on;
}

function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === "function" && (fn as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === "AsyncFunction";
}

function withMode<T>(on: boolean, fn: () => T): T {
  if (isAsyncFunction(fn)) return withModeAsync(on, fn as () => T & Promise<unknown>) as T;
  const prev = isGradEnabled();
  setGradEnabled(on);
  try {
    const r = fn();
    if (r !== null && typeof r === "object" && typeof (r as { then?: unknown }).then === "function") {
      throw new Error(
        "noGrad/enableGrad got a function that returned a promise but is not an async function, so the mode would " +
          "not reach the code after its awaits: pass an async function (torch.noGrad(async () => { ... })) or use " +
          "torch.noGradAsync(() => promise)",
      );
    }
    return r;
  } finally {
    setGradEnabled(prev);
  }
}

async function withModeAsync<T>(on: boolean, fn: () => Promise<T>): Promise<T> {
  scopes ??= new AsyncLocalStorage<AsyncScope>();
  pendingScopes++;
  try {
    return await scopes.run({ enabled: on }, fn);
  } finally {
    pendingScopes--;
  }
}

/**
 * Runs fn without recording autograd history (PyTorch's `with torch.no_grad():`). An async fn works too
 * (`await torch.noGrad(async () => { for await (const [x] of loader) ... })`): the mode holds across its awaits and
 * only there, so other code running meanwhile still records.
 */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}

/** noGrad for a function that returns a promise without being declared async. */
export function noGradAsync<T>(fn: () => Promise<T>): Promise<T> {
  return withModeAsync(false, fn);
}
