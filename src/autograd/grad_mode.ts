let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

export function setGradEnabled(on: boolean): void {
  enabled = on;
}

function withMode<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  try {
    const r = fn();
    if (r instanceof Promise) {
      throw new Error("noGrad/enableGrad take a synchronous function; await inside it is not supported");
    }
    return r;
  } finally {
    enabled = prev;
  }
}

/** Runs fn without recording autograd history (PyTorch's `with torch.no_grad():`). */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}
