// The NCCL launcher as `kindling train --nproc-per-node N` uses it (gracefulStop): its processes run in a session of
// their own, and a rank that stopped on a signal (exit 128 + SIGINT/SIGTERM/SIGHUP, after saving) is not a failure
// that makes launch stop the others. Plain Node workers: nothing here loads NCCL.
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planNcclLaunch, runNcclLaunch } from "../src/cli/launch_nccl.js";

const dir = mkdtempSync(join(tmpdir(), "kindling-launch-graceful-"));

test("gracefulStop: each process leads its own process group, out of reach of the terminal's signals", async () => {
  const script = join(dir, "pgrp.mjs");
  writeFileSync(script, `import { readFileSync, writeFileSync } from "node:fs";
// /proc/self/stat: pid (comm) state ppid pgrp ...
const pgrp = Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[2]);
writeFileSync(${JSON.stringify(dir)} + "/pgrp-" + process.env.RANK, JSON.stringify({ pid: process.pid, pgrp }));\n`);
  if (!existsSync("/proc/self/stat")) return;
  const own = Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[2]);
  for (const graceful of [true, false]) {
    assert.equal(await runNcclLaunch(planNcclLaunch(["--nproc-per-node", "2", script]), { gracefulStop: graceful }), 0);
    for (const rank of [0, 1]) {
      const { pid, pgrp } = JSON.parse(readFileSync(join(dir, `pgrp-${rank}`), "utf8")) as { pid: number; pgrp: number };
      if (graceful) assert.equal(pgrp, pid, `rank ${rank} leads its own group`);
      else assert.equal(pgrp, own, `without gracefulStop rank ${rank} stays in launch's group`);
    }
  }
});

test("gracefulStop: a rank that exits 143 (stopped by SIGTERM, saved) leaves the others to stop by themselves; launch exits 143", async () => {
  const script = join(dir, "stop.mjs");
  const finished = join(dir, "rank0-finished");
  const terminated = join(dir, "rank0-terminated");
  writeFileSync(script, `import { writeFileSync } from "node:fs";
if (process.env.RANK === "1") process.exit(143);
process.on("SIGTERM", () => { writeFileSync(${JSON.stringify(terminated)}, ""); process.exit(143); });
// Rank 0 finishes its step and stops on its own a little later, as kindling train's ranks agree to.
setTimeout(() => { writeFileSync(${JSON.stringify(finished)}, ""); process.exit(143); }, 1500);\n`);
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await runNcclLaunch(planNcclLaunch(["--nproc-per-node", "2", script]), { gracefulStop: true });
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 143);
  assert.ok(existsSync(finished), "rank 0 stopped on its own");
  assert.ok(!existsSync(terminated), "launch did not SIGTERM rank 0");
  assert.doesNotMatch(errors.join(""), /stopping the other/);
});
