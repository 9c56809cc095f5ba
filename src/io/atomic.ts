// Atomic file replacement: write a temporary file in the target's directory, fsync it, rename it over the target,
// then fsync the directory so the rename itself is durable. A reader (or a process killed at any instant) sees
// either the old file or the new one, never a torn mix.

import * as fs from "node:fs";
import * as path from "node:path";

export type Chunks = Uint8Array | readonly Uint8Array[];

/**
 * Runs a write and makes sure a failing system call's error names the file it was writing (a write() on a
 * descriptor reports ENOSPC without a path), so the message a user sees says where the disk filled up.
 */
export function withPath<T>(file: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    throw namePath(e, file);
  }
}

function namePath(e: unknown, file: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof Error && typeof err.code === "string" && err.path === undefined) {
    err.path = file;
    err.message = `${err.message} (writing ${file})`;
  }
  return e;
}

function tempPathFor(target: string): string {
  const rand = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, "0");
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${rand}`);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (e) {
    // Some filesystems (and Windows) refuse to open or fsync directories; the rename is still atomic there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF" && code !== "EACCES") throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes temporary files left next to `target` by writers that were killed mid-write (their process is gone).
 * Returns the paths removed.
 */
export function removeStaleTemps(target: string): string[] {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length).split("-")[0]);
    if (!Number.isInteger(pid) || isAlive(pid)) continue;
    try {
      fs.unlinkSync(path.join(dir, n));
      removed.push(path.join(dir, n));
    } catch {
      /* already gone */
    }
  }
  return removed;
}

/** Writes `data` (one buffer or several, concatenated) to `target` atomically and durably. */
export function writeFileAtomicSync(target: string, data: Chunks, o: { mode?: number } = {}): void {
  withPath(target, () => writeAtomicSync(target, data, o));
}

function writeAtomicSync(target: string, data: Chunks, o: { mode?: number }): void {
  const chunks = data instanceof Uint8Array ? [data] : data;
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const tmp = tempPathFor(path.resolve(target));
  let fd: number | undefined = fs.openSync(tmp, "wx", o.mode ?? 0o644);
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* ignore */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw e;
  }
  fsyncDir(path.dirname(path.resolve(target)));
}

/** Async twin of writeFileAtomicSync. */
export async function writeFileAtomic(target: string, data: Chunks, o: { mode?: number } = {}): Promise<void> {
  await writeAtomic(target, data, o).catch((e: unknown) => {
    throw namePath(e, target);
  });
}

async function writeAtomic(target: string, data: Chunks, o: { mode?: number }): Promise<void> {
  const chunks = data instanceof Uint8Array ? [data] : data;
  const abs = path.resolve(target);
  await fs.promises.mkdir(path.dirname(abs), { recursive: true });
  const tmp = tempPathFor(abs);
  const fh = await fs.promises.open(tmp, "wx", o.mode ?? 0o644);
  let closed = false;
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += (await fh.write(c, off, c.length - off)).bytesWritten;
    }
    await fh.sync();
    await fh.close();
    closed = true;
    await fs.promises.rename(tmp, abs);
  } catch (e) {
    if (!closed) await fh.close().catch(() => undefined);
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw e;
  }
  fsyncDir(path.dirname(abs));
}
