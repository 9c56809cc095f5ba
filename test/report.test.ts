import test from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { encodePng } from "../src/vision/png.js";
import { renderReport, writeReport, type ReportData } from "../src/report/index.js";

const CHROMIUM = "/usr/bin/chromium";
const classes = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

function sampleData(): ReportData {
  const confusion = classes.map((_, t) => classes.map((_, p) => (t === p ? 50 + t * 3 : (t * 7 + p * 3) % 11)));
  const loss = Array.from({ length: 40 }, (_, i) => ({ step: (i + 1) * 500, loss: 2.3 * Math.exp(-i / 25) + 0.05 * Math.sin(i), epoch: i < 20 ? 0 : 1 }));
  const w = 36, h = 10;
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37) & 255;
  const png = encodePng({ width: w, height: h, channels: 3, data: px });
  return {
    title: "CIFAR-10 <tutorial> & report",
    classes,
    loss,
    accuracyCurve: [{ step: 10000, accuracy: 0.45 }, { step: 20000, accuracy: 0.53 }],
    confusion,
    samples: [
      { title: "training batch", png, truth: ["horse", "horse", "horse", "car"] },
      { title: "first test batch", png, truth: ["cat", "ship", "ship", "plane"], predicted: ["dog", "ship", "ship", "plane"] },
    ],
    info: { epochs: 2, "batch size": 4, lr: 0.001, device: "cpu" },
  };
}

test("report.html is self-contained and escapes text", () => {
  const html = renderReport(sampleData());
  assert.ok(html.startsWith("<!doctype html>"));
  // No external assets of any kind.
  assert.doesNotMatch(html, /(src|href)\s*=\s*"(?!data:)/i);
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<script[^>]+src/i);
  assert.match(html, /CIFAR-10 &#60;tutorial&#62; &#38; report/);
  assert.equal((html.match(/data:image\/png;base64,/g) ?? []).length, 2);
  assert.equal((html.match(/class="cell"/g) ?? []).length, 100);
  assert.equal((html.match(/class="bar"/g) ?? []).length, 10);
  assert.match(html, /id="kpi-accuracy">/);
  // Degenerate inputs still render.
  const empty = renderReport({ classes: ["a", "b"], loss: [], confusion: [[0, 0], [0, 0]] });
  assert.match(empty, /no loss values recorded/);
});

test("report.html renders in headless Chromium: plots exist with non-zero size, images decode, no console errors", { skip: !fs.existsSync(CHROMIUM) && `${CHROMIUM} not installed`, timeout: 60_000 }, async () => {
  const { chromium } = await import("playwright-core");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-report-"));
  const file = path.join(dir, "report.html");
  writeReport(file, sampleData());
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });

    for (const sel of ["#loss-curve", "#class-accuracy", "#confusion", "#samples"]) {
      const box = await page.locator(sel).boundingBox();
      assert.ok(box && box.width > 50 && box.height > 50, `${sel} has size ${JSON.stringify(box)}`);
    }
    // Runs in the page (a string, so this file needs no DOM typings).
    const stats = (await page.evaluate(`(() => {
      const size = (sel) => Array.from(document.querySelectorAll(sel)).map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0).length;
      const path = document.querySelector("#loss-curve .loss-line");
      const imgs = Array.from(document.querySelectorAll(".sample-grid img"));
      return {
        lossLength: path ? path.getTotalLength() : 0,
        lossPoints: size("#loss-curve .loss-pt"),
        bars: size("#class-accuracy .bar"),
        cells: size("#confusion .cell"),
        images: imgs.map((i) => [i.complete, i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width]),
        labels: document.querySelectorAll(".sample-grid li").length,
        wrong: document.querySelectorAll(".sample-grid li.bad").length,
        kpi: document.querySelector("#kpi-accuracy")?.textContent,
      };
    })()`)) as {
      lossLength: number;
      lossPoints: number;
      bars: number;
      cells: number;
      images: [boolean, number, number, number][];
      labels: number;
      wrong: number;
      kpi: string | undefined;
    };
    assert.ok(stats.lossLength > 300, `loss line length ${stats.lossLength}`);
    assert.equal(stats.lossPoints, 40);
    assert.equal(stats.bars, 10);
    assert.equal(stats.cells, 100);
    assert.deepEqual(stats.images.map((i) => i.slice(0, 3)), [[true, 36, 10], [true, 36, 10]]);
    assert.ok(stats.images.every((i) => (i[3] as number) > 0));
    assert.equal(stats.labels, 8);
    assert.equal(stats.wrong, 1);
    assert.match(stats.kpi ?? "", /%/);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:")), []);
    await page.screenshot({ path: path.join(dir, "report.png"), fullPage: true });
  } finally {
    await browser.close();
  }
});
