// report.html: one self-contained page (inline SVG and CSS, images as data: URIs, no external assets) with the
// loss curve, per-class accuracy, the confusion matrix and the sample grids with their labels.

import { writeFileAtomicSync } from "../io/atomic.js";

export interface LossPoint {
  /** Global step (optimizer steps since the start). */
  step: number;
  loss: number;
  epoch?: number;
}

export interface SampleGrid {
  title: string;
  /** PNG bytes of the grid image. */
  png: Uint8Array;
  /** Class names of the images in the grid, left to right, top to bottom. */
  truth?: string[];
  predicted?: string[];
}

export interface ReportData {
  title?: string;
  classes: readonly string[];
  loss: LossPoint[];
  /** Evaluation points (e.g. test accuracy after each epoch), 0..1. */
  accuracyCurve?: { step: number; accuracy: number }[];
  /** confusion[t][p]: images of true class t predicted as p. */
  confusion: number[][];
  samples?: SampleGrid[];
  /** Shown as a key/value table (options, timings, versions). */
  info?: Record<string, string | number | boolean | null | undefined>;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number, d = 3): string => (Number.isFinite(v) ? Number(v.toFixed(d)).toString() : String(v));

/** 1, 2, 5 × 10^k ticks covering [lo, hi]. */
function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function lossCurveSvg(points: LossPoint[], acc: { step: number; accuracy: number }[] = []): string {
  const W = 720, H = 320, L = 56, R = acc.length ? 56 : 16, T = 16, B = 40;
  const pw = W - L - R, ph = H - T - B;
  const pts = points.filter((p) => Number.isFinite(p.loss));
  if (pts.length === 0) {
    return `<svg id="loss-curve" class="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="loss curve"><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="muted">no loss values recorded</text></svg>`;
  }
  const steps = [...pts.map((p) => p.step), ...acc.map((a) => a.step)];
  let x0 = Math.min(...steps), x1 = Math.max(...steps);
  if (x1 === x0) x1 = x0 + 1;
  let y0 = Math.min(...pts.map((p) => p.loss)), y1 = Math.max(...pts.map((p) => p.loss));
  const padY = (y1 - y0) * 0.05 || Math.abs(y1) * 0.05 || 1;
  y0 -= padY;
  y1 += padY;
  if (y0 < 0 && Math.min(...pts.map((p) => p.loss)) >= 0) y0 = 0;
  const sx = (x: number): number => L + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => T + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line class="grid" x1="${L}" x2="${L + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}"/>`);
    parts.push(`<text class="tick" x="${L - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1, 6)) {
    parts.push(`<line class="grid" y1="${T}" y2="${T + ph}" x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}"/>`);
    parts.push(`<text class="tick" y="${T + ph + 16}" x="${sx(t).toFixed(1)}" text-anchor="middle">${fmt(t, 0)}</text>`);
  }
  // Epoch boundaries.
  for (let i = 1; i < pts.length; i++) {
    if (pts[i]!.epoch !== undefined && pts[i - 1]!.epoch !== undefined && pts[i]!.epoch !== pts[i - 1]!.epoch) {
      const x = sx((pts[i]!.step + pts[i - 1]!.step) / 2).toFixed(1);
      parts.push(`<line class="epoch" x1="${x}" x2="${x}" y1="${T}" y2="${T + ph}"/><text class="tick" x="${x}" y="${T + 12}" dx="4">epoch ${pts[i]!.epoch! + 1}</text>`);
    }
  }
  parts.push(`<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}"/><line class="axis" x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}"/>`);
  const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p.step).toFixed(1)},${sy(p.loss).toFixed(1)}`).join("");
  parts.push(`<path class="loss-line" d="${d}"/>`);
  if (pts.length <= 400) {
    for (const p of pts) {
      parts.push(`<circle class="loss-pt" cx="${sx(p.step).toFixed(1)}" cy="${sy(p.loss).toFixed(1)}" r="2.5"><title>step ${p.step}: loss ${fmt(p.loss)}</title></circle>`);
    }
  }
  if (acc.length) {
    const ay = (a: number): number => T + ph - a * ph;
    for (const t of [0, 0.25, 0.5, 0.75, 1]) parts.push(`<text class="tick acc" x="${L + pw + 6}" y="${(ay(t) + 4).toFixed(1)}">${t * 100}%</text>`);
    const ad = acc.map((a, i) => `${i ? "L" : "M"}${sx(a.step).toFixed(1)},${ay(a.accuracy).toFixed(1)}`).join("");
    parts.push(`<path class="acc-line" d="${ad}"/>`);
    for (const a of acc) {
      parts.push(`<circle class="acc-pt" cx="${sx(a.step).toFixed(1)}" cy="${ay(a.accuracy).toFixed(1)}" r="4"><title>step ${a.step}: test accuracy ${fmt(a.accuracy * 100, 1)}%</title></circle>`);
    }
  }
  parts.push(`<text class="label" x="${L + pw / 2}" y="${H - 6}" text-anchor="middle">step</text>`);
  parts.push(`<text class="label" transform="translate(14 ${T + ph / 2}) rotate(-90)" text-anchor="middle">training loss</text>`);
  return `<svg id="loss-curve" class="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="loss curve">${parts.join("")}</svg>`;
}

