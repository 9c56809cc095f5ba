// kindling's own declarations of the parts of the CUDA driver, cuBLASLt, cuBLAS, cuDNN (legacy convolution API) and
// NVRTC that native/cuda uses, so the addon builds with no CUDA headers and loads every library with dlopen at run
// time. Values and signatures follow the vendors' public headers; native/cuda/abi_check.cc static_asserts the driver
// ones against /usr/local/cuda/include/cuda.h where that exists (scripts/check-cuda-abi.mjs, test/cuda_abi.test).
// Opaque handle structs are declared at global scope under the vendors' own tag names so that the check can compare
// function-pointer types exactly.
#pragma once
#include <cstddef>
#include <cstdint>

struct CUctx_st;
struct CUstream_st;
struct CUevent_st;
struct CUmod_st;
struct CUfunc_st;
struct CUmemPoolHandle_st;

namespace kc {

// ---- driver (libcuda.so.1) ----
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;  // the v2 (64-bit) ABI
using CUcontext = ::CUctx_st*;
using CUstream = ::CUstream_st*;
using CUevent = ::CUevent_st*;
using CUmodule = ::CUmod_st*;
using CUfunction = ::CUfunc_st*;
using CUmemoryPool = ::CUmemPoolHandle_st*;
using cuuint64_t = std::uint64_t;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult CUDA_ERROR_NOT_INITIALIZED = 3;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr CUresult CUDA_ERROR_NOT_READY = 600;
constexpr CUresult CUDA_ERROR_NOT_FOUND = 500;

constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED = 115;

constexpr unsigned CU_STREAM_NON_BLOCKING = 0x1;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 0x2;
constexpr unsigned kMemHostAllocPortable = 0x1;  // CU_MEMHOSTALLOC_PORTABLE (a macro in cuda.h)

constexpr int CU_MEMPOOL_ATTR_RELEASE_THRESHOLD = 4;
constexpr int CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT = 5;
constexpr int CU_MEMPOOL_ATTR_USED_MEM_CURRENT = 7;

constexpr int CU_GET_PROC_ADDRESS_DEFAULT = 0;
/** The ABI generation asked of cuGetProcAddress: every symbol we use in its CUDA 12.0 form (the _v2 ones). */
constexpr int kDriverAbiVersion = 12000;

using PFN_cuGetProcAddress_v2 = CUresult (*)(const char*, void**, int, cuuint64_t, int*);
using PFN_cuGetErrorString = CUresult (*)(CUresult, const char**);
using PFN_cuGetErrorName = CUresult (*)(CUresult, const char**);
using PFN_cuInit = CUresult (*)(unsigned);
using PFN_cuDriverGetVersion = CUresult (*)(int*);
using PFN_cuDeviceGetCount = CUresult (*)(int*);
using PFN_cuDeviceGet = CUresult (*)(CUdevice*, int);
using PFN_cuDeviceGetName = CUresult (*)(char*, int, CUdevice);
using PFN_cuDeviceGetAttribute = CUresult (*)(int*, int, CUdevice);
using PFN_cuDeviceTotalMem = CUresult (*)(std::size_t*, CUdevice);
using PFN_cuDevicePrimaryCtxRetain = CUresult (*)(CUcontext*, CUdevice);
using PFN_cuDevicePrimaryCtxRelease = CUresult (*)(CUdevice);
using PFN_cuCtxSetCurrent = CUresult (*)(CUcontext);
using PFN_cuDeviceGetDefaultMemPool = CUresult (*)(CUmemoryPool*, CUdevice);
using PFN_cuMemPoolSetAttribute = CUresult (*)(CUmemoryPool, int, void*);
using PFN_cuMemPoolGetAttribute = CUresult (*)(CUmemoryPool, int, void*);
using PFN_cuMemPoolTrimTo = CUresult (*)(CUmemoryPool, std::size_t);
using PFN_cuMemAllocAsync = CUresult (*)(CUdeviceptr*, std::size_t, CUstream);
using PFN_cuMemFreeAsync = CUresult (*)(CUdeviceptr, CUstream);
using PFN_cuMemGetInfo = CUresult (*)(std::size_t*, std::size_t*);
using PFN_cuMemHostAlloc = CUresult (*)(void**, std::size_t, unsigned);
using PFN_cuMemFreeHost = CUresult (*)(void*);
using PFN_cuMemcpyHtoDAsync = CUresult (*)(CUdeviceptr, const void*, std::size_t, CUstream);
using PFN_cuMemcpyDtoHAsync = CUresult (*)(void*, CUdeviceptr, std::size_t, CUstream);
using PFN_cuMemcpyDtoDAsync = CUresult (*)(CUdeviceptr, CUdeviceptr, std::size_t, CUstream);
using PFN_cuMemsetD32Async = CUresult (*)(CUdeviceptr, unsigned, std::size_t, CUstream);
using PFN_cuModuleLoadData = CUresult (*)(CUmodule*, const void*);
using PFN_cuModuleUnload = CUresult (*)(CUmodule);
using PFN_cuModuleGetFunction = CUresult (*)(CUfunction*, CUmodule, const char*);
using PFN_cuLaunchKernel = CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                        CUstream, void**, void**);
using PFN_cuStreamCreate = CUresult (*)(CUstream*, unsigned);
using PFN_cuStreamSynchronize = CUresult (*)(CUstream);
using PFN_cuStreamQuery = CUresult (*)(CUstream);
using PFN_cuStreamDestroy = CUresult (*)(CUstream);
using PFN_cuEventCreate = CUresult (*)(CUevent*, unsigned);
using PFN_cuEventRecord = CUresult (*)(CUevent, CUstream);
using PFN_cuEventQuery = CUresult (*)(CUevent);
using PFN_cuEventSynchronize = CUresult (*)(CUevent);
using PFN_cuEventDestroy = CUresult (*)(CUevent);
using PFN_cuStreamWaitEvent = CUresult (*)(CUstream, CUevent, unsigned);

