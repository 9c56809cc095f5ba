// kindling's install script: makes sure a native CPU addon is there, building one only when it has to.
//   1. the prebuilt package for this platform (@kindling/linux-x64-gnu, ...) is installed and loads: nothing to do;
//   2. the source build (build/Release/kindling_cpu.node) is newer than every native source: nothing to do;
//   3. otherwise compile native/cpu with node-gyp (needs a C++17 compiler, make and Python 3).
// kindling works without the addon (reference backend), so nothing here fails `npm install`: it says what happened.
// Flags: --force (or `npm rebuild kindling --build-from-source`, or KINDLING_BUILD_FROM_SOURCE=1) builds from source
// whatever is installed; --dry-run prints the decision and builds nothing. KINDLING_SKIP_NATIVE=1 skips it all.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
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
  // Every addon binding.gyp builds (cpu, cuda, mpi, nccl): native/ without the developer tools in native/dev.
  const native = join(root, "native");
  const parts = readdirSync(native).filter((d) => d !== "dev").map((d) => newestMtime(join(native, d)));
  const sources = Math.max(newestMtime(join(root, "binding.gyp")), ...parts);
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

// ---- the CUDA kernels: one fatbin from every native/cuda/kernels/*.cu, when nvcc exists ----
// SASS for the GPUs kindling targets plus PTX of the newest, so later GPUs JIT it. A compile error fails the build
// (CI has nvcc and no GPU: this is where kernel errors are caught), except inside `npm install`, which must not fail.
const CUDA_ARCHS = (process.env.KINDLING_CUDA_ARCHS ?? "80,86,89,90").split(",").map((a) => a.trim()).filter(Boolean);

function findNvcc() {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), process.env.CUDA_HOME && join(process.env.CUDA_HOME, "bin"), "/usr/local/cuda/bin"];
  return dirs.filter(Boolean).map((d) => join(d, "nvcc")).find((p) => existsSync(p)) ?? null;
}

/** Builds build/cuda/kindling.fatbin; returns false only when nvcc ran and failed. */
function buildFatbin() {
  const kdir = join(root, "native", "cuda", "kernels");
  const sources = existsSync(kdir) ? readdirSync(kdir).filter((f) => f.endsWith(".cu")).sort() : [];
  if (!sources.length) return true;
  const nvcc = findNvcc();
  if (!nvcc) {
    say("no nvcc (CUDA toolkit) found: the CUDA kernels are not compiled ahead of time; NVRTC compiles them at first use on a GPU");
    return true;
  }
  const outDir = join(root, "build", "cuda");
  const fatbin = join(outDir, "kindling.fatbin");
  const newest = Math.max(...sources.map((f) => statSync(join(kdir, f)).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
  if (!fromSource && !args.has("--fatbin") && existsSync(fatbin) && statSync(fatbin).mtimeMs >= newest) {
    say("the CUDA fatbin in build/cuda is up to date");
    return true;
  }
  mkdirSync(outDir, { recursive: true });
  // One translation unit that includes them all: one module, one cuModuleLoadData.
  const tu = join(outDir, "kindling_kernels.cu");
  writeFileSync(tu, "// generated by scripts/build-native.mjs: every native/cuda/kernels/*.cu in one translation unit\n" +
    sources.map((f) => `#include "${join(kdir, f).replace(/\\/g, "/")}"\n`).join(""));
  const gencode = CUDA_ARCHS.flatMap((a) => ["-gencode", `arch=compute_${a},code=sm_${a}`]);
  gencode.push("-gencode", `arch=compute_${CUDA_ARCHS.at(-1)},code=compute_${CUDA_ARCHS.at(-1)}`);
  const nvArgs = ["-fatbin", "-O3", "-std=c++17", "-Werror", "all-warnings", ...gencode, "-o", fatbin, tu];
  if (dryRun) {
    say(`would compile ${sources.length} CUDA sources into ${fatbin}: ${nvcc} ${nvArgs.join(" ")}`);
    return true;
  }
  say(`compiling ${sources.length} CUDA kernel sources into build/cuda/kindling.fatbin (sm_${CUDA_ARCHS.join(", sm_")} + PTX)`);
  const r = spawnSync(nvcc, nvArgs, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    rmSync(fatbin, { force: true });
    say(`nvcc failed to compile the CUDA kernels (exit ${r.status ?? r.signal})`);
    return false;
  }
  return true;
}

if (args.has("--fatbin")) {
  process.exit(buildFatbin() ? 0 : 1);
}

try {
  main();
} catch (e) {
  // An install script must not fail `npm install`: kindling still runs without the addon.
  say(`the install script failed (${e instanceof Error ? e.message : e}); ${HOW_ELSE}.`);
}
// Inside `npm install` nothing may fail; `npm run build` and CI fail on a kernel compile error.
const fatbinOk = buildFatbin();
process.exit(fatbinOk || process.env.npm_lifecycle_event === "install" ? 0 : 1);
