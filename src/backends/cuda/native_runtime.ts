// CudaRuntime (runtime.ts) over kindling_cuda.node for one GPU: the contract the kernels and the device use.
import type { CudaAddon } from "./native.js";
import type { ConvArgs, CudaRuntime, DevicePtr, Dim3, GemmArgs, KernelArgs } from "./runtime.js";
import { CudaAllocator, type PoolBackend } from "./allocator.js";
import { cudaFlags } from "./flags.js";
import { loadFirst, libraryCandidates, missingLibraryMessage, type LibraryResult } from "./locate.js";
import { loadKernels, type ModuleSource } from "./module.js";

export interface CudaLibraries {
  cublasLt: LibraryResult;
  cublas: LibraryResult;
  cudnn: LibraryResult;
}

let libs: CudaLibraries | null = null;

/** cuBLASLt, cuBLAS and cuDNN, each searched once per process (locate.ts's order). */
export function loadLibraries(addon: CudaAddon): CudaLibraries {
  if (libs) return libs;
  const blas = (which: "lt" | "classic") => (p: string): string | null => {
    const r = which === "lt" ? addon.loadBlas(p, "") : addon.loadBlas("", p);
    return r[which] ? null : (r.error ?? "did not load");
  };
  libs = {
    cublasLt: loadFirst("cublasLt", libraryCandidates("cublasLt"), blas("lt")),
    cublas: loadFirst("cublas", libraryCandidates("cublas"), blas("classic")),
    cudnn: loadFirst("cudnn", libraryCandidates("cudnn"), (p) => {
      const r = addon.loadDnn(p);
      return "error" in r ? r.error : null;
    }),
  };
  return libs;
}

/** An explicit KINDLING_<LIB>_PATH that does not load is an error, not a silent fallback. */
export function explicitPathErrors(l: CudaLibraries): string[] {
  return Object.values(l)
    .filter((r) => !r.path && r.tried.length === 1 && process.env[`KINDLING_${r.library.toUpperCase()}_PATH`])
    .map((r) => missingLibraryMessage(r, "kindling's CUDA backend, as its environment variable asks"));
}

export class NativeCudaRuntime implements CudaRuntime {
  readonly name: string;
  readonly computeCapability: readonly [number, number];
  readonly multiProcessorCount: number;
  readonly totalMemoryBytes: number;
  readonly hasBlas: boolean;
  readonly hasDnn: boolean;
  readonly allocator: CudaAllocator;
  readonly libraries: CudaLibraries;
  private fnIds = new Map<string, number>();
  private module: ModuleSource | null = null;
  private readonly gemmPtrs = new BigUint64Array(3);
  private readonly gemmParams = new Float64Array(16);
  private readonly convPtrs = new BigUint64Array(3);
  private readonly convParams = new Float64Array(18);

  constructor(private readonly addon: CudaAddon, readonly index: number) {
    const info = addon.deviceInfo(index);
    this.name = info.name;
    this.computeCapability = [info.major, info.minor];
    this.multiProcessorCount = info.multiProcessorCount;
    this.totalMemoryBytes = info.totalMemory;
    const blocking = process.env.CUDA_LAUNCH_BLOCKING === "1" || process.env.KINDLING_CUDA_LAUNCH_BLOCKING === "1";
    addon.open(index, blocking);
    this.libraries = loadLibraries(addon);
    const bad = explicitPathErrors(this.libraries);
    if (bad.length) throw new Error(bad.join("\n"));
    this.hasBlas = !!(this.libraries.cublasLt.path || this.libraries.cublas.path);
    this.hasDnn = !!this.libraries.cudnn.path;
    const pool: PoolBackend = {
      alloc: (bytes) => addon.alloc(index, bytes),
      free: (ptr, bytes) => addon.free(index, ptr, bytes),
      trim: () => addon.trimPool(index),
      memInfo: () => {
        const [free, total, reserved, used] = addon.memInfo(index);
        return { free, total, reserved, used };
      },
    };
    this.allocator = new CudaAllocator(pool, `GPU ${index} (${info.name})`);
  }

  get allowTf32(): boolean {
    return cudaFlags.matmulAllowTf32;
  }
  set allowTf32(v: boolean) {
    cudaFlags.matmulAllowTf32 = v;
  }

  /** Where the kernels came from (fatbin, NVRTC, NVRTC's cache); loads them on first call. */
  kernelModule(): ModuleSource {
    return (this.module ??= loadKernels(this.addon, this.index, this.computeCapability));
  }

