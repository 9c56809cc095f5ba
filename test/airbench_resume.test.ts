// runAirbench94 stopped at every point where it may stop (after each step, after each epoch's evaluation) and
// continued from what it left: the same weights, losses and TTA accuracy as the run left alone. The progress goes
// through JSON as in a checkpoint's metadata.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { imageSetFromHWC, runAirbench94, type ResumableRunOptions, type RunResult, type StoppedRun } from "../src/recipes/airbench94.js";
import { syntheticArrays } from "../src/cli/synthetic.js";
import { assertClose } from "./helpers/compare.js";

const tr = syntheticArrays(96, 0, true);
const te = syntheticArrays(24, 0, false);
const train = imageSetFromHWC(tr.data, tr.targets);
const testSet = imageSetFromHWC(te.data, te.targets);
// 3 steps per epoch, 11 steps: the whitening bias freezes after epoch 3, the EMA applies at steps 5 and 10, then once more at the end.
const OPTS: ResumableRunOptions = { hyper: { widths: [8, 16, 16], batchSize: 32, epochs: 3.5, whitenImages: 50 }, seed: 5 };

const withoutTimes = (r: RunResult) => r.epochs.map(({ seconds: _s, ...e }) => e);

/**
 * Within 1e-6, not bitwise: two uninterrupted runs of the same seed can already differ in the last bit of a loss or
 * a weight (a reduction order the native backend does not fix); a missing piece of state shows far above that.
 */
function assertSameRun(actual: RunResult, expected: RunResult, msg: string): void {
  const close = { rtol: 0, atol: 1e-6 };
  const rows = (r: RunResult) => withoutTimes(r).flatMap((e) => [e.epoch, e.globalStep, e.trainLoss, e.trainAcc, e.valAcc, e.ttaValAcc ?? -1]);
  assertClose(rows(actual), rows(expected), { ...close, msg: `${msg}: per-epoch losses and accuracies` });
  assert.equal(actual.ttaValAcc, expected.ttaValAcc, `${msg}: TTA accuracy`);
  assert.deepEqual([...actual.predictions], [...expected.predictions], `${msg}: TTA predictions`);
  const a = actual.net.stateDict();
  for (const [k, e] of Object.entries(expected.net.stateDict())) assertClose(a[k]!, e, { ...close, msg: `${msg}: ${k}` });
}

/** Continues a stopped run the way the CLI does, from the state a checkpoint would hold. */
function resumeFrom(s: StoppedRun, torchState: number[]): ResumableRunOptions["resume"] {
  const weights = s.net.stateDict();
  const optimizer = s.optimizer.stateDict();
  // JSON drops NaN: the loader's generator state travels in the checkpoint's rng entry instead.
  const progress = { ...(JSON.parse(JSON.stringify(s.progress)) as StoppedRun["progress"]), loader: s.progress.loader };
  return {
    progress,
    ema: s.ema,
    restore: (net, opt) => {
      net.loadStateDict(weights);
      opt.loadStateDict(optimizer);
      torch.setRngState(torchState);
    },
  };
}

test("airbench94 stopped after any step or evaluation and resumed ends as the uninterrupted run", async () => {
  let points = 0;
  const reference = (await runAirbench94(train, testSet, { ...OPTS, shouldStop: () => (points++, false) })) as RunResult;
  assert.ok(!("stopped" in reference));
  assert.equal(reference.steps, 11);
  assert.equal(points, 11 + 3, "a stop point after every step and after the 3 evaluations before the last epoch");
  for (let n = 1; n <= points; n++) {
    let calls = 0;
    const s = await runAirbench94(train, testSet, { ...OPTS, shouldStop: () => ++calls === n });
    assert.ok("stopped" in s, `stop point ${n}`);
    const p = s.progress;
    // Where it stopped, as a checkpoint says it.
    assert.equal(p.step, n - p.epochs.length, `stop point ${n}: steps`);
    assert.equal(p.epochs.length, p.epoch, `stop point ${n}: a row per finished epoch`);
    const resumed = await runAirbench94(train, testSet, { ...OPTS, resume: resumeFrom(s, torch.getRngState()) });
    assert.ok(!("stopped" in resumed));
    assertSameRun(resumed, reference, `stopped at point ${n} (epoch ${p.epoch + 1}, batch ${p.batch}, step ${p.step})`);
  }
});
