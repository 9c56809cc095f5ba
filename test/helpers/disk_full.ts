// Preloaded with `node --import` by the CLI tests: writes to files whose path matches $KINDLING_TEST_DISK_FULL fail
// with ENOSPC, as they would on a full disk. Without the variable it changes nothing.

import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const pattern = process.env.KINDLING_TEST_DISK_FULL;
if (pattern) {
  const re = new RegExp(pattern);
  const full = new Set<number>();
  const openSync = fs.openSync;
  const writeSync = fs.writeSync;
  const closeSync = fs.closeSync;
  fs.openSync = function (this: unknown, p: fs.PathLike, ...rest: unknown[]): number {
    const fd = Reflect.apply(openSync, this, [p, ...rest]) as number;
    if (re.test(String(p))) full.add(fd);
    return fd;
  } as typeof fs.openSync;
  fs.writeSync = function (this: unknown, fd: number, ...rest: unknown[]): number {
    if (full.has(fd)) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
    return Reflect.apply(writeSync, this, [fd, ...rest]) as number;
  } as typeof fs.writeSync;
  fs.closeSync = function (this: unknown, fd: number): void {
    full.delete(fd);
    Reflect.apply(closeSync, this, [fd]);
  } as typeof fs.closeSync;
  syncBuiltinESMExports();
}
