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

/**
 * The handler of the stop signals: the first records the stop (`stop`), a second exits at once. `announce` says
 * whether this process tells the user (`beforeMessage` runs first, e.g. to clear a progress bar); a quiet one (a
 * data-parallel rank other than 0) just records it.
 */
export function stopSignalHandler(o: {
  stopped: () => NodeJS.Signals | null;
  stop: (sig: NodeJS.Signals) => void;
  announce: boolean;
  beforeMessage?: () => void;
}): (sig: NodeJS.Signals) => void {
  return (sig) => {
    if (o.stopped()) {
      process.stderr.write(`\n${sig} again: exiting without saving\n`);
      process.exit(signalExitCode(sig));
    }
    o.stop(sig);
    if (!o.announce) return;
    // After a hang-up the terminal is gone: a failed write to it must not end the run before it has saved.
    if (sig === "SIGHUP") for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
    o.beforeMessage?.();
    process.stderr.write(`\n${sig}: finishing this step, saving a checkpoint, then exiting (press Ctrl-C again to quit now)\n`);
  };
}

export interface StopWatch {
  /** The signal that asked to stop, or null. */
  readonly signal: NodeJS.Signals | null;
  /** Removes the handlers: from then on a signal takes its default course. */
  dispose(): void;
}

/** Installs a stopSignalHandler for every stop signal, for a one-process run that tells the user. */
export function watchStopSignals(o: { beforeMessage?: () => void }): StopWatch {
  let stop: NodeJS.Signals | null = null;
  const onSignal = stopSignalHandler({ stopped: () => stop, stop: (sig) => void (stop = sig), announce: true, beforeMessage: o.beforeMessage });
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  return {
    get signal() {
      return stop;
    },
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
