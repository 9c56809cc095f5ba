// Where the native CPU addon comes from, tried in order:
//   1. a source build in kindling's own folder (build/Release/kindling_cpu.node): a checkout after `npm install`,
//      or an install whose install script compiled it because no prebuilt package matched;
//   2. the prebuilt package for this platform (@kindling/linux-x64-gnu, ...), an optional dependency of kindling.
// Every attempt is recorded so that the warning, torch.backends.cpu.info() and `kindling doctor` can say what was
// tried and why it failed. Only reads files: nothing here writes into node_modules.
// The package-name rule is repeated in scripts/platform.mjs (install and pack scripts run without dist/): keep both.
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The npm scope of the per-platform packages. */
export const PLATFORM_SCOPE = "@kindling";
const ADDON_FILE = "kindling_cpu.node";

export type AddonSource = "source-build" | "prebuilt";

export interface AddonAttempt {
  source: AddonSource;
  /** The .node file, or the package name when the package itself was not found. */
  where: string;
  /** Why it was not used; null for the one that loaded. */
  error: string | null;
}

export interface AddonLoadReport {
  /** The addon file that loaded, or null. */
  file: string | null;
  source: AddonSource | null;
  /** "name@version" of the prebuilt package that supplied it. */
  package: string | null;
  /** The prebuilt package name for this platform, or null when none is published for it. */
  platformPackage: string | null;
  attempts: AddonAttempt[];
  /** Set when the addon was not looked for at all (KINDLING_BACKEND=ref). */
  disabled: string | null;
  /** The CUDA fatbin the loaded prebuilt package ships (its slot is empty until kindling has CUDA kernels). */
  cudaFatbin: string | null;
}

interface PlatformManifest {
  name?: unknown;
  version?: unknown;
  main?: unknown;
  kindling?: { cuda?: { fatbin?: unknown } | null };
}

/** Linux C library flavour: glibc builds do not load on musl and the other way round. */
export function linuxLibc(): "gnu" | "musl" {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? "gnu" : "musl";
}

/**
 * The prebuilt package for a platform: `@kindling/<os>-<arch>` plus `-gnu`/`-musl` on Linux. Only the ones listed
 * in kindling's optionalDependencies are published; any other name is simply not found.
 */
export function platformPackageName(platform: string = process.platform, arch: string = process.arch, libc?: string): string {
  const suffix = platform === "linux" ? `-${libc ?? linuxLibc()}` : "";
  return `${PLATFORM_SCOPE}/${platform}-${arch}${suffix}`;
}

interface OwnPackage {
  root: string;
  version: string | null;
  /** The prebuilt platform packages kindling lists (its optionalDependencies): the platforms it publishes for. */
  prebuilt: string[];
}
let own: OwnPackage | null | undefined;

