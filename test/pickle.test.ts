// The safe unpickler: Python 2 CIFAR layout, refusals, and bounds on what a pickle may allocate.
import test from "node:test";
import assert from "node:assert/strict";
import { NdArray, UnpicklingError, unpickle } from "../src/io/pickle.js";
import { PickleWriter, maliciousPickle, py2BatchPickle, py2MetaPickle, CLASSES } from "./helpers/cifar_fixtures.js";

function refuses(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => unpickle(bytes, { source: "evil.pkl" }), (e: unknown) => {
    assert.ok(e instanceof UnpicklingError, `expected UnpicklingError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    assert.match((e as Error).message, /^evil\.pkl: pickle byte \d+/);
    return true;
  });
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

test("python 2 CIFAR batch layout: str keys, _reconstruct + dtype + BUILD, labels list", () => {
  const rows = new Uint8Array(2 * 3072).map((_, i) => (i * 5) & 0xff);
  const bytes = py2BatchPickle({ rows, labels: [7, 0], batchLabel: "training batch 1 of 5", filenames: ["x.png", "y.png"] });
  const d = unpickle(bytes) as Map<string, unknown>;
  assert.deepEqual([...d.keys()], ["data", "labels", "batch_label", "filenames"]);
  const data = d.get("data") as NdArray;
  assert.deepEqual(data.shape, [2, 3072]);
  assert.equal(data.dtype.code, "u1");
  assert.deepEqual(data.data, rows);
  assert.deepEqual(d.get("labels"), [7, 0]);
  // Python 2 str values stay bytes (that is what they are); keys become strings.
  assert.equal(Buffer.from(d.get("batch_label") as Uint8Array).toString("latin1"), "training batch 1 of 5");
});

test("python 2 batches.meta", () => {
  const d = unpickle(py2MetaPickle(CLASSES, 10000)) as Map<string, unknown>;
  assert.equal(d.get("num_cases_per_batch"), 10000);
  const names = (d.get("label_names") as Uint8Array[]).map((b) => Buffer.from(b).toString("latin1"));
  assert.deepEqual(names, CLASSES);
});

test("protocol 0 text opcodes", () => {
  // Python 2: pickle.dumps({'a': [1, 2.5, 'x', u'\u00e9', None, True, 123456789012345678901L]}, 0)
  const p0 = ascii("(dp0\nS'a'\np1\n(lp2\nI1\naF2.5\naS'x\\n'\np3\naV\\u00e9\np4\naNaI01\naL123456789012345678901L\nas.");
  const d = unpickle(p0) as Map<string, unknown>;
  const a = d.get("a") as unknown[];
  assert.equal(a[0], 1);
  assert.equal(a[1], 2.5);
  assert.deepEqual(a[2], ascii("x\n"));
  assert.equal(a[3], "é");
  assert.equal(a[4], null);
  assert.equal(a[5], true);
  assert.equal(a[6], 123456789012345678901n);
});

test("memo: shared references, MEMOIZE and self-reference", () => {
  // [l, l] where l = []: EMPTY_LIST MEMOIZE MARK EMPTY_LIST MEMOIZE BINGET 1 APPENDS
  const outer = unpickle(hex("80 04 5d 94 28 5d 94 68 01 65 2e")) as unknown[][];
  assert.equal(outer.length, 2);
  assert.equal(outer[0], outer[1]);
  // l = []; l.append(l): EMPTY_LIST BINPUT 0 BINGET 0 APPEND
  const l = unpickle(hex("80 02 5d 71 00 68 00 61 2e")) as unknown[];
  assert.equal(l[0], l);
});

test("refuses a malicious os.system pickle, naming the global", () => {
  refuses(maliciousPickle(), /global 'os\.system' is not allowed/);
  refuses(maliciousPickle("builtins", "eval"), /global 'builtins\.eval' is not allowed/);
  refuses(maliciousPickle("__builtin__", "getattr"), /global '__builtin__\.getattr' is not allowed/);
  refuses(maliciousPickle("subprocess", "Popen"), /subprocess\.Popen/);
});

test("refuses STACK_GLOBAL to a disallowed global (protocol 4)", () => {
  const p = cat(hex("80 04 8c 02"), ascii("os"), hex("8c 06"), ascii("system"), hex("93 2e"));
  refuses(p, /global 'os\.system' is not allowed/);
});

test("refuses INST, OBJ, NEWOBJ, persistent ids and extension codes", () => {
  refuses(cat(ascii("(ios\nsystem\n"), ascii("S'ls'\n.")), /os\.system/);
  refuses(hex("80 02 28 4e 6f 2e"), /OBJ/);
  refuses(hex("80 02 4e 29 81 2e"), /NEWOBJ/);
  refuses(hex("80 02 4e 51 2e"), /BINPERSID/);
  refuses(ascii("Pfoo\n."), /PERSID/);
  refuses(hex("80 02 82 01 2e"), /EXT1/);
});

test("refuses calling numpy.ndarray or a non-callable, and arrays of objects", () => {
  const w = new PickleWriter().proto(2).global("numpy", "ndarray").int(0).tuple1().reduce().stop();
  refuses(w.bytes(), /cannot call global numpy\.ndarray/);
});

test("bounded allocation: lengths beyond the input are refused before allocating", () => {
  refuses(hex("80 03 42 ff ff ff 7f 00"), /BINBYTES of 2147483647 bytes runs past the end/);
  refuses(hex("80 02 54 00 00 00 40 61"), /BINSTRING of 1073741824 bytes runs past the end/);
  refuses(hex("80 04 8e ff ff ff ff ff ff ff ff"), /BINBYTES8 .* runs past the end/);
  refuses(hex("80 05 96 00 00 00 00 01 00 00 00"), /BYTEARRAY8 .* runs past the end/);
  refuses(hex("80 04 95 00 00 00 00 01 00 00 00 4e 2e"), /FRAME .* runs past the end/);
  refuses(hex("80 02 8b ff ff ff 7f"), /LONG4 .* runs past the end/);
  refuses(hex("80 02 54 ff ff ff ff"), /BINSTRING of -1 bytes/);
});

test("bounded allocation: an array whose shape exceeds its data is refused", () => {
  const w = new PickleWriter().proto(2);
  w.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").int(0).tuple1().str("b").tuple3().reduce();
  w.mark().int(1).int(100000).int(100000).tuple2();
  w.global("numpy", "dtype").str("f8").int(0).int(1).tuple3().reduce();
  w.mark().int(3).str("<").none().none().none().int(-1).int(-1).int(0).tuple().build();
  w.newFalse().str("tiny").tuple().build().stop();
  refuses(w.bytes(), /needs more data than the pickle holds|needs \d+ bytes/);
});

test("memo size is capped", () => {
  const parts = [hex("80 04")];
  for (let i = 0; i < 20; i++) parts.push(hex("4e 94 30"));
  parts.push(hex("4e 2e"));
  assert.equal(unpickle(cat(...parts)), null);
  assert.throws(() => unpickle(cat(...parts), { maxMemo: 10 }), /memo exceeds 10 entries/);
});

test("truncated input and garbage are errors, not crashes", () => {
  const good = py2MetaPickle(CLASSES, 3);
  for (const cut of [1, 5, 20, good.length - 1]) {
    assert.throws(() => unpickle(good.subarray(0, cut)), UnpicklingError);
  }
  assert.throws(() => unpickle(hex("80 09")), /unsupported pickle protocol 9/);
  assert.throws(() => unpickle(hex("ff")), /unknown opcode 0xff/);
  assert.throws(() => unpickle(hex("65")), /MARK expected/);
  assert.throws(() => unpickle(hex("2e")), /stack underflow/);
  assert.throws(() => unpickle(hex("68 05 2e")), /memo key 5 was never stored/);
  assert.throws(() => unpickle(hex("4e 4e 62 2e")), /BUILD .* not supported/);
});

test("fuzz: random mutations of a valid pickle never escape as non-UnpicklingError", () => {
  const good = py2BatchPickle({ rows: new Uint8Array(3072), labels: [1], batchLabel: "b", filenames: ["f"] });
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let t = 0; t < 300; t++) {
    const b = good.slice(0, 400);
    for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    try {
      unpickle(b);
    } catch (e) {
      assert.ok(e instanceof UnpicklingError, `mutation ${t}: ${String(e)}`);
    }
  }
});

test("names of Object.prototype members (constructor, __proto__, ...) are not numpy dtypes", () => {
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
    const dtype = new PickleWriter().proto(2).global("numpy", "dtype").str(name).int(0).int(1).tuple3().reduce().stop().bytes();
    assert.throws(() => unpickle(dtype), (e: unknown) => e instanceof UnpicklingError && new RegExp(`numpy dtype '${name}' is not supported`).test((e as Error).message), name);
  }
});