// ---- shared library enums (library_types.h) ----
constexpr int CUDA_R_32F = 0;
constexpr int CUDA_R_64F = 1;

// ---- cuBLASLt / cuBLAS (libcublasLt.so.13, libcublas.so.13) ----
using cublasStatus_t = int;
using cublasLtHandle_t = void*;
using cublasLtMatmulDesc_t = void*;
using cublasLtMatrixLayout_t = void*;
using cublasLtMatmulPreference_t = void*;
using cublasHandle_t = void*;
struct cublasLtMatmulAlgo_t {
  std::uint64_t data[8];
};
struct cublasLtMatmulHeuristicResult_t {
  cublasLtMatmulAlgo_t algo;
  std::size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
};
constexpr cublasStatus_t CUBLAS_STATUS_SUCCESS = 0;
constexpr int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;
constexpr int CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_64F = 70, CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
constexpr int CUBLAS_GEMM_DEFAULT = -1;
constexpr int CUBLASLT_MATMUL_DESC_TRANSA = 3, CUBLASLT_MATMUL_DESC_TRANSB = 4;
constexpr int CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT = 5, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET = 6;
constexpr int CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;

using PFN_cublasLtCreate = cublasStatus_t (*)(cublasLtHandle_t*);
using PFN_cublasLtGetVersion = std::size_t (*)();
using PFN_cublasLtMatmulDescCreate = cublasStatus_t (*)(cublasLtMatmulDesc_t*, int, int);
using PFN_cublasLtMatmulDescDestroy = cublasStatus_t (*)(cublasLtMatmulDesc_t);
using PFN_cublasLtMatmulDescSetAttribute = cublasStatus_t (*)(cublasLtMatmulDesc_t, int, const void*, std::size_t);
using PFN_cublasLtMatrixLayoutCreate = cublasStatus_t (*)(cublasLtMatrixLayout_t*, int, std::uint64_t, std::uint64_t,
                                                          std::int64_t);
using PFN_cublasLtMatrixLayoutDestroy = cublasStatus_t (*)(cublasLtMatrixLayout_t);
using PFN_cublasLtMatrixLayoutSetAttribute = cublasStatus_t (*)(cublasLtMatrixLayout_t, int, const void*, std::size_t);
using PFN_cublasLtMatmulPreferenceCreate = cublasStatus_t (*)(cublasLtMatmulPreference_t*);
using PFN_cublasLtMatmulPreferenceDestroy = cublasStatus_t (*)(cublasLtMatmulPreference_t);
using PFN_cublasLtMatmulPreferenceSetAttribute = cublasStatus_t (*)(cublasLtMatmulPreference_t, int, const void*,
                                                                    std::size_t);
