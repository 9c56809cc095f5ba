// Comparison helpers and small float64 oracles for the op tests. Nothing here calls the engine's kernels: the oracles
// are written from the definitions so that a wrong reference kernel is caught too.
import assert from "node:assert/strict";
import * as torch from "kindling";

type Tensor = torch.Tensor;

/** Deterministic uniform [0, 1) generator (mulberry32), independent of torch's RNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray() as ArrayLike<number>, Number);
}

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  msg?: string;
}

/** Elementwise |a - e| <= atol + rtol * |e|; NaN must meet NaN, ±Inf must meet the same Inf. */
export function assertClose(actual: Tensor | ArrayLike<number>, expected: Tensor | ArrayLike<number>, o: CloseOptions = {}): void {
  const rtol = o.rtol ?? 1e-5;
  const atol = o.atol ?? 1e-6;
  const msg = o.msg ? `${o.msg}: ` : "";
  if (actual instanceof torch.Tensor && expected instanceof torch.Tensor) {
    assert.deepEqual(actual.shape, expected.shape, `${msg}shape ${JSON.stringify(actual.shape)} vs ${JSON.stringify(expected.shape)}`);
  }
  const a = actual instanceof torch.Tensor ? values(actual) : Array.from(actual);
  const e = expected instanceof torch.Tensor ? values(expected) : Array.from(expected);
  assert.equal(a.length, e.length, `${msg}length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = e[i];
    if (Number.isNaN(y) || Number.isNaN(x)) {
      assert.ok(Number.isNaN(x) && Number.isNaN(y), `${msg}element ${i}: got ${x}, expected ${y}`);
      continue;
    }
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      assert.equal(x, y, `${msg}element ${i}: got ${x}, expected ${y}`);
      continue;
    }
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) {
      assert.fail(`${msg}element ${i}: got ${x}, expected ${y} (|diff| ${Math.abs(x - y)}, rtol ${rtol}, atol ${atol})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Naive float64 oracles over flat row-major arrays.

export interface Arr {
  shape: number[];
  data: number[];
}

export function arr(t: Tensor): Arr {
  return { shape: t.shape.slice(), data: values(t) };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** erf by its Taylor series (|x| small) or 1 - erfc continued fraction; accurate to ~1e-14 here. */
export function erf(x: number): number {
  if (Math.abs(x) < 3) {
    let sum = 0;
    let term = x;
    for (let n = 0; n < 200; n++) {
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-18) break;
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz continued fraction for erfc.
  const ax = Math.abs(x);
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** Independent scalar definitions of every elementwise op (the engine's own `fn` is not used as its oracle). */
export const unaryOracle: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  sqrt: (x) => Math.sqrt(x),
  rsqrt: (x) => Math.pow(x, -0.5),
  abs: (x) => (x < 0 ? -x : x),
  relu: (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0)),
  gelu: (x) => (x / 2) * (1 + erf(x / Math.SQRT2)),
  sigmoid: (x) => Math.exp(x) / (1 + Math.exp(x)),
  tanh: (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1),
  reciprocal: (x) => 1 / x,
  square: (x) => x * x,
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  sign: (x) => Math.sign(x),
  floor: (x) => Math.floor(x),
  ceil: (x) => Math.ceil(x),
  round: (x) => {
    const f = Math.floor(x);
    const d = x - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
  },
};

const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
export const binaryOracle: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.exp(b * Math.log(a)),
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b),
  minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b),
  eq: (a, b) => Number(a === b),
  ne: (a, b) => Number(a !== b),
  gt: (a, b) => Number(a > b),
  lt: (a, b) => Number(a < b),
  ge: (a, b) => Number(a >= b),
  le: (a, b) => Number(a <= b),
  reluGrad: (g, x) => (x > 0 ? g : 0),
  geluGrad: (g, x) => g * (0.5 * (1 + erf(x / Math.SQRT2)) + x * phi(x)),
};

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error("oracle: shapes do not broadcast");
    out.push(da === 1 ? db : da);
  }
  return out;
}

function bcastIndex(idx: readonly number[], shape: readonly number[]): number {
  const lead = idx.length - shape.length;
  const st = strides(shape);
  let off = 0;
  for (let d = 0; d < shape.length; d++) off += (shape[d] === 1 ? 0 : idx[d + lead]) * st[d];
  return off;
}

