// torch.distributed: process groups and collectives (MPI: CPU tensors, CUDA ones through the host; NCCL: CUDA tensors).
import { openMpi } from "../backends/mpi/addon.js";

export {
  initProcessGroup, destroyProcessGroup, isInitialized, getRank, getWorldSize, getBackendInfo, launcherEnvironment,
  type InitOptions, type Backend, type BackendInfo,
} from "./process_group.js";
export {
  allReduce, broadcast, allGather, allGatherIntoTensor, reduceScatter, reduceScatterTensor, barrier, ReduceOp,
  type ReduceOpName, type CollectiveOptions, type ReduceOptions,
} from "./collectives.js";
export { Work } from "./work.js";

/** Whether an MPI library loads here (PyTorch's is_mpi_available); initProcessGroup's error says why not. */
export function isMpiAvailable(): boolean {
  try {
    openMpi();
    return true;
  } catch {
    return false;
  }
}
export { TCPStore, StoreError, rendezvous, parseInitMethod, type TCPStoreOptions, type Rendezvous } from "./tcp_store.js";
export { NcclCommunicator, NcclError, type NcclReduceOp, type CollectiveOptions as NcclCollectiveOptions } from "../backends/nccl/communicator.js";
export { CollectiveEvent } from "../backends/nccl/collective_event.js";
export { shareUniqueId, ncclCommunicatorFromStore } from "./nccl_bootstrap.js";