  alloc(bytes: number): DevicePtr {
    // Kernels' scratch memory: owned by nobody, so the caller frees it with free().
    return this.allocator.allocate(bytes, null).ptr;
  }
  free(ptr: DevicePtr): void {
    this.allocator.freePtr(ptr);
  }
  memsetD32(ptr: DevicePtr, bits: number, count: number): void {
    if (count > 0) this.addon.memsetD32(this.index, ptr, bits >>> 0, count);
  }
  copyHtoD(dst: DevicePtr, src: ArrayBufferView): void {
    if (src.byteLength > 0) this.addon.copyHtoD(this.index, dst, src);
  }
  copyDtoH(dst: ArrayBufferView, src: DevicePtr): void {
    if (dst.byteLength > 0) this.addon.copyDtoH(this.index, dst, src);
    else this.synchronize();
  }
  copyDtoHAsync(dst: ArrayBufferView, src: DevicePtr): Promise<void> {
    return this.addon.copyDtoHAsync(this.index, dst, src);
  }
  copyDtoD(dst: DevicePtr, src: DevicePtr, bytes: number): void {
    if (bytes > 0) this.addon.copyDtoD(this.index, dst, src, bytes);
  }
  launch(kernel: string, grid: Dim3, block: Dim3, sharedBytes: number, args: KernelArgs): void {
    let id = this.fnIds.get(kernel);
    if (id === undefined) {
      this.kernelModule();
      id = this.addon.getFunction(this.index, kernel);
      this.fnIds.set(kernel, id);
    }
    this.addon.launch(this.index, id, grid[0], grid[1], grid[2], block[0], block[1], block[2], sharedBytes, args.bytes, args.offsets);
  }
  /** The compute stream's handle (every kernel and copy of this device runs on it). */
  computeStream(): bigint {
    return this.addon.computeStream(this.index);
  }
  /** The stream NCCL's collectives run on, beside the compute stream. */
  sideStream(): bigint {
    return this.addon.sideStream(this.index);
  }
  recordEvent(stream: bigint): bigint {
    return this.addon.eventRecord(this.index, stream);
  }
  releaseEvent(event: bigint): void {
    this.addon.eventRelease(this.index, event);
  }
  streamWaitEvent(stream: bigint, event: bigint): void {
    this.addon.streamWaitEvent(this.index, stream, event);
  }
  eventSynchronize(event: bigint): void {
    this.addon.eventSynchronize(this.index, event);
  }
  eventWaitAsync(event: bigint): Promise<void> {
    return this.addon.eventWaitAsync(this.index, event);
  }
  synchronize(): void {
    this.addon.synchronize(this.index);
  }
  gemm(g: GemmArgs): void {
    if (!this.hasBlas) {
      throw new Error(missingLibraryMessage(this.libraries.cublasLt, "gemm() (matmul, linear, bmm through cuBLAS)"));
    }
    this.gemmPtrs[0] = g.a;
    this.gemmPtrs[1] = g.b;
    this.gemmPtrs[2] = g.c;
    const p = this.gemmParams;
    p[0] = g.dtype === "float64" ? 1 : 0;
    p[1] = g.transA ? 1 : 0;
    p[2] = g.transB ? 1 : 0;
    p[3] = g.M; p[4] = g.N; p[5] = g.K;
    p[6] = g.lda; p[7] = g.ldb; p[8] = g.ldc;
    p[9] = g.strideA; p[10] = g.strideB; p[11] = g.strideC;
    p[12] = g.batch;
    p[13] = g.alpha; p[14] = g.beta;
    p[15] = g.dtype === "float32" && this.allowTf32 ? 1 : 0;
    this.addon.gemm(this.index, this.gemmPtrs, p);
  }
  private conv(which: 0 | 1 | 2, a: ConvArgs, in0: DevicePtr, in1: DevicePtr, out: DevicePtr): void {
    if (!this.hasDnn) throw new Error(missingLibraryMessage(this.libraries.cudnn, "the conv* calls (convolutions through cuDNN)"));
    this.convPtrs[0] = in0;
    this.convPtrs[1] = in1;
    this.convPtrs[2] = out;
    const p = this.convParams;
    p[0] = a.dtype === "float64" ? 1 : 0;
    p[1] = a.N; p[2] = a.C; p[3] = a.H; p[4] = a.W; p[5] = a.OC; p[6] = a.KH; p[7] = a.KW;
    p[8] = a.strideH; p[9] = a.strideW; p[10] = a.padH; p[11] = a.padW; p[12] = a.dilH; p[13] = a.dilW;
    p[14] = a.groups; p[15] = a.OH; p[16] = a.OW; p[17] = 0;
    this.addon.conv(this.index, which, this.convPtrs, p);
  }
  convForward(p: ConvArgs, x: DevicePtr, w: DevicePtr, y: DevicePtr): void {
    this.conv(0, p, x, w, y);
  }
  convBackwardData(p: ConvArgs, gy: DevicePtr, w: DevicePtr, gx: DevicePtr): void {
    this.conv(1, p, gy, w, gx);
  }
  convBackwardFilter(p: ConvArgs, x: DevicePtr, gy: DevicePtr, gw: DevicePtr): void {
    this.conv(2, p, x, gy, gw);
  }
}