export function classAccuracySvg(classes: readonly string[], correct: number[], total: number[]): string {
  const rowH = 24, L = 80, W = 480, R = 70, T = 8;
  const pw = W - L - R;
  const H = T * 2 + rowH * classes.length;
  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const x = (L + t * pw).toFixed(1);
    parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${T}" y2="${H - T}"/>`);
  }
  classes.forEach((c, i) => {
    const a = total[i] ? correct[i]! / total[i]! : 0;
    const y = T + i * rowH;
    parts.push(`<text class="tick" x="${L - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(c)}</text>`);
    parts.push(
      `<rect class="bar" data-class="${esc(c)}" x="${L}" y="${y + 3}" width="${Math.max(1, a * pw).toFixed(1)}" height="${rowH - 6}"><title>${esc(c)}: ${correct[i]} / ${total[i]} = ${fmt(a * 100, 1)}%</title></rect>`,
    );
    parts.push(`<text class="tick" x="${(L + a * pw + 6).toFixed(1)}" y="${y + rowH / 2 + 4}">${total[i] ? `${Math.floor(a * 100)} %` : "–"}</text>`);
  });
  return `<svg id="class-accuracy" class="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="per-class accuracy">${parts.join("")}</svg>`;
}

export function confusionSvg(classes: readonly string[], m: number[][]): string {
  const n = classes.length, cell = 40, L = 70, T = 70;
  const W = L + n * cell + 10, H = T + n * cell + 10;
  const parts: string[] = [];
  const rowMax = m.map((r) => Math.max(1, r.reduce((a, b) => a + b, 0)));
  for (let t = 0; t < n; t++) {
    parts.push(`<text class="tick" x="${L - 6}" y="${T + t * cell + cell / 2 + 4}" text-anchor="end">${esc(classes[t]!)}</text>`);
    parts.push(`<text class="tick" transform="translate(${L + t * cell + cell / 2 + 4} ${T - 6}) rotate(-60)">${esc(classes[t]!)}</text>`);
    for (let p = 0; p < n; p++) {
      const v = m[t]?.[p] ?? 0;
      const f = v / rowMax[t]!; // row-normalized: the share of class t predicted as p
      const light = Math.round(97 - f * 62);
      const hue = t === p ? 210 : 12;
      parts.push(
        `<rect class="cell" x="${L + p * cell}" y="${T + t * cell}" width="${cell}" height="${cell}" fill="hsl(${hue} 70% ${light}%)"><title>true ${esc(classes[t]!)}, predicted ${esc(classes[p]!)}: ${v} (${fmt(f * 100, 1)}% of ${esc(classes[t]!)})</title></rect>`,
      );
      if (v) parts.push(`<text class="count${light < 60 ? " dark" : ""}" x="${L + p * cell + cell / 2}" y="${T + t * cell + cell / 2 + 4}" text-anchor="middle">${v}</text>`);
    }
  }
  parts.push(`<text class="label" x="${L + (n * cell) / 2}" y="12" text-anchor="middle">predicted</text>`);
  parts.push(`<text class="label" transform="translate(12 ${T + (n * cell) / 2}) rotate(-90)" text-anchor="middle">true</text>`);
  return `<svg id="confusion" class="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="confusion matrix">${parts.join("")}</svg>`;
}