export function mapUnary(x: Arr, f: (v: number) => number): Arr {
  return { shape: x.shape.slice(), data: x.data.map(f) };
}

export function mapBinary(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const shape = broadcastShape(a.shape, b.shape);
  const n = numel(shape);
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    data[i] = f(a.data[bcastIndex(idx, a.shape)], b.data[bcastIndex(idx, b.shape)]);
  }
  return { shape, data };
}

/** Groups the input's elements by output position for a reduction over dims (all dims when dims is null). */
function groups(x: Arr, dims: number[] | null, keepdim: boolean): { shape: number[]; groups: number[][] } {
  const nd = x.shape.length;
  const ds = dims === null ? x.shape.map((_, i) => i) : dims.map((d) => (d < 0 ? d + nd : d));
  const outShapeKeep = x.shape.map((s, i) => (ds.includes(i) ? 1 : s));
  const outShape = keepdim ? outShapeKeep : x.shape.filter((_, i) => !ds.includes(i));
  const gs: number[][] = Array.from({ length: numel(outShapeKeep) }, () => []);
  const st = strides(outShapeKeep);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    let o = 0;
    for (let d = 0; d < nd; d++) o += (ds.includes(d) ? 0 : idx[d]) * st[d];
    gs[o].push(x.data[i]);
  }
  return { shape: outShape, groups: gs };
}

export function reduce(x: Arr, dims: number[] | null, keepdim: boolean, f: (vals: number[]) => number): Arr {
  const g = groups(x, dims, keepdim);
  return { shape: g.shape, data: g.groups.map(f) };
}

export const reducers = {
  sum: (v: number[]) => v.reduce((a, b) => a + b, 0),
  mean: (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length,
  prod: (v: number[]) => v.reduce((a, b) => a * b, 1),
  max: (v: number[]) => v.reduce((a, b) => (Number.isNaN(a) || b > a || Number.isNaN(b) ? b : a), -Infinity),
  min: (v: number[]) => v.reduce((a, b) => (Number.isNaN(a) || b < a || Number.isNaN(b) ? b : a), Infinity),
  argmax: (v: number[]) => v.reduce((best, b, i) => (b > v[best] ? i : best), 0),
  argmin: (v: number[]) => v.reduce((best, b, i) => (b < v[best] ? i : best), 0),
  var: (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - m) * (b - m), 0) / (v.length - 1);
  },
};

/** softmax / logSoftmax along dim, computed on each lane independently. */
export function softmax(x: Arr, dim: number, log: boolean): Arr {
  const nd = x.shape.length;
  const d = dim < 0 ? dim + nd : dim;
  const out = new Array<number>(x.data.length);
  const st = strides(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    if (idx[d] !== 0) continue;
    const lane: number[] = [];
    for (let k = 0; k < x.shape[d]; k++) lane.push(i + k * st[d]);
    const m = Math.max(...lane.map((j) => x.data[j]));
    const z = lane.reduce((s, j) => s + Math.exp(x.data[j] - m), 0);
    for (const j of lane) out[j] = log ? x.data[j] - m - Math.log(z) : Math.exp(x.data[j] - m) / z;
  }
  return { shape: x.shape.slice(), data: out };
}

/** torch.matmul's rules: 1-D promotion, batch broadcasting. */
export function matmul(a: Arr, b: Arr): Arr {
  const a2 = a.shape.length === 1 ? { shape: [1, a.shape[0]], data: a.data } : a;
  const b2 = b.shape.length === 1 ? { shape: [b.shape[0], 1], data: b.data } : b;
  const [M, K] = a2.shape.slice(-2);
  const [K2, N] = b2.shape.slice(-2);
  if (K !== K2) throw new Error("oracle: inner dims differ");
  const batch = broadcastShape(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const B = numel(batch);
  const data: number[] = [];
  for (let bi = 0; bi < B; bi++) {
    const idx = unravel(bi, batch);
    const ao = bcastIndex(idx, a2.shape.slice(0, -2)) * M * K;
    const bo = bcastIndex(idx, b2.shape.slice(0, -2)) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a2.data[ao + i * K + k] * b2.data[bo + k * N + j];
        data.push(s);
      }
    }
  }
  let shape = [...batch, M, N];
  if (a.shape.length === 1) shape = [...batch, N];
  if (b.shape.length === 1) shape = a.shape.length === 1 ? [...batch] : [...batch, M];
  return { shape, data };
}

