// Builds the optional native CPU addon with node-gyp. kindling works without it (reference backend), so a failed
// build warns instead of failing `npm install`.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "binding.gyp")) || process.env.KINDLING_SKIP_NATIVE === "1") process.exit(0);

function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmCli = process.env.npm_execpath;
  const candidates = [];
  if (npmCli) candidates.push(join(dirname(npmCli), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  candidates.push(join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  try {
    candidates.push(createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    /* not installed locally */
  }
  return candidates.find((c) => existsSync(c));
}

const gyp = findNodeGyp();
if (!gyp) {
  console.warn("kindling: node-gyp not found; the native CPU backend is not built (the reference backend still works).");
  process.exit(0);
}
const args = [gyp, "rebuild", "--release", "-j", "max"];
if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr");
const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
if (r.status !== 0) {
  console.warn("kindling: building the native CPU addon failed; kindling will run on the slower reference backend.");
}
process.exit(0);
