// torch.load / torch.save against files PyTorch 1.13 wrote and read (scripts/gen_torch_io_fixtures.py; the expected
// values are in test/fixtures/torch_io.json, so no Python runs here).
import test from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";
import { loadFile } from "../src/io/safetensors.js";
import { readZip, writeZip } from "../src/io/zip.js";
import { TutorialNet } from "../src/models/tutorial_net.js";
import { torchIoSample } from "./helpers/torch_io_sample.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, "..", "..", "test", "fixtures");
const fx = (name: string): string => path.join(fixtures, name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-torchio-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Expected = number | string | boolean | null | { tensor: TensorDesc } | { dict: Record<string, Expected> } | { list: Expected[] } | { tuple: Expected[] };
interface TensorDesc { dtype: string; shape: number[]; stride: number[]; offset: number; values: number[] }
const expected = JSON.parse(fs.readFileSync(fx("torch_io.json"), "utf8")) as Record<string, Expected>;

// Kindling's dtype for each PyTorch dtype it reads (narrow types widen).
const WIDENED: Record<string, string> = { float16: "float32", bfloat16: "float32", int16: "int32", int8: "int32" };

/** Deep comparison of a loaded value with what PyTorch described; `at` names the place in failures. */
function check(actual: unknown, exp: Expected, at: string): void {
  if (exp === null || typeof exp !== "object") {
    assert.equal(actual, exp, at);
    return;
  }
  if ("tensor" in exp) {
    assert.ok(actual instanceof torch.Tensor, `${at}: a Tensor`);
    const e = exp.tensor;
    assert.equal(actual.dtype, WIDENED[e.dtype] ?? e.dtype, `${at} dtype`);
    assert.deepEqual(actual.shape, e.shape, `${at} shape`);
    assert.deepEqual(actual.stride(), e.stride, `${at} stride`);
    assert.equal(actual.offset, e.offset, `${at} offset`);
    assert.deepEqual(Array.from(actual.toTypedArray(), Number), e.values, `${at} values`);
    return;
  }
  if ("dict" in exp) {
    assert.ok(actual !== null && typeof actual === "object" && !Array.isArray(actual), `${at}: an object`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(exp.dict).sort(), `${at} keys`);
    for (const [k, v] of Object.entries(exp.dict)) check((actual as Record<string, unknown>)[k], v, `${at}.${k}`);
    return;
  }
  const items = "list" in exp ? exp.list : exp.tuple;
  assert.ok(Array.isArray(actual), `${at}: an array`);
  assert.equal(Object.isFrozen(actual), "tuple" in exp, `${at}: tuples come back frozen, lists not`);
  assert.equal(actual.length, items.length, `${at} length`);
  items.forEach((v, i) => check(actual[i], v, `${at}[${i}]`));
}

for (const file of ["torch_io_torch.pt", "torch_io_legacy.pt"]) {
  test(`torch.load reads ${file} as PyTorch wrote it: every storage type, views, offsets, shared storage, nesting`, () => {
    const o = torch.load<Record<string, unknown>>(fx(file));
    check(o, expected.torch_written!, file);
    const state = o.state as Record<string, torch.Tensor>;
    assert.equal(state.f32T!.storage, state.f32!.storage, "a transposed view shares its base's storage");
    assert.equal(state.row!.storage, state.f32!.storage, "a slice shares it too");
    assert.equal(Object.getPrototypeOf(o), null, "dicts come back as null-prototype objects");
  });
}

test("net.loadStateDict(torch.load('cifar_net.pth')): the tutorial's own saved file gives PyTorch's outputs", () => {
  const sd = torch.load(fx("cifar_net.pth"));
  const ref = loadFile(fx("torch_state.safetensors")).tensors;
  assert.deepEqual(Object.keys(sd), ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]);
  assert.deepEqual(Object.keys(sd).sort(), Object.keys(ref).sort());
  for (const [k, t] of Object.entries(ref)) assert.deepEqual(Array.from(sd[k]!.toTypedArray()), Array.from(t.toTypedArray()), k);
  const net = new TutorialNet();
  net.loadStateDict(torch.load(fx("cifar_net.pth")));
  const io = loadFile(fx("torch_io.safetensors")).tensors;
  const out = torch.noGrad(() => net.forward(io.input!));
  assert.ok(torch.allclose(out, io.output!, { atol: 1e-5, rtol: 1e-5 }));
});

test("torch.save writes byte for byte the file PyTorch 1.13 read with weights_only=True, holding what it saw", () => {
  const file = path.join(tmp, "sample.pt");
  torch.save(torchIoSample(), file);
  assert.deepEqual(fs.readFileSync(file), fs.readFileSync(fx("torch_io_kindling.pt")), "the format PyTorch checked has not drifted");
  // What PyTorch read from that file, against the object saved.
  const seen = expected.kindling_written_as_torch_read_it as { dict: Record<string, Expected> };
  const sample = torchIoSample();
  for (const [k, v] of Object.entries(seen.dict)) {
    if (typeof v === "object" && v !== null && "tensor" in v) {
      const t = sample[k] as torch.Tensor;
      assert.deepEqual(v.tensor.values, Array.from(t.toTypedArray(), Number), k);
      assert.deepEqual(v.tensor.shape, t.shape, k);
      assert.deepEqual(v.tensor.stride, t.stride(), k);
      assert.equal(v.tensor.dtype, t.dtype, k);
    }
  }
  check(torch.load(file), seen, "round trip");
  const zip = readZip(fs.readFileSync(file));
  assert.deepEqual(zip.map((e) => e.name), ["archive/data.pkl", "archive/byteorder", "archive/data/0", "archive/data/1", "archive/data/2", "archive/data/3", "archive/data/4", "archive/data/5", "archive/version"], "conv.weight and its transpose share one storage record");
});

