// kindling as a dependency: packs the release tarballs (`pack:all`), installs them into a fresh project the way a
// user would but offline and with --ignore-scripts (so nothing is compiled at install), and uses kindling there:
// from an .mjs file, from a strict TypeScript file (node16 and bundler resolution, no skipLibCheck), through
// `npx kindling`, and with the CIFAR-10 tutorial. Then takes the platform package away and checks the fallback.
// kindling's own dependencies are packed from this checkout's node_modules, so no registry or npm cache is needed.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { platformPackageName } from "../src/backends/cpu/locate.js";
import { isMpiAvailable } from "../src/distributed/index.js";
import { writeEasyCifar } from "./helpers/easy_cifar.js";

const exec = promisify(execFile);
const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const own = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};
/** This machine's prebuilt package, e.g. @kindling/linux-x64-gnu. */
const PLATFORM_PKG = platformPackageName();
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** How to run npm: the npm-cli.js that runs `npm test`, else npm on PATH. */
function npmCommand(): [string, string[]] | null {
  const cli = process.env.npm_execpath;
  if (cli && cli.endsWith(".js") && existsSync(cli)) return [process.execPath, [cli]];
  const onPath = (process.env.PATH ?? "").split(delimiter).map((d) => join(d, "npm")).find((p) => existsSync(p));
  return onPath ? [onPath, []] : null;
}

function skipReason(): string | null {
  if (process.platform === "win32") return "the install is driven through POSIX paths and npm's JS entry point";
  if (!own.optionalDependencies?.[PLATFORM_PKG]) return `kindling publishes no prebuilt package for this platform (${PLATFORM_PKG})`;
  if (!npmCommand()) return "npm not found (neither npm_execpath nor npm on PATH)";
  if (!existsSync(join(repo, "build", "Release", "kindling_cpu.node"))) return "the native addon is not built here (npm install builds it)";
  if (!existsSync(join(repo, "dist", "src", "index.js"))) return "dist/ is not built (npm test builds it)";
  return null;
}
const skip = skipReason();

