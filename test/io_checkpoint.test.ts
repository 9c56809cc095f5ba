import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";
import { CheckpointError, loadCheckpoint, readCheckpoint, saveCheckpoint } from "../src/io/checkpoint.js";
import { load, loadFile, save } from "../src/io/safetensors.js";
import { TutorialNet } from "../src/models/tutorial_net.js";

const self = fileURLToPath(import.meta.url);

// ---- child mode: write checkpoints in a loop until killed ----
if (process.env.KINDLING_CKPT_CHILD) {
  const file = process.env.KINDLING_CKPT_CHILD;
  const model = new (class extends torch.nn.Module {
    declare big: torch.nn.Linear;
    constructor() {
      super();
      this.big = new torch.nn.Linear(1024, 1024); // 4 MB of weights: writes take long enough to be interrupted
    }
    forward(x: torch.Tensor): torch.Tensor {
      return this.big.forward(x);
    }
  })();
  for (let i = 1; ; i++) {
    torch.noGrad(() => {
      model.big.weight.fill_(i);
      model.big.bias!.fill_(i);
    });
    saveCheckpoint(file, { model, epoch: i, step: i, globalStep: i, extra: { i } });
    if (i === 1) process.stdout.write("first\n");
  }
}

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "kindling-ck-"));
}

function trainSteps(net: TutorialNet, opt: torch.optim.SGD, n: number, gen: torch.Generator): void {
  for (let s = 0; s < n; s++) {
    const x = torch.randn([2, 3, 32, 32], { generator: gen });
    const y = torch.tensor([s % 10, (s * 3) % 10], { dtype: "int64" });
    opt.zeroGrad();
    const loss = torch.nn.F.crossEntropy(net.forward(x), y);
    loss.backward();
    opt.step();
  }
}

function weightBytes(net: TutorialNet): Buffer {
  return Buffer.from(save(net.stateDict()));
}

test("checkpoint round trip restores weights, momentum, hyperparameters, RNG states and counters", { skip: !!process.env.KINDLING_CKPT_CHILD }, () => {
  const dir = tmpdir();
  const file = path.join(dir, "checkpoint.safetensors");
  torch.manualSeed(1);
  const net = new TutorialNet();
  const opt = new torch.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const gen = new torch.Generator(5);
  trainSteps(net, opt, 3, gen);
  const loaderGen = new torch.Generator(77);
  loaderGen.nextUint32();
  torch.randn([3]); // leave a spare normal in the default generator (its state holds a number, not NaN)
  saveCheckpoint(file, {
    model: net,
    optimizer: opt,
    epoch: 1,
    step: 3,
    globalStep: 12503,
    rng: { torch: torch.getRngState(), loader: loaderGen.getState() },
    extra: { note: "hello", lossHistory: [2.3, 2.2] },
  });
  const expectNext = torch.randn([4]).tolist();
  const loaderNext = loaderGen.nextUint32();

  // The file is plain safetensors with PyTorch's names plus the optimizer's buffers.
  const { tensors, metadata } = loadFile(file);
  assert.ok("conv1.weight" in tensors && "fc3.bias" in tensors);
  assert.ok("optim.state.0.momentum_buffer" in tensors && "optim.state.9.momentum_buffer" in tensors);
  const meta = JSON.parse(metadata.kindling!);
  assert.equal(meta.optimizer.type, "SGD");
  assert.equal(meta.optimizer.paramGroups[0].lr, 0.01);
  assert.equal(meta.optimizer.paramGroups[0].momentum, 0.9);
  assert.equal(meta.kindlingVersion, "0.1.0");

  torch.manualSeed(999);
  const net2 = new TutorialNet();
  const opt2 = new torch.optim.SGD(net2.parameters(), { lr: 0.5 });
  const loader2 = new torch.Generator(1);
  const info = loadCheckpoint(file, { model: net2, optimizer: opt2, loaderGenerator: loader2 });
  assert.equal(info.epoch, 1);
  assert.equal(info.step, 3);
  assert.equal(info.globalStep, 12503);
  assert.deepEqual(info.extra, { note: "hello", lossHistory: [2.3, 2.2] });
  assert.equal(opt2.paramGroups[0]!.options.lr, 0.01);
  assert.equal(opt2.paramGroups[0]!.options.momentum, 0.9);
  assert.deepEqual(torch.randn([4]).tolist(), expectNext);
  assert.equal(loader2.nextUint32(), loaderNext);
  assert.ok(weightBytes(net).equals(weightBytes(net2)));

  // Continuing both runs gives bitwise-identical weights (momentum buffers restored exactly).
  const ga = new torch.Generator(9);
  const gb = new torch.Generator(9);
  trainSteps(net, opt, 2, ga);
  trainSteps(net2, opt2, 2, gb);
  assert.ok(weightBytes(net).equals(weightBytes(net2)));

  const ck = readCheckpoint(file);
  assert.equal(ck.optimizerType, "SGD");
  assert.throws(() => loadCheckpoint(file, { model: net2, optimizer: new torch.optim.Adam(net2.parameters()) }), /optimizer is SGD, not Adam/);
  assert.throws(() => loadCheckpoint(file, { model: new (class extends torch.nn.Module { declare l: torch.nn.Linear; constructor() { super(); this.l = new torch.nn.Linear(2, 2); } forward() { return null; } })() }), /missing key\(s\) "l\.weight", "l\.bias"; unexpected key\(s\) .* … and 7 more/);
  // A plain weights file is not a checkpoint.
  const plain = path.join(dir, "plain.safetensors");
  fs.writeFileSync(plain, save(net.stateDict()));
  assert.throws(() => readCheckpoint(plain), /not a kindling checkpoint/);
});

