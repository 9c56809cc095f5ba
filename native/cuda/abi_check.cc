// Compile-time check that native/cuda/cuda_api.h agrees with NVIDIA's headers, where they are installed (CI and our
// machines: /usr/local/cuda/include). Never part of the addon, never needed by users: scripts/check-cuda-abi.mjs
// compiles it (`-fsyntax-only`) and test/cuda_abi.test runs that script. Enum-typed parameters in cuda.h are plain
// ints in ours, so functions are compared argument by argument: same arity, and each pair either the same type or
// integers/enums of one size, or pointers to such.
#include <cuda.h>
#include <library_types.h>

#include <type_traits>

#include "cuda_api.h"

namespace {

template <class T, bool = std::is_integral<T>::value || std::is_enum<T>::value>
struct ScalarSize : std::integral_constant<std::size_t, 0> {};  // 0: not an integer or enum
template <class T>
struct ScalarSize<T, true> : std::integral_constant<std::size_t, sizeof(T)> {};

template <class A, class B>
struct SameArg {
  static constexpr bool value = std::is_same<A, B>::value || (ScalarSize<A>::value != 0 && ScalarSize<A>::value == ScalarSize<B>::value);
};
template <class A, class B>
struct SameArg<A*, B*> {
  using a = std::remove_cv_t<A>;
  using b = std::remove_cv_t<B>;
  static constexpr bool value = std::is_same<a, b>::value || (ScalarSize<a>::value != 0 && ScalarSize<a>::value == ScalarSize<b>::value);
};

template <class F, class G>
struct SameAbi : std::false_type {};
template <class R1, class R2, class... A, class... B>
struct SameAbi<R1 (*)(A...), R2 (*)(B...)> {
  static constexpr bool value = sizeof...(A) == sizeof...(B) && SameArg<R1, R2>::value && (SameArg<A, B>::value && ...);
};

#define SAME_FN(ours, theirs) static_assert(SameAbi<kc::PFN_##ours, decltype(&::theirs)>::value, #ours " differs from cuda.h")
// cuda.h #defines the unversioned names to the ABI cuGetProcAddress hands out at version 12000 (the _v2 ones).
SAME_FN(cuGetProcAddress_v2, cuGetProcAddress_v2);
SAME_FN(cuGetErrorString, cuGetErrorString);
SAME_FN(cuGetErrorName, cuGetErrorName);
SAME_FN(cuInit, cuInit);
SAME_FN(cuDriverGetVersion, cuDriverGetVersion);
SAME_FN(cuDeviceGetCount, cuDeviceGetCount);
SAME_FN(cuDeviceGet, cuDeviceGet);
SAME_FN(cuDeviceGetName, cuDeviceGetName);
SAME_FN(cuDeviceGetAttribute, cuDeviceGetAttribute);
SAME_FN(cuDeviceTotalMem, cuDeviceTotalMem);
SAME_FN(cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain);
SAME_FN(cuDevicePrimaryCtxRelease, cuDevicePrimaryCtxRelease);
SAME_FN(cuCtxSetCurrent, cuCtxSetCurrent);
SAME_FN(cuDeviceGetDefaultMemPool, cuDeviceGetDefaultMemPool);
SAME_FN(cuMemPoolSetAttribute, cuMemPoolSetAttribute);
SAME_FN(cuMemPoolGetAttribute, cuMemPoolGetAttribute);
SAME_FN(cuMemPoolTrimTo, cuMemPoolTrimTo);
SAME_FN(cuMemAllocAsync, cuMemAllocAsync);
SAME_FN(cuMemFreeAsync, cuMemFreeAsync);
SAME_FN(cuMemGetInfo, cuMemGetInfo);
SAME_FN(cuMemHostAlloc, cuMemHostAlloc);
SAME_FN(cuMemFreeHost, cuMemFreeHost);
SAME_FN(cuMemcpyHtoDAsync, cuMemcpyHtoDAsync);
SAME_FN(cuMemcpyDtoHAsync, cuMemcpyDtoHAsync);
SAME_FN(cuMemcpyDtoDAsync, cuMemcpyDtoDAsync);
SAME_FN(cuMemsetD32Async, cuMemsetD32Async);
SAME_FN(cuModuleLoadData, cuModuleLoadData);
SAME_FN(cuModuleUnload, cuModuleUnload);
SAME_FN(cuModuleGetFunction, cuModuleGetFunction);
SAME_FN(cuLaunchKernel, cuLaunchKernel);
SAME_FN(cuStreamCreate, cuStreamCreate);
SAME_FN(cuStreamSynchronize, cuStreamSynchronize);
SAME_FN(cuStreamQuery, cuStreamQuery);
SAME_FN(cuStreamDestroy, cuStreamDestroy);
SAME_FN(cuEventCreate, cuEventCreate);
SAME_FN(cuEventRecord, cuEventRecord);
SAME_FN(cuEventQuery, cuEventQuery);
SAME_FN(cuEventSynchronize, cuEventSynchronize);
SAME_FN(cuEventDestroy, cuEventDestroy);

// The versioned names the unversioned ones must map to (the legacy ABIs are the trap the design notes warn about).
static_assert(std::is_same<decltype(&::cuMemcpyHtoDAsync_v2), decltype(&::cuMemcpyHtoDAsync)>::value, "HtoD _v2");
static_assert(std::is_same<decltype(&::cuStreamDestroy_v2), decltype(&::cuStreamDestroy)>::value, "StreamDestroy _v2");
static_assert(std::is_same<decltype(&::cuEventDestroy_v2), decltype(&::cuEventDestroy)>::value, "EventDestroy _v2");
static_assert(std::is_same<decltype(&::cuMemGetInfo_v2), decltype(&::cuMemGetInfo)>::value, "MemGetInfo _v2");
static_assert(std::is_same<decltype(&::cuDevicePrimaryCtxRelease_v2), decltype(&::cuDevicePrimaryCtxRelease)>::value, "PrimaryCtxRelease _v2");

static_assert(sizeof(kc::CUdeviceptr) == sizeof(::CUdeviceptr), "CUdeviceptr");
static_assert(std::is_same<kc::CUcontext, ::CUcontext>::value && std::is_same<kc::CUstream, ::CUstream>::value &&
                  std::is_same<kc::CUevent, ::CUevent>::value && std::is_same<kc::CUmodule, ::CUmodule>::value &&
                  std::is_same<kc::CUfunction, ::CUfunction>::value && std::is_same<kc::CUmemoryPool, ::CUmemoryPool>::value,
              "handle types");

#define SAME_VALUE(name) static_assert(static_cast<long long>(kc::name) == static_cast<long long>(::name), #name)
SAME_VALUE(CUDA_SUCCESS);
SAME_VALUE(CUDA_ERROR_OUT_OF_MEMORY);
SAME_VALUE(CUDA_ERROR_NOT_INITIALIZED);
SAME_VALUE(CUDA_ERROR_NO_DEVICE);
SAME_VALUE(CUDA_ERROR_NOT_READY);
SAME_VALUE(CUDA_ERROR_NOT_FOUND);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED);
SAME_VALUE(CU_STREAM_NON_BLOCKING);
SAME_VALUE(CU_EVENT_DISABLE_TIMING);
static_assert(kc::kMemHostAllocPortable == CU_MEMHOSTALLOC_PORTABLE, "CU_MEMHOSTALLOC_PORTABLE");
SAME_VALUE(CU_MEMPOOL_ATTR_RELEASE_THRESHOLD);
SAME_VALUE(CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT);
SAME_VALUE(CU_MEMPOOL_ATTR_USED_MEM_CURRENT);
SAME_VALUE(CU_GET_PROC_ADDRESS_DEFAULT);
SAME_VALUE(CUDA_R_32F);
SAME_VALUE(CUDA_R_64F);

}  // namespace
