import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readCheckpoint } from "../src/io/checkpoint.js";
import { loadFile } from "../src/io/safetensors.js";
import { readTfRecords } from "../src/utils/tensorboard/index.js";
import { encodePng } from "../src/vision/png.js";
import jpeg from "jpeg-js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(root, "bin", "kindling.js");

function kindling(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-cli-"));
const run = path.join(tmp, "run");
const SMALL = ["--dataset", "synthetic", "--train-size", "40", "--test-size", "20", "--seed", "3", "--log-every", "5", "--workers", "0"];
let summary: Record<string, any>;

test("train --dataset synthetic --json: the tutorial's lines, a JSON summary and every output file", () => {
  const r = kindling(["train", ...SMALL, "--epochs", "1", "--out", run, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  summary = JSON.parse(r.stdout); // stdout is only the summary
  assert.equal(summary.command, "train");
  assert.equal(summary.steps, 10);
  assert.equal(summary.seed, 3);
  assert.equal(summary.interrupted, false);
  assert.ok(summary.accuracy >= 0 && summary.accuracy <= 1);
  assert.equal(Object.keys(summary.perClass).length, 10);
  assert.deepEqual(summary.lossLog.map((l: { step: number }) => l.step), [5, 10]);
  // Human lines went to stderr, in the seed's formats.
  const lines = r.stderr.split("\n");
  assert.match(lines[0]!, /^( *[a-z]+)( +[a-z]+){3}$/); // the training images' labels, '%5s' each
  assert.ok(lines.some((l) => /^\[1, {5}5\] loss: \d\.\d{3}$/.test(l)), r.stderr);
  assert.ok(lines.includes("Finished Training"));
  assert.ok(lines.some((l) => /^GroundTruth: ( +[a-z]+){4}$/.test(l)));
  assert.ok(lines.some((l) => /^Predicted: ( +[a-z]+){4}$/.test(l)));
  assert.ok(lines.some((l) => /^Accuracy of the network on the 20 test images: \d+ %$/.test(l)));
  assert.equal(lines.filter((l) => /^Accuracy of +[a-z]+ : +\d+ %$/.test(l)).length, 10);

  for (const f of ["checkpoint.safetensors", "model.safetensors", "metrics.jsonl", "report.html", "train_samples.png", "test_samples.png"]) {
    assert.ok(fs.statSync(path.join(run, f)).size > 0, f);
  }
  const ck = readCheckpoint(path.join(run, "checkpoint.safetensors"));
  assert.deepEqual([ck.epoch, ck.step, ck.globalStep], [1, 0, 10]);
  assert.ok("optim.state.0.momentum_buffer" in loadFile(path.join(run, "checkpoint.safetensors")).tensors);
  const weights = loadFile(path.join(run, "model.safetensors"));
  // model.safetensors is the checkpoint's weights without the optimizer's keys (those stop a strict PyTorch load).
  const ckKeys = Object.keys(loadFile(path.join(run, "checkpoint.safetensors")).tensors);
  assert.deepEqual(ckKeys.filter((k) => !k.startsWith("optim.")).sort(), Object.keys(weights.tensors).sort());
  assert.deepEqual({ ...weights.metadata }, { format: "pt" }); // parsed metadata has a null prototype
  assert.deepEqual(Object.keys(weights.tensors).sort(), ["conv1.bias", "conv1.weight", "conv2.bias", "conv2.weight", "fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight", "fc3.bias", "fc3.weight"]);
  const metrics = fs.readFileSync(path.join(run, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(metrics.filter((m) => m.type === "train").length, 10);
  assert.equal(metrics.filter((m) => m.type === "epoch").length, 1);
  const ev = metrics.find((m) => m.type === "eval");
  assert.equal(ev.accuracy, summary.accuracy);
  const events = fs.readdirSync(run).filter((f) => f.startsWith("events.out.tfevents."));
  assert.equal(events.length, 1);
  assert.equal(readTfRecords(fs.readFileSync(path.join(run, events[0]!))).length, 1 + 2 + 10 + 1); // version, 2 images, 10 losses, accuracy
  const html = fs.readFileSync(path.join(run, "report.html"), "utf8");
  assert.match(html, /id="loss-curve"/);
  assert.equal((html.match(/data:image\/png;base64/g) ?? []).length, 2);
});

test("eval --checkpoint reproduces the run's test accuracy and prints the confusion matrix", () => {
  const r = kindling(["eval", "--checkpoint", run, "--workers", "0", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout);
  assert.equal(e.accuracy, summary.accuracy);
  assert.equal(e.total, 20);
  assert.equal(e.confusion.flat().reduce((a: number, b: number) => a + b, 0), 20);
  assert.match(r.stderr, /Confusion matrix/);
  const plain = kindling(["eval", "--checkpoint", path.join(run, "checkpoint.safetensors"), "--workers", "2", "--quiet"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, "");
});

test("predict: top-3 classes with probabilities for PNGs and JPEGs of any size", () => {
  const big = path.join(tmp, "big.png");
  const w = 80, h = 50;
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) px.set([200, 40, 30], i * 3); // red-ish
  fs.writeFileSync(big, encodePng({ width: w, height: h, channels: 3, data: px }));
  const gray = path.join(tmp, "gray.png");
  fs.writeFileSync(gray, encodePng({ width: 7, height: 9, channels: 1, data: new Uint8Array(63).fill(120) }));
  const photo = path.join(tmp, "photo.jpg");
  const rgba = new Uint8Array(45 * 61 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));
  fs.writeFileSync(photo, jpeg.encode({ width: 45, height: 61, data: rgba }, 90).data);
  const r = kindling(["predict", "--checkpoint", run, big, gray, photo, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  assert.equal(p.results.length, 3);
  assert.deepEqual([p.results[2].width, p.results[2].height], [45, 61]);
  const cut = path.join(tmp, "cut.jpg");
  fs.writeFileSync(cut, fs.readFileSync(photo).subarray(0, 60));
  const rc = kindling(["predict", "--checkpoint", run, cut]);
  assert.equal(rc.code, 2);
  assert.match(rc.stderr, /cut\.jpg: not a readable JPEG/);
  const cutPng = path.join(tmp, "cut.png");
  fs.writeFileSync(cutPng, fs.readFileSync(big).subarray(0, 40));
  const rp = kindling(["predict", "--checkpoint", run, cutPng]);
  assert.equal(rp.code, 2);
  assert.match(rp.stderr, /cut\.png: /);
  assert.doesNotMatch(rp.stderr, /\n\s+at /, "no stack trace");
  for (const res of p.results) {
    assert.equal(res.top.length, 3);
    const probs = res.top.map((t: { probability: number }) => t.probability);
    assert.ok(probs[0] >= probs[1] && probs[1] >= probs[2] && probs[0] + probs[1] + probs[2] <= 1 + 1e-6);
  }
  assert.deepEqual([p.results[0].width, p.results[0].height], [80, 50]);
  assert.match(r.stderr, /big\.png: [a-z]+ \d+\.\d%, [a-z]+ \d+\.\d%, [a-z]+ \d+\.\d%/);
  const bad = path.join(tmp, "bad.png");
  fs.writeFileSync(bad, "not an image");
  const rb = kindling(["predict", "--checkpoint", run, bad]);
  assert.equal(rb.code, 2);
  assert.match(rb.stderr, /bad\.png: not a PNG or JPEG image/);
});

test("errors: missing CIFAR-10 is a data error (exit 3), bad options are usage errors (exit 2)", () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-nodata-"));
  const r = kindling(["train", "--data", empty, "--out", path.join(tmp, "x"), "--json"]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /Provide CIFAR-10/);
  assert.match(r.stderr, /--dataset synthetic/);
  assert.equal(JSON.parse(r.stdout).error.kind, "data");
  const u = kindling(["train", "--epochs", "two"]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--epochs expects a number/);
  assert.equal(kindling(["train", "--lr"]).code, 2);
  assert.equal(kindling(["frobnicate"]).code, 2);
  assert.equal(kindling(["eval"]).code, 2);
  const missing = kindling(["eval", "--checkpoint", path.join(tmp, "nope.safetensors")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /checkpoint not found/);
  const h = kindling(["train", "--help"]);
  assert.equal(h.code, 0);
  for (const o of ["--data", "--download", "--epochs", "--batch-size", "--lr", "--momentum", "--workers", "--seed", "--device", "--out", "--resume", "--log-every", "--quiet", "--json"]) {
    assert.ok(h.stdout.includes(o + " ") || h.stdout.includes(o + "\n"), o);
  }
  // A corrupt checkpoint is a clear error naming the file.
  const torn = path.join(tmp, "torn.safetensors");
  const good = fs.readFileSync(path.join(run, "checkpoint.safetensors"));
  fs.writeFileSync(torn, good.subarray(0, good.length - 100));
  const t = kindling(["eval", "--checkpoint", torn]);
  assert.equal(t.code, 4);
  assert.match(t.stderr, /torn\.safetensors: file is truncated/);
  assert.doesNotMatch(t.stderr, /\n +at /); // no stack trace for a known problem
});
