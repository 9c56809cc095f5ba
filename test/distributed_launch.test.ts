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
    [["--nnodes", "2", "--nproc-per-node", "2", "s.js"], /--nnodes 2 needs the nodes for mpirun: --hosts NODE0,NODE1,\.\.\. \(node 0 first\) or --hostfile FILE/],
    [["--nnodes", "2", "--hosts", "a,b,c", "--nproc-per-node", "2", "s.js"], /--hosts names 3 node\(s\) but --nnodes is 2/],
    [["--nnodes", "2", "--node-rank", "1", "--nproc-per-node", "2", "s.js"], /--node-rank 1: with MPI, one mpirun on node 0 starts the processes of every node .*on node 0 run kindling launch --nnodes 2 --nproc-per-node 2 --hosts NODE0,NODE1,\.\.\. s\.js/],
    [["--nnodes", "2", "--node-rank", "2", "--nproc-per-node", "2", "s.js"], /--node-rank 2 is not below --nnodes 2/],
    [["--master-port", "70000", "--nproc-per-node", "2", "s.js"], /--master-port must be 1\.\.65535/],
    [["--hosts", "a", "--hostfile", "f", "--nproc-per-node", "2", "s.js"], /--hosts or --hostfile, not both/],
    [["--bogus", "s.js"], /unknown option '--bogus'/],
  ] as const) {
    assert.throws(() => planLaunch(argv, { isRoot: false, cores: 2, flavour: "openmpi" }), (e: Error) => e instanceof UsageError && msg.test(e.message));
  }
});

test("launch --nnodes: one mpirun for every node, hosts and MASTER_ADDR/MASTER_PORT passed the way each MPI spells them", () => {
  const ompi = planLaunch(["--nnodes", "2", "--nproc_per_node", "4", "--hosts", "n0,n1", "--master-port", "1234", "t.js"], { isRoot: false, cores: 2, flavour: "openmpi" });
  assert.deepEqual(ompi.args, ["-np", "8", "--host", "n0:4,n1:4", "--map-by", "ppr:4:node", "-x", "MASTER_ADDR=n0", "-x", "MASTER_PORT=1234", process.execPath, "t.js"]);
  const hydra = planLaunch(["--nnodes=2", "--nproc-per-node=1", "--hostfile", "hosts.txt", "--master-addr", "10.0.0.5", "--node-rank", "0", "t.js"], { isRoot: true, cores: 2, flavour: "other" });
  assert.deepEqual(hydra.args, ["-np", "2", "-f", "hosts.txt", "-genv", "MASTER_ADDR", "10.0.0.5", "-genv", "MASTER_PORT", "29500", process.execPath, "t.js"]);
  const one = planLaunch(["--nproc-per-node", "2", "--master-port", "29600", "t.js"], { isRoot: false, cores: 4, flavour: "openmpi" });
  assert.deepEqual(one.args, ["-np", "2", "-x", "MASTER_ADDR=127.0.0.1", "-x", "MASTER_PORT=29600", process.execPath, "t.js"]);
});

const hasMpirun = spawnSync("mpirun", ["--version"]).status === 0;

test("kindling launch --master-port: the ranks meet through rendezvous('env://') at rank 0's TCPStore", { skip: hasMpirun ? false : "mpirun not found (apt-get install openmpi-bin)" }, async () => {
  const net = await import("node:net");
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  const worker = join(root, "dist", "test", "helpers", "store_worker.js");
  const r = spawnSync(process.execPath, [bin, "launch", "--nproc-per-node", "2", "--master-port", String(port), worker], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { rank: number; seen: string[] }).sort((a, b) => a.rank - b.rank);
  assert.deepEqual(out.map((o) => o.rank), [0, 1]);
  for (const o of out) assert.deepEqual(o.seen, ["hello from 0", "hello from 1"]);
});

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
