// Runs the kindling CLI and sends it a signal once its output (or anything else `when` looks at, e.g. a file the run
// writes) shows that it got to a chosen point: how the stop tests interrupt a tiny run at a known step.
import { spawn } from "node:child_process";

export interface SignalledRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runAndSignalWhen(
  bin: string,
  args: string[],
  o: {
    signal: NodeJS.Signals;
    /** Checked on every output chunk and every 50 ms. */
    when: (out: { stdout: string; stderr: string }) => boolean;
    /** KINDLING_STEP_DELAY_MS: the pause after each step in which the signal lands. */
    stepDelayMs: number;
    /** A wait before sending, once `when` holds (default none). */
    sendAfterMs?: () => number;
  },
): Promise<SignalledRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, KINDLING_STEP_DELAY_MS: String(o.stepDelayMs) };
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
    const out = { stdout: "", stderr: "" };
    let sent = false;
    const check = (): void => {
      if (sent || !o.when(out)) return;
      sent = true;
      const wait = o.sendAfterMs?.() ?? 0;
      if (wait > 0) setTimeout(() => child.kill(o.signal), wait);
      else child.kill(o.signal);
    };
    const poll = setInterval(check, 50);
    child.stdout.on("data", (d) => {
      out.stdout += d;
      check();
    });
    child.stderr.on("data", (d) => {
      out.stderr += d;
      check();
    });
    child.on("error", (e) => {
      clearInterval(poll);
      reject(e);
    });
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, ...out });
    });
  });
}
