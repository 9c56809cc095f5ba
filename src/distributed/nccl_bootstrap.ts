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