export interface ConvOpts {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
}

export function conv2d(x: Arr, w: Arr, bias: Arr | null, o: ConvOpts = {}): Arr {
  const s = o.stride ?? 1;
  const p = o.padding ?? 0;
  const dl = o.dilation ?? 1;
  const G = o.groups ?? 1;
  const [N, C, H, W] = x.shape;
  const [OC, CG, KH, KW] = w.shape;
  const OH = Math.floor((H + 2 * p - dl * (KH - 1) - 1) / s) + 1;
  const OW = Math.floor((W + 2 * p - dl * (KW - 1) - 1) / s) + 1;
  const ocPerG = OC / G;
  const data: number[] = [];
  for (let n = 0; n < N; n++)
    for (let oc = 0; oc < OC; oc++) {
      const g = Math.floor(oc / ocPerG);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = bias ? bias.data[oc] : 0;
          for (let c = 0; c < CG; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * s - p + kh * dl;
                const iw = ow * s - p + kw * dl;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x.data[((n * C + g * CG + c) * H + ih) * W + iw] * w.data[((oc * CG + c) * KH + kh) * KW + kw];
              }
          data.push(acc);
        }
    }
  return { shape: [N, OC, OH, OW], data };
}

export interface PoolOpts {
  stride?: number;
  padding?: number;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

function poolOut(inp: number, k: number, s: number, p: number, ceil: boolean): number {
  let out = (ceil ? Math.ceil((inp + 2 * p - k) / s) : Math.floor((inp + 2 * p - k) / s)) + 1;
  if (ceil && (out - 1) * s >= inp + p) out--;
  return out;
}

export function pool2d(x: Arr, k: number, kind: "max" | "avg", o: PoolOpts = {}): Arr {
  const s = o.stride ?? k;
  const p = o.padding ?? 0;
  const [N, C, H, W] = x.shape;
  const OH = poolOut(H, k, s, p, o.ceilMode ?? false);
  const OW = poolOut(W, k, s, p, o.ceilMode ?? false);
  const data: number[] = [];
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * s - p;
        const w0 = ow * s - p;
        // PyTorch's avg-pool divisor: the window clipped to the padded input (countIncludePad) or to the input.
        const hEndPad = Math.min(h0 + k, H + p);
        const wEndPad = Math.min(w0 + k, W + p);
        const padCount = (hEndPad - h0) * (wEndPad - w0);
        let best = -Infinity;
        let sum = 0;
        let cnt = 0;
        for (let ih = Math.max(h0, 0); ih < Math.min(h0 + k, H); ih++)
          for (let iw = Math.max(w0, 0); iw < Math.min(w0 + k, W); iw++) {
            const v = x.data[(nc * H + ih) * W + iw];
            if (v > best || Number.isNaN(v)) best = v;
            sum += v;
            cnt++;
          }
        data.push(kind === "max" ? best : sum / ((o.countIncludePad ?? true) ? padCount : cnt));
      }
  return { shape: [N, C, OH, OW], data };
}

/** Cross-entropy over logits [N, C] and class indices, PyTorch's label smoothing and ignore_index rules. */
export function crossEntropy(
  x: Arr, target: number[], o: { reduction?: "mean" | "sum" | "none"; ignoreIndex?: number; labelSmoothing?: number } = {},
): Arr {
  const [N, C] = x.shape;
  const eps = o.labelSmoothing ?? 0;
  const ignore = o.ignoreIndex ?? -100;
  const lsm = softmax(x, 1, true).data;
  const losses: number[] = [];
  let counted = 0;
  for (let n = 0; n < N; n++) {
    const t = target[n];
    if (t === ignore) {
      losses.push(0);
      continue;
    }
    counted++;
    let smooth = 0;
    for (let c = 0; c < C; c++) smooth -= lsm[n * C + c];
    losses.push((1 - eps) * -lsm[n * C + t] + (eps / C) * smooth);
  }
  const red = o.reduction ?? "mean";
  if (red === "none") return { shape: [N], data: losses };
  const total = losses.reduce((a, b) => a + b, 0);
  return { shape: [], data: [red === "sum" ? total : total / counted] };
}

/** Tensor from an oracle result, for assertClose. */
export function fromArr(a: Arr): Tensor {
  return torch.tensor(a.data, { dtype: torch.float64 }).reshape(a.shape);
}
