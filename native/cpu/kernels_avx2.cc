// avx2 instantiation of kernels.inc (see the notes at the top of that file).
#include <cstddef>
#include <cstdint>

#include "common.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi,bmi2,f16c")
namespace kd_avx2 {
#define KD_W 8
#define KD_MR 6
#define KD_NV 2
#include "kernels.inc"
#undef KD_W
#undef KD_MR
#undef KD_NV
}  // namespace kd_avx2
#pragma GCC pop_options

const kd::KernelTable* kd::table_avx2() { return kd_avx2::make_table("avx2"); }
