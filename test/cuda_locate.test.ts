// The CUDA backend's search order and on-disk pieces, without a GPU: library candidates from fake folders and
// environment variables, the missing-library error text, the fatbin's location, the NVRTC cache key and its atomic
// write (src/backends/cuda/locate.ts).
import test from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  libraryCandidates, loadFirst, locateFatbin, missingLibraryMessage, nvrtcCacheDir, nvrtcCacheKey, pythonSitePackages,
  readCachedCubin, writeCachedCubin, kernelSourceBundle, type SearchContext,
} from "../src/backends/cuda/locate.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-cuda-locate-"));

function touch(p: string, bytes = "x"): string {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, bytes);
  return p;
}

function ctx(env: Record<string, string>, sitePackages: string[] = []): SearchContext {
  return { env, sitePackages, exists: fs.existsSync };
}

test("library search order: env var, soname, CUDA_HOME/lib64, then each site-packages' nvidia/*/lib", () => {
  const home = path.join(tmp, "cuda-home");
  const site = path.join(tmp, "venv", "lib", "python3.12", "site-packages");
  touch(path.join(home, "lib64", "libcudnn.so.9"));
  touch(path.join(site, "nvidia", "cudnn", "lib", "libcudnn.so.9"));
  touch(path.join(site, "nvidia", "cu13", "lib", "libcudnn.so.9"));
  const c = libraryCandidates("cudnn", ctx({ CUDA_HOME: home }, [site]));
  assert.deepEqual(c.map((x) => [x.via, x.path]), [
    ["soname", "libcudnn.so.9"],
    ["CUDA_HOME", path.join(home, "lib64", "libcudnn.so.9")],
    ["python wheel", path.join(site, "nvidia", "cudnn", "lib", "libcudnn.so.9")],
    ["python wheel", path.join(site, "nvidia", "cu13", "lib", "libcudnn.so.9")],
  ]);
});

test("CUDA 13 wheels (nvidia/cu13/lib) come before the CUDA 12 layout for cuBLAS and NVRTC; missing files are left out", () => {
  const site = path.join(tmp, "site13");
  touch(path.join(site, "nvidia", "cu13", "lib", "libcublasLt.so.13"));
  touch(path.join(site, "nvidia", "cublas", "lib", "libcublasLt.so.12"));
  touch(path.join(site, "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.12"));
  const lt = libraryCandidates("cublasLt", ctx({ CUDA_HOME: path.join(tmp, "nowhere") }, [site])).filter((x) => x.via === "python wheel");
  assert.deepEqual(lt.map((x) => path.relative(site, x.path)), ["nvidia/cu13/lib/libcublasLt.so.13", "nvidia/cublas/lib/libcublasLt.so.12"]);
  const rtc = libraryCandidates("nvrtc", ctx({ CUDA_HOME: path.join(tmp, "nowhere") }, [site])).filter((x) => x.via === "python wheel");
  assert.deepEqual(rtc.map((x) => path.relative(site, x.path)), ["nvidia/cuda_nvrtc/lib/libnvrtc.so.12"]);
});

test("KINDLING_<LIB>_PATH is the only candidate when set: a file as given, a folder with the sonames in it", () => {
  const file = touch(path.join(tmp, "custom", "my-cudnn.so"));
  assert.deepEqual(libraryCandidates("cudnn", ctx({ KINDLING_CUDNN_PATH: file, CUDA_HOME: tmp })), [{ path: file, via: "env" }]);
  const dir = path.join(tmp, "custom");
  assert.deepEqual(libraryCandidates("nvrtc", ctx({ KINDLING_NVRTC_PATH: dir })).map((c) => c.path), [
    path.join(dir, "libnvrtc.so.13"),
    path.join(dir, "libnvrtc.so.12"),
  ]);
  assert.deepEqual(libraryCandidates("libcuda", ctx({ KINDLING_LIBCUDA_PATH: "/x/libcuda.so.1" })), [{ path: "/x/libcuda.so.1", via: "env" }]);
});

