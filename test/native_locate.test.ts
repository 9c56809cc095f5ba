// Where the native addon comes from (source build, then the prebuilt platform package), what kindling says when
// it has none, the library probe behind `kindling doctor`, and the install/prepare scripts that decide whether
// anything needs building (so that installing or `npx kindling` in a built checkout compiles nothing).
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  howToGetNative, locateAddon, platformPackageName, whyNotNative, type AddonLoadReport,
} from "../src/backends/cpu/locate.js";
import { probeSystemLibraries } from "../src/backends/system_libs.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string; optionalDependencies?: Record<string, string> };

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "kindling-locate-"));
}

function report(over: Partial<AddonLoadReport>): AddonLoadReport {
  return { file: null, source: null, package: null, platformPackage: "@kindling/linux-x64-gnu", attempts: [], disabled: null, cudaFatbin: null, ...over };
}

test("platform package names: os-arch, plus the C library on Linux", () => {
  assert.equal(platformPackageName("linux", "x64", "gnu"), "@kindling/linux-x64-gnu");
  assert.equal(platformPackageName("linux", "arm64", "musl"), "@kindling/linux-arm64-musl");
  assert.equal(platformPackageName("darwin", "arm64"), "@kindling/darwin-arm64");
  assert.equal(platformPackageName("win32", "x64"), "@kindling/win32-x64");
});

test("optionalDependencies list exactly the platforms the scripts pack, at kindling's version, named as the loader looks them up", async () => {
  const { PLATFORMS, packageName } = (await import(pathToFileURL(join(repo, "scripts", "platform.mjs")).href)) as {
    PLATFORMS: { id: string; os: string; cpu: string; libc?: string }[];
    packageName: (id: string) => string;
  };
  assert.deepEqual(pkg.optionalDependencies, Object.fromEntries(PLATFORMS.map((p) => [packageName(p.id), pkg.version])));
  for (const p of PLATFORMS) {
    assert.equal(platformPackageName(p.os, p.cpu, p.libc === "glibc" ? "gnu" : p.libc), packageName(p.id));
  }
});

test("a source build that fails to load falls through to the platform package, and every attempt is reported", () => {
  const { value, report: r } = locateAddon((file) => {
    throw new Error(`cannot open ${file}`);
  });
  assert.equal(value, null);
  assert.equal(r.file, null);
  const local = join(repo, "build", "Release", "kindling_cpu.node");
  assert.equal(r.attempts[0]?.source, "source-build");
  assert.equal(r.attempts[0]?.where, local);
  assert.equal(r.attempts[0]?.error, existsSync(local) ? `cannot open ${local}` : "not built");
  // This checkout does not install the platform package (npm finds none of them in the registry).
  assert.equal(r.platformPackage, platformPackageName());
  assert.deepEqual(r.attempts[1], { source: "prebuilt", where: platformPackageName(), error: "package not installed" });
  if (existsSync(local)) assert.match(whyNotNative(r), /failed to load: cannot open/);
});

test("the no-native message says why and how to get the native backend", () => {
  const missing = report({ attempts: [
    { source: "source-build", where: "/x/build/Release/kindling_cpu.node", error: "not built" },
    { source: "prebuilt", where: "@kindling/linux-x64-gnu", error: "package not installed" },
  ] });
  assert.equal(whyNotNative(missing), "no source build, and the prebuilt package @kindling/linux-x64-gnu is not installed");
  assert.match(howToGetNative(missing), new RegExp(`npm install @kindling/linux-x64-gnu@${pkg.version.replace(/\./g, "\\.")}`));
  assert.match(howToGetNative(missing), /npm rebuild kindling --build-from-source/);

  const broken = report({ attempts: [
    { source: "source-build", where: "/x/build/Release/kindling_cpu.node", error: "not built" },
    { source: "prebuilt", where: "/y/kindling_cpu.node", error: "GLIBC_2.34 not found" },
  ] });
  assert.equal(whyNotNative(broken), "/y/kindling_cpu.node failed to load: GLIBC_2.34 not found");
  assert.doesNotMatch(howToGetNative(broken), /npm install @kindling/, "reinstalling the same package would not help");
  assert.match(howToGetNative(broken), /--build-from-source/);

  // A platform kindling publishes no package for (not in its optionalDependencies): only the source build helps.
  const unpublished = report({ platformPackage: "@kindling/linux-riscv64-gnu", attempts: [
    { source: "source-build", where: "/x/build/Release/kindling_cpu.node", error: "not built" },
    { source: "prebuilt", where: "@kindling/linux-riscv64-gnu", error: "package not installed" },
  ] });
  assert.match(whyNotNative(unpublished), /^no source build, and kindling has no prebuilt addon for /);
  assert.doesNotMatch(howToGetNative(unpublished), /npm install/);
  assert.match(howToGetNative(unpublished), /--build-from-source/);

  assert.equal(whyNotNative(report({ disabled: "disabled by KINDLING_BACKEND=ref" })), "disabled by KINDLING_BACKEND=ref");
});

