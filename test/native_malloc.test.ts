// The addon's malloc tuning: tensors larger than glibc's 32 MiB mmap threshold come from malloc's heap, so a
// training step reuses warm memory instead of faulting in fresh mmap()ed pages for every large activation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon } from "../src/backends/cpu/addon.js";
import * as torch from "../src/index.js";

test("a 64 MiB CPU tensor is served from malloc's heap, not a fresh mmap", (t) => {
  const addon = loadAddon();
  if (!addon) return t.skip("native addon not built");
  if (process.env.KINDLING_MALLOC_TUNE === "0" || process.env.GLIBC_TUNABLES) return t.skip("malloc tuning turned off");
  torch.zeros(1); // the cpu device loads the addon, which tunes malloc, on first use
  const before = addon.mallocStats();
  if (!before) return t.skip("no glibc >= 2.33 malloc statistics");
  const x = torch.ones(16 * 2 ** 20);
  const during = addon.mallocStats()!;
  assert.equal(x.sum().item(), 16 * 2 ** 20);
  assert.ok(during.mmappedBytes - before.mmappedBytes < 2 ** 20, `mmapped bytes grew by ${during.mmappedBytes - before.mmappedBytes}`);
  assert.ok(during.heapBytes - before.heapBytes >= 0, "heap shrank while a 64 MiB tensor was allocated");
});
