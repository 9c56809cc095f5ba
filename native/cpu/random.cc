// Bulk random draws: the xoshiro128** stream and the Box-Muller transform of src/core/rng.ts, operation for
// operation. Bitwise agreement with the TypeScript reference needs IEEE double arithmetic evaluated as written, so
// this file is compiled without FMA contraction (the pragma below; it also has no ISA target that offers FMA) and
// uses only +, -, *, / and sqrt, which are correctly rounded everywhere. The uniform draws are inherently serial;
// the transform runs over blocks of pairs in a loop the compiler vectorises.
#pragma GCC optimize("fp-contract=off")
#include "random.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace kd {
namespace {

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

inline uint32_t next32(uint32_t* s) {
  const uint32_t r = rotl(s[1] * 5, 7) * 9;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return r;
}

// 53 random bits k; the uniform draw is k / 2^53.
inline uint64_t next53(uint32_t* s) {
  const uint64_t hi = next32(s) >> 5;
  const uint64_t lo = next32(s) >> 6;
  return hi * 67108864u + lo;
}

const double TWO_M53 = 1.0 / 9007199254740992.0;
const uint64_t SQRT2_BITS = 0x3ff6a09e667f3bcdull;  // 1.4142135623730951
const double LN2_HI = 6.93147180369123816490e-01;
const double LN2_LO = 1.90821492927058770002e-10;
const double PIO2 = 1.5707963267948966;

const int BLOCK = 256;

// A block of Box-Muller pairs from u = ku / 2^53 (ku > 0) and v = kv / 2^53, each k given as its two draws
// (hi * 2^26 + lo): z0 = r cos(2 pi v), z1 = r sin(2 pi v) with r = sqrt(-2 log u). log and sincos are evaluated
// as in rng.ts (see there for the reductions and series). Straight-line code over arrays so that it vectorises;
// u's exponent and mantissa come from the bits of the (exact) double ku.
__attribute__((always_inline)) inline void box_muller_block(const int32_t* uhi, const int32_t* ulo, const int32_t* vhi,
                                                           const int32_t* vlo, int n, double* z0, double* z1) {
  for (int k = 0; k < n; k++) {
    const double ku = (double)uhi[k] * 67108864.0 + (double)ulo[k];
    uint64_t bits;
    __builtin_memcpy(&bits, &ku, 8);
    const int32_t e0 = (int32_t)(bits >> 52) - 1023;
    const uint64_t mbits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m;
    __builtin_memcpy(&m, &mbits, 8);
    // m > sqrt 2 (compared as bit patterns, which order positive doubles; a float compare here stops the
    // vectoriser): halve m and add one to the exponent, both exact
    const double up = (double)(int32_t)((SQRT2_BITS - mbits) >> 63);
    m = m * (1.0 - 0.5 * up);
    const double d = (double)(e0 - 53) + up;
    const double s = (m - 1.0) / (m + 1.0), z = s * s;
    double p = 1.0 / 23.0;
    p = p * z + 1.0 / 21.0;
    p = p * z + 1.0 / 19.0;
    p = p * z + 1.0 / 17.0;
    p = p * z + 1.0 / 15.0;
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    const double lnm = 2.0 * s + 2.0 * s * (z * p);
    const double lnu = d * LN2_HI + (d * LN2_LO + lnm);
    const double r = std::sqrt(-2.0 * lnu);

    const double kv = (double)vhi[k] * 67108864.0 + (double)vlo[k];
    const double t = kv * (TWO_M53 * 4.0);
    const double q = (double)(int32_t)(t + 0.5);  // floor: t + 0.5 is in [0.5, 4.5)
    const double x = (t - q) * PIO2, x2 = x * x;
    double sp = -1.0 / 1307674368000.0 + x2 * (1.0 / 355687428096000.0);
    sp = 1.0 / 6227020800.0 + x2 * sp;
    sp = -1.0 / 39916800.0 + x2 * sp;
    sp = 1.0 / 362880.0 + x2 * sp;
    sp = -1.0 / 5040.0 + x2 * sp;
    sp = 1.0 / 120.0 + x2 * sp;
    sp = -1.0 / 6.0 + x2 * sp;
    const double sn = x + x * (x2 * sp);
    double cp = 1.0 / 20922789888000.0 + x2 * (-1.0 / 6402373705728000.0);
    cp = -1.0 / 87178291200.0 + x2 * cp;
    cp = 1.0 / 479001600.0 + x2 * cp;
    cp = -1.0 / 3628800.0 + x2 * cp;
    cp = 1.0 / 40320.0 + x2 * cp;
    cp = -1.0 / 720.0 + x2 * cp;
    cp = 1.0 / 24.0 + x2 * cp;
    const double cs = (1.0 - 0.5 * x2) + (x2 * x2) * cp;
    // quadrant q mod 4: (cos, sin) = (cs, sn), (-sn, cs), (-cs, -sn), (sn, -cs); as selects, so the loop vectorises
    const int32_t quad = (int32_t)q & 3;
    const bool odd = (quad & 1) != 0, neg_c = ((quad + 1) & 2) != 0, neg_s = (quad & 2) != 0;
    const double a = odd ? sn : cs, b = odd ? cs : sn;
    const double c = neg_c ? -a : a;
    const double sv = neg_s ? -b : b;
    z0[k] = r * c;
    z1[k] = r * sv;
  }
}

// The same block compiled for AVX2 without FMA (so nothing can be contracted) and for the baseline ISA.
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) void box_muller_avx2(const int32_t* uhi, const int32_t* ulo, const int32_t* vhi,
                                                     const int32_t* vlo, int n, double* z0, double* z1) {
  box_muller_block(uhi, ulo, vhi, vlo, n, z0, z1);
}
#endif
void box_muller_base(const int32_t* uhi, const int32_t* ulo, const int32_t* vhi, const int32_t* vlo, int n, double* z0,
                     double* z1) {
  box_muller_block(uhi, ulo, vhi, vlo, n, z0, z1);
}
typedef void (*BoxMuller)(const int32_t*, const int32_t*, const int32_t*, const int32_t*, int, double*, double*);
BoxMuller pick_box_muller() {
#if defined(__x86_64__) || defined(__i386__)
  const char* cap = std::getenv("KINDLING_ISA");  // KINDLING_ISA=scalar selects the baseline path here too
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && !(cap && std::strcmp(cap, "scalar") == 0)) return box_muller_avx2;
#endif
  return box_muller_base;
}

}  // namespace

