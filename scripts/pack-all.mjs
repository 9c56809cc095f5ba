// `npm run pack:all`: the release tarballs in one folder: kindling itself and the prebuilt-addon package for this
// machine's platform (@kindling/linux-x64-gnu, ...), the way esbuild/sharp/swc ship native code. Other platforms'
// packages are packed by running this on those platforms.
//   --out DIR       where the tarballs go (default ./pack)
//   --no-build      pack what is built now (dist/, build/Release) without running any build or npm script
//   --cuda-src DIR  the CUDA kernel sources the fatbin is built from (default native/cuda/kernels)
// Fails when a tarball is over its size budget (main 3 MB, platform 5 MB without the fatbin) or when kindling's
// optionalDependencies do not list exactly the platforms of scripts/platform.mjs at kindling's own version.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ADDON_FILE, CUDA_ADDON_FILE, MPI_ADDON_FILE, PLATFORMS, currentPlatformId, packageName } from "./platform.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const out = resolve(opt("--out", join(root, "pack")));
const build = !argv.includes("--no-build");
const cudaSrc = resolve(opt("--cuda-src", join(root, "native", "cuda", "kernels")));
const MB = 1024 * 1024;
const LIMITS = { main: 3 * MB, platform: 5 * MB };

function fail(msg) {
  console.error(`pack:all: ${msg}`);
  process.exit(1);
}

function npm(args, cwd) {
  const cli = process.env.npm_execpath;
  const [cmd, pre] = cli && cli.endsWith(".js") ? [process.execPath, [cli]] : [process.platform === "win32" ? "npm.cmd" : "npm", []];
  const r = spawnSync(cmd, [...pre, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], shell: process.platform === "win32" });
  if (r.status !== 0) fail(`npm ${args.join(" ")} failed (exit ${r.status})\n${r.stdout}`);
  return r.stdout;
}

