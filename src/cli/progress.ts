// Training progress: a redrawn one-line bar on a TTY (never wider than the terminal), occasional plain lines
// otherwise; throughput and ETA from a moving window that starts after a warm-up.

export interface ProgressState {
  epoch: number; // 1-based
  epochs: number;
  step: number; // batches done in this epoch
  steps: number; // batches per epoch
  loss: number;
  /** NaN while unknown (warming up). */
  imagesPerSec: number;
  /** NaN while unknown. */
  etaSec: number;
}

/**
 * Steps per second over the last `windowMs`, ignoring the first `warmupMs` (worker start-up, JIT, caches: the
 * first steps are much slower than the rest, and an ETA from them is off by an order of magnitude). NaN until the
 * window spans at least `minSpanMs` of warm steps.
 */
export class RateMeter {
  private readonly samples: { t: number; steps: number }[] = [];
  private start: number | null = null;

  constructor(
    private readonly warmupMs = 2_000,
    private readonly windowMs = 30_000,
    private readonly minSpanMs = 1_000,
  ) {}

  /** `steps`: steps done so far (a running count), at time `nowMs`. */
  add(nowMs: number, steps: number): void {
    this.start ??= nowMs;
    if (nowMs - this.start < this.warmupMs) return;
    this.samples.push({ t: nowMs, steps });
    while (this.samples.length > 2 && nowMs - this.samples[1]!.t >= this.windowMs) this.samples.shift();
  }

  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < this.minSpanMs) return NaN;
    return ((last.steps - first.steps) * 1000) / (last.t - first.t);
  }
}

function hms(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "--:--";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : String(m)) + `:${String(sec).padStart(2, "0")}`;
}

export class Progress {
  private last = 0;
  private first: number | null = null;
  private drawn = false;
  constructor(
    private readonly stream: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number },
    private readonly enabled: boolean,
    private readonly plainEveryMs = 10_000,
  ) {}

  get isTTY(): boolean {
    return !!this.stream.isTTY;
  }

  update(p: ProgressState, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    this.first ??= now;
    const every = this.isTTY ? 100 : this.plainEveryMs;
    if (!force && now - this.last < every) return;
    const loss = Number.isFinite(p.loss) ? p.loss.toFixed(3) : "-";
    const known = Number.isFinite(p.imagesPerSec);
    const rate = known ? `${Math.round(p.imagesPerSec)} img/s` : "-- img/s";
    if (this.isTTY) {
      this.last = now;
      const cols = (this.stream as { columns?: number }).columns || 80;
      // One column short of the width: a line that fills the last column wraps on many terminals, and every
      // redraw would then start a new line.
      const room = cols - 1;
      const left = `epoch ${p.epoch}/${p.epochs} `;
      const right = ` ${p.step}/${p.steps} loss ${loss} ${rate} ETA ${hms(p.etaSec)}`;
      const width = Math.min(40, room - left.length - right.length);
      let line: string;
      if (width >= 5) {
        const filled = Math.round((Math.min(p.step, p.steps) / Math.max(1, p.steps)) * width);
        line = left + "█".repeat(filled) + "░".repeat(width - filled) + right;
      } else {
        line = (left + right.slice(1)).slice(0, room);
      }
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      // Plain lines (logs): none before the rate is known and a full interval has passed.
      if (!force && (!known || now - this.first < every)) return;
      this.last = now;
      this.stream.write(`epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${loss} ${rate} ETA ${hms(p.etaSec)}\n`);
    }
  }

  /** Clears the bar before ordinary lines are printed. */
  clear(): void {
    if (this.drawn && this.isTTY) {
      this.stream.write("\r\x1b[2K");
      this.drawn = false;
    }
  }
}
