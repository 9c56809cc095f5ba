// The part of NCCL's C API kindling calls, declared here so the addon builds without nccl.h: the values are NCCL's
// stable ABI (unchanged since 2.x; ncclAvg arrived in 2.10). nccl_binding.cc checks them against nccl.h when the
// header exists at build time.
#pragma once
#include <cstddef>

namespace knccl {

constexpr int kUniqueIdBytes = 128;  // NCCL_UNIQUE_ID_BYTES
struct UniqueId {
  char internal[kUniqueIdBytes];
};
using Comm = void*;    // ncclComm_t: an opaque pointer
using Stream = void*;  // cudaStream_t / CUstream

enum Result : int {  // ncclResult_t
  kSuccess = 0,
  kUnhandledCudaError = 1,
  kSystemError = 2,
  kInternalError = 3,
  kInvalidArgument = 4,
  kInvalidUsage = 5,
  kRemoteError = 6,
  kInProgress = 7,
};
enum DataType : int {  // ncclDataType_t
  kInt8 = 0,
  kUint8 = 1,
  kInt32 = 2,
  kUint32 = 3,
  kInt64 = 4,
  kUint64 = 5,
  kFloat16 = 6,
  kFloat32 = 7,
  kFloat64 = 8,
  kBfloat16 = 9,
};
enum RedOp : int { kSum = 0, kProd = 1, kMax = 2, kMin = 3, kAvg = 4 };  // ncclRedOp_t

struct Api {
  Result (*GetVersion)(int*);
  Result (*GetUniqueId)(UniqueId*);
  Result (*CommInitRank)(Comm*, int, UniqueId, int);
  Result (*CommAbort)(Comm);
  Result (*CommDestroy)(Comm);
  Result (*CommGetAsyncError)(Comm, Result*);
  Result (*AllReduce)(const void*, void*, size_t, DataType, RedOp, Comm, Stream);
  Result (*Broadcast)(const void*, void*, size_t, DataType, int, Comm, Stream);
  Result (*AllGather)(const void*, void*, size_t, DataType, Comm, Stream);
  Result (*ReduceScatter)(const void*, void*, size_t, DataType, RedOp, Comm, Stream);
  Result (*GroupStart)();
  Result (*GroupEnd)();
  const char* (*GetErrorString)(Result);
};

}  // namespace knccl
