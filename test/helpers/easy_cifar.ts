// A small, easy CIFAR-10-format data set (binary layout) for end-to-end runs of the tutorial: learnable in a few
// hundred steps, so a run can check that loss falls and accuracy beats chance.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Records whose class decides a colour and a stripe direction, with per-pixel noise: learnable in a few hundred steps.
 * Every file, test_batch included, holds perBatch records: the reader checks that the six files agree.
 */
export function writeEasyCifar(root: string, perBatch: number): void {
  const dir = join(root, "cifar-10-batches-bin");
  mkdirSync(dir, { recursive: true });
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const palette = [[220, 40, 40], [40, 220, 40], [40, 40, 220], [220, 220, 40], [220, 40, 220], [40, 220, 220], [140, 140, 140], [250, 250, 250], [20, 20, 20], [200, 120, 40]];
  const records = (n: number) => {
    const buf = new Uint8Array(n * 3073);
    for (let r = 0; r < n; r++) {
      const label = Math.floor(rnd() * 10);
      buf[r * 3073] = label;
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++) {
            const stripe = (label % 2 ? x : y) % 8 < 4 ? 30 : -30;
            const v = palette[label][c] + stripe + (rnd() - 0.5) * 60;
            buf[r * 3073 + 1 + c * 1024 + y * 32 + x] = Math.max(0, Math.min(255, Math.round(v)));
          }
    }
    return buf;
  };
  for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), records(perBatch));
  writeFileSync(join(dir, "test_batch.bin"), records(perBatch));
  writeFileSync(join(dir, "batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n");
}
