// Checked layering rules of the device model: above src/backends/ a Storage is opaque (no code reads its bytes or
// narrows its handle, none imports a backend's storage or kernels), and the op table (src/ops/) knows nothing of
// tensors. The rules are read off the TypeScript sources, so a violation fails here before it ships.
import test from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const src = join(root, "src");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Source text without comments, so a comment that mentions storage.data does not count. */
function code(file: string): string {
  return readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

const files = sources(src).map((f) => ({ path: relative(root, f).split("\\").join("/"), text: code(f) }));

test("the source scan sees the tree (the rules below are not vacuous)", () => {
  assert.ok(files.some((f) => f.path === "src/tensor/tensor.ts"));
  assert.ok(files.some((f) => f.path.startsWith("src/backends/host/") && /storage\.data|\.data\b/.test(f.text)));
});

// What reading or narrowing a storage looks like; the backends may, nothing else may.
const READS: [RegExp, string][] = [
  [/storage\??\.data\b/, "reads storage.data"],
  [/storage\??\.handle\b/, "reads storage.handle"],
  [/\bHostStorage\b/, "names the CPU's storage class"],
  [/\.storage\s+as\s/, "casts a storage to read it"],
  [/from\s+["'][./]*backends\/(host\/(storage|buffer_pool|slab)|cpu\/index|ref\/[a-z_]+)\.js["']/, "imports a backend's storage or kernels"],
];

test("nothing outside src/backends/ reads storage bytes or imports a backend's storage/kernels", () => {
  const bad: string[] = [];
  for (const f of files) {
    if (f.path.startsWith("src/backends/")) continue;
    for (const [re, what] of READS) if (re.test(f.text)) bad.push(`${f.path}: ${what}`);
  }
  assert.deepEqual(bad, [], `storage is opaque above src/backends/:\n${bad.join("\n")}`);
});

test("the scan catches a violation (the patterns match what they must)", () => {
  const sample =
    `const a = t.storage.data[0]; const h = x.storage?.handle; const c = (t.storage as unknown as { data: Float32Array }).data;` +
    ` import { HostStorage } from "../backends/host/storage.js";`;
  assert.deepEqual(READS.filter(([re]) => re.test(sample)).length, READS.length);
});

test("the op table (src/ops/) imports nothing of the tensor or autograd layers, not even as a type", () => {
  const bad = files
    .filter((f) => f.path.startsWith("src/ops/"))
    .filter((f) => /from\s+["'][./]*(tensor|autograd|nn|backend|backends)\//.test(f.text))
    .map((f) => f.path);
  assert.deepEqual(bad, []);
});

test("the device contract (src/backend/) imports only core and ops: devices plug in below it, tensors build above it", () => {
  const bad: string[] = [];
  for (const f of files.filter((x) => x.path.startsWith("src/backend/"))) {
    for (const m of f.text.matchAll(/from\s+["']([^"']+)["']/g)) {
      const spec = m[1]!;
      if (spec.startsWith(".") && !/^\.\.\/(core|ops)\/|^\.\/[a-z_]+\.js$/.test(spec)) bad.push(`${f.path} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test("the tensor's Storage type has no bytes to read", () => {
  const s = torch.zeros([2]).storage;
  // @ts-expect-error Storage is opaque above src/backends/: there is no `data` to read (a compile error if added).
  void s.data;
  assert.deepEqual(Object.keys(s).includes("version"), true);
});
