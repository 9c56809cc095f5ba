// kindling's install script: makes sure a native CPU addon is there, building one only when it has to.
//   1. the prebuilt package for this platform (@kindling/linux-x64-gnu, ...) is installed and loads: nothing to do;
//   2. the source build (build/Release/kindling_cpu.node) is newer than every native source: nothing to do;
//   3. otherwise compile native/cpu with node-gyp (needs a C++17 compiler, make and Python 3).
// kindling works without the addon (reference backend), so nothing here fails `npm install`: it says what happened.
// Flags: --force (or `npm rebuild kindling --build-from-source`, or KINDLING_BUILD_FROM_SOURCE=1) builds from source
// whatever is installed; --dry-run prints the decision and builds nothing. KINDLING_SKIP_NATIVE=1 skips it all.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ADDON_FILE, currentPlatformId, packageName } from "./platform.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const dryRun = args.has("--dry-run");
const fromSource =
  args.has("--force") || process.env.npm_config_build_from_source === "true" || process.env.KINDLING_BUILD_FROM_SOURCE === "1";
const say = (msg) => console.log(`kindling: ${msg}`);
const HOW_ELSE =
  `kindling will run on the slower reference backend; install the prebuilt addon (npm install ${packageName(currentPlatformId())}) ` +
  "where one exists, or install a C++17 compiler, make and Python 3 and run `npm rebuild kindling`";

if (process.env.KINDLING_SKIP_NATIVE === "1") {
  say("KINDLING_SKIP_NATIVE=1: the native addon is not built");
  process.exit(0);
}
if (!existsSync(join(root, "binding.gyp"))) process.exit(0);

/** The installed prebuilt package's addon when it loads here, else null with the reason said. */
function usablePrebuilt() {
  const name = packageName(currentPlatformId());
  let manifestFile;
  try {
    manifestFile = createRequire(join(root, "package.json")).resolve(`${name}/package.json`);
  } catch (e) {
    if (e.code !== "MODULE_NOT_FOUND") say(`${name} is unusable (${e.message.split("\n")[0]}): not using it`);
    return null;
  }
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
  } catch (e) {
    say(`${manifestFile} is unreadable (${e.message}): not using ${name}`);
    return null;
  }
  const own = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  if (manifest.version !== own) {
    say(`${name}@${manifest.version} does not match kindling ${own}: not using it`);
    return null;
  }
  const file = join(dirname(manifestFile), manifest.main ?? ADDON_FILE);
  try {
    createRequire(import.meta.url)(file);
    return `${name}@${manifest.version}`;
  } catch (e) {
    say(`the prebuilt addon ${file} does not load here (${e.message.split("\n")[0]})`);
    return null;
  }
}

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** The source build exists and nothing it is built from changed since. */
function sourceBuildIsCurrent() {
  const addon = join(root, "build", "Release", ADDON_FILE);
  if (!existsSync(addon)) return false;
  const sources = Math.max(newestMtime(join(root, "binding.gyp")), newestMtime(join(root, "native", "cpu")));
  return statSync(addon).mtimeMs >= sources;
}

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

/** The C++ compiler node-gyp would use ($CXX, else c++ / g++ / clang++ on PATH), or null. */
function findCompiler() {
  const onPath = (name) => (process.env.PATH ?? "").split(delimiter).map((d) => join(d, name)).find((p) => existsSync(p));
  const cxx = process.env.CXX?.split(" ")[0];
  if (cxx) return (isAbsolute(cxx) ? (existsSync(cxx) ? cxx : null) : onPath(cxx)) ?? null;
  if (process.platform === "win32") return "msvc"; // node-gyp finds Visual Studio itself
  return ["c++", "g++", "clang++"].map(onPath).find(Boolean) ?? null;
}

/** Decides, says and (unless --dry-run) builds; returns when done. */
function main() {
  if (!fromSource) {
    const prebuilt = usablePrebuilt();
    if (prebuilt) {
      say(`using the prebuilt native addon from ${prebuilt}`);
      return;
    }
    if (sourceBuildIsCurrent()) {
      say("the native addon in build/Release is up to date");
      return;
    }
  }

  const gyp = findNodeGyp();
  const compiler = findCompiler();
  if (!gyp || !compiler) {
    say(`cannot build the native addon from source (${!gyp ? "node-gyp not found" : `no C++ compiler found (looked for ${process.env.CXX ? `CXX=${process.env.CXX}` : "c++, g++, clang++ on PATH"})`}); ${HOW_ELSE}.`);
    return;
  }
  const gypArgs = [gyp, "rebuild", "--release", "-j", "max"];
  if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h")) gypArgs.push("--nodedir=/usr");
  if (dryRun) {
    say(`would build the native addon from source with ${compiler}: node ${gypArgs.join(" ")}`);
    return;
  }
  say(`building the native addon from source with ${compiler} (about a minute)`);
  const r = spawnSync(process.execPath, gypArgs, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) say(`building the native addon failed; ${HOW_ELSE}.`);
}

try {
  main();
} catch (e) {
  // An install script must not fail `npm install`: kindling still runs without the addon.
  say(`the install script failed (${e instanceof Error ? e.message : e}); ${HOW_ELSE}.`);
}
process.exit(0);
