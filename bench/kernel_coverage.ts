// Prints the kernels the native CPU backend hands to the reference backend on purpose (the documented exception
// list, src/backends/cpu/fallbacks.ts), then checks every unary and binary op on float32 contiguous, strided and
// broadcast inputs and lists anything else that fell back: `node dist/bench/kernel_coverage.js`.
import * as torch from "kindling";
import { clearFallbacks, fallbacksSeen, KNOWN_FALLBACKS } from "../src/backends/cpu/fallbacks.js";
import { binaryOps } from "../src/ops/binary.js";
import { unaryOps } from "../src/ops/unary.js";

console.log("Documented fallbacks of the native backend (kernel: reason -- why):");
for (const k of KNOWN_FALLBACKS) console.log(`  ${k.kernel}: ${k.reason} -- ${k.why}`);

if (!torch.backends.cpu.available().includes("native")) {
  console.log("\nThe native addon is not built here, so every kernel runs on the reference backend.");
} else {
  torch.backends.cpu.use("native");
  clearFallbacks();
  const x = torch.rand([8, 12]).add(0.5);
  const row = torch.rand([8]).add(0.5);
  for (const name of Object.keys(unaryOps) as (keyof typeof unaryOps)[]) {
    x.unary(name);
    x.t().unary(name);
  }
  for (const name of Object.keys(binaryOps) as (keyof typeof binaryOps)[]) {
    x.binary(name, x);
    x.t().binary(name, x.t());
    x.t().binary(name, row);
  }
  const seen = fallbacksSeen();
  console.log(`\nfloat32 unary/binary ops (contiguous, strided, broadcast): ${seen.length ? "FELL BACK:" : "all native"}`);
  for (const f of seen) console.log(`  ${f.kernel}: ${f.reason} (${f.count}x)`);
  process.exitCode = seen.length ? 1 : 0;
}
