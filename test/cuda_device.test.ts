// The "cuda" device without a GPU: with no driver, torch.cuda says so quietly and the device's error says why; with a
// stand-in driver (test/fixtures/fake_libcuda.c, compiled here when a C compiler exists), the real addon runs its
// loading, allocation, transfer, launch and error paths. Each scenario runs in a child process: a process loads one
// driver once, as in real use.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const INDEX = path.join(root, "dist", "src", "index.js");
const DEVICE = path.join(root, "dist", "src", "backends", "cuda", "device.js");
const RUNTIME = path.join(root, "dist", "src", "backends", "cuda", "runtime.js");
const ADDON = path.join(root, "build", "Release", "kindling_cuda.node");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-cuda-dev-"));

function run(code: string, env: Record<string, string | undefined> = {}): { code: number | null; stdout: string; stderr: string } {
  const prelude = `import * as torch from ${JSON.stringify(INDEX)};\n`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", prelude + code], {
    encoding: "utf8",
    env: { ...process.env, KINDLING_LIBCUDA_PATH: undefined, CUDA_LAUNCH_BLOCKING: undefined, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The stand-in driver, or null (with the reason) when it can't be built here. */
function fakeDriver(): string | null {
  const out = path.join(tmp, "libcuda.so.1");
  if (fs.existsSync(out)) return out;
  const r = spawnSync("cc", ["-shared", "-fPIC", "-O1", "-o", out, path.join(root, "test", "fixtures", "fake_libcuda.c")], { encoding: "utf8" });
  return r.status === 0 ? out : null;
}
function fakeNvrtc(): string | null {
  const out = path.join(tmp, "libnvrtc.so.13");
  const r = spawnSync("cc", ["-shared", "-fPIC", "-O1", "-o", out, path.join(root, "test", "fixtures", "fake_libnvrtc.c")], { encoding: "utf8" });
  return r.status === 0 ? out : null;
}
const noAddon = !fs.existsSync(ADDON) && "kindling_cuda.node is not built";
const FAKE = noAddon ? null : fakeDriver();
const noFake = noAddon || (!FAKE && "no C compiler to build the stand-in driver");
// A non-empty file stands in for the fatbin: the stand-in driver accepts any image.
const FATBIN = path.join(tmp, "stand-in.fatbin");
fs.writeFileSync(FATBIN, "not a real fatbin");

test("no driver: isAvailable() is false, deviceCount() 0, and nothing is printed", () => {
  const r = run(
    `console.log(JSON.stringify([torch.cuda.isAvailable(), torch.cuda.deviceCount(), torch.cuda.isAvailable(), typeof torch.cuda.unavailableReason()]));`,
    { KINDLING_LIBCUDA_PATH: path.join(tmp, "no-such-libcuda.so.1") },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '[false,0,false,"string"]\n');
  assert.equal(r.stderr, "");
});

test("no driver: the cuda device's error says why and how to pick the device", () => {
  const r = run(
    `try { torch.zeros([2]).to("cuda"); } catch (e) { console.log(e.message); }`,
    { KINDLING_LIBCUDA_PATH: path.join(tmp, "no-such-libcuda.so.1") },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /device 'cuda' is not available: CUDA is not available: /);
  assert.match(r.stdout, noAddon ? /kindling_cuda\.node/ : /no-such-libcuda\.so\.1/);
  assert.match(r.stdout, /torch\.cuda\.isAvailable\(\) \? "cuda:0" : "cpu"/);
});

test("`kindling train --device auto` trains on the CPU when CUDA is unavailable", () => {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "kindling.js"), "train", "--device", "auto", "--dataset", "synthetic",
    "--train-size", "8", "--test-size", "8", "--epochs", "1", "--workers", "0", "--no-report", "--json", "--out", path.join(tmp, "auto-run")], {
    encoding: "utf8", env: { ...process.env, KINDLING_LIBCUDA_PATH: path.join(tmp, "none.so") }, timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /"command": "train"/);
  // --device cuda on the same machine is refused, with the reason.
  const cuda = spawnSync(process.execPath, [path.join(root, "bin", "kindling.js"), "train", "--device", "cuda", "--dataset", "synthetic",
    "--out", path.join(tmp, "cuda-run")], { encoding: "utf8", env: { ...process.env, KINDLING_LIBCUDA_PATH: path.join(tmp, "none.so") } });
  assert.equal(cuda.status, 7);
  assert.match(cuda.stderr, /--device cuda: CUDA is not available \(.*\); use --device cpu or --device auto/);
});

