// One process of the multi-process TCPStore test: joins the rendezvous that RANK / WORLD_SIZE / MASTER_ADDR /
// MASTER_PORT describe, exchanges values through the store and prints what it saw as one JSON line.
import * as torch from "kindling";

// `node --test dist/test/` also runs this file on its own, outside any job: then there is nothing to do.
if (process.env.RANK === undefined && process.env.OMPI_COMM_WORLD_RANK === undefined) process.exit(0);

const { store, rank, worldSize } = await torch.distributed.rendezvous("env://", { timeoutMs: 20_000 });
await store.set(`from${rank}`, `hello from ${rank}`);
const seen: string[] = [];
for (let r = 0; r < worldSize; r++) seen.push(new TextDecoder().decode(await store.get(`from${r}`)));
const ticket = await store.add("tickets", 1);
// Exactly one process wins the compare-and-set of an unset key.
const won = new TextDecoder().decode(await store.compareSet("leader", "", String(rank))) === String(rank);
const leader = new TextDecoder().decode(await store.get("leader"));
// The last request of every process: after it, rank 0 may close the store.
await store.add("done", 1);
if (rank === 0) {
  // The master keeps serving until everyone has finished with the store.
  for (;;) {
    if ((await store.add("done", 0)) === worldSize) break;
    await new Promise((r) => setTimeout(r, 10));
  }
}
process.stdout.write(JSON.stringify({ rank, worldSize, seen, ticket, won, leader }) + "\n");
store.close();
