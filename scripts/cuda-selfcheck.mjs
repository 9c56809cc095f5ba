// The CUDA loading path, checked on a real GPU (scripts/gpu-check.sh runs it; run it by hand after `npm run build`):
// driver and device, the kernels' module (fatbin or NVRTC) with a selftest launch, one cuBLASLt/cuBLAS gemm and one
// cuDNN convolution (forward, backward data, backward filter) against kindling's CPU results, an async read, the
// allocator's figures. Prints one JSON object; exits 1 when a check fails. `--fault` instead launches a kernel that
// writes to an invalid address and checks that it surfaces as a JS exception (run it in its own process: the CUDA
// context is unusable afterwards).
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const torch = await import(join(root, "dist", "src", "index.js"));
const { cudaDevice } = await import(join(root, "dist", "src", "backends", "cuda", "device.js"));
const { KernelArgs } = await import(join(root, "dist", "src", "backends", "cuda", "runtime.js"));

const out = { ok: true, checks: {} };
function check(name, fn) {
  const t = performance.now();
  try {
    const detail = fn();
    out.checks[name] = { ok: true, ms: +(performance.now() - t).toFixed(2), ...(detail ?? {}) };
  } catch (e) {
    out.ok = false;
    out.checks[name] = { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}
const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

out.status = torch.cuda.status();
if (!torch.cuda.isAvailable()) {
  console.log(JSON.stringify({ ok: false, reason: torch.cuda.unavailableReason(), status: out.status }));
  process.exit(1);
}
const rt = cudaDevice(0).rt;
out.device = { name: rt.name, capability: rt.computeCapability.join("."), sms: rt.multiProcessorCount, memGiB: rt.totalMemoryBytes / 2 ** 30 };
out.libraries = Object.fromEntries(Object.entries(rt.libraries).map(([k, r]) => [k, r.path ?? `missing (${r.tried.map((t) => t.error).join("; ")})`]));

if (process.argv.includes("--fault")) {
  const x = torch.ones([4]).cuda();
  let message = null;
  try {
    rt.launch("k_selftest_fault", [1, 1, 1], [1, 1, 1], 0, new KernelArgs().ptr(16n).i64(0));
    x.cpu();
  } catch (e) {
    message = e.message;
  }
  const ok = !!message && /k_selftest_fault/.test(message) && /illegal|invalid|ILLEGAL/.test(message);
  console.log(JSON.stringify({ ok, message }));
  process.exit(ok ? 0 : 1);
}

check("kernels", () => {
  const n = 1000;
  const xh = Float32Array.from({ length: n }, (_, i) => i * 0.5);
  const x = torch.fromTypedArray(xh, [n]).cuda();
  const y = torch.zeros([n], { device: "cuda" });
  rt.launch("k_selftest_axpb", [Math.ceil(n / 256), 1, 1], [256, 1, 1], 0, new KernelArgs().ptr(y.storage.ptr).ptr(x.storage.ptr).f32(3).i64(n).f64(-1));
  const got = y.cpu().toTypedArray();
  const diff = maxDiff(Array.from(got), Array.from(xh, (v) => 3 * v - 1));
  if (diff > 1e-4) throw new Error(`k_selftest_axpb: max difference ${diff}`);
  return { module: rt.kernelModule() };
});

check("gemm", () => {
  if (!rt.hasBlas) throw new Error("neither cuBLASLt nor cuBLAS loaded");
  const [M, N, K] = [33, 65, 17];
  const a = torch.randn(M, K), b = torch.randn(K, N);
  const want = a.mm(b).toTypedArray();
  const da = a.cuda(), db = b.cuda(), dc = torch.zeros([M, N], { device: "cuda" });
  rt.gemm({ dtype: "float32", transA: false, transB: false, M, N, K, a: da.storage.ptr, lda: K, strideA: 0, b: db.storage.ptr, ldb: N, strideB: 0,
    c: dc.storage.ptr, ldc: N, strideC: 0, batch: 1, alpha: 1, beta: 0 });
  const diff = maxDiff(Array.from(dc.cpu().toTypedArray()), Array.from(want));
  if (diff > 1e-3) throw new Error(`gemm vs CPU: max difference ${diff}`);
  // Transposed and batched, float64.
  const at = torch.randn(2, K, M).double(), bt = torch.randn(2, N, K).double();
  const want2 = at.transpose(1, 2).bmm(bt.transpose(1, 2)).toTypedArray();
  const c2 = torch.zeros([2, M, N], { dtype: "float64", device: "cuda" });
  rt.gemm({ dtype: "float64", transA: true, transB: true, M, N, K, a: at.cuda().storage.ptr, lda: M, strideA: K * M, b: bt.cuda().storage.ptr, ldb: K,
    strideB: N * K, c: c2.storage.ptr, ldc: N, strideC: M * N, batch: 2, alpha: 1, beta: 0 });
  const diff2 = maxDiff(Array.from(c2.cpu().toTypedArray()), Array.from(want2));
  if (diff2 > 1e-9) throw new Error(`batched transposed float64 gemm vs CPU: max difference ${diff2}`);
  return { library: rt.libraries.cublasLt.path ?? rt.libraries.cublas.path, maxDiff: diff, maxDiff64: diff2 };
});

check("conv", () => {
  if (!rt.hasDnn) throw new Error("cuDNN not loaded");
  const p = { dtype: "float32", N: 2, C: 4, H: 9, W: 8, OC: 6, KH: 3, KW: 3, strideH: 1, strideW: 2, padH: 1, padW: 0, dilH: 1, dilW: 1, groups: 2, OH: 9, OW: 3 };
  const x = torch.randn(2, 4, 9, 8).requiresGrad_(true), w = torch.randn(6, 2, 3, 3).requiresGrad_(true);
  const y = torch.nn.functional.conv2d(x, w, null, { stride: [1, 2], padding: [1, 0], groups: 2 });
  const gy = torch.randn(...y.shape);
  y.backward(gy);
  const dy = torch.zeros(y.shape, { device: "cuda" }), dgx = torch.zeros(x.shape, { device: "cuda" }), dgw = torch.zeros(w.shape, { device: "cuda" });
  const dx = x.detach().cuda(), dw = w.detach().cuda(), dgy = gy.cuda();
  rt.convForward(p, dx.storage.ptr, dw.storage.ptr, dy.storage.ptr);
  rt.convBackwardData(p, dgy.storage.ptr, dw.storage.ptr, dgx.storage.ptr);
  rt.convBackwardFilter(p, dx.storage.ptr, dgy.storage.ptr, dgw.storage.ptr);
  const d = [maxDiff(Array.from(dy.cpu().toTypedArray()), Array.from(y.toTypedArray())),
    maxDiff(Array.from(dgx.cpu().toTypedArray()), Array.from(x.grad.toTypedArray())),
    maxDiff(Array.from(dgw.cpu().toTypedArray()), Array.from(w.grad.toTypedArray()))];
  if (Math.max(...d) > 1e-3) throw new Error(`cuDNN vs CPU: max differences fwd ${d[0]}, dgrad ${d[1]}, wgrad ${d[2]}`);
  return { library: rt.libraries.cudnn.path, maxDiff: d };
});

check("async read", () => {
  const x = torch.arange(0, 1 << 20).float().cuda();
  out.pendingRead = x.dataAsync().then((v) => v[12345] === 12345);
});
if (out.pendingRead) {
  const ok = await out.pendingRead.catch((e) => e.message);
  out.checks["async read"].value = ok;
  if (ok !== true) out.ok = false;
  delete out.pendingRead;
}

check("memory", () => {
  torch.cuda.synchronize();
  const before = torch.cuda.memoryAllocated();
  let t = torch.zeros([1 << 20], { device: "cuda" });
  const mid = torch.cuda.memoryAllocated();
  t.storage.release();
  t = null;
  torch.cuda.emptyCache();
  return { before, withTensor: mid, after: torch.cuda.memoryAllocated(), peak: torch.cuda.maxMemoryAllocated(), reserved: torch.cuda.memoryReserved() };
});

console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
