// Expected failures of the kindling command: one clear line, no stack trace, and an exit code of their own.

import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readCheckpoint } from "../src/io/checkpoint.js";
import { load, save } from "../src/io/safetensors.js";
import * as torch from "kindling";
import type { Tensor } from "../src/tensor/tensor.js";
import { saveImage } from "../src/vision/utils.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const BIN = path.join(root, "bin", "kindling.js");
const DISK_FULL = path.join(here, "helpers", "disk_full.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-fail-"));
const TINY = ["--dataset", "synthetic", "--train-size", "8", "--test-size", "8", "--seed", "1", "--workers", "0", "--no-report"];

function kindling(args: string[], o: { env?: Record<string, string>; cwd?: string; nodeArgs?: string[] } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...(o.nodeArgs ?? []), BIN, ...args], { encoding: "utf8", env: { ...process.env, ...o.env }, cwd: o.cwd, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The failure is reported as one line naming the command (after any progress lines), and no stack trace. */
function oneLine(r: { stderr: string }, want: RegExp): void {
  const lines = r.stderr.split("\n").filter((l) => /^kindling (train|eval|predict): /.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, want, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.doesNotMatch(lines[0]!, /^kindling (\w+): \1: /, "the command named twice");
}

const good = path.join(tmp, "good");

test("a one-epoch run to break things with", () => {
  const r = kindling(["train", ...TINY, "--epochs", "1", "--out", good]);
  assert.equal(r.code, 0, r.stderr);
});

/** A copy of the good run's checkpoint, edited, in a run directory of its own. */
function brokenRun(name: string, edit: (info: Record<string, any>, tensors: Record<string, Tensor>) => void): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const { tensors, metadata } = load(fs.readFileSync(path.join(good, "checkpoint.safetensors")));
  const info = JSON.parse(metadata.kindling!);
  delete info.dataSha256; // the edits may change the data
  edit(info, tensors);
  fs.writeFileSync(path.join(dir, "checkpoint.safetensors"), save(tensors, { ...metadata, kindling: JSON.stringify(info) }));
  return dir;
}

test("--resume with a checkpoint that doesn't fit or is corrupt: exit 4, one line naming the file", () => {
  const cases: [string, (info: Record<string, any>, t: Record<string, Tensor>) => void, RegExp][] = [
    ["shape", (_i, t) => (t["conv1.weight"] = torch.zeros([6, 3, 3, 3])), /size mismatch for conv1\.weight: \[6, 3, 3, 3\] in the checkpoint, \[6, 3, 5, 5\] in the model/],
    ["optim-type", (i) => (i.optimizer.type = "Adam"), /the checkpoint's optimizer is Adam, not SGD/],
    ["optim-corrupt", (i) => (i.optimizer.paramGroups = 5), /optimizer entry is corrupt: "paramGroups" is 5, not a list/],
    ["short-rng", (i) => (i.rng.torch = i.rng.torch.slice(0, 3)), /rng state "torch" \(3 numbers\) is unusable/],
  ];
  for (const [name, edit, want] of cases) {
    const dir = brokenRun(`resume-${name}`, edit);
    const r = kindling(["train", "--resume", dir, "--epochs", "2", "--json"]);
    assert.equal(r.code, 4, `${name}: ${r.stderr}`);
    oneLine(r, new RegExp(`${dir}/checkpoint\\.safetensors: `));
    oneLine(r, want);
    assert.equal(JSON.parse(r.stdout).error.kind, "checkpoint");
  }
});

test("disk full while saving a checkpoint: exit 6, the file named, the previous checkpoint intact", () => {
  const dir = path.join(tmp, "full");
  fs.cpSync(good, dir, { recursive: true });
  const before = fs.readFileSync(path.join(dir, "checkpoint.safetensors"));
  const r = kindling(["train", "--resume", dir, "--epochs", "3", "--json"], { nodeArgs: ["--import", DISK_FULL], env: { KINDLING_TEST_DISK_FULL: "checkpoint\\.safetensors\\.tmp-" } });
  assert.equal(r.code, 6, r.stderr);
  oneLine(r, new RegExp(`disk full while writing ${dir}/checkpoint\\.safetensors: no space left on device \\(ENOSPC\\)`));
  assert.match(r.stderr, /Free some space, then continue with --resume/);
  assert.deepEqual(JSON.parse(r.stdout).error, { kind: "disk-full", code: 6, message: JSON.parse(r.stdout).error.message });
  assert.ok(fs.readFileSync(path.join(dir, "checkpoint.safetensors")).equals(before), "the last checkpoint was damaged");
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes(".tmp-")), [], "a temporary file was left behind");
  assert.equal(readCheckpoint(path.join(dir, "checkpoint.safetensors")).globalStep, 2);
});