using PFN_cublasLtMatmulAlgoGetHeuristic = cublasStatus_t (*)(cublasLtHandle_t, cublasLtMatmulDesc_t,
                                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                                              cublasLtMatmulPreference_t, int,
                                                              cublasLtMatmulHeuristicResult_t*, int*);
using PFN_cublasLtMatmul = cublasStatus_t (*)(cublasLtHandle_t, cublasLtMatmulDesc_t, const void*, const void*,
                                              cublasLtMatrixLayout_t, const void*, cublasLtMatrixLayout_t, const void*,
                                              const void*, cublasLtMatrixLayout_t, void*, cublasLtMatrixLayout_t,
                                              const cublasLtMatmulAlgo_t*, void*, std::size_t, CUstream);
using PFN_cublasCreate_v2 = cublasStatus_t (*)(cublasHandle_t*);
using PFN_cublasSetStream_v2 = cublasStatus_t (*)(cublasHandle_t, CUstream);
using PFN_cublasGemmStridedBatchedEx = cublasStatus_t (*)(cublasHandle_t, int, int, int, int, int, const void*,
                                                          const void*, int, int, long long, const void*, int, int,
                                                          long long, const void*, void*, int, int, long long, int, int,
                                                          int);

// ---- cuDNN legacy convolution (libcudnn.so.9) ----
using cudnnStatus_t = int;
using cudnnHandle_t = void*;
using cudnnTensorDescriptor_t = void*;
using cudnnFilterDescriptor_t = void*;
using cudnnConvolutionDescriptor_t = void*;
/** cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t share this layout. */
struct cudnnConvAlgoPerf_t {
  int algo;
  cudnnStatus_t status;
  float time;
  std::size_t memory;
  int determinism;
  int mathType;
  int reserved[3];
};
constexpr cudnnStatus_t CUDNN_STATUS_SUCCESS = 0;
constexpr int CUDNN_DATA_FLOAT = 0, CUDNN_DATA_DOUBLE = 1;
constexpr int CUDNN_TENSOR_NCHW = 0;
constexpr int CUDNN_CROSS_CORRELATION = 1;
constexpr int CUDNN_DEFAULT_MATH = 0;

using PFN_cudnnGetVersion = std::size_t (*)();
using PFN_cudnnGetErrorString = const char* (*)(cudnnStatus_t);
using PFN_cudnnCreate = cudnnStatus_t (*)(cudnnHandle_t*);
using PFN_cudnnSetStream = cudnnStatus_t (*)(cudnnHandle_t, CUstream);
using PFN_cudnnCreateTensorDescriptor = cudnnStatus_t (*)(cudnnTensorDescriptor_t*);
using PFN_cudnnSetTensor4dDescriptor = cudnnStatus_t (*)(cudnnTensorDescriptor_t, int, int, int, int, int, int);
using PFN_cudnnCreateFilterDescriptor = cudnnStatus_t (*)(cudnnFilterDescriptor_t*);
using PFN_cudnnSetFilter4dDescriptor = cudnnStatus_t (*)(cudnnFilterDescriptor_t, int, int, int, int, int, int);
using PFN_cudnnCreateConvolutionDescriptor = cudnnStatus_t (*)(cudnnConvolutionDescriptor_t*);
using PFN_cudnnSetConvolution2dDescriptor = cudnnStatus_t (*)(cudnnConvolutionDescriptor_t, int, int, int, int, int,
                                                              int, int, int);
using PFN_cudnnSetConvolutionGroupCount = cudnnStatus_t (*)(cudnnConvolutionDescriptor_t, int);
using PFN_cudnnSetConvolutionMathType = cudnnStatus_t (*)(cudnnConvolutionDescriptor_t, int);
using PFN_cudnnGetConvolutionForwardAlgorithm_v7 = cudnnStatus_t (*)(cudnnHandle_t, cudnnTensorDescriptor_t,
                                                                     cudnnFilterDescriptor_t,
                                                                     cudnnConvolutionDescriptor_t,
                                                                     cudnnTensorDescriptor_t, int, int*,
                                                                     cudnnConvAlgoPerf_t*);