test("the driver is only ever its soname (or KINDLING_LIBCUDA_PATH): never a toolkit stub from CUDA_HOME", () => {
  touch(path.join(tmp, "stubhome", "lib64", "libcuda.so.1"));
  assert.deepEqual(libraryCandidates("libcuda", ctx({ CUDA_HOME: path.join(tmp, "stubhome") })), [{ path: "libcuda.so.1", via: "soname" }]);
});

test("loadFirst stops at the first candidate that loads and records why the others failed", () => {
  const seen: string[] = [];
  const r = loadFirst("cublas", [{ path: "a", via: "soname" }, { path: "b", via: "CUDA_HOME" }, { path: "c", via: "python wheel" }], (p) => {
    seen.push(p);
    return p === "b" ? null : `${p}: cannot open shared object file`;
  });
  assert.deepEqual(seen, ["a", "b"]);
  assert.equal(r.path, "b");
  assert.equal(r.via, "CUDA_HOME");
  assert.deepEqual(r.tried, [{ path: "a", error: "a: cannot open shared object file" }]);
});

test("a missing library's error names it, where it looked, what failed, and the variable that points at it", () => {
  const r = loadFirst("cudnn", [{ path: "libcudnn.so.9", via: "soname" }], () => "libcudnn.so.9: cannot open shared object file");
  const m = missingLibraryMessage(r, "convolutions", ctx({ CUDA_HOME: "/opt/cuda" }, ["/venv/site-packages"]));
  assert.match(m, /^cuDNN \(libcudnn\.so\.9\) is needed for convolutions/);
  assert.match(m, /KINDLING_CUDNN_PATH \(unset\)/);
  assert.match(m, /\/opt\/cuda\/lib64/);
  assert.match(m, /site-packages\/nvidia\/\{cudnn,cu13\}\/lib in \/venv\/site-packages/);
  assert.match(m, /Tried: libcudnn\.so\.9 \(libcudnn\.so\.9: cannot open shared object file\)/);
  assert.match(m, /pip install nvidia-cudnn-cu13/);
  assert.match(m, /set KINDLING_CUDNN_PATH to the library file/);
});

test("pythonSitePackages finds venv and user site-packages that hold NVIDIA wheels, newest Python first", () => {
  const venv = path.join(tmp, "venv2");
  touch(path.join(venv, "lib", "python3.11", "site-packages", "nvidia", "x"));
  touch(path.join(venv, "lib", "python3.12", "site-packages", "nvidia", "x"));
  fs.mkdirSync(path.join(venv, "lib", "python3.10", "site-packages"), { recursive: true }); // no nvidia/: left out
  const home = path.join(tmp, "home");
  touch(path.join(home, ".local", "lib", "python3.12", "site-packages", "nvidia", "x"));
  const found = pythonSitePackages({ VIRTUAL_ENV: venv }, home);
  assert.deepEqual(found.slice(0, 3), [
    path.join(venv, "lib", "python3.12", "site-packages"),
    path.join(venv, "lib", "python3.11", "site-packages"),
    path.join(home, ".local", "lib", "python3.12", "site-packages"),
  ]);
});

test("the fatbin: KINDLING_CUDA_FATBIN first, then build/cuda; empty files don't count", () => {
  const root = path.join(tmp, "pkg");
  const built = touch(path.join(root, "build", "cuda", "kindling.fatbin"), "FATBIN");
  const mine = touch(path.join(tmp, "mine.fatbin"), "F");
  assert.equal(locateFatbin({ KINDLING_CUDA_FATBIN: mine }, root).path, mine);
  assert.equal(locateFatbin({}, root).path, built);
  const empty = touch(path.join(tmp, "empty.fatbin"), "");
  assert.equal(locateFatbin({ KINDLING_CUDA_FATBIN: empty }, root).path, built);
  fs.rmSync(built);
  const none = locateFatbin({}, root);
  assert.equal(none.path, null);
  assert.ok(none.looked.includes(built));
});