/** Folders of kindling's runtime dependencies and theirs, as installed in this checkout. */
function dependencyClosure(): string[] {
  const found = new Map<string, string>();
  const visit = (name: string, from: string) => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", name);
      if (existsSync(join(candidate, "package.json"))) {
        if (found.has(candidate)) return;
        found.set(candidate, name);
        const deps = (JSON.parse(readFileSync(join(candidate, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies;
        for (const d of Object.keys(deps ?? {})) visit(d, candidate);
        return;
      }
      if (dirname(dir) === dir) throw new Error(`kindling's dependency ${name} is not installed in ${repo}`);
    }
  };
  for (const d of Object.keys(own.dependencies)) visit(d, repo);
  return [...found.keys()];
}

/** The first TypeScript block of README's "Add kindling to your project" section. */
function readmeQuickStart(): string {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Add kindling to your project"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(m, "README.md has no TypeScript block under '## Add kindling to your project'");
  return m[1]!;
}

describe("kindling installed from its tarballs", { skip: skip ?? false, timeout: 240_000 }, () => {
  let work = "";
  let project = "";
  let env: NodeJS.ProcessEnv = {};
  const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");

  const npm = async (args: string[], cwd: string) => {
    const [cmd, pre] = npmCommand()!;
    return exec(cmd, [...pre, ...args], { cwd, env, maxBuffer: 1 << 24 });
  };
  /** Runs node in the project; resolves with stdout, stderr and the exit code (never rejects on exit codes). */
  const node = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, args, { cwd: project, env: { ...env, ...extraEnv }, encoding: "utf8", maxBuffer: 1 << 24 });
    return { stdout: r.stdout, stderr: r.stderr, code: r.status };
  };
  const kindling = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const [cmd, pre] = npmCommand()!;
    const r = spawnSync(cmd, [...pre, "exec", "--no", "--", "kindling", ...args], { cwd: project, env: { ...env, ...extraEnv }, encoding: "utf8", maxBuffer: 1 << 24 });
    return { stdout: r.stdout, stderr: r.stderr, code: r.status };
  };
  const warnings = (stderr: string) => stderr.split("\n").filter((l) => l.includes("KINDLING_NO_NATIVE")).length;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "kindling-pkg-"));
    project = join(work, "app");
    mkdirSync(project);
    writeFileSync(join(work, "npmrc"), "");
    // A hermetic npm: no inherited npm_* settings from `npm test`, an empty cache, offline, no user config.
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    Object.assign(env, {
      npm_config_cache: join(work, "cache"),
      npm_config_userconfig: join(work, "npmrc"),
      npm_config_offline: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
      NODE_OPTIONS: "",
    });
    delete env.KINDLING_BACKEND;
    delete env.KINDLING_ISA;

    const packDir = join(work, "pack");
    const packed = spawnSync(process.execPath, [join(repo, "scripts", "pack-all.mjs"), "--no-build", "--out", packDir], {
      cwd: repo, env: { ...process.env, ...env, npm_execpath: process.env.npm_execpath }, encoding: "utf8",
    });
    assert.equal(packed.status, 0, `pack:all failed:\n${packed.stdout}\n${packed.stderr}`);
    const depsDir = join(work, "deps");
    mkdirSync(depsDir);
    const { stdout } = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", depsDir, ...dependencyClosure()], work);
    const deps = JSON.parse(stdout.slice(stdout.indexOf("["))) as { name: string; filename: string }[];

    const dependencies: Record<string, string> = {};
    for (const d of deps) dependencies[d.name] = `file:${join(depsDir, d.filename)}`;
    for (const f of readdirSync(packDir)) {
      if (f === `kindling-${own.version}.tgz`) dependencies.kindling = `file:${join(packDir, f)}`;
      else if (f.endsWith(".tgz")) dependencies[PLATFORM_PKG] = `file:${join(packDir, f)}`;
    }
    assert.ok(dependencies.kindling && dependencies[PLATFORM_PKG], `pack:all made ${readdirSync(packDir).join(", ")}`);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module", dependencies }, null, 2));
    await npm(["install", "--ignore-scripts"], project);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("installs only what a user needs: built JS, types, native sources for the fallback build, README, LICENSE", () => {
    const root = join(project, "node_modules", "kindling");
    for (const f of ["LICENSE", "README.md", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/vision/index.d.ts", "bin/kindling.js", "binding.gyp", "native/cpu/binding.cc", "scripts/build-native.mjs"]) {
      assert.ok(existsSync(join(root, f)), `${f} is missing from the tarball`);
    }
    for (const f of ["test", "bench", "examples", "dist/test", "dist/bench", "native/dev", "src", "scripts/gen_golden.py", "build", "tsconfig.json"]) {
      assert.ok(!existsSync(join(root, f)), `${f} should not be in the tarball`);
    }
    const maps = readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith(".map"));
    assert.deepEqual(maps, [], "no source maps (their sources are not shipped)");
  });

  it("imports from an .mjs file and runs on the prebuilt native addon", () => {
    writeFileSync(join(project, "check.mjs"), [
      'import * as torch from "kindling";',
      'import { transforms } from "kindling/vision";',
      "const y = torch.tensor([[1, 2], [3, 4]]).matmul(torch.ones(2, 1)).sum().item();",
      "console.log(JSON.stringify({ y, info: torch.backends.cpu.info(), normalize: typeof transforms.Normalize, mpi: torch.distributed.isMpiAvailable() }));",
    ].join("\n"));
    const installed = () => ["kindling", "@kindling"].flatMap((d) => readdirSync(join(project, "node_modules", d), { recursive: true }).map(String)).sort();
    const before = installed();
    const r = node(["check.mjs"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(installed(), before, "importing kindling must not write into node_modules");
    const out = JSON.parse(r.stdout) as { y: number; normalize: string; mpi: boolean; info: { backend: string; addon: { source: string; package: string; file: string } | null } };
    // The MPI addon ships in the platform package: where this checkout's MPI backend works, the installed one does too.
    assert.equal(out.mpi, isMpiAvailable(), "the installed kindling finds the MPI addon exactly when the source build does");
    assert.equal(out.y, 10);
    assert.equal(out.normalize, "function");
    assert.equal(out.info.backend, "native", JSON.stringify(out.info));
    assert.equal(out.info.addon?.source, "prebuilt");
    assert.equal(out.info.addon?.package, `${PLATFORM_PKG}@${own.version}`);
    assert.ok(out.info.addon?.file.startsWith(join(project, "node_modules", ...PLATFORM_PKG.split("/"))), out.info.addon?.file);
    assert.equal(warnings(r.stderr), 0, r.stderr);
  });

  it("type-checks a strict TypeScript file (node16 and bundler resolution, no skipLibCheck) and runs the tutorial", async () => {
    writeFileSync(join(project, "main.ts"), [
      'import * as torch from "kindling";',
      'import { transforms, type datasets } from "kindling/vision";',
      "class Net extends torch.nn.Module {",
      "  fc = new torch.nn.Linear(4, 2);",
      "  forward(x: torch.Tensor): torch.Tensor {",
      "    return this.fc.forward(x).relu();",
      "  }",
      "}",
      "const info: torch.CpuBackendInfo = torch.backends.cpu.info();",
      "const loss = new Net().forward(torch.ones(3, 4)).sum();",
      "loss.backward();",
      "const opts: datasets.CIFAR10Options | null = null;",
      "const t: transforms.Normalize = new transforms.Normalize([0.5], [0.5]);",
      "console.log(JSON.stringify({ backend: info.backend, shape: loss.shape, opts, t: t.constructor.name }));",
    ].join("\n"));
    cpSync(join(repo, "examples", "cifar10_tutorial.ts"), join(project, "cifar10_tutorial.ts"));
    writeFileSync(join(project, "quickstart.ts"), readmeQuickStart());
    const base = { strict: true, target: "ES2022", skipLibCheck: false, noUnusedLocals: false };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: { ...base, module: "node16", moduleResolution: "node16", outDir: "out", typeRoots: [join(repo, "node_modules", "@types")], types: ["node"] },
      files: ["main.ts", "cifar10_tutorial.ts", "quickstart.ts"],
    }));
    // A bundler-style project without @types/node: kindling's own types must not need it.
    writeFileSync(join(project, "tsconfig.bundler.json"), JSON.stringify({
      compilerOptions: { ...base, module: "esnext", moduleResolution: "bundler", noEmit: true, types: [] },
      files: ["main.ts"],
    }));
    // Both at once: the two compiles are most of this test's time.
    const compiles = ["tsconfig.json", "tsconfig.bundler.json"].map((config) =>
      exec(process.execPath, [tsc, "-p", config], { cwd: project, env }).catch((e: { stdout?: string; stderr?: string }) => {
        assert.fail(`tsc -p ${config}:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
      }),
    );
    await Promise.all(compiles);
    const r = node(["out/main.js"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { backend: "native", shape: [], opts: null, t: "Normalize" });

    // The tutorial as a user would copy it: 500 images, batch 4, 3 epochs = 375 steps.
    const data = join(work, "data");
    writeEasyCifar(data, 100);
    const tut = node(["out/cifar10_tutorial.js"], { KINDLING_DATA: data, TUTORIAL_EPOCHS: "3", TUTORIAL_LOG_EVERY: "25", TUTORIAL_OUT: work });
    assert.equal(tut.code, 0, tut.stderr);
    const losses = [...tut.stdout.matchAll(/^\[\d, +\d+\] loss: (\d+\.\d{3})$/gm)].map((m) => Number(m[1]));
    assert.equal(losses.length, 15, tut.stdout);
    assert.match(tut.stdout, /^Finished Training$/m);
    const acc = Number(/Accuracy of the network on the 10000 test images: (\d+) %/.exec(tut.stdout)?.[1]);
    assert.ok(acc >= 30, `accuracy ${acc} % should beat chance by far\n${tut.stdout}`);

    // README's quick start, as printed there (it reads ./data).
    cpSync(data, join(project, "data"), { recursive: true });
    const quick = node(["out/quickstart.js"]);
    assert.equal(quick.code, 0, quick.stderr);
    assert.match(quick.stdout, /^Finished Training$/m);
  });

  it("`npx kindling train` and `npx kindling doctor` work from the dependency", () => {
    const out = join(work, "run");
    const r = kindling(["train", "--dataset", "synthetic", "--epochs", "1", "--train-size", "200", "--test-size", "100", "--out", out, "--no-progress"]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^Finished Training$/m);
    assert.ok(existsSync(join(out, "checkpoint.safetensors")));
    assert.equal(warnings(r.stderr), 0, r.stderr);

    const d = kindling(["doctor", "--json"]);
    assert.equal(d.code, 0, d.stderr);
    const report = JSON.parse(d.stdout) as { kindling: string; cpu: { addon: { source: string; isa: string } | null }; libraries: Record<string, unknown> };
    assert.equal(report.kindling, own.version);
    assert.equal(report.cpu.addon?.source, "prebuilt");
    assert.match(report.cpu.addon?.isa ?? "", /^(avx512|avx2|scalar)$/);
    for (const k of ["cuda", "cublas", "cudnn", "nccl", "mpi"]) assert.ok(k in report.libraries, `doctor reports ${k}`);
    const text = node([join("node_modules", ".bin", "kindling"), "doctor"]);
    assert.match(text.stdout, new RegExp(`from +prebuilt package ${esc(PLATFORM_PKG)}@${esc(own.version)}`));
  });

  it("the install script uses the prebuilt addon and builds nothing", () => {
    const r = node([join("node_modules", "kindling", "scripts", "build-native.mjs"), "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`using the prebuilt native addon from ${esc(PLATFORM_PKG)}@${esc(own.version)}`));
  });

  it("refuses a platform package of another version or with a broken package.json, with the reason", () => {
    const manifest = join(project, "node_modules", ...PLATFORM_PKG.split("/"), "package.json");
    const original = readFileSync(manifest, "utf8");
    try {
      writeFileSync(manifest, original.replace(`"version": "${own.version}"`, '"version": "0.0.1"'));
      const r = node(["check.mjs"]);
      assert.equal(r.code, 0, r.stderr);
      const info = (JSON.parse(r.stdout) as { info: { backend: string; reason: string } }).info;
      assert.equal(info.backend, "ref");
      assert.match(info.reason, new RegExp(`version 0\\.0\\.1 does not match kindling ${esc(own.version)}`));

      writeFileSync(manifest, "{ not json");
      const broken = node(["check.mjs"]);
      assert.equal(broken.code, 0, broken.stderr);
      const why = (JSON.parse(broken.stdout) as { info: { backend: string; reason: string } }).info;
      assert.deepEqual([why.backend, new RegExp(`^${esc(PLATFORM_PKG)} failed to load: unusable: `).test(why.reason)], ["ref", true], why.reason);
    } finally {
      writeFileSync(manifest, original);
    }
  });

  it("without the platform package: the reference backend, one warning that says how to get the native one, still trains", () => {
    const pkg = join(project, "node_modules", ...PLATFORM_PKG.split("/"));
    renameSync(pkg, join(work, "platform-package-removed"));
    const r = node(["check.mjs"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { info: { backend: string } }).info.backend, "ref");
    assert.equal(warnings(r.stderr), 1, r.stderr);
    assert.match(r.stderr, new RegExp(`npm install ${esc(PLATFORM_PKG)}@${esc(own.version)}`));
    assert.match(r.stderr, /npm rebuild kindling --build-from-source/);

    // DataLoader workers load kindling too: still one warning.
    const t = kindling(["train", "--dataset", "synthetic", "--epochs", "1", "--train-size", "32", "--test-size", "16", "--workers", "2", "--out", join(work, "run-ref"), "--no-progress"]);
    assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
    assert.match(t.stdout, /^Finished Training$/m);
    assert.equal(warnings(t.stderr), 1, t.stderr);

    const d = node([join("node_modules", ".bin", "kindling"), "doctor"]);
    assert.match(d.stdout, /CPU backend: ref/);
    assert.match(d.stdout, /fix +install the prebuilt addon/);

    // The install script would now build from source (when a compiler is there), and says so when it cannot.
    const build = node([join("node_modules", "kindling", "scripts", "build-native.mjs"), "--dry-run"]);
    assert.match(build.stdout, /would build the native addon from source|cannot build the native addon from source/);
    const noCxx = node([join("node_modules", "kindling", "scripts", "build-native.mjs"), "--dry-run"], { CXX: join(work, "no-such-compiler") });
    assert.match(noCxx.stdout, /no C\+\+ compiler found .*reference backend/);
  });
});
