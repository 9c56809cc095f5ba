// Which process group `kindling train --nproc-per-node N` trains on (--dist-backend, PyTorch's word for
// init_process_group's backend) and where each rank's tensors live. CUDA runs take NCCL when libnccl.so.2 loads,
// else MPI with a host copy of every collective; CPU runs take MPI. Each rank trains on cuda:LOCAL_RANK (mod the
// devices it sees), as torchrun users write `device = cuda:LOCAL_RANK`.
import * as cuda from "../backends/cuda.js";
import { openNccl } from "../backends/nccl/addon.js";
import { getBackendInfo } from "../distributed/index.js";
import { ncclDeviceIndex } from "../distributed/nccl_bootstrap.js";
import { checkDevice } from "./common.js";
import { EXIT, ExitError } from "./failures.js";

export type DistBackend = "mpi" | "nccl";

/**
 * What a data-parallel run trains on: "cpu", or "cuda" (each rank then takes its own GPU). --device cuda:N names one
 * GPU for every rank, which is not what a rank of a data-parallel job wants: refused with what to write instead.
 */
export function ddpDeviceKind(device: string): "cpu" | "cuda" {
  if (device === "auto") return cuda.isAvailable() ? "cuda" : "cpu";
  if (/^cuda:\d+$/.test(device)) {
    throw new ExitError(`--device ${device}: with --nproc-per-node each process trains on its own GPU, cuda:LOCAL_RANK ` +
      "(mod the GPUs it sees); use --device cuda", EXIT.usage);
  }
  // Refuses --device cuda without CUDA, with checkDevice's message.
  return checkDevice(device) === "cpu" ? "cpu" : "cuda";
}

/** Why NCCL cannot be used here (its loader's message, first line), or null when libnccl.so.2 loads. */
export function ncclUnavailable(): string | null {
  try {
    openNccl();
    return null;
  } catch (e) {
    return (e as Error).message.split("\n")[0]!;
  }
}

export interface BackendChoice {
  backend: DistBackend;
  /** The one line that says which backend was chosen and why, when it was not asked for; else null. */
  note: string | null;
}

/**
 * --dist-backend for a run on `kind`: `asked` when given (nccl refused on the CPU, and where NCCL does not load),
 * else nccl for CUDA when NCCL loads, mpi otherwise. `whyNoNccl` is ncclUnavailable (a parameter for tests).
 */
export function chooseDistBackend(kind: "cpu" | "cuda", asked: string | undefined, whyNoNccl: () => string | null = ncclUnavailable): BackendChoice {
  if (asked !== undefined && asked !== "mpi" && asked !== "nccl") {
    throw new ExitError(`--dist-backend must be mpi or nccl, got '${asked}'`, EXIT.usage);
  }
  if (kind === "cpu") {
    if (asked === "nccl") {
      throw new ExitError("--dist-backend nccl: NCCL reduces CUDA tensors only, and this run trains on the CPU; " +
        "use --device cuda to train on the GPUs, or --dist-backend mpi (the default with --device cpu)", EXIT.usage);
    }
    return { backend: "mpi", note: null };
  }
  if (asked === "mpi") return { backend: "mpi", note: null };
  const why = whyNoNccl();
  if (asked === "nccl") {
    if (why !== null) throw new ExitError(`--dist-backend nccl: ${why}; or use --dist-backend mpi (MPI with a host copy of each collective)`, EXIT.device);
    return { backend: "nccl", note: null };
  }
  return why === null
    ? { backend: "nccl", note: "Data-parallel backend: nccl (one GPU per process; --dist-backend mpi to use MPI instead)" }
    : { backend: "mpi", note: `Data-parallel backend: mpi, each collective through a host copy (NCCL is not available: ${why})` };
}

/**
 * This rank's training device once the group is up: the NCCL group's own device, or for MPI the same choice,
 * cuda:(LOCAL_RANK mod device count).
 */
export function rankDevice(kind: "cpu" | "cuda"): string {
  if (kind === "cpu") return "cpu";
  const info = getBackendInfo();
  return info.backend === "nccl" ? info.device : `cuda:${ncclDeviceIndex(cuda.deviceCount())}`;
}

/** Where the CLI's own small collectives (options, checkpoint bytes, the stop flag) put their tensors. */
export function collectiveDevice(): string {
  const info = getBackendInfo();
  // NCCL reduces device memory only; MPI reads host memory (a CUDA tensor would only add a copy each way).
  return info.backend === "nccl" ? info.device : "cpu";
}