/** `npm pack --json` of a folder into `out`: { filename, size, unpackedSize, entryCount }. */
function pack(dir, runScripts) {
  const json = npm(["pack", dir, "--json", "--pack-destination", out, ...(runScripts ? [] : ["--ignore-scripts"])], root);
  // Lifecycle scripts may print before npm's JSON, which starts with a line holding only "[".
  const start = json.search(/^\[$/m);
  if (start < 0) fail(`npm pack printed no JSON:\n${json}`);
  return JSON.parse(json.slice(start))[0];
}

const own = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const want = Object.fromEntries(PLATFORMS.map((p) => [packageName(p.id), own.version]));
if (JSON.stringify(own.optionalDependencies ?? {}) !== JSON.stringify(want)) {
  fail(`package.json's optionalDependencies must be exactly ${JSON.stringify(want)} (the platforms of scripts/platform.mjs at kindling's version)`);
}

mkdirSync(out, { recursive: true });

// The main package: npm's prepack compiles dist/ (and prunes outputs whose source is gone).
const main = pack(root, build);

// The platform package for this machine.
const id = currentPlatformId();
const platform = PLATFORMS.find((p) => p.id === id);
if (!platform) fail(`no prebuilt package is defined for ${id} (scripts/platform.mjs)`);
const addon = join(root, "build", "Release", ADDON_FILE);
if (build) {
  const r = spawnSync(process.execPath, [join(root, "scripts", "build-native.mjs")], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) fail("building the native addon failed");
}
if (!existsSync(addon)) fail(`${addon} is missing: build it with \`npm run build\` (needs a C++17 compiler)`);

const name = packageName(id);
const stage = join(out, ".stage", id);
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
copyFileSync(addon, join(stage, ADDON_FILE));
copyFileSync(join(root, "LICENSE"), join(stage, "LICENSE"));
const files = [ADDON_FILE];
// The MPI addon needs no MPI to build or load (it dlopens libmpi when a process group starts), so it ships too.
const mpiAddon = join(root, "build", "Release", MPI_ADDON_FILE);
if (!existsSync(mpiAddon)) fail(`${mpiAddon} is missing: build it with \`npm run build\``);
copyFileSync(mpiAddon, join(stage, MPI_ADDON_FILE));
files.push(MPI_ADDON_FILE);

// The CUDA addon needs no CUDA to build or load (it dlopens the driver at run time), so it ships too, with the
// kernels' fatbin that scripts/build-native.mjs compiled with nvcc (build/cuda). Without nvcc there is no fatbin and
// kindling compiles the same sources (native/cuda/kernels, in the main package) with NVRTC at first use on a GPU.
const cudaAddon = join(root, "build", "Release", CUDA_ADDON_FILE);
if (!existsSync(cudaAddon)) fail(`${cudaAddon} is missing: build it with \`npm run build\``);
copyFileSync(cudaAddon, join(stage, CUDA_ADDON_FILE));
files.push(CUDA_ADDON_FILE);
let cuda = null;
const builtFatbin = join(root, "build", "cuda", "kindling.fatbin");
const cuFiles = existsSync(cudaSrc) ? readdirSync(cudaSrc).filter((f) => f.endsWith(".cu")) : [];
if (cuFiles.length && !existsSync(builtFatbin)) {
  console.log(`pack:all: ${cuFiles.length} CUDA sources in ${cudaSrc} but no ${builtFatbin} (no nvcc when it was built): the platform package has no fatbin`);
} else if (existsSync(builtFatbin)) {
  mkdirSync(join(stage, "cuda"), { recursive: true });
  const fatbin = join("cuda", "kindling.fatbin");
  copyFileSync(builtFatbin, join(stage, fatbin));
  const archs = (process.env.KINDLING_CUDA_ARCHS ?? "80,86,89,90").split(",").map((a) => `sm_${a.trim()}`);
  cuda = { fatbin, archs, addon: CUDA_ADDON_FILE };
  files.push("cuda/");
}

const manifest = {
  name,
  version: own.version,
  description: `The prebuilt native addon of kindling for ${id} (installed by kindling; not used on its own)`,
  license: own.license,
  ...(own.repository ? { repository: own.repository } : {}),
  os: [platform.os],
  cpu: [platform.cpu],
  ...(platform.libc ? { libc: [platform.libc] } : {}),
  main: ADDON_FILE,
  files,
  engines: own.engines,
  // Read by kindling's loader and `kindling doctor`: one addon carries every ISA variant (picked at load time).
  kindling: { addon: ADDON_FILE, mpiAddon: MPI_ADDON_FILE, cudaAddon: CUDA_ADDON_FILE, isa: ["avx512", "avx2", "scalar"], cuda },
};
writeFileSync(join(stage, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
writeFileSync(
  join(stage, "README.md"),
  `# ${name}\n\nThe prebuilt native CPU addon of [kindling](https://www.npmjs.com/package/kindling) for ${id} ` +
    `(AVX-512, AVX2 and scalar kernels in one file, picked at load time)${cuda ? ", and its CUDA kernels as a fatbin" : ""}.\n\n` +
    "Install `kindling`, not this package: kindling lists it as an optional dependency and loads it when it matches " +
    "your platform. `npx kindling doctor` says which addon is in use.\n",
);
const plat = pack(stage, false);
rmSync(join(out, ".stage"), { recursive: true, force: true });

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`pack:all: ${out}`);
console.log(`  ${main.filename}  ${kib(main.size)} packed, ${kib(main.unpackedSize)} unpacked, ${main.entryCount} files`);
console.log(`  ${plat.filename}  ${kib(plat.size)} packed, ${kib(plat.unpackedSize)} unpacked, ${plat.entryCount} files${cuda ? " (with the CUDA fatbin)" : " (no CUDA fatbin: built without nvcc)"}`);
if (main.size > LIMITS.main) fail(`${main.filename} is ${kib(main.size)}, over the ${kib(LIMITS.main)} budget`);
if (!cuda && plat.size > LIMITS.platform) fail(`${plat.filename} is ${kib(plat.size)}, over the ${kib(LIMITS.platform)} budget`);
