// Compiles the TypeScript into dist/ (tsconfig.json).
//   --if-stale  skip tsc when every .ts file is older than its .js (npm's `prepare`, which npm also runs when
//               `npx kindling` links this checkout: a built checkout then starts at once instead of after tsc);
//   --check     only say whether dist/ is stale (exit 1) or current (exit 0); compiles nothing;
//   --prune     also delete dist/src outputs whose .ts source is gone, so that a packed tarball carries none.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const args = new Set(process.argv.slice(2));
const SOURCE_DIRS = ["src", "test", "bench", "examples"]; // tsconfig.json's "include"

function* walk(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

// tsconfig.json's "exclude" (test/types: compiled on their own by test/types_surface, never emitted).
const excluded = (() => {
  try {
    return (JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")).exclude ?? []).map((p) => join(root, p));
  } catch {
    return [];
  }
})();
const isSource = (f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !excluded.some((e) => f === e || f.startsWith(e + sep));
const outputOf = (src) => join(dist, relative(root, src)).replace(/\.ts$/, ".js");

function stale() {
  const config = statSync(join(root, "tsconfig.json")).mtimeMs;
  for (const dir of SOURCE_DIRS) {
    for (const src of walk(join(root, dir))) {
      if (!isSource(src)) continue;
      const out = outputOf(src);
      if (!existsSync(out)) return `${relative(root, out)} is missing`;
      const built = statSync(out).mtimeMs;
      if (built < statSync(src).mtimeMs) return `${relative(root, src)} changed`;
      if (built < config) return "tsconfig.json changed";
    }
  }
  return null;
}

if (args.has("--check")) {
  const why = stale();
  console.log(why ? `stale: ${why}` : "current");
  process.exit(why ? 1 : 0);
}
if (args.has("--if-stale")) {
  const why = stale();
  if (!why) process.exit(0);
  console.log(`kindling: compiling TypeScript (${why})`);
}
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json")], { cwd: root, stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);

if (args.has("--prune")) {
  for (const out of walk(join(dist, "src"))) {
    const base = out.replace(/\.(js|d\.ts|js\.map)$/, "");
    if (base === out) continue;
    if (!existsSync(join(root, relative(dist, base) + ".ts"))) {
      unlinkSync(out);
      console.log(`kindling: removed ${relative(root, out)} (its source is gone)`);
    }
  }
}