using PFN_cudnnGetConvolutionBackwardDataAlgorithm_v7 = cudnnStatus_t (*)(cudnnHandle_t, cudnnFilterDescriptor_t,
                                                                          cudnnTensorDescriptor_t,
                                                                          cudnnConvolutionDescriptor_t,
                                                                          cudnnTensorDescriptor_t, int, int*,
                                                                          cudnnConvAlgoPerf_t*);
using PFN_cudnnGetConvolutionBackwardFilterAlgorithm_v7 = cudnnStatus_t (*)(cudnnHandle_t, cudnnTensorDescriptor_t,
                                                                            cudnnTensorDescriptor_t,
                                                                            cudnnConvolutionDescriptor_t,
                                                                            cudnnFilterDescriptor_t, int, int*,
                                                                            cudnnConvAlgoPerf_t*);
using PFN_cudnnGetConvolutionForwardWorkspaceSize = cudnnStatus_t (*)(cudnnHandle_t, cudnnTensorDescriptor_t,
                                                                      cudnnFilterDescriptor_t,
                                                                      cudnnConvolutionDescriptor_t,
                                                                      cudnnTensorDescriptor_t, int, std::size_t*);
using PFN_cudnnGetConvolutionBackwardDataWorkspaceSize = cudnnStatus_t (*)(cudnnHandle_t, cudnnFilterDescriptor_t,
                                                                           cudnnTensorDescriptor_t,
                                                                           cudnnConvolutionDescriptor_t,
                                                                           cudnnTensorDescriptor_t, int, std::size_t*);
using PFN_cudnnGetConvolutionBackwardFilterWorkspaceSize = cudnnStatus_t (*)(cudnnHandle_t, cudnnTensorDescriptor_t,
                                                                             cudnnTensorDescriptor_t,
                                                                             cudnnConvolutionDescriptor_t,
                                                                             cudnnFilterDescriptor_t, int,
                                                                             std::size_t*);
using PFN_cudnnConvolutionForward = cudnnStatus_t (*)(cudnnHandle_t, const void*, cudnnTensorDescriptor_t, const void*,
                                                      cudnnFilterDescriptor_t, const void*,
                                                      cudnnConvolutionDescriptor_t, int, void*, std::size_t,
                                                      const void*, cudnnTensorDescriptor_t, void*);
using PFN_cudnnConvolutionBackwardData = cudnnStatus_t (*)(cudnnHandle_t, const void*, cudnnFilterDescriptor_t,
                                                           const void*, cudnnTensorDescriptor_t, const void*,
                                                           cudnnConvolutionDescriptor_t, int, void*, std::size_t,
                                                           const void*, cudnnTensorDescriptor_t, void*);
using PFN_cudnnConvolutionBackwardFilter = cudnnStatus_t (*)(cudnnHandle_t, const void*, cudnnTensorDescriptor_t,
                                                             const void*, cudnnTensorDescriptor_t, const void*,
                                                             cudnnConvolutionDescriptor_t, int, void*, std::size_t,
                                                             const void*, cudnnFilterDescriptor_t, void*);

// ---- NVRTC (libnvrtc.so.13) ----
using nvrtcResult = int;
using nvrtcProgram = void*;
constexpr nvrtcResult NVRTC_SUCCESS = 0;
using PFN_nvrtcVersion = nvrtcResult (*)(int*, int*);
using PFN_nvrtcGetErrorString = const char* (*)(nvrtcResult);
using PFN_nvrtcCreateProgram = nvrtcResult (*)(nvrtcProgram*, const char*, const char*, int, const char* const*,
                                               const char* const*);
using PFN_nvrtcCompileProgram = nvrtcResult (*)(nvrtcProgram, int, const char* const*);
using PFN_nvrtcGetProgramLogSize = nvrtcResult (*)(nvrtcProgram, std::size_t*);
using PFN_nvrtcGetProgramLog = nvrtcResult (*)(nvrtcProgram, char*);
using PFN_nvrtcGetCUBINSize = nvrtcResult (*)(nvrtcProgram, std::size_t*);
using PFN_nvrtcGetCUBIN = nvrtcResult (*)(nvrtcProgram, char*);
using PFN_nvrtcDestroyProgram = nvrtcResult (*)(nvrtcProgram*);

}  // namespace kc
