// The CLI's exit codes and how an error becomes one line of text and one of them. Expected failures (bad input,
// missing data, an unusable checkpoint, a full disk, ...) get a line that says what to do; only a bug gets a stack.

import { CheckpointError } from "../io/checkpoint.js";
import { SafetensorsError } from "../io/safetensors.js";
import { UsageError } from "./args.js";
import { DataError } from "./data.js";

export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  data: 3,
  checkpoint: 4,
  filesystem: 5,
  diskFull: 6,
  device: 7,
} as const;

export type FailureKind = "error" | "usage" | "data" | "checkpoint" | "filesystem" | "disk-full" | "device";

const KIND_OF_CODE: Record<number, FailureKind> = { 1: "error", 2: "usage", 3: "data", 4: "checkpoint", 5: "filesystem", 6: "disk-full", 7: "device" };

/** An expected failure with its exit code: the message is printed as is, without a stack trace. */
export class ExitError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    unexpected error (a bug: please report it with the stack trace printed)
  2    usage: a bad option or argument, a missing file, or --out holding another run (see --resume, --force)
  3    CIFAR-10 not available (use --data DIR, --download or --dataset synthetic)
  4    checkpoint unusable: corrupt or failed checksum, not a readable format, or not fitting the model/optimizer
  5    file system: a file or directory can't be written or read (permissions, not a directory, read-only)
  6    disk full while writing (the last checkpoint written is intact)
  7    device or backend not available (--device cuda without CUDA, --nproc-per-node without MPI)
  129, 130, 143  training stopped by SIGHUP, SIGINT (Ctrl-C) or SIGTERM after saving a checkpoint
`;

const DISK_FULL = new Set(["ENOSPC", "EDQUOT", "EFBIG"]);

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "is a directory",
  EEXIST: "already exists",
  ENOENT: "no such file or directory",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
  EMFILE: "too many open files",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  EIO: "input/output error",
};

type SystemError = Error & { code: string; syscall?: string; path?: string };

export function isSystemError(e: unknown): e is SystemError {
  const code = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}

/** "permission denied (EACCES)" for a Node.js system error. */
export function systemReason(e: SystemError): string {
  return `${REASONS[e.code] ?? e.message.replace(/^E[A-Z]+: /, "").replace(/, \w+ '.*'$/, "")} (${e.code})`;
}

export interface Failure {
  code: number;
  kind: FailureKind;
  /** One line (or, for a bug, the stack trace). */
  text: string;
  /** Printed after the line: what to do next. */
  hint?: string;
}

export function describeFailure(e: unknown): Failure {
  const err = e instanceof Error ? e : new Error(String(e));
  if (e instanceof UsageError) return { code: EXIT.usage, kind: "usage", text: err.message };
  if (e instanceof ExitError) return { code: e.code, kind: KIND_OF_CODE[e.code] ?? "error", text: err.message };
  if (e instanceof DataError) {
    return { code: EXIT.data, kind: "data", text: err.message, hint: "With the kindling command: --data DIR, KINDLING_DATA=DIR or --download; or try it offline with --dataset synthetic." };
  }
  if (e instanceof CheckpointError || e instanceof SafetensorsError) return { code: EXIT.checkpoint, kind: "checkpoint", text: err.message };
  if (isSystemError(e)) {
    const where = e.path ? ` ${e.path}` : "";
    if (DISK_FULL.has(e.code)) {
      return { code: EXIT.diskFull, kind: "disk-full", text: `disk full while writing${where}: ${systemReason(e)}`, hint: "Free some space, then continue with --resume (the last checkpoint written is intact)." };
    }
    return { code: EXIT.filesystem, kind: "filesystem", text: `cannot ${e.syscall ?? "access"}${where}: ${systemReason(e)}` };
  }
  return { code: EXIT.error, kind: "error", text: err.stack ?? err.message };
}
