// `kindling launch`: its argument handling (always), and a real two-process run through mpirun (skipped without it).
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { planLaunch } from "../src/cli/launch.js";
import { UsageError } from "../src/cli/args.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "bin", "kindling.js");

test("launch builds the mpirun command: flags for root and oversubscription only where needed, script args untouched", () => {
  const p = planLaunch(["--nproc-per-node", "4", "train.js", "--epochs", "2"], { isRoot: true, cores: 2, flavour: "openmpi" });
  assert.equal(p.command, "mpirun");
  assert.deepEqual(p.args, ["-np", "4", "--allow-run-as-root", "--oversubscribe", process.execPath, "train.js", "--epochs", "2"]);
  const q = planLaunch(["--nproc-per-node=2", "--mpirun", "/opt/mpich/bin/mpiexec", "--", "s.js"], { isRoot: true, cores: 8, flavour: "other" });
  assert.deepEqual([q.command, ...q.args], ["/opt/mpich/bin/mpiexec", "-np", "2", process.execPath, "s.js"]);
  for (const [argv, msg] of [
    [["s.js"], /--nproc-per-node N is required/],
    [["--nproc-per-node", "0", "s.js"], /positive integer, got '0'/],
    [["--nproc-per-node", "2"], /no script given/],
    [["--nnodes", "2", "s.js"], /unknown option '--nnodes'/],
  ] as const) {
    assert.throws(() => planLaunch(argv, { isRoot: false, cores: 2, flavour: "openmpi" }), (e: Error) => e instanceof UsageError && msg.test(e.message));
  }
});

const hasMpirun = spawnSync("mpirun", ["--version"]).status === 0;

test("kindling launch --nproc-per-node 2 runs a script as a world of two and returns a failing rank's status", { skip: hasMpirun ? false : "mpirun not found (apt-get install openmpi-bin)" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "kindling-launch-"));
  const script = join(dir, "job.mjs");
  writeFileSync(script, `import * as torch from ${JSON.stringify(pathToFileURL(join(root, "dist", "src", "index.js")).href)};
const d = torch.distributed; d.initProcessGroup();
const t = torch.ones([1]); d.allReduce(t);
console.log("rank " + d.getRank() + " of " + d.getWorldSize() + " sum " + t.item() + " args " + process.argv.slice(2).join(","));
if (process.argv[2] === "fail" && d.getRank() === 1) process.exit(3);
d.barrier(); d.destroyProcessGroup();
`);
  const ok = spawnSync(process.execPath, [bin, "launch", "--nproc-per-node", "2", script, "x", "--y"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(ok.stdout.trim().split("\n").sort(), ["rank 0 of 2 sum 2 args x,--y", "rank 1 of 2 sum 2 args x,--y"]);
  const bad = spawnSync(process.execPath, [bin, "launch", "--nproc-per-node", "2", script, "fail"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(bad.status, 3, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /rank 1 of 2 failed \(exit code 3\)/);
});
