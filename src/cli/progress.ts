// Training progress: a redrawn one-line bar on a TTY, occasional plain lines otherwise.

export interface ProgressState {
  epoch: number; // 1-based
  epochs: number;
  step: number; // batches done in this epoch
  steps: number; // batches per epoch
  loss: number;
  imagesPerSec: number;
  etaSec: number;
}

function hms(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "--:--";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : String(m)) + `:${String(sec).padStart(2, "0")}`;
}

export class Progress {
  private last = 0;
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
    const every = this.isTTY ? 100 : this.plainEveryMs;
    if (!force && now - this.last < every) return;
    this.last = now;
    const loss = Number.isFinite(p.loss) ? p.loss.toFixed(3) : "-";
    const rate = `${Math.round(p.imagesPerSec)} img/s`;
    if (this.isTTY) {
      const cols = (this.stream as { columns?: number }).columns ?? 100;
      const left = `epoch ${p.epoch}/${p.epochs} `;
      const right = ` ${p.step}/${p.steps} loss ${loss} ${rate} ETA ${hms(p.etaSec)}`;
      const width = Math.max(10, Math.min(40, cols - left.length - right.length - 3));
      const filled = Math.round((p.step / Math.max(1, p.steps)) * width);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      this.stream.write(`\r\x1b[2K${left}${bar}${right}`);
      this.drawn = true;
    } else {
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
