// Stopping a training run cleanly on SIGINT (Ctrl-C), SIGTERM or SIGHUP: the first signal asks the loop to finish
// its step and save a checkpoint; a second one quits at once (the checkpoint is written atomically, so a quit while
// saving leaves the previous file or the new one, never a torn one). Shared by every `kindling train` recipe.

import * as os from "node:os";

/** Signals that stop training cleanly (SIGHUP: the terminal went away). */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** The shell's convention: 128 + the signal's number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export function signalExitCode(sig: NodeJS.Signals): number {
  return 128 + (os.constants.signals[sig] ?? 2);
}

export interface StopWatch {
  /** The signal that asked to stop, or null. */
  readonly signal: NodeJS.Signals | null;
  /** Records a stop as if `sig` had arrived (a data-parallel rank told by its launcher). */
  request(sig: NodeJS.Signals): void;
  /** Overrides the recorded stop (data-parallel ranks agree on one). */
  set(sig: NodeJS.Signals | null): void;
  /** Removes the handlers: from then on a signal takes its default course. */
  dispose(): void;
}

/**
 * Installs the stop handlers. `announce` says whether this process tells the user (`beforeMessage` runs first, e.g.
 * to clear a progress bar); a quiet one (a data-parallel rank other than 0) just records the stop.
 */
export function watchStopSignals(o: { announce: boolean; beforeMessage?: () => void }): StopWatch {
  let stop: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stop) {
      process.stderr.write(`\n${sig} again: exiting without saving\n`);
      process.exit(signalExitCode(sig));
    }
    stop = sig;
    if (!o.announce) return;
    // After a hang-up the terminal is gone: a failed write to it must not end the run before it has saved.
    if (sig === "SIGHUP") for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
    o.beforeMessage?.();
    process.stderr.write(`\n${sig}: finishing this step, saving a checkpoint, then exiting (press Ctrl-C again to quit now)\n`);
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  return {
    get signal() {
      return stop;
    },
    request: onSignal,
    set: (sig) => void (stop = sig),
    dispose: () => {
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    },
  };
}

/**
 * Test hook: a pause after every training step (KINDLING_STEP_DELAY_MS; airbench94 also pauses after each table row),
 * so a test can interrupt a tiny run at a chosen point.
 */
export function stepDelayMs(): number {
  return Number(process.env.KINDLING_STEP_DELAY_MS ?? 0);
}
