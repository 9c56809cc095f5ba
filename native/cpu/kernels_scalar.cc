// scalar instantiation of kernels.inc (see the notes at the top of that file).
#include <cstddef>
#include <cstdint>

#include "common.h"

#pragma GCC push_options

namespace kd_scalar {
#define KD_W 4
#define KD_MR 6
#define KD_NV 2
#include "kernels.inc"
#undef KD_W
#undef KD_MR
#undef KD_NV
}  // namespace kd_scalar
#pragma GCC pop_options

const kd::KernelTable* kd::table_scalar() { return kd_scalar::make_table("scalar"); }