test("NVRTC cache key: changes with every input, stable otherwise, and field boundaries matter", () => {
  const base = { source: "k", options: ["--gpu-architecture=sm_90"], nvrtcVersion: [13, 0] as const, computeCapability: [9, 0] as const, kindlingVersion: "0.1.0" };
  const k = nvrtcCacheKey(base);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(nvrtcCacheKey({ ...base }), k);
  for (const over of [
    { source: "k2" }, { options: ["--gpu-architecture=sm_80"] }, { nvrtcVersion: [13, 1] as const },
    { computeCapability: [8, 0] as const }, { kindlingVersion: "0.1.1" },
  ]) {
    assert.notEqual(nvrtcCacheKey({ ...base, ...over }), k, JSON.stringify(over));
  }
  assert.notEqual(nvrtcCacheKey({ ...base, source: "ab", kindlingVersion: "c" }), nvrtcCacheKey({ ...base, source: "a", kindlingVersion: "bc" }));
});

test("NVRTC cache dir: KINDLING_CUDA_CACHE, else $XDG_CACHE_HOME/kindling/kernels, else ~/.cache/kindling/kernels", () => {
  assert.equal(nvrtcCacheDir({ KINDLING_CUDA_CACHE: "/c" }, "/h"), "/c");
  assert.equal(nvrtcCacheDir({ XDG_CACHE_HOME: "/xdg" }, "/h"), path.join("/xdg", "kindling", "kernels"));
  assert.equal(nvrtcCacheDir({}, "/h"), path.join("/h", ".cache", "kindling", "kernels"));
});

test("cached cubins are written atomically (temp + rename): no partial or temporary file is ever left", () => {
  const dir = path.join(tmp, "cache", "kernels");
  const key = "ab".repeat(32);
  assert.equal(readCachedCubin(dir, key), null);
  const bytes = new Uint8Array(100_000).map((_, i) => i % 251);
  const written = writeCachedCubin(dir, key, bytes);
  assert.equal(written, path.join(dir, `${key}.cubin`));
  assert.deepEqual(readCachedCubin(dir, key), bytes);
  assert.deepEqual(fs.readdirSync(dir), [`${key}.cubin`]);
  // A second writer of the same key replaces the file whole.
  writeCachedCubin(dir, key, bytes.map((b) => 255 - b));
  assert.equal(readCachedCubin(dir, key)![0], 255);
  assert.deepEqual(fs.readdirSync(dir), [`${key}.cubin`]);
  // An unwritable place: nothing cached, nothing thrown.
  const file = touch(path.join(tmp, "not-a-dir"));
  assert.equal(writeCachedCubin(path.join(file, "sub"), key, bytes), null);
});

test("the NVRTC source bundle keeps each file's name for compiler messages", () => {
  const a = touch(path.join(tmp, "k", "a.cu"), 'extern "C" __global__ void k_a() {}');
  const b = touch(path.join(tmp, "k", "b.cu"), 'extern "C" __global__ void k_b() {}');
  const s = kernelSourceBundle([a, b]);
  assert.ok(s.indexOf(`#line 1 "${a}"`) < s.indexOf("k_a") && s.indexOf(`#line 1 "${b}"`) < s.indexOf("k_b"));
});

test("KINDLING_<LIB>_PATH=none turns an optional library off (no candidates, so no error), never the driver", () => {
  for (const lib of ["cublasLt", "cublas", "cudnn", "nvrtc"] as const) {
    assert.deepEqual(libraryCandidates(lib, ctx({ [`KINDLING_${lib.toUpperCase()}_PATH`]: "none", CUDA_HOME: "/usr/local/cuda" })), []);
  }
  assert.deepEqual(libraryCandidates("libcuda", ctx({ KINDLING_LIBCUDA_PATH: "none" })), [{ path: "none", via: "env" }]);
});
