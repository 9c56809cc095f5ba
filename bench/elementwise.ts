// Elementwise and random-fill throughput on 1M floats: `node dist/bench/elementwise.js [--runs N]`.
// Prints the median ms per call on the native backend beside the reference backend. Before issue 9 the native
// backend sent sin, cos, floor and any non-contiguous unary input to the reference kernel, so the "ref" column is
// what those rows cost then.
import * as torch from "kindling";
import { medianMs } from "./stats.js";

const args = process.argv.slice(2);
const runs = Number(args.includes("--runs") ? args[args.indexOf("--runs") + 1] : 9);

const time = (f: () => unknown): number => medianMs(f, runs);

torch.manualSeed(0);
const x = torch.rand([1024, 1024]).mul(6).sub(3);
const xt = x.t(); // non-contiguous view of the same 1M floats
const rows: [string, () => unknown][] = [
  ["exp", () => x.exp()],
  ["exp (non-contiguous)", () => xt.exp()],
  ["sin", () => x.sin()],
  ["cos", () => x.cos()],
  ["floor", () => x.floor()],
  ["log", () => x.abs().log()],
  ["tanh", () => x.tanh()],
  ["gt (comparison)", () => x.gt(xt)],
  ["torch.rand(1024, 1024)", () => torch.rand(1024, 1024)],
  ["torch.randn(1024, 1024)", () => torch.randn(1024, 1024)],
];
const backends = torch.backends.cpu.available().filter((b) => b === "native" || b === "ref");
console.log(`elementwise on 1M float32, median of ${runs} runs (ms per call)`);
console.log(`${"".padEnd(28)}${backends.map((b) => b.padStart(10)).join("")}`);
for (const [name, f] of rows) {
  const cells = backends.map((b) => {
    torch.backends.cpu.use(b);
    return time(f).toFixed(2).padStart(10);
  });
  console.log(`${name.padEnd(28)}${cells.join("")}`);
}