test("a process SIGKILLed while writing checkpoints in a loop always leaves a loadable, consistent file", { skip: !!process.env.KINDLING_CKPT_CHILD, timeout: 60_000 }, async () => {
  const dir = tmpdir();
  const file = path.join(dir, "checkpoint.safetensors");
  let lastSeen = 0;
  let tornWrites = 0; // kills that landed in the middle of a write (a temporary file was left)
  const rounds = 8;
  for (let r = 0; r < rounds; r++) {
    const child = spawn(process.execPath, [self], { env: { ...process.env, KINDLING_CKPT_CHILD: file }, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    await new Promise((res) => setTimeout(res, 20 + Math.random() * 200));
    const exited = new Promise((res) => child.once("exit", res));
    child.kill("SIGKILL");
    await exited;
    if (fs.readdirSync(dir).some((n) => n.includes(".tmp-"))) tornWrites++;
    const ck = readCheckpoint(file); // throws on a torn file
    const i = ck.extra.i as number;
    assert.ok(i >= 1);
    assert.equal(ck.epoch, i);
    for (const [k, t] of Object.entries(ck.tensors)) {
      const a = t.dataSync();
      assert.ok(a.every((v) => v === i), `${k} holds values of another write than its metadata (${i})`);
    }
    lastSeen = i;
  }
  assert.ok(lastSeen >= 1);
  console.log(`${tornWrites}/${rounds} kills interrupted a write`);
  // The killed writers' temporary files are cleaned up by the next save.
  const model = new TutorialNet();
  saveCheckpoint(file, { model });
  assert.deepEqual(fs.readdirSync(dir), ["checkpoint.safetensors"]);
});

/** Rewrites the checkpoint's kindling metadata (the tensors, and so the data checksum, stay as they were). */
function editMeta(src: string, dst: string, edit: (info: Record<string, any>) => void, editTensors?: (t: Record<string, torch.Tensor>) => void): void {
  const { tensors, metadata } = load(fs.readFileSync(src));
  const info = JSON.parse(metadata.kindling!);
  edit(info);
  editTensors?.(tensors);
  if (editTensors) delete info.dataSha256;
  fs.writeFileSync(dst, save(tensors, { ...metadata, kindling: JSON.stringify(info) }));
}

function trainedCheckpoint(dir: string): string {
  torch.manualSeed(2);
  const net = new TutorialNet();
  const opt = new torch.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  trainSteps(net, opt, 2, new torch.Generator(3));
  const file = path.join(dir, "checkpoint.safetensors");
  saveCheckpoint(file, { model: net, optimizer: opt, epoch: 0, step: 2, globalStep: 2, rng: { torch: torch.getRngState(), loader: new torch.Generator(4).getState() } });
  return file;
}

test("a restore that fails validates first: the model, optimizer and generators are left untouched", { skip: !!process.env.KINDLING_CKPT_CHILD }, () => {
  const dir = tmpdir();
  const file = trainedCheckpoint(dir);
  const attempt = (f: string, o: { adam?: boolean } = {}): { err: unknown; untouched: boolean } => {
    torch.manualSeed(50);
    const net = new TutorialNet();
    const before = weightBytes(net);
    const rngBefore = torch.getRngState();
    const opt = o.adam ? new torch.optim.Adam(net.parameters()) : new torch.optim.SGD(net.parameters(), { lr: 0.5 });
    const loaderGen = new torch.Generator(8);
    const loaderBefore = loaderGen.getState();
    let err: unknown = null;
    try {
      loadCheckpoint(f, { model: net, optimizer: opt, loaderGenerator: loaderGen });
    } catch (e) {
      err = e;
    }
    const untouched =
      weightBytes(net).equals(before) &&
      opt.paramGroups[0]!.options.lr === (o.adam ? 0.001 : 0.5) &&
      opt.state.size === 0 &&
      JSON.stringify(torch.getRngState()) === JSON.stringify(rngBefore) &&
      JSON.stringify(loaderGen.getState()) === JSON.stringify(loaderBefore);
    return { err, untouched };
  };
  // The optimizer type does not match.
  const adam = attempt(file, { adam: true });
  assert.ok(adam.err instanceof CheckpointError, String(adam.err));
  assert.match((adam.err as Error).message, /checkpoint\.safetensors: the checkpoint's optimizer is SGD, not Adam/);
  assert.ok(adam.untouched, "weights or state changed by a failed restore");
  // An optimizer state tensor of the wrong shape (the weights would load fine).
  const badState = path.join(dir, "bad-state.safetensors");
  editMeta(file, badState, () => undefined, (t) => {
    t["optim.state.1.momentum_buffer"] = t["optim.state.0.momentum_buffer"]!;
  });
  const bs = attempt(badState);
  assert.ok(bs.err instanceof CheckpointError, String(bs.err));
  assert.match((bs.err as Error).message, /optimizer state "momentum_buffer" of parameter 1 has shape \[6, 3, 5, 5\], the parameter \[6\]/);
  assert.ok(bs.untouched);
  // A short RNG state, named with its file.
  const shortRng = path.join(dir, "short-rng.safetensors");
  editMeta(file, shortRng, (info) => {
    info.rng.loader = info.rng.loader.slice(0, 3);
  });
  const sr = attempt(shortRng);
  assert.ok(sr.err instanceof CheckpointError, String(sr.err));
  assert.match((sr.err as Error).message, /short-rng\.safetensors: rng state "loader" \(3 numbers\) is unusable/);
  assert.ok(sr.untouched);
  // A restore that passes applies everything.
  const ok = attempt(file);
  assert.equal(ok.err, null);
  assert.ok(!ok.untouched);
});

test("a corrupted optimizer entry in the metadata is a CheckpointError naming the file, not a TypeError", { skip: !!process.env.KINDLING_CKPT_CHILD }, () => {
  const dir = tmpdir();
  const file = trainedCheckpoint(dir);
  const cases: [string, (info: Record<string, any>) => void, RegExp][] = [
    ["groups-string", (i) => (i.optimizer.paramGroups = "oops"), /"paramGroups" is "oops", not a list/],
    ["params-missing", (i) => delete i.optimizer.paramGroups[0].params, /parameter group 0 has no list of parameter indices/],
    ["scalar-state", (i) => (i.optimizer.scalarState = { "0": { step: "x" } }), /scalarState of parameter 0 is not an object of numbers/],
    ["unknown-param", (i) => (i.optimizer.tensorState = { "99": ["momentum_buffer"] }), /names parameter "99"/],
    ["tensor-missing", (i) => (i.optimizer.tensorState["0"] = ["exp_avg"]), /optimizer state tensor "optim\.state\.0\.exp_avg" is missing/],
    ["hyper", (i) => (i.optimizer.paramGroups[0].lr = { a: 1 }), /option "lr" is \{"a":1\}/],
  ];
  for (const [name, edit, want] of cases) {
    const f = path.join(dir, `${name}.safetensors`);
    editMeta(file, f, edit);
    assert.throws(() => readCheckpoint(f), (e: Error) => e instanceof CheckpointError && e.message.startsWith(f) && want.test(e.message), name);
  }
});

test("checkpoints carry a SHA-256 of their data: flipped bytes are caught, older checkpoints without it still load", { skip: !!process.env.KINDLING_CKPT_CHILD }, () => {
  const dir = tmpdir();
  const file = trainedCheckpoint(dir);
  const bytes = fs.readFileSync(file);
  const info = JSON.parse(load(bytes).metadata.kindling!);
  assert.match(info.dataSha256, /^[0-9a-f]{64}$/);
  const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
  for (const at of [dataStart, dataStart + 12345, bytes.length - 1]) {
    const bad = Buffer.from(bytes);
    bad[at]! ^= 0x10;
    const f = path.join(dir, "flipped.safetensors");
    fs.writeFileSync(f, bad);
    assert.throws(() => readCheckpoint(f), (e: Error) => e instanceof CheckpointError && /flipped\.safetensors: checksum mismatch: the tensor data is corrupt/.test(e.message), `byte ${at}`);
  }
  const old = path.join(dir, "old.safetensors");
  editMeta(file, old, (i) => delete i.dataSha256);
  const ck = readCheckpoint(old);
  assert.equal(ck.globalStep, 2);
  // Plain safetensors files stay plain: no kindling metadata, nothing checked.
  const plain = path.join(dir, "plain.safetensors");
  torch.io.safetensors.saveFile(new TutorialNet().stateDict(), plain, { format: "pt" });
  assert.deepEqual({ ...loadFile(plain).metadata }, { format: "pt" });
});
