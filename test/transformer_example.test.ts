// examples/transformer.ts trains: a few Adam steps of the tiny sequence-reversal transformer lower its loss.
import test from "node:test";
import assert from "node:assert/strict";
import { train, type StepLog } from "../examples/transformer.js";

test("the transformer example's loss falls within a few dozen steps", { timeout: 120_000 }, () => {
  const logs: StepLog[] = [];
  train(40, 10, (l) => logs.push(l));
  assert.equal(logs.length, 4);
  const [first, last] = [logs[0], logs[logs.length - 1]];
  assert.ok(Number.isFinite(first.loss) && first.loss > 1.5, `initial loss near ln(8) = 2.08, got ${first.loss}`);
  assert.ok(last.loss < first.loss - 0.15, `loss should fall: ${logs.map((l) => l.loss.toFixed(3)).join(" → ")}`);
  assert.ok(last.accuracy > 0.2, `accuracy should beat chance (12.5 %): ${logs.map((l) => l.accuracy.toFixed(3)).join(" → ")}`);
});
