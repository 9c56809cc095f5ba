// kindling's random streams, defined once: xoshiro128** (state: 4 uint32 words) for uniform bits, and a
// Box–Muller transform for normals whose log and sincos are kindling's own series, evaluated with +, -, *, / and
// sqrt only. Those operations are correctly rounded in IEEE double everywhere, so this TypeScript (the reference)
// and the native bulk kernels (native/cpu/random.cc, same operations in the same order) give bitwise the same
// numbers. (Math.log/sin/cos are not pinned down that tightly across engines and libms.)
//
// The streams:
//   uniform u = k / 2^53, k = (x1 >>> 5) * 2^26 + (x2 >>> 6) from two consecutive 32-bit outputs x1, x2.
//   normal:   a pair from u (redrawn while u == 0) and the next uniform v: r = sqrt(-2 ln u),
//             z0 = r cos(2 pi v) (returned first), z1 = r sin(2 pi v) (kept as the generator's spare).
// ln u: u = m 2^(e-53) with m in (sqrt(1/2), sqrt(2)] (exact), ln m = 2 atanh(s), s = (m - 1)/(m + 1), by its
// series to s^23 (|s| < 0.172: error < 1e-17), plus (e - 53) ln 2 with ln 2 split in two.
// cos/sin(2 pi v): t = 4v (exact), q = round(t), x = (t - q) pi/2 in [-pi/4, pi/4], Taylor series to x^17 / x^18,
// then the quadrant q mod 4. Accuracy: a few 1e-16 relative, far below float32 and fine for float64 tensors.
// Before issue 9 normals used Math.log/sin/cos on the same uniforms; the uniform stream itself is unchanged.

const TWO_M53 = 1 / 9007199254740992;
const SQRT2 = 1.4142135623730951;
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const PIO2 = 1.5707963267948966;
const POW2: number[] = Array.from({ length: 54 }, (_, i) => 2 ** i);
// 1/3, 1/5, ... 1/23 and the Taylor coefficients, computed once (correctly rounded, as the C++ literals are).
const L3 = 1 / 3, L5 = 1 / 5, L7 = 1 / 7, L9 = 1 / 9, L11 = 1 / 11, L13 = 1 / 13, L15 = 1 / 15, L17 = 1 / 17;
const L19 = 1 / 19, L21 = 1 / 21, L23 = 1 / 23;
const S3 = -1 / 6, S5 = 1 / 120, S7 = -1 / 5040, S9 = 1 / 362880, S11 = -1 / 39916800, S13 = 1 / 6227020800;
const S15 = -1 / 1307674368000, S17 = 1 / 355687428096000;
const C4 = 1 / 24, C6 = -1 / 720, C8 = 1 / 40320, C10 = -1 / 3628800, C12 = 1 / 479001600, C14 = -1 / 87178291200;
const C16 = 1 / 20922789888000, C18 = -1 / 6402373705728000;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The next 32-bit output of xoshiro128** (state advanced in place). */
export function next32(s: Uint32Array): number {
  const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
  const t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return r;
}

/** 53 random bits as an integer k < 2^53; the uniform draw is k / 2^53. */
export function next53(s: Uint32Array): number {
  const hi = next32(s) >>> 5;
  const lo = next32(s) >>> 6;
  return hi * 67108864 + lo;
}

/** Uniform in [0, 1) with 53 random bits. */
export function uniform(s: Uint32Array): number {
  return next53(s) * TWO_M53;
}

/** The sine half of the last normalPair() (module scratch, so a pair costs no allocation). */
export let pairSin = 0;

/** Draws one Box–Muller pair; returns z0 = r cos(2 pi v) and leaves z1 = r sin(2 pi v) in pairSin. */
export function normalPair(s: Uint32Array): number {
  let ku = 0;
  while (ku === 0) ku = next53(s);
  const kv = next53(s);

  const e0 = ku >= 67108864 ? 57 - Math.clz32(Math.floor(ku / 67108864)) : 31 - Math.clz32(ku);
  let m = ku / POW2[e0];
  let e = e0;
  if (m > SQRT2) {
    m = m * 0.5;
    e = e + 1;
  }
  const sv = (m - 1) / (m + 1), z = sv * sv;
  let p = L23;
  p = p * z + L21;
  p = p * z + L19;
  p = p * z + L17;
  p = p * z + L15;
  p = p * z + L13;
  p = p * z + L11;
  p = p * z + L9;
  p = p * z + L7;
  p = p * z + L5;
  p = p * z + L3;
  const lnm = 2 * sv + 2 * sv * (z * p);
  const d = e - 53;
  const lnu = d * LN2_HI + (d * LN2_LO + lnm);
  const r = Math.sqrt(-2 * lnu);

  const t = kv * (TWO_M53 * 4);
  const q = Math.floor(t + 0.5);
  const x = (t - q) * PIO2, x2 = x * x;
  let sp = S15 + x2 * S17;
  sp = S13 + x2 * sp;
  sp = S11 + x2 * sp;
  sp = S9 + x2 * sp;
  sp = S7 + x2 * sp;
  sp = S5 + x2 * sp;
  sp = S3 + x2 * sp;
  const sn = x + x * (x2 * sp);
  let cp = C16 + x2 * C18;
  cp = C14 + x2 * cp;
  cp = C12 + x2 * cp;
  cp = C10 + x2 * cp;
  cp = C8 + x2 * cp;
  cp = C6 + x2 * cp;
  cp = C4 + x2 * cp;
  const cs = (1 - 0.5 * x2) + (x2 * x2) * cp;
  const quad = q & 3;
  const c = quad === 0 ? cs : quad === 1 ? -sn : quad === 2 ? -cs : sn;
  pairSin = r * (quad === 0 ? sn : quad === 1 ? cs : quad === 2 ? -sn : -cs);
  return r * c;
}

/** out[off + i] = from + (to - from) * u for n uniforms. */
export function fillUniformRef(s: Uint32Array, out: Float32Array | Float64Array, off: number, n: number, from: number, to: number): void {
  const w = to - from;
  for (let i = 0; i < n; i++) out[off + i] = from + w * uniform(s);
}

/** out[off + i] = mean + std * z for n normals (pairs in order); returns the unused z1 of the last pair, or NaN. */
export function fillNormalRef(s: Uint32Array, out: Float32Array | Float64Array, off: number, n: number, mean: number, std: number): number {
  let spare = NaN;
  for (let i = 0; i < n; i += 2) {
    out[off + i] = mean + std * normalPair(s);
    if (i + 1 < n) out[off + i + 1] = mean + std * pairSin;
    else spare = pairSin;
  }
  return spare;
}

/** A random permutation of 0..n-1 (Fisher–Yates from the top) into out[off..off+n). */
export function permutationRef(s: Uint32Array, out: Float32Array | Float64Array, off: number, n: number): void {
  for (let i = 0; i < n; i++) out[off + i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform(s) * (i + 1));
    const t = out[off + i];
    out[off + i] = out[off + j];
    out[off + j] = t;
  }
}