function samplesHtml(grids: SampleGrid[]): string {
  return grids
    .map((g, i) => {
      const uri = `data:image/png;base64,${Buffer.from(g.png).toString("base64")}`;
      const labels = (g.truth ?? g.predicted ?? [])
        .map((_, j) => {
          const t = g.truth?.[j];
          const p = g.predicted?.[j];
          const cls = t !== undefined && p !== undefined ? (t === p ? "ok" : "bad") : "";
          return `<li class="${cls}">${t !== undefined ? `<span class="truth">${esc(t)}</span>` : ""}${p !== undefined ? `<span class="pred">${esc(p)}</span>` : ""}</li>`;
        })
        .join("");
      return `<figure class="sample-grid" id="samples-${i}"><img alt="${esc(g.title)}" src="${uri}"><figcaption>${esc(g.title)}${
        labels ? `<ol class="labels">${labels}</ol>` : ""
      }</figcaption></figure>`;
    })
    .join("\n");
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 12px}
.muted{color:#6b7280;fill:#6b7280}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:16px;box-sizing:border-box}
.kpi{font-size:28px;font-weight:600}
section.card{margin:0 0 16px}
.row{display:flex;flex-wrap:wrap;gap:16px}.row>section{flex:1 1 420px}
svg.plot{max-width:100%;height:auto;display:block}#loss-curve{width:100%}
.grid{stroke:#eceef2}.axis{stroke:#9aa1ad}.epoch{stroke:#c7cbd3;stroke-dasharray:4 3}
.tick{font-size:11px;fill:#4b5563}.label{font-size:12px;fill:#374151}
.loss-line{fill:none;stroke:#2563eb;stroke-width:1.8}.loss-pt{fill:#2563eb}
.acc-line{fill:none;stroke:#16a34a;stroke-width:1.5;stroke-dasharray:5 3}.acc-pt{fill:#16a34a}.acc{fill:#16a34a}
.bar{fill:#3b82f6}.count{font-size:11px;fill:#1f2937}.count.dark{fill:#fff}
.cell{stroke:#fff}
figure.sample-grid{margin:0 0 16px}
figure.sample-grid img{image-rendering:pixelated;width:min(100%,512px);border:1px solid #e3e6eb;display:block}
ol.labels{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:6px}
ol.labels li{border:1px solid #e3e6eb;border-radius:4px;padding:2px 6px;font-size:12px;background:#fff}
ol.labels li.ok{border-color:#86efac}ol.labels li.bad{border-color:#fca5a5;background:#fef2f2}
.truth::before{content:"true: ";color:#6b7280}.pred::before{content:" pred: ";color:#6b7280}
table.info{border-collapse:collapse}table.info td{padding:2px 12px 2px 0;vertical-align:top}table.info td:first-child{color:#6b7280}
`;

/** The whole page as a string. */
export function renderReport(d: ReportData): string {
  const n = d.classes.length;
  const correct = d.classes.map((_, i) => d.confusion[i]?.[i] ?? 0);
  const total = d.classes.map((_, i) => (d.confusion[i] ?? []).reduce((a, b) => a + b, 0));
  const all = total.reduce((a, b) => a + b, 0);
  const acc = all ? correct.reduce((a, b) => a + b, 0) / all : NaN;
  const last = d.loss.length ? d.loss[d.loss.length - 1]!.loss : NaN;
  const title = d.title ?? "kindling training report";
  const info = Object.entries(d.info ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(title)}</h1>
<div class="cards">
<div class="card"><div class="muted">test accuracy</div><div class="kpi" id="kpi-accuracy">${Number.isFinite(acc) ? `${fmt(acc * 100, 2)} %` : "–"}</div><div class="muted">${all} images, ${n} classes</div></div>
<div class="card"><div class="muted">final training loss</div><div class="kpi" id="kpi-loss">${Number.isFinite(last) ? fmt(last) : "–"}</div><div class="muted">${d.loss.length} logged points</div></div>
</div>
<section class="card"><h2>Training loss${d.accuracyCurve?.length ? ' <span class="muted">(and test accuracy, right axis)</span>' : ""}</h2>${lossCurveSvg(d.loss, d.accuracyCurve)}</section>
<div class="row">
<section class="card"><h2>Accuracy per class</h2>${classAccuracySvg(d.classes, correct, total)}</section>
<section class="card"><h2>Confusion matrix <span class="muted">(rows: true class, columns: predicted)</span></h2>${confusionSvg(d.classes, d.confusion)}</section>
</div>
${d.samples?.length ? `<section class="card" id="samples"><h2>Samples</h2>${samplesHtml(d.samples)}</section>` : ""}
${info ? `<section class="card"><h2>Run</h2><table class="info">${info}</table></section>` : ""}
</main></body></html>
`;
}

/** Writes report.html atomically. */
export function writeReport(path: string, d: ReportData): void {
  writeFileAtomicSync(path, Buffer.from(renderReport(d), "utf8"));
}
