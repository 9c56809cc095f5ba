// Downloading one file over HTTP(S) with Node's fetch: a progress line, resume of interrupted
// transfers through Range requests into `<dest>.part`, MD5 verification, and a rename into place
// only once verified, so `dest` never names a partial or corrupt file.

import { createHash } from "node:crypto";
import { createReadStream, existsSync, statSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";

export class DownloadError extends Error {
  override name = "DownloadError";
}

/** Where download progress goes: process.stderr, or anything with a write method (a TTY gets a redrawn bar). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * The part of the fetch API a download uses, spelt out so that kindling's declarations need neither the DOM lib nor
 * @types/node; the global fetch fits it.
 */
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: (AsyncIterable<Uint8Array> & { cancel(): Promise<void> }) | null;
}
export type FetchLike = (url: string, init: { headers: Record<string, string> }) => Promise<FetchResponse>;

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected MD5 (hex); when given the file is verified before it is renamed into place. */
  md5?: string;
  /** No progress output at all. */
  quiet?: boolean;
  /** How many times an interrupted transfer is resumed (default 3). */
  retries?: number;
  /** Where progress goes (default process.stderr). A TTY gets a redrawn bar, anything else plain lines. */
  progressStream?: ProgressStream;
  /** Injectable for tests. */
  fetch?: FetchLike;
}

export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A progress display: redrawn in place on a TTY, a line every 10% (or 10 MiB) otherwise. */
class Progress {
  private readonly t0 = Date.now();
  private lastDraw = 0;
  private lastStep = -1;
  private readonly startBytes: number;

  constructor(
    private readonly stream: ProgressStream | null,
    private readonly total: number | undefined,
    private done: number,
  ) {
    this.startBytes = done;
  }

  update(bytes: number): void {
    this.done += bytes;
    if (!this.stream) return;
    const now = Date.now();
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line(now)}\x1b[K`);
    } else {
      const step = this.total ? Math.floor((10 * this.done) / this.total) : Math.floor(this.done / (10 << 20));
      if (step === this.lastStep) return;
      this.lastStep = step;
      this.stream.write(`${this.line(now)}\n`);
    }
  }

  finish(): void {
    if (!this.stream) return;
    const line = this.line(Date.now());
    this.stream.write(this.stream.isTTY ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  private line(now: number): string {
    const secs = Math.max((now - this.t0) / 1000, 1e-3);
    const rate = `${fmtBytes((this.done - this.startBytes) / secs)}/s`;
    if (!this.total) return `${fmtBytes(this.done)} ${rate}`;
    const frac = Math.min(this.done / this.total, 1);
    const width = 30;
    const fill = Math.round(frac * width);
    const bar = `[${"#".repeat(fill)}${".".repeat(width - fill)}]`;
    return `${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${fmtBytes(this.done)}/${fmtBytes(this.total)} ${rate}`;
  }
}

function partSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** `bytes start-end/total` → [start, total]; total is undefined for `*`. */
function parseContentRange(h: string | null): [number, number | undefined] | null {
  const m = h ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(h.trim()) : null;
  if (!m) return null;
  return [Number(m[1]), m[3] === "*" ? undefined : Number(m[3])];
}

/**
 * Download `url` to `dest`. A `<dest>.part` left by an earlier interrupted run is resumed with a
 * Range request; when the server ignores Range (answers 200) the transfer restarts from zero.
 */
export async function downloadFile(opts: DownloadOptions): Promise<void> {
  const doFetch: FetchLike = opts.fetch ?? (fetch as unknown as FetchLike);
  const part = `${opts.dest}.part`;
  const retries = opts.retries ?? 3;
  const stream = opts.quiet ? null : (opts.progressStream ?? process.stderr);
  let failures = 0;
  let lastError = "";

  for (;;) {
    if (failures > retries) {
      throw new DownloadError(`${opts.url}: gave up after ${failures} interrupted attempts (last: ${lastError})`);
    }
    const have = partSize(part);
    let res: FetchResponse;
    try {
      res = await doFetch(opts.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      lastError = `${(e as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}`;
      // Nothing was received: a refused connection or a DNS failure will not cure itself in a retry loop.
      if (have === 0 || failures >= retries) throw new DownloadError(`${opts.url}: ${lastError}`);
      failures++;
      continue;
    }

    if (res.status === 416 && have > 0) {
      // The part already holds everything the server has; verification below decides if it is good.
      await res.body?.cancel();
      break;
    }
    let append = false;
    let total: number | undefined;
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get("content-range"));
      if (range && range[0] === have) {
        append = true;
        total = range[1];
      } else {
        // A range we did not ask for: start over rather than stitch mismatched pieces.
        await res.body?.cancel();
        await unlink(part).catch(() => {});
        failures++;
        lastError = `unexpected Content-Range ${res.headers.get("content-range")}`;
        continue;
      }
    } else if (res.ok) {
      const len = res.headers.get("content-length");
      total = len !== null ? Number(len) : undefined;
    } else {
      await res.body?.cancel();
      throw new DownloadError(`${opts.url}: HTTP ${res.status} ${res.statusText}`);
    }
    if (!res.body) throw new DownloadError(`${opts.url}: response has no body`);

    const fh = await open(part, append ? "a" : "w");
    const progress = new Progress(stream, total, append ? have : 0);
    let interrupted = false;
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        progress.update(chunk.byteLength);
      }
    } catch (e) {
      interrupted = true;
      lastError = (e as Error).message;
    } finally {
      await fh.close();
    }
    const size = partSize(part);
    if (!interrupted && total !== undefined && size < total) {
      interrupted = true;
      lastError = `connection closed at ${size} of ${total} bytes`;
    }
    if (interrupted) {
      stream?.write(`\ntransfer interrupted at ${fmtBytes(size)} (${lastError}); resuming\n`);
      failures++;
      continue;
    }
    progress.finish();
    break;
  }

  if (opts.md5) {
    const got = await md5File(part);
    if (got !== opts.md5.toLowerCase()) {
      await unlink(part).catch(() => {});
      throw new DownloadError(
        `${opts.url}: MD5 mismatch: got ${got}, expected ${opts.md5} (the download is corrupt or not the expected file; it was deleted)`,
      );
    }
  }
  await rename(part, opts.dest);
}