test("an unusable --out fails before any data is loaded, with exit 5", () => {
  const file = path.join(tmp, "a-file");
  fs.writeFileSync(file, "x");
  for (const out of [file, path.join(file, "run")]) {
    const r = kindling(["train", ...TINY, "--out", out]);
    assert.equal(r.code, 5, r.stderr);
    oneLine(r, /is a file, not a directory/);
  }
  if (process.getuid?.() === 0) {
    // root writes anywhere a mode allows; /sys refuses new entries even to root (EPERM, or EROFS when mounted
    // read-only).
    const r = kindling(["train", ...TINY, "--out", "/sys/kindling-test-run"]);
    assert.equal(r.code, 5, r.stderr);
    oneLine(r, /--out \/sys\/kindling-test-run: cannot use it as the run directory: [a-z -]+ \(E[A-Z]+\)$/);
  } else {
    const locked = path.join(tmp, "locked");
    fs.mkdirSync(locked, { mode: 0o500 });
    const r = kindling(["train", ...TINY, "--out", path.join(locked, "run")]);
    assert.equal(r.code, 5, r.stderr);
    oneLine(r, /permission denied \(EACCES\)/);
  }
});

test("--device cuda without CUDA: exit 7, before the data is looked at", () => {
  const empty = fs.mkdtempSync(path.join(tmp, "nodata-"));
  const r = kindling(["train", "--data", empty, "--device", "cuda", "--out", path.join(tmp, "cuda-run")]);
  assert.equal(r.code, 7, r.stderr);
  oneLine(r, /--device cuda: CUDA is not available .*use --device cpu/);
  assert.ok(!fs.existsSync(path.join(tmp, "cuda-run")), "the run directory was made before the device was checked");
  const e = kindling(["eval", "--checkpoint", good, "--device", "cuda:1"]);
  assert.equal(e.code, 7, e.stderr);
});

test("--out holding a run is refused (exit 2) unless --force, which clears the old run's files; a default run says where it writes", () => {
  const before = fs.readFileSync(path.join(good, "checkpoint.safetensors"));
  const r = kindling(["train", ...TINY, "--out", good]);
  assert.equal(r.code, 2, r.stderr);
  oneLine(r, /already holds a run \(.*checkpoint\.safetensors.*\)\. Continue it with 'kindling train --resume .*', replace it with --force/);
  assert.ok(fs.readFileSync(path.join(good, "checkpoint.safetensors")).equals(before));

  const forced = path.join(tmp, "forced");
  fs.cpSync(good, forced, { recursive: true });
  fs.writeFileSync(path.join(forced, "events.out.tfevents.1.stale.0"), "");
  fs.writeFileSync(path.join(forced, "notes.txt"), "mine");
  const f = kindling(["train", ...TINY, "--seed", "2", "--epochs", "1", "--out", forced, "--force"]);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /--force: removed the earlier run's .*events\.out\.tfevents\.1\.stale\.0/);
  assert.equal(fs.readdirSync(forced).filter((n) => n.startsWith("events.out.tfevents.")).length, 1);
  assert.equal(fs.readFileSync(path.join(forced, "notes.txt"), "utf8"), "mine");
  assert.equal((readCheckpoint(path.join(forced, "checkpoint.safetensors")).extra.config as { seed: number }).seed, 2);

  const cwd = fs.mkdtempSync(path.join(tmp, "cwd-"));
  const d = kindling(["train", ...TINY, "--epochs", "1"], { cwd });
  assert.equal(d.code, 0, d.stderr);
  const m = /^Run directory: (runs\/\d{8}-\d{6})$/m.exec(d.stdout);
  assert.ok(m, d.stdout);
  assert.ok(fs.existsSync(path.join(cwd, m[1]!, "checkpoint.safetensors")));
});