/** kindling's own folder, version and platform packages: the nearest package.json named "kindling" above this file. */
export function ownPackage(): OwnPackage | null {
  if (own !== undefined) return own;
  own = null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        const m = JSON.parse(readFileSync(pj, "utf8")) as { name?: unknown; version?: unknown; optionalDependencies?: unknown };
        if (m.name === "kindling") {
          const prebuilt = Object.keys(typeof m.optionalDependencies === "object" && m.optionalDependencies ? m.optionalDependencies : {});
          return (own = { root: dir, version: typeof m.version === "string" ? m.version : null, prebuilt });
        }
      } catch {
        /* unreadable package.json: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return own;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Finds and loads the addon. `load` requires a candidate file and throws when it is not a usable kindling addon;
 * the first candidate it accepts wins. Returns the loaded value and the report of every attempt.
 */
export function locateAddon<T>(load: (file: string) => T): { value: T | null; report: AddonLoadReport } {
  const report: AddonLoadReport = { file: null, source: null, package: null, platformPackage: null, attempts: [], disabled: null, cudaFatbin: null };
  if (process.env.KINDLING_BACKEND === "ref") {
    report.disabled = "disabled by KINDLING_BACKEND=ref";
    return { value: null, report };
  }
  const root = ownPackage()?.root ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
  const tryFile = (source: AddonSource, file: string): T | null => {
    try {
      const value = load(file);
      report.attempts.push({ source, where: file, error: null });
      report.file = file;
      report.source = source;
      return value;
    } catch (e) {
      report.attempts.push({ source, where: file, error: message(e) });
      return null;
    }
  };

  const local = join(root, "build", "Release", ADDON_FILE);
  if (existsSync(local)) {
    const value = tryFile("source-build", local);
    if (value !== null) return { value, report };
  } else {
    report.attempts.push({ source: "source-build", where: local, error: "not built" });
  }

  const name = platformPackageName();
  report.platformPackage = name;
  let manifestFile: string;
  try {
    manifestFile = createRequire(join(root, "package.json")).resolve(`${name}/package.json`);
  } catch (e) {
    const missing = (e as { code?: unknown }).code === "MODULE_NOT_FOUND";
    report.attempts.push({ source: "prebuilt", where: name, error: missing ? "package not installed" : `unusable: ${message(e).split("\n")[0]}` });
    return { value: null, report };
  }
  let manifest: PlatformManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as PlatformManifest;
  } catch (e) {
    report.attempts.push({ source: "prebuilt", where: manifestFile, error: `unreadable package.json: ${message(e)}` });
    return { value: null, report };
  }
  const file = join(dirname(manifestFile), typeof manifest.main === "string" ? manifest.main : ADDON_FILE);
  const want = ownPackage()?.version;
  if (want && manifest.version !== want) {
    // The kernel table changes between releases: a prebuilt from another version may lack or misread kernels.
    report.attempts.push({ source: "prebuilt", where: file, error: `version ${String(manifest.version)} does not match kindling ${want}` });
    return { value: null, report };
  }
  const value = tryFile("prebuilt", file);
  if (value !== null) {
    report.package = `${name}@${String(manifest.version)}`;
    const fatbin = manifest.kindling?.cuda?.fatbin;
    if (typeof fatbin === "string" && existsSync(join(dirname(manifestFile), fatbin))) report.cudaFatbin = join(dirname(manifestFile), fatbin);
  }
  return { value, report };
}

/** One line on why the addon is not in use, from a report with no loaded file. */
export function whyNotNative(report: AddonLoadReport): string {
  if (report.disabled) return report.disabled;
  const failed = report.attempts.filter((a) => a.error && a.error !== "not built" && a.error !== "package not installed");
  if (failed.length) return failed.map((a) => `${a.where} failed to load: ${a.error}`).join("; ");
  if (report.platformPackage && !isPublished(report.platformPackage)) {
    return `no source build, and kindling has no prebuilt addon for ${platformLabel()}`;
  }
  if (report.platformPackage) return `no source build, and the prebuilt package ${report.platformPackage} is not installed`;
  return "no source build";
}

const platformLabel = () => `${process.platform}-${process.arch}`;
const isPublished = (name: string) => ownPackage()?.prebuilt.includes(name) ?? true;

/** What to do about it: install the platform package, or build from source. */
export function howToGetNative(report: AddonLoadReport): string {
  const version = ownPackage()?.version;
  const build =
    "build it from source with `npm rebuild kindling --build-from-source` (needs a C++17 compiler, make and Python 3)";
  const pkg = report.platformPackage;
  const missing = report.attempts.some((a) => a.source === "prebuilt" && a.error === "package not installed");
  if (pkg && missing && !isPublished(pkg)) return build;
  if (pkg && missing) {
    return (
      `install the prebuilt addon with \`npm install ${pkg}${version ? `@${version}` : ""}\` (an optional dependency ` +
      `of kindling that npm leaves out with --omit=optional), or ${build}`
    );
  }
  return build;
}

let warned = false;

/** Emits the KINDLING_NO_NATIVE warning once (DataLoader workers silence theirs); none when "ref" was asked for. */
export function warnNoNative(report: AddonLoadReport): void {
  if (warned || report.disabled) return;
  warned = true;
  process.emitWarning(
    `kindling is running without native kernels (${whyNotNative(report)}); the pure-TypeScript reference backend ` +
      `is correct but much slower. To get the native backend, ${howToGetNative(report)}.`,
    { code: "KINDLING_NO_NATIVE" },
  );
}