test("library probe: finds files where the loader would, best name first, and says where it looked", () => {
  const dirA = tmp(), dirB = tmp();
  try {
    for (const f of ["libnccl.so.2", "libcudnn.so.8", "libmpi.so.12"]) writeFileSync(join(dirA, f), "");
    writeFileSync(join(dirB, "libmpi.so.12"), "");
    const libs = probeSystemLibraries({ ldconfig: false, folders: [dirA], ldLibraryPath: dirB });
    if (process.platform !== "linux") return; // the folders are Linux's
    assert.deepEqual([libs.nccl.path, libs.nccl.via], [join(dirA, "libnccl.so.2"), dirA]);
    assert.equal(libs.cudnn.path, join(dirA, "libcudnn.so.8"), "libcudnn.so.9 is absent, .8 is next");
    assert.deepEqual([libs.mpi.path, libs.mpi.via], [join(dirB, "libmpi.so.12"), "LD_LIBRARY_PATH"], "LD_LIBRARY_PATH comes before the folders");
    assert.equal(libs.cuda.path, null);
    assert.match(libs.cuda.reason ?? "", /libcuda\.so\.1/);
    assert.deepEqual(libs.searched, [`LD_LIBRARY_PATH (${dirB})`, dirA]);
  } finally {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test("kindling doctor reports the backend, the addon or why there is none, and the libraries", () => {
  const cli = join(repo, "bin", "kindling.js");
  const ref = spawnSync(process.execPath, [cli, "doctor"], { env: { ...process.env, KINDLING_BACKEND: "ref" }, encoding: "utf8" });
  assert.equal(ref.status, 0, ref.stderr);
  assert.match(ref.stdout, /^CPU backend: ref /m);
  assert.match(ref.stdout, /why +disabled by KINDLING_BACKEND=ref/);
  assert.doesNotMatch(ref.stdout, /fix /, "nothing to fix when the reference backend was asked for");
  assert.match(ref.stdout, /^ {2}CUDA driver +(found|not found)/m);
  assert.match(ref.stdout, /^ {2}NCCL +(found|not found)/m);
  assert.doesNotMatch(ref.stderr, /KINDLING_NO_NATIVE/);

  const json = spawnSync(process.execPath, [cli, "doctor", "--json"], { encoding: "utf8" });
  assert.equal(json.status, 0, json.stderr);
  const r = JSON.parse(json.stdout) as { kindling: string; cpu: { backend: string; addon: { source: string } | null; reason: string | null } };
  assert.equal(r.kindling, pkg.version);
  if (r.cpu.addon) assert.deepEqual([r.cpu.backend, r.cpu.addon.source, r.cpu.reason], ["native", "source-build", null]);
  else assert.equal(r.cpu.backend, "ref");

  const help = spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" });
  assert.match(help.stdout, /^ {2}doctor /m);
});

/** A throwaway package root holding copies of the given scripts. */
function scratchRoot(scripts: string[]): string {
  const root = tmp();
  mkdirSync(join(root, "scripts"));
  for (const s of scripts) copyFileSync(join(repo, "scripts", s), join(root, "scripts", s));
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "kindling", version: pkg.version }));
  return root;
}
const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