test("eval/predict: --checkpoint files by any name, damaged PyTorch files refused clearly, the command named once", () => {
  const weights = path.join(tmp, "net.weights");
  fs.copyFileSync(path.join(good, "model.safetensors"), weights);
  const e = kindling(["eval", "--checkpoint", weights, "--workers", "0", "--test-size", "8", "--dataset", "synthetic", "--json"]);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).total, 8);

  const pth = path.join(tmp, "cifar_net.pth");
  fs.writeFileSync(pth, Buffer.from("PK\x03\x04archive/data.pkl", "latin1"));
  for (const cmd of ["eval", "predict"]) {
    const r = kindling([cmd, "--checkpoint", pth, ...(cmd === "predict" ? ["x.png"] : [])]);
    assert.equal(r.code, 4, r.stderr);
    oneLine(r, /cifar_net\.pth: the end of the zip archive is missing \(the file is truncated; save or copy it again\)/);
    const missing = kindling([cmd]);
    assert.equal(missing.code, 2);
    oneLine(missing, new RegExp(`^kindling ${cmd}: --checkpoint PATH is required$`));
  }
  const emptyDir = fs.mkdtempSync(path.join(tmp, "norun-"));
  const n = kindling(["eval", "--checkpoint", emptyDir]);
  assert.equal(n.code, 2);
  oneLine(n, /checkpoint not found: .* is a directory without checkpoint\.safetensors or model\.safetensors/);
});

test("eval/predict --checkpoint cifar_net.pth: the tutorial's torch.save(net.state_dict(), PATH) file, as PyTorch wrote it", () => {
  const fixtures = path.join(here, "..", "..", "test", "fixtures");
  const pth = path.join(fixtures, "cifar_net.pth");
  const st = path.join(fixtures, "torch_state.safetensors"); // the same weights (torch.manual_seed(0)) as safetensors
  const args = ["--workers", "0", "--test-size", "16", "--dataset", "synthetic", "--json"];
  const a = kindling(["eval", "--checkpoint", pth, ...args]);
  assert.equal(a.code, 0, a.stderr);
  const b = kindling(["eval", "--checkpoint", st, ...args]);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(JSON.parse(a.stdout).total, 16);
  assert.deepEqual(JSON.parse(a.stdout).confusion, JSON.parse(b.stdout).confusion);
  const png = path.join(tmp, "one.png");
  saveImage(torch.rand([3, 32, 32]), png);
  const p = kindling(["predict", "--checkpoint", pth, png, "--json"]);
  assert.equal(p.code, 0, p.stderr);
  const q = kindling(["predict", "--checkpoint", st, png, "--json"]);
  assert.deepEqual(JSON.parse(p.stdout).results[0].top, JSON.parse(q.stdout).results[0].top);
});

test("--help lists the exit codes", () => {
  for (const args of [["--help"], ["train", "--help"], ["eval", "--help"]]) {
    const h = kindling(args);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Exit codes:\n {2}0 +success\n/);
    for (const c of ["4 ", "5 ", "6 ", "7 ", "129, 130, 143"]) assert.ok(h.stdout.includes(`\n  ${c}`), c);
  }
});
