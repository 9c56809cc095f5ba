import test from "node:test";
import assert from "node:assert/strict";
import { Progress, RateMeter, type ProgressState } from "../src/cli/progress.js";

function fakeStream(o: { isTTY: boolean; columns?: number }): { writes: string[]; isTTY: boolean; columns?: number; write(s: string): boolean } {
  const writes: string[] = [];
  return { ...o, writes, write: (s: string) => (writes.push(s), true) };
}

const state = (p: Partial<ProgressState> = {}): ProgressState => ({ epoch: 2, epochs: 2, step: 12500, steps: 12500, loss: 1.234, imagesPerSec: 12345, etaSec: 3 * 3600 + 59 * 60 + 59, ...p });

test("the TTY bar never reaches the terminal's last column, however narrow", () => {
  for (const columns of [200, 100, 80, 61, 60, 50, 40, 30, 20, 10]) {
    const s = fakeStream({ isTTY: true, columns });
    const p = new Progress(s, true);
    p.update(state(), true);
    p.update(state({ step: 3, etaSec: NaN, imagesPerSec: NaN }), true);
    for (const w of s.writes) {
      const visible = w.replace(/^\r\x1b\[2K/, "");
      assert.ok([...visible].length <= columns - 1, `${columns} columns: ${JSON.stringify(visible)} is ${[...visible].length} wide`);
      assert.ok(!visible.includes("\n"));
    }
  }
  // Wide terminals still get the bar.
  const wide = fakeStream({ isTTY: true, columns: 120 });
  new Progress(wide, true).update(state({ step: 6250 }), true);
  assert.match(wide.writes[0]!, /epoch 2\/2 █{20}░{20} 6250\/12500 loss 1\.234 12345 img\/s ETA 3:59:59$/);
});

test("plain status lines wait for a warm throughput estimate: no cold-start ETA", (t) => {
  let now = 1_000_000;
  t.mock.method(Date, "now", () => now);
  const s = fakeStream({ isTTY: false });
  const p = new Progress(s, true, 10_000);
  p.update(state({ imagesPerSec: 45, etaSec: 2219 }));
  now += 5_000;
  p.update(state({ imagesPerSec: NaN, etaSec: NaN }));
  assert.deepEqual(s.writes, [], "a status line before a full interval with a known rate");
  now += 6_000;
  p.update(state({ imagesPerSec: 9000, etaSec: 11 }));
  assert.equal(s.writes.length, 1);
  assert.match(s.writes[0]!, /9000 img\/s ETA 0:11\n$/);
});

test("RateMeter: NaN while warming up, then the moving window's rate, not the average since a slow start", () => {
  const m = new RateMeter(2_000, 10_000, 1_000);
  // 3 s at 1 step/s (start-up), then 100 steps/s.
  let steps = 0;
  for (let t = 0; t <= 3_000; t += 500) {
    m.add(t, steps);
    steps = Math.floor(t / 1000);
  }
  assert.ok(Number.isNaN(m.perSecond()) || m.perSecond() < 5);
  for (let t = 3_000; t <= 30_000; t += 100) m.add(t, 3 + ((t - 3_000) / 1000) * 100);
  assert.ok(Math.abs(m.perSecond() - 100) < 1e-9, String(m.perSecond()));
  const cold = new RateMeter();
  cold.add(0, 0);
  cold.add(500, 10);
  assert.ok(Number.isNaN(cold.perSecond()));
});
