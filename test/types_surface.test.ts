// The published declarations as a TypeScript user gets them: test/types/*.ts compile under `tsc --strict` with no
// @types/node and no skipLibCheck (their `// @ts-expect-error` lines must fail to compile, or tsc reports them), and
// no declaration in dist/src says `any`.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "test", "types", "tsconfig.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("types_surface.test: test/types/tsconfig.json not found above " + import.meta.url);
    dir = up;
  }
  return dir;
}

const root = repoRoot();

test("test/types compiles strictly against the emitted .d.ts, without @types/node or skipLibCheck", () => {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(root, "test", "types", "tsconfig.json")], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `tsc -p test/types failed:\n${r.stdout}${r.stderr}`);
});

test("no `any` in the declarations of dist/src", () => {
  const dist = join(root, "dist", "src");
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".d.ts")) files.push(p);
    }
  };
  walk(dist);
  assert.ok(files.length > 50, `expected the emitted declarations under ${dist}`);
  const found: string[] = [];
  for (const f of files) {
    const sf = ts.createSourceFile(f, readFileSync(f, "utf8"), ts.ScriptTarget.ES2022, true);
    const visit = (n: ts.Node): void => {
      if (n.kind === ts.SyntaxKind.AnyKeyword) {
        const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
        found.push(`${relative(root, f)}:${line + 1}: ${sf.text.split("\n")[line]!.trim()}`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  assert.deepEqual(found, []);
});
