// avx512 instantiation of kernels.inc (see the notes at the top of that file).
#include <cstddef>
#include <cstdint>

#include "common.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2,f16c")
namespace kd_avx512 {
#define KD_W 16
#define KD_MR 14
#define KD_NV 2
#include "kernels.inc"
#undef KD_W
#undef KD_MR
#undef KD_NV
}  // namespace kd_avx512
#pragma GCC pop_options

const kd::KernelTable* kd::table_avx512() { return kd_avx512::make_table("avx512"); }