test("a driver that sees no GPU: unavailable, with that reason", { skip: noFake }, () => {
  const r = run(`console.log(torch.cuda.isAvailable(), torch.cuda.unavailableReason());`, { KINDLING_LIBCUDA_PATH: FAKE!, FAKE_CUDA_NO_DEVICE: "1" });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^false the CUDA driver \(.*libcuda\.so\.1, CUDA 13\.0\) sees no GPU/);
  assert.equal(r.stderr, "");
});

test("a library path that does not load is an error naming the library and its variable", { skip: noFake }, () => {
  const r = run(`try { torch.zeros([1], { device: "cuda" }); } catch (e) { console.log(e.message); }`, {
    KINDLING_LIBCUDA_PATH: FAKE!, KINDLING_CUDNN_PATH: path.join(tmp, "missing-cudnn.so"), KINDLING_CUDA_FATBIN: FATBIN,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cuDNN \(libcudnn\.so\.9\) is needed for .* Tried: .*missing-cudnn\.so/);
  assert.match(r.stdout, /set KINDLING_CUDNN_PATH/);
});

test("stand-in driver: tensors round-trip, zero-fill, async reads resolve, memory is accounted and released", { skip: noFake }, () => {
  const r = run(`
    const t = torch.tensor([1, 2, 3]).to("cuda", { nonBlocking: true });
    const z = torch.zeros([5], { device: "cuda" });
    const i = torch.tensor([7, -8], { dtype: "int32" }).cuda();
    const read = t.dataAsync();
    const out = {
      available: torch.cuda.isAvailable(), name: torch.cuda.getDeviceName(), cap: torch.cuda.getDeviceCapability(),
      device: t.device, back: Array.from(t.cpu().toTypedArray()), zeros: Array.from(z.cpu().toTypedArray()),
      ints: Array.from(i.cpu().toTypedArray()), isPromise: read instanceof Promise, async: Array.from(await read),
      allocated: torch.cuda.memoryAllocated(),
    };
    z.storage.release();
    out.afterRelease = torch.cuda.memoryAllocated();
    out.peak = torch.cuda.maxMemoryAllocated();
    torch.cuda.resetPeakMemoryStats();
    out.peakAfterReset = torch.cuda.maxMemoryAllocated();
    try { z.cpu(); } catch (e) { out.releasedRead = e.message; }
    torch.cuda.synchronize();
    torch.cuda.emptyCache();
    console.log(JSON.stringify(out));
  `, { KINDLING_LIBCUDA_PATH: FAKE!, KINDLING_CUDA_FATBIN: FATBIN });
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.available, true);
  assert.equal(o.name, "Fake GPU");
  assert.deepEqual(o.cap, [8, 0]);
  assert.equal(o.device, "cuda:0");
  assert.deepEqual(o.back, [1, 2, 3]);
  assert.deepEqual(o.zeros, [0, 0, 0, 0, 0]);
  assert.deepEqual(o.ints, [7, -8]);
  assert.equal(o.isPromise, true);
  assert.deepEqual(o.async, [1, 2, 3]);
  assert.equal(o.allocated, 3 * 512);
  assert.equal(o.afterRelease, 2 * 512);
  assert.equal(o.peak, 3 * 512);
  assert.equal(o.peakAfterReset, 2 * 512);
  assert.match(o.releasedRead, /was released/);
  assert.equal(r.stderr, "");
});

