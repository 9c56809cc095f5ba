// Names that collide with Object.prototype's members ("__proto__", "constructor") are ordinary keys in checkpoints
// and state dicts: they are reported or kept, never swallowed by the prototype chain.
import test from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as torch from "kindling";
import { readCheckpoint, saveCheckpoint } from "../src/io/checkpoint.js";
import { loadFile, saveFile } from "../src/io/safetensors.js";
import { TutorialNet } from "../src/models/tutorial_net.js";

test("loadStateDict reports '__proto__' and 'constructor' as unexpected keys under strict loading", () => {
  const net = new TutorialNet();
  for (const name of ["__proto__", "constructor"]) {
    const sd = Object.assign(Object.create(null) as Record<string, torch.Tensor>, net.stateDict());
    Object.defineProperty(sd, name, { value: torch.zeros(1), enumerable: true, configurable: true, writable: true });
    assert.throws(() => net.loadStateDict(sd), new RegExp(`Unexpected key\\(s\\) in state_dict: "${name}"`));
    assert.deepEqual(net.loadStateDict(sd, { strict: false }).unexpectedKeys, [name]);
  }
});

test("readCheckpoint keeps a tensor named '__proto__' as a tensor beside the others", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-proto-"));
  const file = path.join(dir, "checkpoint.safetensors");
  const net = new TutorialNet();
  saveCheckpoint(file, { model: net, epoch: 0, step: 0, globalStep: 0 });
  const { tensors, metadata } = loadFile(file);
  const info = JSON.parse(metadata.kindling!) as Record<string, unknown>;
  delete info.dataSha256; // rewritten below, so the data section changes
  Object.defineProperty(tensors, "__proto__", { value: torch.ones(3), enumerable: true, configurable: true, writable: true });
  saveFile(tensors, file, { ...metadata, kindling: JSON.stringify(info) });
  const ck = readCheckpoint(file);
  assert.ok(Object.hasOwn(ck.tensors, "__proto__"));
  assert.deepEqual(ck.tensors["__proto__"].tolist(), [1, 1, 1]);
  assert.ok(Object.hasOwn(ck.tensors, "conv1.weight"));
  fs.rmSync(dir, { recursive: true, force: true });
});
