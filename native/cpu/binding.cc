// Node-API module entry for the kindling CPU kernels: picks the kernel table for this CPU, tunes malloc and adds
// each family's functions (binding_*.cc; argument checking in binding_args.h).
#include <node_api.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#endif

#include "binding_args.h"

namespace kdb {
namespace {

bool cpu_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}
bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const kd::KernelTable* pick_table() {
  const char* cap = std::getenv("KINDLING_ISA");
  int limit = kd::ISA_AVX512;
  if (cap && *cap) {
    if (!std::strcmp(cap, "scalar")) limit = kd::ISA_SCALAR;
    else if (!std::strcmp(cap, "avx2")) limit = kd::ISA_AVX2;
  }
  if (limit >= kd::ISA_AVX512 && cpu_has_avx512()) return kd::table_avx512();
  if (limit >= kd::ISA_AVX2 && cpu_has_avx2()) return kd::table_avx2();
  return kd::table_scalar();
}

// ------------------------------------------------------------------ functions
napi_value Isa(napi_env env, napi_callback_info) {
  napi_value s;
  napi_create_string_utf8(env, T->name, NAPI_AUTO_LENGTH, &s);
  return s;
}

napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  Args a(env, info, "setNumThreads", 1);
  i64 n = a.integer(0);
  if (!a.ok) return nullptr;
  kd::set_num_threads((int)n);
  return undef(env);
}

napi_value GetNumThreads(napi_env env, napi_callback_info) { return number(env, kd::num_threads()); }

// Tensor memory is V8 ArrayBuffers, which Node takes from malloc. glibc serves blocks from 128 KiB up with fresh
// mmap()s and returns them on free, so every large activation or gradient costs page faults on first touch (about
// 3 ms per MB on some VMs); training allocates and frees the same sizes every step. Keeping blocks up to 32 MiB in
// the heap, and up to 128 MiB of freed heap before trimming, turns that into reuse of warm memory (tutorial net at
// batch 128: 5.9 -> 5.1 ms per step). Skipped when the user tunes malloc (GLIBC_TUNABLES) or sets
// KINDLING_MALLOC_TUNE=0.
// glibc caps that threshold at 32 MiB, and larger blocks (airbench94 at batch 1024: activations and gradients of
// 50-250 MB) still came from fresh mmap()s: about 1 ns per byte of page faults on first touch, 1-2 s of a step.
// So mmap is off altogether (a failed heap extension still falls back to mmap inside glibc) and freed heap is kept
// up to a quarter of physical memory (at most 2 GiB, mallopt's int), which covers a step's working set.
void tune_malloc() {
#if defined(__GLIBC__)
  static bool done = false;
  if (done) return;
  done = true;
  const char* off = std::getenv("KINDLING_MALLOC_TUNE");
  if ((off && std::strcmp(off, "0") == 0) || std::getenv("GLIBC_TUNABLES")) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const long long quarter = pages > 0 && page > 0 ? (long long)pages * page / 4 : 128LL << 20;
  mallopt(M_TRIM_THRESHOLD, (int)std::min<long long>(std::max<long long>(quarter, 128LL << 20), INT_MAX));
  mallopt(M_MMAP_MAX, 0);
#endif
}

// Bytes malloc holds in mmap()ed blocks and in its heap (arena), or null without glibc >= 2.33: lets tests check
// that large tensors come from the heap.
napi_value MallocStats(napi_env env, napi_callback_info) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  struct mallinfo2 mi = mallinfo2();
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "mmappedBytes", number(env, (double)mi.hblkhd));
  napi_set_named_property(env, o, "heapBytes", number(env, (double)mi.arena));
  return o;
#else
  napi_value n;
  napi_get_null(env, &n);
  return n;
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  T = pick_table();
  tune_malloc();
  static const Export fns[] = {
      {"isa", Isa},
      {"setNumThreads", SetNumThreads},
      {"getNumThreads", GetNumThreads},
      {"mallocStats", MallocStats},
  };
  export_all(env, exports, fns);
  export_linalg(env, exports);
  export_conv_pool(env, exports);
  export_elementwise(env, exports);
  export_reduce_softmax(env, exports);
  export_norm_optim(env, exports);
  export_random(env, exports);
  export_scan_sort(env, exports);
  return exports;
}

}  // namespace
}  // namespace kdb

NAPI_MODULE_INIT() { return kdb::Init(env, exports); }