test("stand-in driver: a launch receives KernelArgs as the kernel declares them", { skip: noFake }, () => {
  const r = run(`
    const { cudaDevice } = await import(${JSON.stringify(DEVICE)});
    const { KernelArgs } = await import(${JSON.stringify(RUNTIME)});
    const rt = cudaDevice(0).rt;
    const x = torch.tensor([1, 2, 3, 4]).cuda(), y = torch.zeros([4], { device: "cuda" });
    rt.launch("k_selftest_axpb", [1, 1, 1], [4, 1, 1], 0, new KernelArgs().ptr(y.storage.ptr).ptr(x.storage.ptr).f32(2).i64(4).f64(0.5));
    console.log(JSON.stringify({ y: Array.from(y.cpu().toTypedArray()), module: rt.kernelModule().kind }));
    try { rt.launch("k_no_such_kernel", [1, 1, 1], [1, 1, 1], 0, new KernelArgs()); } catch (e) { console.log(e.message); }
  `, { KINDLING_LIBCUDA_PATH: FAKE!, KINDLING_CUDA_FATBIN: FATBIN });
  assert.equal(r.code, 0, r.stderr);
  const [first, second] = r.stdout.trim().split("\n");
  assert.deepEqual(JSON.parse(first!), { y: [2.5, 4.5, 6.5, 8.5], module: "fatbin" });
  assert.match(second!, /kernel k_no_such_kernel is not in kindling's CUDA module/);
});

test("stand-in driver: a faulting kernel is a JS exception naming it at the next sync point, not an abort", { skip: noFake }, () => {
  const body = (blocking: boolean) => `
    const { cudaDevice } = await import(${JSON.stringify(DEVICE)});
    const { KernelArgs } = await import(${JSON.stringify(RUNTIME)});
    const rt = cudaDevice(0).rt;
    const x = torch.ones([2]).cuda();
    try {
      rt.launch("k_selftest_fault", [1, 1, 1], [1, 1, 1], 0, new KernelArgs().ptr(0n).i64(0));
      ${blocking ? "" : "x.cpu();"}
      console.log("no error");
    } catch (e) { console.log(e.message); }
    try { await x.dataAsync(); } catch (e) { console.log("async: " + e.message); }
  `;
  const lazy = run(body(false), { KINDLING_LIBCUDA_PATH: FAKE!, KINDLING_CUDA_FATBIN: FATBIN });
  assert.equal(lazy.code, 0, lazy.stderr);
  assert.match(lazy.stdout, /CUDA error on cuda:0 during a (device-to-)?host copy: an illegal memory access was encountered \(CUDA_ERROR_ILLEGAL_ADDRESS\)\. Kernels queued since the last synchronisation \(newest last\): k_selftest_fault; set CUDA_LAUNCH_BLOCKING=1/);
  assert.match(lazy.stdout, /async: CUDA error on cuda:0 during (an asynchronous device-to-host|a host) copy: an illegal memory access/);
  const blocking = run(body(true), { KINDLING_LIBCUDA_PATH: FAKE!, KINDLING_CUDA_FATBIN: FATBIN, CUDA_LAUNCH_BLOCKING: "1" });
  assert.equal(blocking.code, 0, blocking.stderr);
  assert.match(blocking.stdout, /^CUDA kernel k_selftest_fault failed: an illegal memory access was encountered \(CUDA_ERROR_ILLEGAL_ADDRESS\) \(CUDA_LAUNCH_BLOCKING=1\)/);
});

test("stand-in driver: out of memory is PyTorch's kind of message after the cache and the collector were tried", { skip: noFake }, () => {
  const r = run(`
    // A loop written naturally (no release): dead tensors of earlier steps are freed when the pool runs dry.
    for (let step = 0; step < 40; step++) {
      torch.zeros([64 * 1024], { device: "cuda" });
      await new Promise((res) => setImmediate(res));
    }
    const kept = [];
    try { for (;;) kept.push(torch.zeros([64 * 1024], { device: "cuda" })); } catch (e) { console.log(e.name + ": " + e.message); }
    console.log(kept.length);
  `, { KINDLING_LIBCUDA_PATH: FAKE!, KINDLING_CUDA_FATBIN: FATBIN, FAKE_CUDA_MEM: String(2 * 1024 * 1024) });
  assert.equal(r.code, 0, r.stderr);
  const [msg, kept] = r.stdout.trim().split("\n");
  assert.match(msg!, /^OutOfMemoryError: CUDA out of memory\. Tried to allocate 256\.00 KiB\. GPU 0 \(Fake GPU\) has a total capacity of 2\.00 MiB of which 0 bytes is free\. 2\.00 MiB is allocated by kindling's tensors/);
  assert.equal(Number(kept), 8);
});

test("stand-in driver and NVRTC: no usable fatbin, so the kernels are compiled once, cached atomically, then reused", { skip: noFake }, () => {
  const nvrtc = fakeNvrtc();
  assert.ok(nvrtc, "the stand-in NVRTC did not build");
  const cache = path.join(tmp, "nvrtc-cache");
  const log = path.join(tmp, "nvrtc.log");
  const env = { KINDLING_LIBCUDA_PATH: FAKE!, FAKE_CUDA_REJECT_FATBIN: "1", KINDLING_NVRTC_PATH: nvrtc!, KINDLING_CUDA_CACHE: cache, FAKE_NVRTC_LOG: log };
  const body = `
    const { cudaDevice } = await import(${JSON.stringify(DEVICE)});
    const { KernelArgs } = await import(${JSON.stringify(RUNTIME)});
    const rt = cudaDevice(0).rt;
    const x = torch.tensor([1, 2]).cuda(), y = torch.zeros([2], { device: "cuda" });
    try {
      rt.launch("k_selftest_axpb", [1, 1, 1], [2, 1, 1], 0, new KernelArgs().ptr(y.storage.ptr).ptr(x.storage.ptr).f32(1).i64(2).f64(1));
      console.log(JSON.stringify({ module: rt.kernelModule().kind, y: Array.from(y.cpu().toTypedArray()) }));
    } catch (e) { console.log(e.message); }
  `;
  const first = run(body, env);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { module: "nvrtc", y: [2, 3] });
  const files = fs.readdirSync(cache);
  assert.equal(files.length, 1, files.join(", "));
  assert.match(files[0]!, /^[0-9a-f]{64}\.cubin$/);
  assert.match(fs.readFileSync(path.join(cache, files[0]!), "utf8"), /^CUBIN 3 --gpu-architecture=sm_80 /);
  const second = run(body, env);
  assert.deepEqual(JSON.parse(second.stdout), { module: "nvrtc-cache", y: [2, 3] });
  assert.equal(fs.readFileSync(log, "utf8"), "compile\n", "the second process used the cache");
  // Without NVRTC and without a usable fatbin: the error says both, and how to point at NVRTC.
  const none = run(body, { ...env, KINDLING_NVRTC_PATH: path.join(tmp, "no-nvrtc.so"), KINDLING_CUDA_CACHE: path.join(tmp, "empty-cache") });
  assert.match(none.stdout, /^CUDA kernels unavailable: .*NVRTC \(libnvrtc\.so\.13 or libnvrtc\.so\.12\) is needed for compiling kindling's CUDA kernels when no fatbin ships.*KINDLING_NVRTC_PATH/);
});

test("stand-in driver: int64 lives on the device as two's-complement int64 (what the kernels read), and reads back exactly", { skip: noFake }, () => {
  const r = run(`
    const t = torch.tensor([5, -3, 2 ** 40, -(2 ** 52)], { dtype: "int64" }).cuda();
    const raw = new BigInt64Array(4);
    t.storage.device.rt.copyDtoH(raw, t.storage.handle);
    console.log(JSON.stringify({ raw: Array.from(raw, String), back: Array.from(t.cpu().toTypedArray()), dtype: t.cpu().dtype }));
  `, { KINDLING_LIBCUDA_PATH: FAKE!, KINDLING_CUDA_FATBIN: FATBIN });
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.deepEqual(o.raw, ["5", "-3", String(2 ** 40), String(-(2 ** 52))]);
  assert.deepEqual(o.back, [5, -3, 2 ** 40, -(2 ** 52)]);
  assert.equal(o.dtype, "int64");
});