template <class T>
void rng_uniform(uint32_t* s, T* out, i64 n, double from, double to) {
  const double w = to - from;
  for (i64 i = 0; i < n; i++) out[i] = (T)(from + w * ((double)next53(s) * TWO_M53));
}

template <class T>
double rng_normal(uint32_t* s, T* out, i64 n, double mean, double std) {
  static const BoxMuller box_muller = pick_box_muller();
  int32_t uhi[BLOCK], ulo[BLOCK], vhi[BLOCK], vlo[BLOCK];
  double z0[BLOCK], z1[BLOCK];
  double spare = NAN;
  for (i64 i = 0; i < n; i += 2 * BLOCK) {
    const int pairs = (int)((n - i + 1) / 2 < BLOCK ? (n - i + 1) / 2 : BLOCK);
    for (int k = 0; k < pairs; k++) {
      uint32_t h = 0, l = 0;
      while (h == 0 && l == 0) {  // u == 0 is redrawn
        h = next32(s) >> 5;
        l = next32(s) >> 6;
      }
      uhi[k] = (int32_t)h, ulo[k] = (int32_t)l;
      vhi[k] = (int32_t)(next32(s) >> 5);
      vlo[k] = (int32_t)(next32(s) >> 6);
    }
    box_muller(uhi, ulo, vhi, vlo, pairs, z0, z1);
    for (int k = 0; k < pairs; k++) {
      const i64 j = i + 2 * k;
      out[j] = (T)(mean + std * z0[k]);
      if (j + 1 < n) out[j + 1] = (T)(mean + std * z1[k]);
      else spare = z1[k];
    }
  }
  return spare;
}

void rng_permutation(uint32_t* s, double* p, i64 n) {
  for (i64 i = 0; i < n; i++) p[i] = (double)i;
  for (i64 i = n - 1; i > 0; i--) {
    const i64 j = (i64)std::floor(((double)next53(s) * TWO_M53) * (double)(i + 1));
    const double t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
}

template void rng_uniform<float>(uint32_t*, float*, i64, double, double);
template void rng_uniform<double>(uint32_t*, double*, i64, double, double);
template double rng_normal<float>(uint32_t*, float*, i64, double, double);
template double rng_normal<double>(uint32_t*, double*, i64, double, double);

}  // namespace kd