test("torch.save / torch.load round trip: a module's state dict, views and spans of large storages, floats, bigints", () => {
  const net = new TutorialNet();
  const file = path.join(tmp, "net.pth");
  torch.save(net.stateDict(), file);
  const net2 = new TutorialNet();
  net2.loadStateDict(torch.load(file));
  for (const [k, t] of Object.entries(net.stateDict())) assert.deepEqual(Array.from(net2.stateDict()[k]!.toTypedArray()), Array.from(t.toTypedArray()), k);

  const big = torch.arange(1000, { dtype: "float32" });
  const part = big.narrow(0, 100, 10); // only these ten elements are written
  const obj = { part, also: part.view([2, 5]), lr: 0.001, n: 2n ** 70n, neg: -(2 ** 40), map: new Map<string | number, torch.io.Savable>([[1, "one"]]) };
  torch.save(obj, file);
  const back = torch.load<Record<string, unknown>>(file);
  const p = back.part as torch.Tensor;
  assert.deepEqual(Array.from(p.toTypedArray()), Array.from({ length: 10 }, (_, i) => 100 + i));
  assert.equal((back.also as torch.Tensor).storage, p.storage);
  assert.equal(readZip(fs.readFileSync(file)).find((e) => e.name === "archive/data/0")!.data().length, 40, "the span, not the whole storage");
  assert.equal(back.lr, 0.001);
  assert.equal(back.n, 2n ** 70n);
  assert.equal(back.neg, -(2 ** 40));
  assert.deepEqual(back.map, new Map([[1, "one"]]));
});

/** A copy of a zip fixture with data.pkl's bytes replaced (the text edit is applied to its latin-1 form). */
function withPickle(file: string, edit: (pkl: string) => string): string {
  const entries = readZip(fs.readFileSync(fx(file)));
  const files = entries.map((e) => {
    let data = e.data();
    if (e.name.endsWith("data.pkl")) data = new Uint8Array(Buffer.from(edit(Buffer.from(data).toString("latin1")), "latin1"));
    return { name: e.name, data };
  });
  const out = path.join(tmp, `edited-${Math.random().toString(36).slice(2)}.pt`);
  fs.writeFileSync(out, Buffer.concat(writeZip(files)));
  return out;
}

test("bad input: truncated, wrong magic, damaged data, unsupported storages and pickle globals get clear errors", () => {
  const good = fs.readFileSync(fx("torch_io_torch.pt"));
  const cut = path.join(tmp, "cut.pt");
  fs.writeFileSync(cut, good.subarray(0, good.length - 100));
  assert.throws(() => torch.load(cut), (e: Error) => e.name === "TorchLoadError" && /cut\.pt: .*truncated/.test(e.message));
  fs.writeFileSync(cut, good.subarray(0, 1000));
  assert.throws(() => torch.load(cut), /truncated/);

  const junk = path.join(tmp, "junk.pt");
  fs.writeFileSync(junk, "hello world");
  assert.throws(() => torch.load(junk), /junk\.pt: not a torch\.save file \(it starts with 68 65 6c 6c/);

  const flipped = Buffer.from(good);
  const at = readZip(good).find((e) => e.name.endsWith("data/0"))!;
  flipped[Buffer.from(good).indexOf(Buffer.from(at.data().subarray(0, 8)))]! ^= 0xff;
  fs.writeFileSync(junk, flipped);
  assert.throws(() => torch.load(junk), /data\/0: CRC-32 mismatch/);

  const complex = withPickle("torch_io_torch.pt", (s) => s.replace("torch\nHalfStorage\n", "torch\nComplexFloatStorage\n"));
  assert.throws(() => torch.load(complex), /unsupported storage type torch\.ComplexFloatStorage: kindling reads FloatStorage, .*convert the tensor in PyTorch/);

  const evil = withPickle("cifar_net.pth", (s) => s.replace("collections\nOrderedDict\n", "os\nsystem\n"));
  assert.throws(() => torch.load(evil), (e: Error) =>
    /global 'os\.system' is not allowed\. torch\.load reads tensors, state dicts and plain containers .* never runs code .*class os\.system\. In PyTorch, save plain data instead/.test(e.message));
  const model = withPickle("cifar_net.pth", (s) => s.replace("collections\nOrderedDict\n", "__main__\nNet\n"));
  assert.throws(() => torch.load(model), /global '__main__\.Net' is not allowed.*torch\.save\(model\.state_dict\(\), path\)/);

  assert.throws(() => torch.load(fx("cifar_net.pth"), { weightsOnly: false }), /weightsOnly: false is not supported: kindling never runs code/);
  assert.throws(() => torch.load(path.join(tmp, "missing.pt")), /cannot read .*missing\.pt/);
  const legacy = fs.readFileSync(fx("torch_io_legacy.pt"));
  fs.writeFileSync(cut, legacy.subarray(0, legacy.length - 10));
  assert.throws(() => torch.load(cut), /cut\.pt: the file ends before storage \d+ \(it is truncated\)/);
});

test("torch.save refuses what it can't write, naming where it is", () => {
  class Thing {}
  const obj = { a: { b: [1, new Thing()] } } as unknown as torch.io.Savable;
  assert.throws(() => torch.save(obj, path.join(tmp, "x.pt")), /torch\.save: \["a"\]\["b"\]\[1\] is a Thing; torch\.save writes tensors and plain objects/);
  assert.ok(!fs.existsSync(path.join(tmp, "x.pt")), "nothing is left behind");
});
