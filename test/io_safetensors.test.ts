import test from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";
import { load, loadFile, MAX_TENSORS, readHeader, save, saveFile, SafetensorsError } from "../src/io/safetensors.js";
import { jsonObjectMembers } from "../src/io/json_members.js";
import { removeStaleTemps, writeFileAtomicSync } from "../src/io/atomic.js";
import { TutorialNet } from "../src/models/tutorial_net.js";

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test → repository root
const root = path.resolve(here, "..", "..");
const fixtures = path.join(root, "test", "fixtures");

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "kindling-st-"));
}

function header(bytes: Uint8Array): Record<string, any> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8"));
}

function withHeader(h: unknown, data: Uint8Array, padTo8 = true): Uint8Array {
  let js = Buffer.from(JSON.stringify(h));
  if (padTo8 && js.length % 8) js = Buffer.concat([js, Buffer.alloc(8 - (js.length % 8), 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(js.length));
  return Buffer.concat([len, js, data]);
}

test("round trip of every dtype, with metadata, through a file", () => {
  const ts: Record<string, torch.Tensor> = {
    f32: torch.tensor([[1.5, -2.25, 3], [4, 5, Number.NaN]]),
    f64: torch.tensor([Math.PI, -1e300, 1e-300], { dtype: "float64" }),
    i32: torch.tensor([-2147483648, 0, 2147483647], { dtype: "int32" }),
    i64: torch.tensor([-(2 ** 53) + 1, -1, 0, 2 ** 40, 2 ** 53 - 1], { dtype: "int64" }),
    u8: torch.tensor([0, 1, 127, 255], { dtype: "uint8" }),
    b: torch.tensor([true, false, true]),
    scalar: torch.tensor(7, { dtype: "float32" }),
    empty: torch.zeros([0, 3]),
    noncontig: torch.arange(12).view(3, 4).t(),
  };
  const dir = tmpdir();
  const file = path.join(dir, "all.safetensors");
  saveFile(ts, file, { hello: "world", n: "3" });
  const { tensors, metadata } = loadFile(file);
  assert.deepEqual({ ...metadata }, { hello: "world", n: "3" });
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(ts).sort());
  for (const [k, t] of Object.entries(ts)) {
    const u = tensors[k]!;
    assert.equal(u.dtype, t.dtype, k);
    assert.deepEqual(u.shape, t.shape, k);
    assert.deepEqual(Array.from(u.toTypedArray()), Array.from(t.toTypedArray()), k);
  }
  // Byte-level layout: padded header, I64 as real int64, 8-byte aligned data for the 8-byte dtypes.
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const h = header(bytes);
  assert.equal(h.i64.dtype, "I64");
  const [b] = h.i64.data_offsets;
  assert.equal((8 + n + b) % 8, 0);
  assert.equal(bytes.readBigInt64LE(8 + n + b + 8), -1n);
  assert.equal(bytes.readBigInt64LE(8 + n + b + 32), 2n ** 53n - 1n);
  assert.equal(h.__metadata__.hello, "world");
  // No temporary files left behind.
  assert.deepEqual(fs.readdirSync(dir), ["all.safetensors"]);
  // Same bytes through the buffer API.
  assert.deepEqual(Buffer.from(save(ts, { hello: "world", n: "3" })), bytes);
  const again = load(bytes);
  assert.deepEqual(Array.from(again.tensors.i64!.toTypedArray()), Array.from(ts.i64!.toTypedArray()));
});

test("loading truncated, corrupt and inconsistent files fails with a clear error naming the file", () => {
  const dir = tmpdir();
  const good = save({ a: torch.ones([4, 4]), b: torch.zeros([3], { dtype: "int64" }) }, { k: "v" });
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /truncated/],
    ["short", good.subarray(0, 5), /truncated/],
    ["header cut", good.subarray(0, 20), /truncated: header says/],
    ["data cut", good.subarray(0, good.length - 3), /truncated|needs bytes/],
    ["huge header length", (() => { const c = Buffer.from(good); c.writeBigUInt64LE(2n ** 60n, 0); return c; })(), /exceeds/],
    ["not json", withHeader("x", new Uint8Array(0)).fill(0x41, 8), /does not start with|JSON/],
    ["bad json", (() => { const c = Buffer.from(good); c[9] = 0x3a; return c; })(), /not valid JSON/],
    ["array header", withHeader([1, 2], new Uint8Array(0)), /start with '\{'|not a JSON object/],
    ["bad dtype", withHeader({ a: { dtype: "C64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /unsupported dtype "C64"/],
    ["bad shape", withHeader({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /invalid shape/],
    ["size mismatch", withHeader({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /should take 12 bytes/],
    ["reversed offsets", withHeader({ a: { dtype: "U8", shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /begin after end/],
    ["out of range", withHeader({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /needs bytes \[0, 16\)/],
    [
      "overlap",
      withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)),
      /overlaps/,
    ],
    ["gap", withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /gap/],
    ["trailing", withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)), /trailing bytes/],
    ["metadata not strings", withHeader({ __metadata__: { a: 1 } }, new Uint8Array(0)), /must be a string/],
    [
      "int64 beyond 2^53",
      (() => {
        const d = Buffer.alloc(8);
        d.writeBigInt64LE(2n ** 60n);
        return withHeader({ a: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, d);
      })(),
      /beyond kindling's exact int64 range/,
    ],
  ];
  for (const [name, bytes, re] of cases) {
    const file = path.join(dir, `${name.replace(/ /g, "_")}.safetensors`);
    fs.writeFileSync(file, bytes);
    assert.throws(
      () => loadFile(file),
      (e: unknown) => {
        assert.ok(e instanceof SafetensorsError, `${name}: ${String(e)}`);
        assert.ok(e.message.startsWith(file + ":"), `${name}: message should name the file: ${e.message}`);
        assert.match(e.message, re, name);
        return true;
      },
    );
  }
  assert.throws(() => loadFile(path.join(dir, "missing.safetensors")), /missing\.safetensors: cannot read/);
});

test("every truncation point of a valid file is detected", () => {
  const good = save({ w: torch.randn([3, 5]), i: torch.tensor([1, 2], { dtype: "int64" }) }, { epoch: "1" });
  for (let cut = 0; cut < good.length; cut++) {
    assert.throws(() => load(good.subarray(0, cut), "cut"), SafetensorsError, `cut at ${cut}`);
  }
  assert.doesNotThrow(() => load(good));
});

test("F16 / BF16 / I16 / I8 written by PyTorch are widened on load", () => {
  const h = new DataView(new ArrayBuffer(2 * 3 + 2 * 2 + 2 * 2 + 2));
  [0x3c00, 0xc000, 0x7c00].forEach((v, i) => h.setUint16(i * 2, v, true)); // 1, -2, inf
  [0x3f80, 0xc040].forEach((v, i) => h.setUint16(6 + i * 2, v, true)); // 1, -3 in bf16
  h.setInt16(10, -300, true);
  h.setInt16(12, 300, true);
  h.setInt8(14, -5);
  h.setInt8(15, 5);
  const bytes = withHeader(
    {
      h: { dtype: "F16", shape: [3], data_offsets: [0, 6] },
      bf: { dtype: "BF16", shape: [2], data_offsets: [6, 10] },
      s: { dtype: "I16", shape: [2], data_offsets: [10, 14] },
      c: { dtype: "I8", shape: [2], data_offsets: [14, 16] },
    },
    new Uint8Array(h.buffer),
  );
  const { tensors } = load(bytes);
  assert.deepEqual(tensors.h!.tolist(), [1, -2, Infinity]);
  assert.deepEqual(tensors.bf!.tolist(), [1, -3]);
  assert.deepEqual(tensors.s!.tolist(), [-300, 300]);
  assert.deepEqual(tensors.c!.tolist(), [-5, 5]);
});

test("a PyTorch 1.13 state_dict saved as safetensors loads into kindling's Net and gives PyTorch's output", () => {
  const { tensors, metadata } = loadFile(path.join(fixtures, "torch_state.safetensors"));
  assert.match(metadata.source ?? "", /PyTorch 1\.13/);
  const net = new TutorialNet();
  const res = net.loadStateDict(tensors);
  assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
  const io = loadFile(path.join(fixtures, "torch_io.safetensors")).tensors;
  const y = torch.noGrad(() => net.forward(io.input!));
  assert.deepEqual(y.shape, [2, 10]);
  const got = y.toTypedArray();
  const want = io.output!.toTypedArray();
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-5, `output ${i}: ${got[i]} vs ${want[i]}`);
  // And back out: kindling's stateDict written with saveFile has PyTorch's names, shapes and bytes.
  const out = save(net.stateDict());
  const h = header(out);
  for (const [k, t] of Object.entries(tensors)) {
    assert.deepEqual(h[k].shape, t.shape);
    assert.equal(h[k].dtype, "F32");
  }
  const re = load(out).tensors;
  for (const [k, t] of Object.entries(tensors)) assert.deepEqual(re[k]!.toTypedArray(), t.toTypedArray(), k);
});

test("atomic writes: replace in place, no temp files, stale temps of dead writers are removed", () => {
  const dir = tmpdir();
  const f = path.join(dir, "x.bin");
  writeFileAtomicSync(f, new Uint8Array([1, 2, 3]));
  writeFileAtomicSync(f, [new Uint8Array([4]), new Uint8Array([5, 6])]);
  assert.deepEqual([...fs.readFileSync(f)], [4, 5, 6]);
  assert.deepEqual(fs.readdirSync(dir), ["x.bin"]);
  // A temp file from a pid that cannot exist (pid_max is < 2^22 on Linux) is stale; ours is not.
  fs.writeFileSync(path.join(dir, ".x.bin.tmp-99999999-abcd"), "torn");
  fs.writeFileSync(path.join(dir, `.x.bin.tmp-${process.pid}-abcd`), "mine");
  const removed = removeStaleTemps(f);
  assert.deepEqual(removed.map((p) => path.basename(p)), [".x.bin.tmp-99999999-abcd"]);
  assert.ok(fs.existsSync(path.join(dir, `.x.bin.tmp-${process.pid}-abcd`)));
});

/** A header of `n` one-element F32 tensors "t.0", "t.1", ... written as text (no object of n keys built here). */
function manyTensors(n: number): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`"t.${i}":{"dtype":"F32","shape":[1],"data_offsets":[${4 * i},${4 * i + 4}]}`);
  let js = Buffer.from(`{${parts.join(",")}}`);
  if (js.length % 8) js = Buffer.concat([js, Buffer.alloc(8 - (js.length % 8), 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(js.length));
  return Buffer.concat([len, js, Buffer.alloc(4 * n)]);
}

test("the tensor count is capped (MAX_TENSORS by default, maxTensors to change it) with an error that says so", () => {
  const four = manyTensors(4);
  assert.equal(Object.keys(load(four).tensors).length, 4);
  assert.throws(() => load(four, "four", { maxTensors: 3 }), /four: the header lists more than 3 tensors.*higher maxTensors option/);
  assert.equal(Object.keys(load(four, "four", { maxTensors: 4 }).tensors).length, 4);
  // Metadata, walked the same way (a header of a million metadata strings costs as much), has the same limit.
  const meta = withRaw('{"__metadata__":{"a":"1","b":"2","c":"3","d":"4"}}', new Uint8Array(0));
  assert.deepEqual({ ...load(meta).metadata }, { a: "1", b: "2", c: "3", d: "4" });
  assert.throws(() => load(meta, "meta", { maxTensors: 3 }), /meta: "__metadata__" has more than 3 entries/);
  assert.throws(() => load(withRaw('{"__metadata__":{"a":"1","a":"2"}}', new Uint8Array(0)), "twice"), /twice: "__metadata__" names "a" twice/);
  assert.throws(() => load(withRaw('{"__metadata__":["a"]}', new Uint8Array(0)), "list"), /list: "__metadata__" must be an object of strings/);
  assert.throws(() => load(withRaw('{"__metadata__":{"a":"1",}}', new Uint8Array(0)), "comma"), /comma: header is not valid JSON \(expected a quoted key at byte 25\)/);
  // The default: one tensor past it is refused (readHeader stops there: nothing is allocated per tensor).
  assert.throws(() => readHeader(manyTensors(MAX_TENSORS + 1), "many"), new RegExp(`more than ${MAX_TENSORS} tensors`));
});

test("header JSON is read member by member: escapes, nesting, spacing, and malformed text", () => {
  const members = (t: string) => [...jsonObjectMembers(Buffer.from(t))];
  assert.deepEqual(members(' { "a" : [1, {"b": "}]"}] , "c\\"d\\u00e9" :{}, "e":-1.5e3,"f":null,"g":"x" }  '), [
    ["a", [1, { b: "}]" }]],
    ['c"d\u00e9', {}],
    ["e", -1500],
    ["f", null],
    ["g", "x"],
  ]);
  assert.deepEqual(members("{}"), []);
  for (const bad of ['{"a":1', '{"a":1,}', '{"a" 1}', '{"a":1} x', '{"a":tru}', '{a:1}', '{"a":[1,2}', '{"a\n":1}', '{"a":"x}', "[1]", '{"a":}']) {
    assert.throws(() => members(bad), /at (byte \d+|the end of the text)/, bad);
  }
  // Through readHeader: the same errors, as SafetensorsErrors naming the source; duplicate names are refused.
  const a = '"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
  assert.throws(() => load(withRaw(`{${a},${a}}`, new Uint8Array(1)), "dup"), /dup: the header names "a" twice/);
  assert.throws(() => load(withRaw('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}} junk', new Uint8Array(1)), "junk"),
    /junk: header is not valid JSON \(unexpected text after the object at byte \d+\)/);
});

/** A file whose header is `text` exactly (padded with spaces), followed by `data`. */
function withRaw(text: string, data: Uint8Array): Uint8Array {
  let js = Buffer.from(text.trimEnd(), "latin1");
  if (js.length % 8) js = Buffer.concat([js, Buffer.alloc(8 - (js.length % 8), 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(js.length));
  return Buffer.concat([len, js, data]);
}

test('a tensor or metadata key named "__proto__" is a name like any other, on save and on load', () => {
  // Computed keys: a literal `__proto__:` would set the prototype instead.
  const bytes = save({ ["__proto__"]: torch.tensor([1, 2]), ["constructor"]: torch.tensor([3]), a: torch.tensor([4]) }, JSON.parse('{"__proto__":"m","k":"v"}'));
  // Written: the header has all three entries (JSON.parse defines "__proto__" as an own key).
  assert.deepEqual(Object.keys(header(bytes)).sort(), ["__metadata__", "__proto__", "a", "constructor"]);
  const { tensors, metadata } = load(bytes);
  assert.equal(Object.getPrototypeOf(tensors), null);
  assert.deepEqual(Object.keys(tensors).sort(), ["__proto__", "a", "constructor"]);
  assert.deepEqual(tensors["__proto__"]!.tolist(), [1, 2]);
  assert.deepEqual(tensors["constructor"]!.tolist(), [3]);
  assert.equal(Object.getPrototypeOf(metadata), null);
  assert.deepEqual({ ...metadata }, JSON.parse('{"__proto__":"m","k":"v"}'));
  // A dtype named like an Object.prototype member is an unsupported dtype, not a crash or NaN sizes.
  assert.throws(() => load(withHeader({ a: { dtype: "constructor", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4))), /unsupported dtype "constructor"/);
});

test("errors quote a huge tensor name, dtype or shape cut short, not whole", () => {
  const name = "n".repeat(5_000_000);
  const cases: [unknown, RegExp][] = [
    [{ [name]: { dtype: "C64", shape: [1], data_offsets: [0, 4] } }, /tensor "n{80}"… \(5,000,000 characters\) has unsupported dtype "C64"/],
    [{ a: { dtype: "x".repeat(1_000_000), shape: [1], data_offsets: [0, 4] } }, /tensor "a" has unsupported dtype "x{80}"… \(1,000,000 characters\)/],
    [{ a: { dtype: "F32", shape: new Array(500_000).fill(-1), data_offsets: [0, 4] } }, /tensor "a" has an invalid shape \[-1,-1,.*… \(1,500,001 characters\)/],
  ];
  for (const [h, re] of cases) {
    assert.throws(() => load(withHeader(h, new Uint8Array(4)), "big"), (e: Error) => {
      assert.match(e.message, re);
      assert.ok(e.message.length < 400, `${e.message.length} characters`);
      return true;
    });
  }
  const net = new TutorialNet();
  const sd: Record<string, torch.Tensor> = { ...net.stateDict(), [name]: torch.tensor([1]) };
  assert.throws(() => net.loadStateDict(sd), (e: Error) => e.message.length < 400 && /Unexpected key\(s\) in state_dict: "n{80}"… \(5,000,000 characters\)\./.test(e.message));
});

test("long key lists in loadStateDict errors are summarised", () => {
  const net = new TutorialNet();
  const sd: Record<string, torch.Tensor> = { ...net.stateDict() };
  for (let i = 0; i < 25_000; i++) sd[`extra.${i}`] = torch.tensor([i]);
  assert.throws(() => net.loadStateDict(sd), (e: Error) => {
    assert.match(e.message, /Unexpected key\(s\) in state_dict: "extra\.0", "extra\.1", .*"extra\.9", … and 24,990 more\./);
    assert.doesNotMatch(e.message, /extra\.10"/);
    assert.ok(e.message.length < 500, `${e.message.length} characters`);
    return true;
  });
  const missing = new TutorialNet();
  assert.throws(() => missing.loadStateDict({}), /Missing key\(s\) in state_dict: "conv1\.weight", .*"fc3\.bias"\./);
});