test("prepare (build-ts.mjs --if-stale) compiles only when a .ts file is newer than its output; --prune drops orphans", () => {
  const root = scratchRoot(["build-ts.mjs"]);
  try {
    const script = join(root, "scripts", "build-ts.mjs");
    const check = () => spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
    writeFileSync(join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: { outDir: "dist", rootDir: ".", module: "NodeNext", target: "ES2022", declaration: true, lib: ["ES2022"], types: [], skipLibCheck: true }, include: ["src"] }));
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "src", "a.ts"), "export const a = 1;\n");
    at(join(root, "tsconfig.json"), 1000);
    at(join(root, "src", "a.ts"), 2000);
    assert.deepEqual([check().status, check().stdout.trim()], [1, "stale: dist/src/a.js is missing"]);
    mkdirSync(join(root, "dist", "src"), { recursive: true });
    writeFileSync(join(root, "dist", "src", "a.js"), "");
    at(join(root, "dist", "src", "a.js"), 3000);
    assert.deepEqual([check().status, check().stdout.trim()], [0, "current"]);
    at(join(root, "src", "a.ts"), 4000);
    assert.equal(check().stdout.trim(), "stale: src/a.ts changed");
    at(join(root, "dist", "src", "a.js"), 5000);
    at(join(root, "tsconfig.json"), 6000);
    assert.equal(check().stdout.trim(), "stale: tsconfig.json changed");

    // --prune after a real compile: an output whose source was deleted goes, the others stay.
    mkdirSync(join(root, "node_modules"));
    symlinkSync(join(repo, "node_modules", "typescript"), join(root, "node_modules", "typescript"), "dir");
    writeFileSync(join(root, "dist", "src", "gone.js"), "");
    writeFileSync(join(root, "dist", "src", "gone.d.ts"), "");
    const pruned = spawnSync(process.execPath, [script, "--prune"], { encoding: "utf8" });
    assert.equal(pruned.status, 0, pruned.stdout + pruned.stderr);
    assert.ok(!existsSync(join(root, "dist", "src", "gone.js")) && !existsSync(join(root, "dist", "src", "gone.d.ts")));
    assert.ok(existsSync(join(root, "dist", "src", "a.js")) && existsSync(join(root, "dist", "src", "a.d.ts")));
    assert.equal(check().stdout.trim(), "current");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the install script builds only when the source build is older than native/ or binding.gyp, or when forced", () => {
  const root = scratchRoot(["build-native.mjs", "platform.mjs"]);
  try {
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [join(root, "scripts", "build-native.mjs"), "--dry-run", ...args], {
        encoding: "utf8", env: { ...process.env, npm_config_build_from_source: "", KINDLING_BUILD_FROM_SOURCE: "", KINDLING_SKIP_NATIVE: "", ...env },
      }).stdout;
    writeFileSync(join(root, "binding.gyp"), "{}");
    mkdirSync(join(root, "native", "cpu"), { recursive: true });
    writeFileSync(join(root, "native", "cpu", "k.cc"), "");
    mkdirSync(join(root, "build", "Release"), { recursive: true });
    writeFileSync(join(root, "build", "Release", "kindling_cpu.node"), "");
    at(join(root, "binding.gyp"), 1000);
    at(join(root, "native", "cpu", "k.cc"), 1000);
    at(join(root, "native", "cpu"), 1000);
    at(join(root, "native"), 1000);
    at(join(root, "build", "Release", "kindling_cpu.node"), 2000);
    const builds = /would build the native addon from source|cannot build the native addon from source/;
    assert.match(run([]), /the native addon in build\/Release is up to date/);
    assert.match(run(["--force"]), builds);
    assert.match(run([], { npm_config_build_from_source: "true" }), builds, "npm rebuild kindling --build-from-source");
    at(join(root, "native", "cpu", "k.cc"), 3000);
    assert.match(run([]), builds);
    assert.match(run([], { CXX: join(root, "no-such-c++") }), /no C\+\+ compiler found \(looked for CXX=.*reference backend/);
    assert.match(run([], { KINDLING_SKIP_NATIVE: "1" }), /KINDLING_SKIP_NATIVE=1/);

    // Nothing here may fail `npm install`: a broken platform package is passed over, anything else is reported.
    const platformDir = join(root, "node_modules", ...platformPackageName().split("/"));
    mkdirSync(platformDir, { recursive: true });
    writeFileSync(join(platformDir, "package.json"), "{ not json");
    at(join(root, "native", "cpu", "k.cc"), 1000);
    assert.match(run([]), /@kindling\/\S+ is unusable .*not using it[\s\S]*the native addon in build\/Release is up to date/);
    rmSync(join(root, "native"), { recursive: true });
    const broken = spawnSync(process.execPath, [join(root, "scripts", "build-native.mjs"), "--dry-run"], { encoding: "utf8" });
    assert.equal(broken.status, 0);
    assert.match(broken.stdout, /the install script failed \(ENOENT.*reference backend/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** How to run npm: the npm-cli.js that runs `npm test`, else npm on PATH. */
function npmCommand(): [string, string[]] | null {
  const cli = process.env.npm_execpath;
  if (cli && cli.endsWith(".js") && existsSync(cli)) return [process.execPath, [cli]];
  const onPath = (process.env.PATH ?? "").split(delimiter).map((d) => join(d, "npm")).find((p) => existsSync(p));
  return onPath ? [onPath, []] : null;
}

test("`npx kindling` in a built checkout compiles nothing when npm links it (issue 10, item 17)", (t) => {
  const npm = npmCommand();
  const tsFresh = spawnSync(process.execPath, [join(repo, "scripts", "build-ts.mjs"), "--check"], { encoding: "utf8" });
  const nativeFresh = spawnSync(process.execPath, [join(repo, "scripts", "build-native.mjs"), "--dry-run"], { encoding: "utf8", env: { ...process.env, npm_config_build_from_source: "" } });
  if (!npm) return t.skip("npm not found");
  if (tsFresh.status !== 0) return t.skip(`dist/ is not current here (${tsFresh.stdout.trim()})`);
  // (the fatbin's own "up to date" line says nothing about the addon)
  if (!/the native addon in build\/Release is up to date/.test(nativeFresh.stdout)) return t.skip(`the native addon is not current here: ${nativeFresh.stdout.trim()}`);
  const stamps = () => [join(repo, "dist", "src", "index.js"), join(repo, "build", "Release", "kindling_cpu.node")].map((f) => statSync(f).mtimeMs);
  const before = stamps();
  const cache = tmp();
  try {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const r = spawnSync(npm[0], [...npm[1], "exec", "--yes", "--offline", "--cache", cache, "--", "kindling", "--version"], { cwd: repo, env, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `kindling ${pkg.version}`);
    assert.deepEqual(stamps(), before, "linking the checkout rebuilt dist/ or the addon");
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
