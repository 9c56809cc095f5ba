// Bulk random draws for the tensor factories (random.cc). The streams are defined in src/core/rng.ts, whose
// TypeScript implementation is the reference: these functions must produce bitwise the same numbers.
#pragma once
#include <cstdint>

#include "common.h"

namespace kd {
// s: the xoshiro128** state (4 words), advanced in place. out receives from + (to - from) * u.
template <class T>
void rng_uniform(uint32_t* s, T* out, i64 n, double from, double to);
// out receives mean + std * z for the Box-Muller normals z; returns the unused sine half of the last pair when n is
// odd (the generator keeps it as its spare), NaN otherwise.
template <class T>
double rng_normal(uint32_t* s, T* out, i64 n, double mean, double std);
// Fisher-Yates permutation of 0..n-1.
void rng_permutation(uint32_t* s, double* out, i64 n);
}  // namespace kd
