// torch.cuda as kindling exports it: backends/cuda.ts plus the seeding calls, which need the tensor layer's
// generator (a layer above backends/, so they are joined here, as backends_api.ts does for torch.backends).
import { manualSeed as seedAll } from "./tensor/random.js";

export * from "./backends/cuda.js";

/**
 * torch.cuda.manual_seed. kindling draws random numbers for every device from one generator (so a seeded run gives
 * the same values on cpu and cuda), hence this seeds that generator, like torch.manualSeed.
 */
export function manualSeed(seed: number): void {
  seedAll(seed);
}

export function manualSeedAll(seed: number): void {
  seedAll(seed);
}
