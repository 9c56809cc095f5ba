// A CudaRuntime with no GPU behind it: fake device addresses from a bump allocator that remembers every live
// allocation, and a record of every launch, library call, copy and fill. Anything that touches memory outside a
// live allocation is written to `problems` (the tests assert it stays empty).
import type { ConvArgs, CudaRuntime, DevicePtr, Dim3, GemmArgs, KernelArgs } from "../../src/backends/cuda/runtime.js";

export interface Launch {
  kernel: string;
  grid: Dim3;
  block: Dim3;
  shared: number;
  args: KernelArgs;
  /** Live allocations at launch time (base -> bytes). */
  live: Map<bigint, number>;
}

export class FakeRuntime implements CudaRuntime {
  readonly index = 0;
  readonly name = "fake GPU";
  readonly computeCapability = [9, 0] as const;
  readonly multiProcessorCount = 132;
  readonly totalMemoryBytes = 80 * 2 ** 30;
  allowTf32 = false;
  readonly launches: Launch[] = [];
  readonly gemms: GemmArgs[] = [];
  readonly convs: { kind: string; p: ConvArgs }[] = [];
  readonly problems: string[] = [];
  readonly allocs = new Map<bigint, number>();
  /** Allocations the test itself made (the views it passes in). */
  readonly owned = new Set<bigint>();
  protected next: bigint;

  constructor(readonly hasBlas: boolean, readonly hasDnn: boolean, readonly base = 0x7f0000000000n) {
    this.next = base;
  }

  alloc(bytes: number): DevicePtr {
    if (!(bytes >= 0) || !Number.isInteger(bytes)) this.problems.push(`alloc(${bytes})`);
    const p = this.next;
    this.next += BigInt(Math.ceil(Math.max(bytes, 1) / 256) * 256 + 4096);
    this.allocs.set(p, bytes);
    return p;
  }
  free(ptr: DevicePtr): void {
    if (!this.allocs.delete(ptr)) this.problems.push(`free of ${ptr.toString(16)}, not an allocation`);
  }
  /** The allocation [ptr, ptr + bytes) lies in, or a problem. */
  check(what: string, ptr: DevicePtr, bytes: number, allocs: ReadonlyMap<bigint, number> = this.allocs): void {
    for (const [base, size] of allocs) {
      if (ptr >= base && ptr < base + BigInt(Math.max(size, 1))) {
        if (ptr + BigInt(bytes) > base + BigInt(size)) this.problems.push(`${what}: ${bytes} bytes at +${ptr - base} overrun an allocation of ${size}`);
        return;
      }
    }
    this.problems.push(`${what}: address ${ptr.toString(16)} is in no live allocation`);
  }
  memsetD32(ptr: DevicePtr, _bits: number, count: number): void {
    this.check("memsetD32", ptr, count * 4);
  }
  copyHtoD(dst: DevicePtr, src: ArrayBufferView): void {
    this.check("copyHtoD", dst, src.byteLength);
  }
  copyDtoH(dst: ArrayBufferView, src: DevicePtr): void {
    this.check("copyDtoH", src, dst.byteLength);
    new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).fill(0);
  }
  copyDtoHAsync(dst: ArrayBufferView, src: DevicePtr): Promise<void> {
    this.copyDtoH(dst, src);
    return Promise.resolve();
  }
  copyDtoD(dst: DevicePtr, src: DevicePtr, bytes: number): void {
    this.check("copyDtoD dst", dst, bytes);
    this.check("copyDtoD src", src, bytes);
  }
  launch(kernel: string, grid: Dim3, block: Dim3, sharedBytes: number, args: KernelArgs): void {
    this.launches.push({ kernel, grid, block, shared: sharedBytes, args, live: new Map(this.allocs) });
  }
  synchronize(): void {}
  gemm(g: GemmArgs): void {
    this.gemms.push(g);
    checkGemm(this, "gemm", g);
  }
  convForward(p: ConvArgs, x: DevicePtr, w: DevicePtr, y: DevicePtr): void {
    this.convs.push({ kind: "fwd", p });
    this.convTensors(p, x, w, y);
  }
  convBackwardData(p: ConvArgs, gy: DevicePtr, w: DevicePtr, gx: DevicePtr): void {
    this.convs.push({ kind: "bwdData", p });
    this.convTensors(p, gx, w, gy);
  }
  convBackwardFilter(p: ConvArgs, x: DevicePtr, gy: DevicePtr, gw: DevicePtr): void {
    this.convs.push({ kind: "bwdFilter", p });
    this.convTensors(p, x, gw, gy);
  }
  private convTensors(p: ConvArgs, x: DevicePtr, w: DevicePtr, y: DevicePtr): void {
    const e = p.dtype === "float64" ? 8 : 4;
    this.check("conv x", x, p.N * p.C * p.H * p.W * e);
    this.check("conv w", w, (p.OC * p.C * p.KH * p.KW * e) / p.groups);
    this.check("conv y", y, p.N * p.OC * p.OH * p.OW * e);
  }
}

/** op(A) [M, K], op(B) [K, N], C [M, N] of every batch entry lie inside their allocations; leading dims are wide enough. */
export function checkGemm(rt: FakeRuntime, what: string, g: GemmArgs, allocs?: ReadonlyMap<bigint, number>): void {
  const e = g.dtype === "float64" ? 8 : 4;
  const span = (trans: boolean, rows: number, cols: number, ld: number, stride: number, name: string): number => {
    const need = trans ? rows : cols;
    if (ld < need) rt.problems.push(`${what}: ld${name} ${ld} < ${need}`);
    const last = trans ? (cols - 1) * ld + rows - 1 : (rows - 1) * ld + cols - 1;
    return ((g.batch - 1) * stride + last + 1) * e;
  };
  if (g.M === 0 || g.N === 0 || g.batch === 0) return;
  if (g.K > 0) {
    rt.check(`${what} A`, g.a, span(g.transA, g.M, g.K, g.lda, g.strideA, "a"), allocs);
    rt.check(`${what} B`, g.b, span(g.transB, g.K, g.N, g.ldb, g.strideB, "b"), allocs);
  }
  rt.check(`${what} C`, g.c, span(false, g.M, g.N, g.ldc, g.strideC, "c"), allocs);
}
