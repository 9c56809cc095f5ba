// How NCCL's ranks find each other: rank 0 makes the 128-byte unique id and hands it to the others, through the
// TCPStore rendezvous (MASTER_ADDR/MASTER_PORT, torchrun's way) here; then every rank joins the communicator.
// Only the id travels this way: the data moves through NCCL.
import { NcclCommunicator } from "../backends/nccl/communicator.js";
import type { TCPStore } from "./tcp_store.js";

const KEY = "__kindling_nccl_unique_id";

/** Rank 0's NCCL unique id on every rank (rank 0 makes it; `make` stands in for tests without NCCL on the others). */
export async function shareUniqueId(store: TCPStore, rank: number, make: () => Uint8Array = NcclCommunicator.uniqueId): Promise<Uint8Array> {
  if (rank === 0) {
    const id = make();
    await store.set(KEY, id);
    return id;
  }
  const id = await store.get(KEY);
  if (id.length !== 128) throw new Error(`rank ${rank}: the NCCL unique id from the store has ${id.length} bytes, not 128 (a store shared with another job?)`);
  return id;
}

/** Joins an NCCL communicator of `worldSize` ranks through the store. */
export async function ncclCommunicatorFromStore(store: TCPStore, rank: number, worldSize: number): Promise<NcclCommunicator> {
  return NcclCommunicator.init(await shareUniqueId(store, rank), worldSize, rank);
}

/**
 * The CUDA device a rank uses, as torchrun users expect: cuda:LOCAL_RANK (mpirun's OMPI_COMM_WORLD_LOCAL_RANK or
 * MPI_LOCALRANKID when LOCAL_RANK is unset), modulo the devices this process sees, so N ranks on a node with N GPUs
 * get one each and more ranks than GPUs share them round-robin.
 */
export function ncclDeviceIndex(deviceCount: number, env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.LOCAL_RANK ?? env.OMPI_COMM_WORLD_LOCAL_RANK ?? env.MPI_LOCALRANKID ?? "0";
  const local = Number(raw);
  if (!Number.isInteger(local) || local < 0) throw new Error(`initProcessGroup: LOCAL_RANK must be a non-negative integer, got "${raw}"`);
  if (deviceCount < 1) throw new Error("initProcessGroup: the NCCL backend needs a CUDA device, and this process sees none");
  return local % deviceCount;
}

/**
 * Rank 0's unique id on every rank through an MPI broadcast (under mpirun, which has already connected the
 * processes). `broadcast` broadcasts the 128 bytes in place from rank 0 and returns once they arrived.
 */
export function shareUniqueIdOverMpi(rank: number, broadcast: (bytes: Uint8Array) => void, make: () => Uint8Array = NcclCommunicator.uniqueId): Uint8Array {
  const id = rank === 0 ? make() : new Uint8Array(128);
  if (id.length !== 128) throw new Error(`rank ${rank}: an NCCL unique id has 128 bytes, got ${id.length}`);
  broadcast(id);
  return id;
}

/**
 * shareUniqueId, then every rank waits until all of them have the id, so the store can close before anyone joins the
 * communicator (no store left open for the job's life, and none closed under a rank still reading).
 */
export async function shareUniqueIdOnce(store: TCPStore, rank: number, worldSize: number): Promise<Uint8Array> {
  const id = await shareUniqueId(store, rank);
  const read = await store.add("__kindling_nccl_id_read", 1);
  if (read === worldSize) await store.set("__kindling_nccl_id_all_read", "1");
  await store.wait(["__kindling_nccl_id_all_read"]);
  // Rank 0 serves the store: it leaves last, once no other rank has a request in flight.
  if (worldSize > 1) {
    if (rank !== 0 && (await store.add("__kindling_nccl_id_left", 1)) === worldSize - 1) await store.set("__kindling_nccl_id_all_left", "1");
    if (rank === 0) await store.wait(["__kindling_nccl_id_all_left"]);
  }
  return id;
}
