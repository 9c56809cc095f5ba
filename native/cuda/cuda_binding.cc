// kindling_cuda: the CUDA runtime of kindling's "cuda" device, with no CUDA headers and no link-time dependency.
// libcuda.so.1 is dlopened and only cuGetProcAddress_v2 is looked up by name; every other driver entry point is
// resolved through it at the CUDA 12.0 ABI (so "cuMemcpyHtoDAsync" comes back as the _v2 function). cuBLASLt/cuBLAS,
// cuDNN and NVRTC are dlopened from the paths TypeScript chose (src/backends/cuda/locate.ts), each optional.
// Per device: the primary context, one non-blocking stream, the default memory pool with its release threshold
// raised (a stream-ordered caching allocator), pinned staging buffers for host copies, and one loaded module.
// Errors come back as JS exceptions (or a 0n pointer for out-of-memory, which TypeScript turns into PyTorch's
// message after emptying the cache); nothing here aborts the process.
#include <node_api.h>
#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda_api.h"

namespace {
using namespace kc;

// ---- driver entry points ----
struct Driver {
  void* lib = nullptr;
  std::string path;
  PFN_cuGetProcAddress_v2 getProc = nullptr;
  PFN_cuGetErrorString GetErrorString = nullptr;
  PFN_cuGetErrorName GetErrorName = nullptr;
  PFN_cuInit Init = nullptr;
  PFN_cuDriverGetVersion DriverGetVersion = nullptr;
  PFN_cuDeviceGetCount DeviceGetCount = nullptr;
  PFN_cuDeviceGet DeviceGet = nullptr;
  PFN_cuDeviceGetName DeviceGetName = nullptr;
  PFN_cuDeviceGetAttribute DeviceGetAttribute = nullptr;
  PFN_cuDeviceTotalMem DeviceTotalMem = nullptr;
  PFN_cuDevicePrimaryCtxRetain DevicePrimaryCtxRetain = nullptr;
  PFN_cuDevicePrimaryCtxRelease DevicePrimaryCtxRelease = nullptr;
  PFN_cuCtxSetCurrent CtxSetCurrent = nullptr;
  PFN_cuDeviceGetDefaultMemPool DeviceGetDefaultMemPool = nullptr;
  PFN_cuMemPoolSetAttribute MemPoolSetAttribute = nullptr;
  PFN_cuMemPoolGetAttribute MemPoolGetAttribute = nullptr;
  PFN_cuMemPoolTrimTo MemPoolTrimTo = nullptr;
  PFN_cuMemAllocAsync MemAllocAsync = nullptr;
  PFN_cuMemFreeAsync MemFreeAsync = nullptr;
  PFN_cuMemGetInfo MemGetInfo = nullptr;
  PFN_cuMemHostAlloc MemHostAlloc = nullptr;
  PFN_cuMemFreeHost MemFreeHost = nullptr;
  PFN_cuMemcpyHtoDAsync MemcpyHtoDAsync = nullptr;
  PFN_cuMemcpyDtoHAsync MemcpyDtoHAsync = nullptr;
  PFN_cuMemcpyDtoDAsync MemcpyDtoDAsync = nullptr;
  PFN_cuMemsetD32Async MemsetD32Async = nullptr;
  PFN_cuModuleLoadData ModuleLoadData = nullptr;
  PFN_cuModuleUnload ModuleUnload = nullptr;
  PFN_cuModuleGetFunction ModuleGetFunction = nullptr;
  PFN_cuLaunchKernel LaunchKernel = nullptr;
  PFN_cuStreamCreate StreamCreate = nullptr;
  PFN_cuStreamSynchronize StreamSynchronize = nullptr;
  PFN_cuStreamQuery StreamQuery = nullptr;
  PFN_cuStreamDestroy StreamDestroy = nullptr;
  PFN_cuEventCreate EventCreate = nullptr;
  PFN_cuEventRecord EventRecord = nullptr;
  PFN_cuEventQuery EventQuery = nullptr;
  PFN_cuEventSynchronize EventSynchronize = nullptr;
  PFN_cuEventDestroy EventDestroy = nullptr;
  PFN_cuStreamWaitEvent StreamWaitEvent = nullptr;
};
Driver cu;
bool driverReady = false;
int driverVersion = 0;
int deviceCount = 0;
std::string driverError;

template <class F>
void resolve(F& f, const char* name, std::string& missing) {
  void* p = nullptr;
  int status = 0;
  if (cu.getProc(name, &p, kDriverAbiVersion, CU_GET_PROC_ADDRESS_DEFAULT, &status) != CUDA_SUCCESS || !p) {
    missing += std::string(missing.empty() ? "" : ", ") + name;
    f = nullptr;
    return;
  }
  f = reinterpret_cast<F>(p);
}

std::string cuErrorText(CUresult r) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (cu.GetErrorName) cu.GetErrorName(r, &name);
  if (cu.GetErrorString) cu.GetErrorString(r, &text);
  std::string s = text ? text : "unknown CUDA error";
  s += " (";
  s += name ? name : ("CUresult " + std::to_string(r));
  s += ")";
  return s;
}

// ---- optional libraries ----
struct Blas {
  void* lt = nullptr;
  void* classic = nullptr;
  std::string ltPath, classicPath;
  PFN_cublasLtCreate LtCreate = nullptr;
  PFN_cublasLtGetVersion LtGetVersion = nullptr;
  PFN_cublasLtMatmulDescCreate MatmulDescCreate = nullptr;
  PFN_cublasLtMatmulDescDestroy MatmulDescDestroy = nullptr;
  PFN_cublasLtMatmulDescSetAttribute MatmulDescSetAttribute = nullptr;
  PFN_cublasLtMatrixLayoutCreate MatrixLayoutCreate = nullptr;
  PFN_cublasLtMatrixLayoutDestroy MatrixLayoutDestroy = nullptr;
  PFN_cublasLtMatrixLayoutSetAttribute MatrixLayoutSetAttribute = nullptr;
  PFN_cublasLtMatmulPreferenceCreate PreferenceCreate = nullptr;
  PFN_cublasLtMatmulPreferenceDestroy PreferenceDestroy = nullptr;
  PFN_cublasLtMatmulPreferenceSetAttribute PreferenceSetAttribute = nullptr;
  PFN_cublasLtMatmulAlgoGetHeuristic AlgoGetHeuristic = nullptr;
  PFN_cublasLtMatmul Matmul = nullptr;
  PFN_cublasCreate_v2 Create = nullptr;
  PFN_cublasSetStream_v2 SetStream = nullptr;
  PFN_cublasGemmStridedBatchedEx GemmStridedBatchedEx = nullptr;
};
Blas blas;

struct Dnn {
  void* lib = nullptr;
  std::string path;
  std::size_t version = 0;
  PFN_cudnnGetVersion GetVersion = nullptr;
  PFN_cudnnGetErrorString GetErrorString = nullptr;
  PFN_cudnnCreate Create = nullptr;
  PFN_cudnnSetStream SetStream = nullptr;
  PFN_cudnnCreateTensorDescriptor CreateTensorDescriptor = nullptr;
  PFN_cudnnSetTensor4dDescriptor SetTensor4dDescriptor = nullptr;
  PFN_cudnnCreateFilterDescriptor CreateFilterDescriptor = nullptr;
  PFN_cudnnSetFilter4dDescriptor SetFilter4dDescriptor = nullptr;
  PFN_cudnnCreateConvolutionDescriptor CreateConvolutionDescriptor = nullptr;
  PFN_cudnnSetConvolution2dDescriptor SetConvolution2dDescriptor = nullptr;
  PFN_cudnnSetConvolutionGroupCount SetConvolutionGroupCount = nullptr;
  PFN_cudnnSetConvolutionMathType SetConvolutionMathType = nullptr;
  PFN_cudnnGetConvolutionForwardAlgorithm_v7 FwdAlgo = nullptr;
  PFN_cudnnGetConvolutionBackwardDataAlgorithm_v7 BwdDataAlgo = nullptr;
  PFN_cudnnGetConvolutionBackwardFilterAlgorithm_v7 BwdFilterAlgo = nullptr;
  PFN_cudnnGetConvolutionForwardWorkspaceSize FwdWs = nullptr;
  PFN_cudnnGetConvolutionBackwardDataWorkspaceSize BwdDataWs = nullptr;
  PFN_cudnnGetConvolutionBackwardFilterWorkspaceSize BwdFilterWs = nullptr;
  PFN_cudnnConvolutionForward Forward = nullptr;
  PFN_cudnnConvolutionBackwardData BackwardData = nullptr;
  PFN_cudnnConvolutionBackwardFilter BackwardFilter = nullptr;
};
Dnn dnn;

struct Nvrtc {
  void* lib = nullptr;
  std::string path;
  PFN_nvrtcVersion Version = nullptr;
  PFN_nvrtcGetErrorString GetErrorString = nullptr;
  PFN_nvrtcCreateProgram CreateProgram = nullptr;
  PFN_nvrtcCompileProgram CompileProgram = nullptr;
  PFN_nvrtcGetProgramLogSize GetProgramLogSize = nullptr;
  PFN_nvrtcGetProgramLog GetProgramLog = nullptr;
  PFN_nvrtcGetCUBINSize GetCUBINSize = nullptr;
  PFN_nvrtcGetCUBIN GetCUBIN = nullptr;
  PFN_nvrtcDestroyProgram DestroyProgram = nullptr;
};
Nvrtc nvrtc;

template <class F>
void dsym(void* lib, F& f, const char* name, std::string& missing) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  if (!f) missing += std::string(missing.empty() ? "" : ", ") + name;
}

// ---- per-device state ----
constexpr std::size_t kStageMax = 32u << 20;     // host copies are chunked through pinned buffers of at most this
constexpr std::size_t kStageMin = 1u << 20;
constexpr std::size_t kPinnedCap = 512u << 20;   // staging beyond this waits for a busy buffer instead of growing
constexpr std::size_t kBlasWorkspace = 32u << 20;

struct Stage {
  void* host = nullptr;
  std::size_t size = 0;
  CUevent ev = nullptr;
  bool busy = false;  // an async read owns it until its Promise settles
};

struct GemmPlan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool useLt = false;
};

struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algo = 0;
  std::size_t workspace = 0;
};

struct Device {
  int index = 0;
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  CUstream stream = nullptr;
  // The collectives' stream (NCCL's), made on first use; ordered against `stream` with events only.
  CUstream side = nullptr;
  std::vector<CUevent> freeEvents;
  CUmemoryPool pool = nullptr;
  CUmodule module = nullptr;
  std::unordered_map<std::string, int> fnIds;
  std::vector<CUfunction> fns;
  std::vector<std::string> fnNames;
  std::vector<std::unique_ptr<Stage>> stages;
  std::size_t pinned = 0;
  // The kernels queued since the last synchronisation point, newest last (for errors found there).
  int recent[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  unsigned recentAt = 0;
  bool launchBlocking = false;
  cublasLtHandle_t lt = nullptr;
  cublasHandle_t cublas = nullptr;
  CUdeviceptr blasWorkspace = 0;
  std::size_t blasWorkspaceSize = 0;
  std::unordered_map<std::string, GemmPlan> gemmPlans;
  cudnnHandle_t cudnn = nullptr;
  CUdeviceptr dnnWorkspace = 0;
  std::size_t dnnWorkspaceSize = 0;
  std::unordered_map<std::string, ConvPlan> convPlans;
};
std::vector<std::unique_ptr<Device>> devices;
Device* current = nullptr;

// ---- N-API helpers ----
#define NAPI_OK(call)                                         \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error(env, nullptr, "kindling_cuda: N-API call failed: " #call); \
      return nullptr;                                         \
    }                                                         \
  } while (0)

napi_value throwError(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

struct Args {
  napi_value v[12];
  size_t n = 12;
};

bool getArgs(napi_env env, napi_callback_info info, Args& a, size_t need) {
  if (napi_get_cb_info(env, info, &a.n, a.v, nullptr, nullptr) != napi_ok || a.n < need) {
    napi_throw_type_error(env, nullptr, "kindling_cuda: too few arguments");
    return false;
  }
  return true;
}

bool toInt(napi_env env, napi_value v, int64_t& out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    napi_throw_type_error(env, nullptr, "kindling_cuda: expected a number");
    return false;
  }
  out = static_cast<int64_t>(d);
  return true;
}

bool toPtr(napi_env env, napi_value v, CUdeviceptr& out) {
  uint64_t u = 0;
  bool lossless = false;
  if (napi_get_value_bigint_uint64(env, v, &u, &lossless) != napi_ok) {
    napi_throw_type_error(env, nullptr, "kindling_cuda: expected a device pointer (bigint)");
    return false;
  }
  out = static_cast<CUdeviceptr>(u);
  return true;
}

bool toEvent(napi_env env, napi_value v, CUevent& out) {
  CUdeviceptr p = 0;
  if (!toPtr(env, v, p)) return false;
  out = reinterpret_cast<CUevent>(static_cast<std::uintptr_t>(p));
  return true;
}

bool toStream(napi_env env, napi_value v, CUstream& out) {
  CUdeviceptr p = 0;
  if (!toPtr(env, v, p)) return false;
  out = reinterpret_cast<CUstream>(static_cast<std::uintptr_t>(p));
  return true;
}

napi_value bigintOf(napi_env env, const void* p) {
  napi_value v;
  napi_create_bigint_uint64(env, static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)), &v);
  return v;
}

bool toString(napi_env env, napi_value v, std::string& out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "kindling_cuda: expected a string");
    return false;
  }
  out.resize(len);
  napi_get_value_string_utf8(env, v, &out[0], len + 1, &len);
  return true;
}

/** The bytes of a TypedArray or DataView. */
bool toBytes(napi_env env, napi_value v, void*& data, size_t& bytes) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (is) {
    napi_typedarray_type type;
    size_t length = 0, offset = 0;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset) != napi_ok) return false;
    size_t item = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: item = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: item = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: item = 8; break;
      default: item = 1;
    }
    bytes = length * item;
    return true;
  }
  napi_is_dataview(env, v, &is);
  if (is) {
    napi_value ab;
    size_t offset = 0;
    return napi_get_dataview_info(env, v, &bytes, &data, &ab, &offset) == napi_ok;
  }
  napi_throw_type_error(env, nullptr, "kindling_cuda: expected a TypedArray or DataView");
  return false;
}

napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}
napi_value str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}
napi_value boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}
void set(napi_env env, napi_value obj, const char* key, napi_value v) { napi_set_named_property(env, obj, key, v); }
napi_value undef(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

Device* deviceArg(napi_env env, napi_value v) {
  int64_t i = 0;
  if (!toInt(env, v, i)) return nullptr;
  if (i < 0 || i >= static_cast<int64_t>(devices.size()) || !devices[static_cast<size_t>(i)]) {
    napi_throw_error(env, nullptr, ("kindling_cuda: cuda:" + std::to_string(i) + " is not open").c_str());
    return nullptr;
  }
  Device* d = devices[static_cast<size_t>(i)].get();
  if (current != d) {
    cu.CtxSetCurrent(d->ctx);
    current = d;
  }
  return d;
}

std::string recentKernels(Device* d) {
  std::string s;
  for (unsigned k = 0; k < 8; k++) {
    int id = d->recent[(d->recentAt + k) % 8];
    if (id < 0) continue;
    s += std::string(s.empty() ? "" : ", ") + d->fnNames[static_cast<size_t>(id)];
  }
  return s;
}

void clearRecent(Device* d) {
  for (int& r : d->recent) r = -1;
}

/** The message for an error found at a synchronisation point: it may come from any kernel queued since the last one. */
std::string asyncError(Device* d, const char* where, CUresult r) {
  std::string s = "CUDA error on cuda:" + std::to_string(d->index) + " during " + where + ": " + cuErrorText(r);
  std::string k = recentKernels(d);
  if (!k.empty()) {
    s += ". Kernels queued since the last synchronisation (newest last): " + k +
         (d->launchBlocking ? "" : "; set CUDA_LAUNCH_BLOCKING=1 to stop at the failing one");
  }
  s += ". The CUDA context is unusable after this kind of error: restart the process.";
  return s;
}

// ---- init / devices ----
napi_value Init(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  std::string path;
  if (!toString(env, a.v[0], path)) return nullptr;
  napi_value out;
  napi_create_object(env, &out);
  if (!driverReady && driverError.empty()) {
    cu.lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!cu.lib) {
      // Not remembered: the caller may try another path.
      const char* e = dlerror();
      set(env, out, "error", str(env, std::string("cannot load ") + path + ": " + (e ? e : "unknown error")));
      return out;
    } else {
      cu.path = path;
      cu.getProc = reinterpret_cast<PFN_cuGetProcAddress_v2>(dlsym(cu.lib, "cuGetProcAddress_v2"));
      if (!cu.getProc) {
        driverError = path + " has no cuGetProcAddress_v2: the NVIDIA driver is older than CUDA 12 (kindling needs driver >= 580)";
      } else {
        std::string missing;
        resolve(cu.GetErrorString, "cuGetErrorString", missing);
        resolve(cu.GetErrorName, "cuGetErrorName", missing);
        resolve(cu.Init, "cuInit", missing);
        resolve(cu.DriverGetVersion, "cuDriverGetVersion", missing);
        resolve(cu.DeviceGetCount, "cuDeviceGetCount", missing);
        resolve(cu.DeviceGet, "cuDeviceGet", missing);
        resolve(cu.DeviceGetName, "cuDeviceGetName", missing);
        resolve(cu.DeviceGetAttribute, "cuDeviceGetAttribute", missing);
        resolve(cu.DeviceTotalMem, "cuDeviceTotalMem", missing);
        resolve(cu.DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", missing);
        resolve(cu.DevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease", missing);
        resolve(cu.CtxSetCurrent, "cuCtxSetCurrent", missing);
        resolve(cu.DeviceGetDefaultMemPool, "cuDeviceGetDefaultMemPool", missing);
        resolve(cu.MemPoolSetAttribute, "cuMemPoolSetAttribute", missing);
        resolve(cu.MemPoolGetAttribute, "cuMemPoolGetAttribute", missing);
        resolve(cu.MemPoolTrimTo, "cuMemPoolTrimTo", missing);
        resolve(cu.MemAllocAsync, "cuMemAllocAsync", missing);
        resolve(cu.MemFreeAsync, "cuMemFreeAsync", missing);
        resolve(cu.MemGetInfo, "cuMemGetInfo", missing);
        resolve(cu.MemHostAlloc, "cuMemHostAlloc", missing);
        resolve(cu.MemFreeHost, "cuMemFreeHost", missing);
        resolve(cu.MemcpyHtoDAsync, "cuMemcpyHtoDAsync", missing);
        resolve(cu.MemcpyDtoHAsync, "cuMemcpyDtoHAsync", missing);
        resolve(cu.MemcpyDtoDAsync, "cuMemcpyDtoDAsync", missing);
        resolve(cu.MemsetD32Async, "cuMemsetD32Async", missing);
        resolve(cu.ModuleLoadData, "cuModuleLoadData", missing);
        resolve(cu.ModuleUnload, "cuModuleUnload", missing);
        resolve(cu.ModuleGetFunction, "cuModuleGetFunction", missing);
        resolve(cu.LaunchKernel, "cuLaunchKernel", missing);
        resolve(cu.StreamCreate, "cuStreamCreate", missing);
        resolve(cu.StreamSynchronize, "cuStreamSynchronize", missing);
        resolve(cu.StreamQuery, "cuStreamQuery", missing);
        resolve(cu.StreamDestroy, "cuStreamDestroy", missing);
        resolve(cu.EventCreate, "cuEventCreate", missing);
        resolve(cu.EventRecord, "cuEventRecord", missing);
        resolve(cu.EventQuery, "cuEventQuery", missing);
        resolve(cu.EventSynchronize, "cuEventSynchronize", missing);
        resolve(cu.EventDestroy, "cuEventDestroy", missing);
        resolve(cu.StreamWaitEvent, "cuStreamWaitEvent", missing);
        if (!missing.empty()) {
          driverError = path + " lacks driver entry points kindling needs (" + missing + "): update the NVIDIA driver to >= 580";
        } else {
          cu.DriverGetVersion(&driverVersion);
          CUresult r = cu.Init(0);
          if (r == CUDA_ERROR_NO_DEVICE) {
            deviceCount = 0;
            driverReady = true;
          } else if (r != CUDA_SUCCESS) {
            driverError = "cuInit failed: " + cuErrorText(r);
          } else {
            r = cu.DeviceGetCount(&deviceCount);
            if (r != CUDA_SUCCESS) driverError = "cuDeviceGetCount failed: " + cuErrorText(r);
            else driverReady = true;
          }
        }
      }
    }
  }
  if (!driverReady) {
    set(env, out, "error", str(env, driverError));
    return out;
  }
  set(env, out, "driverVersion", num(env, driverVersion));
  set(env, out, "deviceCount", num(env, deviceCount));
  set(env, out, "library", str(env, cu.path));
  return out;
}

napi_value DeviceInfo(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  int64_t i = 0;
  if (!toInt(env, a.v[0], i)) return nullptr;
  if (!driverReady || i < 0 || i >= deviceCount) return throwError(env, "cuda:" + std::to_string(i) + " does not exist");
  CUdevice d = 0;
  CUresult r = cu.DeviceGet(&d, static_cast<int>(i));
  if (r != CUDA_SUCCESS) return throwError(env, "cuDeviceGet: " + cuErrorText(r));
  char name[256] = {0};
  cu.DeviceGetName(name, sizeof name - 1, d);
  int major = 0, minor = 0, sms = 0, pools = 0;
  cu.DeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
  cu.DeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
  cu.DeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d);
  cu.DeviceGetAttribute(&pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, d);
  std::size_t total = 0;
  cu.DeviceTotalMem(&total, d);
  napi_value out;
  napi_create_object(env, &out);
  set(env, out, "name", str(env, name));
  set(env, out, "major", num(env, major));
  set(env, out, "minor", num(env, minor));
  set(env, out, "multiProcessorCount", num(env, sms));
  set(env, out, "totalMemory", num(env, static_cast<double>(total)));
  set(env, out, "memoryPools", boolean(env, pools != 0));
  return out;
}

napi_value Open(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  int64_t i = 0;
  if (!toInt(env, a.v[0], i)) return nullptr;
  bool blocking = false;
  napi_get_value_bool(env, a.v[1], &blocking);
  if (!driverReady || i < 0 || i >= deviceCount) return throwError(env, "cuda:" + std::to_string(i) + " does not exist");
  size_t idx = static_cast<size_t>(i);
  if (devices.size() <= idx) devices.resize(idx + 1);
  if (devices[idx]) return undef(env);
  auto d = std::make_unique<Device>();
  d->index = static_cast<int>(i);
  d->launchBlocking = blocking;
  CUresult r = cu.DeviceGet(&d->dev, static_cast<int>(i));
  if (r == CUDA_SUCCESS) r = cu.DevicePrimaryCtxRetain(&d->ctx, d->dev);
  if (r != CUDA_SUCCESS) return throwError(env, "cannot create a context on cuda:" + std::to_string(i) + ": " + cuErrorText(r));
  cu.CtxSetCurrent(d->ctx);
  current = d.get();
  int pools = 0;
  cu.DeviceGetAttribute(&pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, d->dev);
  if (!pools) {
    cu.DevicePrimaryCtxRelease(d->dev);
    current = nullptr;
    return throwError(env, "cuda:" + std::to_string(i) + " does not support stream-ordered allocation (cuMemAllocAsync), which kindling needs");
  }
  r = cu.StreamCreate(&d->stream, CU_STREAM_NON_BLOCKING);
  if (r == CUDA_SUCCESS) r = cu.DeviceGetDefaultMemPool(&d->pool, d->dev);
  if (r == CUDA_SUCCESS) {
    // The default threshold (0) hands freed memory back to the driver at every synchronisation: keep it cached.
    cuuint64_t threshold = UINT64_MAX;
    r = cu.MemPoolSetAttribute(d->pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &threshold);
  }
  if (r != CUDA_SUCCESS) {
    if (d->stream) cu.StreamDestroy(d->stream);
    cu.DevicePrimaryCtxRelease(d->dev);
    current = nullptr;
    return throwError(env, "cannot set up cuda:" + std::to_string(i) + ": " + cuErrorText(r));
  }
  devices[idx] = std::move(d);
  return undef(env);
}

// ---- memory ----
napi_value Alloc(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  int64_t bytes = 0;
  if (!toInt(env, a.v[1], bytes)) return nullptr;
  CUdeviceptr p = 0;
  CUresult r = cu.MemAllocAsync(&p, static_cast<std::size_t>(bytes), d->stream);
  if (r == CUDA_ERROR_OUT_OF_MEMORY) p = 0;  // TypeScript empties the cache, collects and retries, then reports
  else if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "cuMemAllocAsync", r));
  else {
    int64_t adjusted = 0;
    napi_adjust_external_memory(env, bytes, &adjusted);  // lets V8 collect dead tensors while device memory grows
  }
  napi_value out;
  napi_create_bigint_uint64(env, p, &out);
  return out;
}

napi_value Free(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 3)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  CUdeviceptr p = 0;
  int64_t bytes = 0;
  if (!toPtr(env, a.v[1], p) || !toInt(env, a.v[2], bytes)) return nullptr;
  CUresult r = cu.MemFreeAsync(p, d->stream);
  if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "cuMemFreeAsync", r));
  int64_t adjusted = 0;
  napi_adjust_external_memory(env, -bytes, &adjusted);
  return undef(env);
}

/** [free, total, poolReserved, poolUsed] in bytes. */
napi_value MemInfo(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  std::size_t freeB = 0, total = 0;
  cu.MemGetInfo(&freeB, &total);
  cuuint64_t reserved = 0, used = 0;
  cu.MemPoolGetAttribute(d->pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT, &reserved);
  cu.MemPoolGetAttribute(d->pool, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &used);
  napi_value out;
  napi_create_array_with_length(env, 4, &out);
  napi_set_element(env, out, 0, num(env, static_cast<double>(freeB)));
  napi_set_element(env, out, 1, num(env, static_cast<double>(total)));
  napi_set_element(env, out, 2, num(env, static_cast<double>(reserved)));
  napi_set_element(env, out, 3, num(env, static_cast<double>(used)));
  return out;
}

napi_value Synchronize(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  CUresult r = cu.StreamSynchronize(d->stream);
  if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "synchronize", r));
  clearRecent(d);
  return undef(env);
}

/** The device's compute stream as a BigInt, for NCCL to enqueue its collectives in order with the kernels. */
napi_value ComputeStream(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  return bigintOf(env, d->stream);
}

// ---- the collectives' stream and events (PyTorch's NCCL stream discipline) ----
// A collective runs on the side stream so kernels queued after it are not held up: the side stream waits for an event
// recorded on the compute stream (its inputs are written), and the compute stream waits for the collective's own event
// only when its result is needed. Events come from a per-device free list; TypeScript gives each one back when it no
// longer needs it (after the waits that use it were queued, and after any host wait on it returned).

napi_value SideStream(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  if (!d->side) {
    CUresult r = cu.StreamCreate(&d->side, CU_STREAM_NON_BLOCKING);
    if (r != CUDA_SUCCESS) {
      d->side = nullptr;
      return throwError(env, "cannot create the collectives' stream on cuda:" + std::to_string(d->index) + ": " + cuErrorText(r));
    }
  }
  return bigintOf(env, d->side);
}

/** eventRecord(dev, stream): an event from the free list, recorded on `stream` now. */
napi_value EventRecord(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  CUstream s = nullptr;
  if (!d || !toStream(env, a.v[1], s)) return nullptr;
  CUevent ev = nullptr;
  if (!d->freeEvents.empty()) {
    ev = d->freeEvents.back();
    d->freeEvents.pop_back();
  } else {
    CUresult r = cu.EventCreate(&ev, CU_EVENT_DISABLE_TIMING);
    if (r != CUDA_SUCCESS) return throwError(env, "cuEventCreate: " + cuErrorText(r));
  }
  CUresult r = cu.EventRecord(ev, s);
  if (r != CUDA_SUCCESS) {
    d->freeEvents.push_back(ev);
    return throwError(env, asyncError(d, "cuEventRecord", r));
  }
  return bigintOf(env, ev);
}

napi_value EventRelease(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  CUevent ev = nullptr;
  if (!d || !toEvent(env, a.v[1], ev)) return nullptr;
  d->freeEvents.push_back(ev);
  return undef(env);
}

/** streamWaitEvent(dev, stream, event): work queued on `stream` from now on starts after the event. */
napi_value StreamWaitEvent(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 3)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  CUstream s = nullptr;
  CUevent ev = nullptr;
  if (!d || !toStream(env, a.v[1], s) || !toEvent(env, a.v[2], ev)) return nullptr;
  CUresult r = cu.StreamWaitEvent(s, ev, 0);
  if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "cuStreamWaitEvent", r));
  return undef(env);
}

/** Blocks the calling thread until the event has happened. */
napi_value EventSynchronize(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  CUevent ev = nullptr;
  if (!d || !toEvent(env, a.v[1], ev)) return nullptr;
  CUresult r = cu.EventSynchronize(ev);
  if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "cuEventSynchronize", r));
  return undef(env);
}

struct AsyncEventWait {
  Device* d = nullptr;
  CUevent ev = nullptr;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  CUresult result = CUDA_SUCCESS;
};

void eventWaitExecute(napi_env, void* data) {
  auto* w = static_cast<AsyncEventWait*>(data);
  cu.CtxSetCurrent(w->d->ctx);
  w->result = cu.EventSynchronize(w->ev);
}

void eventWaitComplete(napi_env env, napi_status, void* data) {
  std::unique_ptr<AsyncEventWait> w(static_cast<AsyncEventWait*>(data));
  if (w->result == CUDA_SUCCESS) {
    napi_resolve_deferred(env, w->deferred, undef(env));
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, asyncError(w->d, "an asynchronous event wait", w->result).c_str(), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  }
  napi_delete_async_work(env, w->work);
}

/** eventWaitAsync(dev, event): a Promise that resolves once the event has happened (a libuv worker waits for it). */
napi_value EventWaitAsync(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  auto w = std::make_unique<AsyncEventWait>();
  w->d = deviceArg(env, a.v[0]);
  if (!w->d || !toEvent(env, a.v[1], w->ev)) return nullptr;
  napi_value promise, name;
  NAPI_OK(napi_create_promise(env, &w->deferred, &promise));
  NAPI_OK(napi_create_string_utf8(env, "kindling_cuda_event", NAPI_AUTO_LENGTH, &name));
  NAPI_OK(napi_create_async_work(env, nullptr, name, eventWaitExecute, eventWaitComplete, w.get(), &w->work));
  NAPI_OK(napi_queue_async_work(env, w->work));
  w.release();
  return promise;
}

/** Hands the pool's unused memory back to the driver (torch.cuda.empty_cache). */
napi_value TrimPool(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  CUresult r = cu.StreamSynchronize(d->stream);
  if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "emptyCache", r));
  clearRecent(d);
  cu.MemPoolTrimTo(d->pool, 0);
  return undef(env);
}

napi_value MemsetD32(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 4)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  CUdeviceptr p = 0;
  int64_t bits = 0, count = 0;
  if (!toPtr(env, a.v[1], p) || !toInt(env, a.v[2], bits) || !toInt(env, a.v[3], count)) return nullptr;
  CUresult r = cu.MemsetD32Async(p, static_cast<unsigned>(static_cast<uint32_t>(bits)), static_cast<std::size_t>(count), d->stream);
  if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "memsetD32", r));
  return undef(env);
}

napi_value CopyDtoD(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 4)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  CUdeviceptr dst = 0, src = 0;
  int64_t bytes = 0;
  if (!toPtr(env, a.v[1], dst) || !toPtr(env, a.v[2], src) || !toInt(env, a.v[3], bytes)) return nullptr;
  CUresult r = cu.MemcpyDtoDAsync(dst, src, static_cast<std::size_t>(bytes), d->stream);
  if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "copyDtoD", r));
  return undef(env);
}

// ---- pinned staging ----
/** A pinned buffer of at least `bytes` that no queued copy still uses; null (with a JS error thrown) on failure. */
Stage* takeStage(napi_env env, Device* d, std::size_t bytes) {
  Stage* waitFor = nullptr;
  for (auto& s : d->stages) {
    if (s->busy || s->size < bytes) continue;
    CUresult q = cu.EventQuery(s->ev);
    if (q == CUDA_SUCCESS) return s.get();
    if (q != CUDA_ERROR_NOT_READY) {
      napi_throw_error(env, nullptr, asyncError(d, "a host copy", q).c_str());
      return nullptr;
    }
    if (!waitFor) waitFor = s.get();
  }
  if (waitFor && d->pinned + bytes > kPinnedCap) {
    CUresult r = cu.EventSynchronize(waitFor->ev);
    if (r != CUDA_SUCCESS) {
      napi_throw_error(env, nullptr, asyncError(d, "a host copy", r).c_str());
      return nullptr;
    }
    return waitFor;
  }
  std::size_t size = kStageMin;
  while (size < bytes) size <<= 1;
  auto s = std::make_unique<Stage>();
  CUresult r = cu.MemHostAlloc(&s->host, size, kMemHostAllocPortable);
  if (r == CUDA_SUCCESS) r = cu.EventCreate(&s->ev, CU_EVENT_DISABLE_TIMING);
  if (r != CUDA_SUCCESS) {
    if (s->host) cu.MemFreeHost(s->host);
    napi_throw_error(env, nullptr, ("cannot allocate " + std::to_string(size) + " bytes of pinned host memory: " + cuErrorText(r)).c_str());
    return nullptr;
  }
  s->size = size;
  d->pinned += size;
  d->stages.push_back(std::move(s));
  return d->stages.back().get();
}

napi_value CopyHtoD(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 3)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  CUdeviceptr dst = 0;
  void* src = nullptr;
  size_t bytes = 0;
  if (!toPtr(env, a.v[1], dst) || !toBytes(env, a.v[2], src, bytes)) return nullptr;
  for (size_t off = 0; off < bytes; off += kStageMax) {
    size_t n = bytes - off < kStageMax ? bytes - off : kStageMax;
    Stage* s = takeStage(env, d, n);
    if (!s) return nullptr;
    std::memcpy(s->host, static_cast<char*>(src) + off, n);
    CUresult r = cu.MemcpyHtoDAsync(dst + off, s->host, n, d->stream);
    if (r == CUDA_SUCCESS) r = cu.EventRecord(s->ev, d->stream);
    if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "a host-to-device copy", r));
  }
  return undef(env);
}

napi_value CopyDtoH(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 3)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  void* dst = nullptr;
  size_t bytes = 0;
  CUdeviceptr src = 0;
  if (!toBytes(env, a.v[1], dst, bytes) || !toPtr(env, a.v[2], src)) return nullptr;
  for (size_t off = 0; off < bytes; off += kStageMax) {
    size_t n = bytes - off < kStageMax ? bytes - off : kStageMax;
    Stage* s = takeStage(env, d, n);
    if (!s) return nullptr;
    CUresult r = cu.MemcpyDtoHAsync(s->host, src + off, n, d->stream);
    if (r == CUDA_SUCCESS) r = cu.StreamSynchronize(d->stream);
    if (r != CUDA_SUCCESS) return throwError(env, asyncError(d, "a device-to-host copy", r));
    std::memcpy(static_cast<char*>(dst) + off, s->host, n);
  }
  clearRecent(d);
  return undef(env);
}

/** An async read: the copy lands in a pinned buffer, a libuv worker waits for its event and copies it out. */
struct AsyncRead {
  Device* d = nullptr;
  Stage* stage = nullptr;
  std::unique_ptr<Stage> own;  // a one-off buffer for reads larger than kStageMax
  void* dst = nullptr;
  size_t bytes = 0;
  napi_ref keep = nullptr;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  CUresult result = CUDA_SUCCESS;
};

void asyncReadExecute(napi_env, void* data) {
  auto* r = static_cast<AsyncRead*>(data);
  cu.CtxSetCurrent(r->d->ctx);
  r->result = cu.EventSynchronize(r->stage->ev);
  if (r->result == CUDA_SUCCESS) std::memcpy(r->dst, r->stage->host, r->bytes);
}

void asyncReadComplete(napi_env env, napi_status, void* data) {
  std::unique_ptr<AsyncRead> r(static_cast<AsyncRead*>(data));
  r->stage->busy = false;
  if (r->own) {
    if (current != r->d) {
      cu.CtxSetCurrent(r->d->ctx);
      current = r->d;
    }
    cu.EventDestroy(r->own->ev);
    cu.MemFreeHost(r->own->host);
  }
  if (r->result == CUDA_SUCCESS) {
    napi_resolve_deferred(env, r->deferred, undef(env));
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, asyncError(r->d, "an asynchronous device-to-host copy", r->result).c_str(), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, r->deferred, err);
  }
  napi_delete_reference(env, r->keep);
  napi_delete_async_work(env, r->work);
}

napi_value CopyDtoHAsync(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 3)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  auto r = std::make_unique<AsyncRead>();
  r->d = d;
  CUdeviceptr src = 0;
  if (!toBytes(env, a.v[1], r->dst, r->bytes) || !toPtr(env, a.v[2], src)) return nullptr;
  if (r->bytes > kStageMax) {
    r->own = std::make_unique<Stage>();
    CUresult e = cu.MemHostAlloc(&r->own->host, r->bytes, kMemHostAllocPortable);
    if (e == CUDA_SUCCESS) e = cu.EventCreate(&r->own->ev, CU_EVENT_DISABLE_TIMING);
    if (e != CUDA_SUCCESS) {
      if (r->own->host) cu.MemFreeHost(r->own->host);
      return throwError(env, "cannot allocate pinned host memory for a read: " + cuErrorText(e));
    }
    r->own->size = r->bytes;
    r->stage = r->own.get();
  } else {
    r->stage = takeStage(env, d, r->bytes > 0 ? r->bytes : 1);
    if (!r->stage) return nullptr;
  }
  CUresult e = cu.MemcpyDtoHAsync(r->stage->host, src, r->bytes, d->stream);
  if (e == CUDA_SUCCESS) e = cu.EventRecord(r->stage->ev, d->stream);
  if (e != CUDA_SUCCESS) return throwError(env, asyncError(d, "an asynchronous device-to-host copy", e));
  r->stage->busy = true;
  napi_value promise, name;
  NAPI_OK(napi_create_promise(env, &r->deferred, &promise));
  NAPI_OK(napi_create_reference(env, a.v[1], 1, &r->keep));
  NAPI_OK(napi_create_string_utf8(env, "kindling_cuda_read", NAPI_AUTO_LENGTH, &name));
  NAPI_OK(napi_create_async_work(env, nullptr, name, asyncReadExecute, asyncReadComplete, r.get(), &r->work));
  NAPI_OK(napi_queue_async_work(env, r->work));
  r.release();
  return promise;
}

// ---- modules and launches ----
napi_value LoadModule(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  void* image = nullptr;
  size_t bytes = 0;
  if (!toBytes(env, a.v[1], image, bytes)) return nullptr;
  // cuModuleLoadData reads a fatbin's size from its header; a copy keeps the image alive and aligned.
  std::vector<uint64_t> copy((bytes + 7) / 8 + 1, 0);
  std::memcpy(copy.data(), image, bytes);
  CUmodule m = nullptr;
  CUresult r = cu.ModuleLoadData(&m, copy.data());
  if (r != CUDA_SUCCESS) return throwError(env, "cuModuleLoadData: " + cuErrorText(r));
  if (d->module) cu.ModuleUnload(d->module);
  d->module = m;
  d->fnIds.clear();
  d->fns.clear();
  d->fnNames.clear();
  clearRecent(d);
  return undef(env);
}

/** The id of a kernel in the loaded module (looked up once; launches pass the id). */
napi_value GetFunction(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  std::string name;
  if (!toString(env, a.v[1], name)) return nullptr;
  if (!d->module) return throwError(env, "no CUDA module is loaded on cuda:" + std::to_string(d->index));
  auto it = d->fnIds.find(name);
  int id = 0;
  if (it != d->fnIds.end()) {
    id = it->second;
  } else {
    CUfunction f = nullptr;
    CUresult r = cu.ModuleGetFunction(&f, d->module, name.c_str());
    if (r != CUDA_SUCCESS) return throwError(env, "kernel " + name + " is not in kindling's CUDA module: " + cuErrorText(r));
    id = static_cast<int>(d->fns.size());
    d->fns.push_back(f);
    d->fnNames.push_back(name);
    d->fnIds.emplace(name, id);
  }
  return num(env, id);
}

napi_value Launch(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 11)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  int64_t id = 0, dims[7] = {0};
  if (!toInt(env, a.v[1], id)) return nullptr;
  for (int k = 0; k < 7; k++) if (!toInt(env, a.v[2 + k], dims[k])) return nullptr;
  if (id < 0 || id >= static_cast<int64_t>(d->fns.size())) return throwError(env, "kindling_cuda: bad kernel id");
  void* bytes = nullptr;
  size_t nbytes = 0;
  void* offsData = nullptr;
  size_t offsBytes = 0;
  if (!toBytes(env, a.v[9], bytes, nbytes) || !toBytes(env, a.v[10], offsData, offsBytes)) return nullptr;
  const uint32_t* offs = static_cast<const uint32_t*>(offsData);
  size_t n = offsBytes / 4;
  void* params[64];
  if (n > 64) return throwError(env, "kindling_cuda: a kernel takes at most 64 parameters");
  for (size_t k = 0; k < n; k++) {
    if (offs[k] >= nbytes) return throwError(env, "kindling_cuda: kernel argument offset out of range");
    params[k] = static_cast<char*>(bytes) + offs[k];
  }
  const std::string& name = d->fnNames[static_cast<size_t>(id)];
  CUresult r = cu.LaunchKernel(d->fns[static_cast<size_t>(id)], static_cast<unsigned>(dims[0]), static_cast<unsigned>(dims[1]),
                               static_cast<unsigned>(dims[2]), static_cast<unsigned>(dims[3]), static_cast<unsigned>(dims[4]),
                               static_cast<unsigned>(dims[5]), static_cast<unsigned>(dims[6]), d->stream, params, nullptr);
  if (r != CUDA_SUCCESS) {
    return throwError(env, "CUDA kernel " + name + " failed to launch (grid " + std::to_string(dims[0]) + "x" +
                               std::to_string(dims[1]) + "x" + std::to_string(dims[2]) + ", block " + std::to_string(dims[3]) +
                               "x" + std::to_string(dims[4]) + "x" + std::to_string(dims[5]) + ", " +
                               std::to_string(dims[6]) + " B shared): " + cuErrorText(r));
  }
  d->recent[d->recentAt % 8] = static_cast<int>(id);
  d->recentAt = (d->recentAt + 1) % 8;
  if (d->launchBlocking) {
    r = cu.StreamSynchronize(d->stream);
    if (r != CUDA_SUCCESS) return throwError(env, "CUDA kernel " + name + " failed: " + cuErrorText(r) + " (CUDA_LAUNCH_BLOCKING=1). The CUDA context is unusable after this kind of error: restart the process.");
    clearRecent(d);
  }
  return undef(env);
}

// ---- libraries ----
void* openLibrary(const std::string& path, bool global, std::string& error) {
  void* h = dlopen(path.c_str(), RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
  if (!h) {
    const char* e = dlerror();
    error = e ? e : ("cannot load " + path);
  }
  return h;
}

std::string dirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

/** loadBlas(ltPath, classicPath): either may be "" (not found); returns { lt, classic, error }. */
napi_value LoadBlas(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  std::string ltPath, classicPath, errors;
  if (!toString(env, a.v[0], ltPath) || !toString(env, a.v[1], classicPath)) return nullptr;
  if (!blas.lt && !ltPath.empty()) {
    std::string e, missing;
    void* h = openLibrary(ltPath, false, e);
    if (h) {
      dsym(h, blas.LtCreate, "cublasLtCreate", missing);
      dsym(h, blas.LtGetVersion, "cublasLtGetVersion", missing);
      dsym(h, blas.MatmulDescCreate, "cublasLtMatmulDescCreate", missing);
      dsym(h, blas.MatmulDescDestroy, "cublasLtMatmulDescDestroy", missing);
      dsym(h, blas.MatmulDescSetAttribute, "cublasLtMatmulDescSetAttribute", missing);
      dsym(h, blas.MatrixLayoutCreate, "cublasLtMatrixLayoutCreate", missing);
      dsym(h, blas.MatrixLayoutDestroy, "cublasLtMatrixLayoutDestroy", missing);
      dsym(h, blas.MatrixLayoutSetAttribute, "cublasLtMatrixLayoutSetAttribute", missing);
      dsym(h, blas.PreferenceCreate, "cublasLtMatmulPreferenceCreate", missing);
      dsym(h, blas.PreferenceDestroy, "cublasLtMatmulPreferenceDestroy", missing);
      dsym(h, blas.PreferenceSetAttribute, "cublasLtMatmulPreferenceSetAttribute", missing);
      dsym(h, blas.AlgoGetHeuristic, "cublasLtMatmulAlgoGetHeuristic", missing);
      dsym(h, blas.Matmul, "cublasLtMatmul", missing);
      if (missing.empty()) {
        blas.lt = h;
        blas.ltPath = ltPath;
      } else {
        errors += ltPath + " lacks " + missing + "; ";
        dlclose(h);
      }
    } else {
      errors += e + "; ";
    }
  }
  if (!blas.classic && !classicPath.empty()) {
    std::string e, missing;
    void* h = openLibrary(classicPath, false, e);
    if (h) {
      dsym(h, blas.Create, "cublasCreate_v2", missing);
      dsym(h, blas.SetStream, "cublasSetStream_v2", missing);
      dsym(h, blas.GemmStridedBatchedEx, "cublasGemmStridedBatchedEx", missing);
      if (missing.empty()) {
        blas.classic = h;
        blas.classicPath = classicPath;
      } else {
        errors += classicPath + " lacks " + missing + "; ";
        dlclose(h);
      }
    } else {
      errors += e + "; ";
    }
  }
  napi_value out;
  napi_create_object(env, &out);
  set(env, out, "lt", blas.lt ? str(env, blas.ltPath) : undef(env));
  set(env, out, "classic", blas.classic ? str(env, blas.classicPath) : undef(env));
  if (!errors.empty()) set(env, out, "error", str(env, errors.substr(0, errors.size() - 2)));
  return out;
}

bool ensureBlas(napi_env env, Device* d) {
  if (blas.lt && !d->lt) {
    if (blas.LtCreate(&d->lt) != CUBLAS_STATUS_SUCCESS) d->lt = nullptr;
  }
  if (!d->lt && blas.classic && !d->cublas) {
    if (blas.Create(&d->cublas) != CUBLAS_STATUS_SUCCESS || blas.SetStream(d->cublas, d->stream) != CUBLAS_STATUS_SUCCESS) {
      napi_throw_error(env, nullptr, "cublasCreate failed on this device");
      return false;
    }
  }
  if (d->lt && !d->blasWorkspace) {
    CUdeviceptr p = 0;
    if (cu.MemAllocAsync(&p, kBlasWorkspace, d->stream) == CUDA_SUCCESS) {
      d->blasWorkspace = p;
      d->blasWorkspaceSize = kBlasWorkspace;
    }
  }
  if (!d->lt && !d->cublas) {
    napi_throw_error(env, nullptr, "gemm: neither cuBLASLt nor cuBLAS is loaded");
    return false;
  }
  return true;
}

/** Row-major C = op(A) op(B) is column-major C^T = op(B^T) op(A^T): the plan describes the swapped product. */
bool buildGemmPlan(Device* d, const double* p, GemmPlan& plan, std::string& err) {
  const bool f64 = p[0] != 0, transA = p[1] != 0, transB = p[2] != 0, tf32 = p[15] != 0;
  const int64_t M = static_cast<int64_t>(p[3]), N = static_cast<int64_t>(p[4]), K = static_cast<int64_t>(p[5]);
  const int64_t lda = static_cast<int64_t>(p[6]), ldb = static_cast<int64_t>(p[7]), ldc = static_cast<int64_t>(p[8]);
  const int64_t sA = static_cast<int64_t>(p[9]), sB = static_cast<int64_t>(p[10]), sC = static_cast<int64_t>(p[11]);
  const int32_t batch = static_cast<int32_t>(p[12]);
  const int dtype = f64 ? CUDA_R_64F : CUDA_R_32F;
  const int compute = f64 ? CUBLAS_COMPUTE_64F : (tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
  if (!d->lt) return true;  // the classic path needs no plan
  cublasStatus_t s = blas.MatmulDescCreate(&plan.desc, compute, dtype);
  int opA = transB ? CUBLAS_OP_T : CUBLAS_OP_N, opB = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (!s) s = blas.MatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof opA);
  if (!s) s = blas.MatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof opB);
  if (!s) s = blas.MatrixLayoutCreate(&plan.a, dtype, static_cast<uint64_t>(transB ? K : N), static_cast<uint64_t>(transB ? N : K), ldb);
  if (!s) s = blas.MatrixLayoutCreate(&plan.b, dtype, static_cast<uint64_t>(transA ? M : K), static_cast<uint64_t>(transA ? K : M), lda);
  if (!s) s = blas.MatrixLayoutCreate(&plan.c, dtype, static_cast<uint64_t>(N), static_cast<uint64_t>(M), ldc);
  if (!s && batch > 1) {
    const int64_t strides[3] = {sB, sA, sC};
    cublasLtMatrixLayout_t ls[3] = {plan.a, plan.b, plan.c};
    for (int k = 0; k < 3 && !s; k++) {
      s = blas.MatrixLayoutSetAttribute(ls[k], CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch);
      if (!s) s = blas.MatrixLayoutSetAttribute(ls[k], CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &strides[k], sizeof strides[k]);
    }
  }
  if (s) {
    err = "cuBLASLt descriptor setup failed (status " + std::to_string(s) + ")";
    return false;
  }
  cublasLtMatmulPreference_t pref = nullptr;
  uint64_t ws = d->blasWorkspaceSize;
  s = blas.PreferenceCreate(&pref);
  if (!s) s = blas.PreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  if (!s) s = blas.AlgoGetHeuristic(d->lt, plan.desc, plan.a, plan.b, plan.c, plan.c, pref, 1, &result, &found);
  if (pref) blas.PreferenceDestroy(pref);
  if (!s && found > 0) {
    plan.algo = result.algo;
    plan.useLt = true;
  } else if (!blas.classic) {
    err = "cuBLASLt has no algorithm for this matmul (status " + std::to_string(s) + ") and cuBLAS is not loaded";
    return false;
  }
  return true;
}

/** gemm(dev, ptrs: BigUint64Array [a, b, c], p: Float64Array) — see GemmArgs and src/backends/cuda/native.ts. */
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 3)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  void* pp = nullptr;
  void* pd = nullptr;
  size_t pb = 0, db = 0;
  if (!toBytes(env, a.v[1], pp, pb) || !toBytes(env, a.v[2], pd, db)) return nullptr;
  if (pb < 24 || db < 16 * 8) return throwError(env, "kindling_cuda: gemm arguments are too short");
  const uint64_t* ptr = static_cast<const uint64_t*>(pp);
  const double* p = static_cast<const double*>(pd);
  if (!ensureBlas(env, d)) return nullptr;
  // Everything but alpha and beta (p[13], p[14]) selects the plan.
  std::string key(reinterpret_cast<const char*>(p), 13 * 8);
  key.append(reinterpret_cast<const char*>(p + 15), 8);
  auto it = d->gemmPlans.find(key);
  if (it == d->gemmPlans.end()) {
    GemmPlan plan;
    std::string err;
    if (!buildGemmPlan(d, p, plan, err)) return throwError(env, "gemm: " + err);
    it = d->gemmPlans.emplace(key, plan).first;
  }
  const GemmPlan& plan = it->second;
  const bool f64 = p[0] != 0;
  const double alpha64 = p[13], beta64 = p[14];
  const float alpha32 = static_cast<float>(p[13]), beta32 = static_cast<float>(p[14]);
  const void* alpha = f64 ? static_cast<const void*>(&alpha64) : &alpha32;
  const void* beta = f64 ? static_cast<const void*>(&beta64) : &beta32;
  const void* A = reinterpret_cast<const void*>(static_cast<uintptr_t>(ptr[0]));
  const void* B = reinterpret_cast<const void*>(static_cast<uintptr_t>(ptr[1]));
  void* C = reinterpret_cast<void*>(static_cast<uintptr_t>(ptr[2]));
  cublasStatus_t s;
  if (plan.useLt) {
    s = blas.Matmul(d->lt, plan.desc, alpha, B, plan.a, A, plan.b, beta, C, plan.c, C, plan.c, &plan.algo,
                    reinterpret_cast<void*>(static_cast<uintptr_t>(d->blasWorkspace)), d->blasWorkspaceSize, d->stream);
  } else {
    if (!d->cublas) {
      if (blas.Create(&d->cublas) != CUBLAS_STATUS_SUCCESS || blas.SetStream(d->cublas, d->stream) != CUBLAS_STATUS_SUCCESS)
        return throwError(env, "gemm: cublasCreate failed");
    }
    const bool transA = p[1] != 0, transB = p[2] != 0, tf32 = p[15] != 0;
    const int dtype = f64 ? CUDA_R_64F : CUDA_R_32F;
    const int compute = f64 ? CUBLAS_COMPUTE_64F : (tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
    s = blas.GemmStridedBatchedEx(d->cublas, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  static_cast<int>(p[4]), static_cast<int>(p[3]), static_cast<int>(p[5]), alpha, B, dtype,
                                  static_cast<int>(p[7]), static_cast<long long>(p[10]), A, dtype, static_cast<int>(p[6]),
                                  static_cast<long long>(p[9]), beta, C, dtype, static_cast<int>(p[8]),
                                  static_cast<long long>(p[11]), static_cast<int>(p[12]), compute, CUBLAS_GEMM_DEFAULT);
  }
  if (s != CUBLAS_STATUS_SUCCESS) {
    return throwError(env, std::string("gemm: ") + (plan.useLt ? "cublasLtMatmul" : "cublasGemmStridedBatchedEx") +
                               " failed with status " + std::to_string(s));
  }
  return undef(env);
}

/** loadDnn(path): the siblings cuDNN 9 dispatches to are loaded first, as PyTorch does for the wheel layout. */
napi_value LoadDnn(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  std::string path, err;
  if (!toString(env, a.v[0], path)) return nullptr;
  napi_value out;
  napi_create_object(env, &out);
  if (!dnn.lib) {
    const std::string dir = dirOf(path);
    if (!dir.empty()) {
      const char* parts[] = {"libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
                             "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9"};
      for (const char* part : parts) {
        std::string ignored;
        openLibrary(dir + part, true, ignored);  // absent parts are cuDNN's own business to report
      }
    }
    void* h = openLibrary(path, true, err);
    if (h) {
      std::string missing;
      dsym(h, dnn.GetVersion, "cudnnGetVersion", missing);
      dsym(h, dnn.GetErrorString, "cudnnGetErrorString", missing);
      dsym(h, dnn.Create, "cudnnCreate", missing);
      dsym(h, dnn.SetStream, "cudnnSetStream", missing);
      dsym(h, dnn.CreateTensorDescriptor, "cudnnCreateTensorDescriptor", missing);
      dsym(h, dnn.SetTensor4dDescriptor, "cudnnSetTensor4dDescriptor", missing);
      dsym(h, dnn.CreateFilterDescriptor, "cudnnCreateFilterDescriptor", missing);
      dsym(h, dnn.SetFilter4dDescriptor, "cudnnSetFilter4dDescriptor", missing);
      dsym(h, dnn.CreateConvolutionDescriptor, "cudnnCreateConvolutionDescriptor", missing);
      dsym(h, dnn.SetConvolution2dDescriptor, "cudnnSetConvolution2dDescriptor", missing);
      dsym(h, dnn.SetConvolutionGroupCount, "cudnnSetConvolutionGroupCount", missing);
      dsym(h, dnn.SetConvolutionMathType, "cudnnSetConvolutionMathType", missing);
      dsym(h, dnn.FwdAlgo, "cudnnGetConvolutionForwardAlgorithm_v7", missing);
      dsym(h, dnn.BwdDataAlgo, "cudnnGetConvolutionBackwardDataAlgorithm_v7", missing);
      dsym(h, dnn.BwdFilterAlgo, "cudnnGetConvolutionBackwardFilterAlgorithm_v7", missing);
      dsym(h, dnn.FwdWs, "cudnnGetConvolutionForwardWorkspaceSize", missing);
      dsym(h, dnn.BwdDataWs, "cudnnGetConvolutionBackwardDataWorkspaceSize", missing);
      dsym(h, dnn.BwdFilterWs, "cudnnGetConvolutionBackwardFilterWorkspaceSize", missing);
      dsym(h, dnn.Forward, "cudnnConvolutionForward", missing);
      dsym(h, dnn.BackwardData, "cudnnConvolutionBackwardData", missing);
      dsym(h, dnn.BackwardFilter, "cudnnConvolutionBackwardFilter", missing);
      if (!missing.empty()) {
        err = path + " lacks " + missing;
      } else {
        dnn.version = dnn.GetVersion();
        if (dnn.version < 8000) {
          err = path + " is cuDNN " + std::to_string(dnn.version) + "; kindling needs cuDNN 8 or 9";
        } else {
          dnn.lib = h;
          dnn.path = path;
        }
      }
    }
  }
  if (dnn.lib) {
    set(env, out, "path", str(env, dnn.path));
    set(env, out, "version", num(env, static_cast<double>(dnn.version)));
  } else {
    set(env, out, "error", str(env, err));
  }
  return out;
}

std::string dnnError(const char* what, cudnnStatus_t s) {
  return std::string(what) + " failed: " + (dnn.GetErrorString ? dnn.GetErrorString(s) : "") + " (cudnnStatus " + std::to_string(s) + ")";
}

/** Sizes the shared cuDNN workspace; false when the bytes can't be had (the caller tries a leaner algorithm). */
bool reserveDnnWorkspace(Device* d, std::size_t bytes) {
  if (bytes <= d->dnnWorkspaceSize) return true;
  if (d->dnnWorkspace) cu.MemFreeAsync(d->dnnWorkspace, d->stream);
  d->dnnWorkspace = 0;
  d->dnnWorkspaceSize = 0;
  CUdeviceptr p = 0;
  if (cu.MemAllocAsync(&p, bytes, d->stream) != CUDA_SUCCESS) return false;
  d->dnnWorkspace = p;
  d->dnnWorkspaceSize = bytes;
  return true;
}

/** conv(dev, which: 0 fwd / 1 bwd-data / 2 bwd-filter, ptrs [in0, in1, out], p: Float64Array of ConvArgs fields). */
napi_value Conv(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 4)) return nullptr;
  Device* d = deviceArg(env, a.v[0]);
  if (!d) return nullptr;
  int64_t which = 0;
  if (!toInt(env, a.v[1], which)) return nullptr;
  void* pp = nullptr;
  void* pd = nullptr;
  size_t pb = 0, db = 0;
  if (!toBytes(env, a.v[2], pp, pb) || !toBytes(env, a.v[3], pd, db)) return nullptr;
  if (pb < 24 || db < 18 * 8) return throwError(env, "kindling_cuda: conv arguments are too short");
  if (!dnn.lib) return throwError(env, "conv: cuDNN is not loaded");
  const uint64_t* ptr = static_cast<const uint64_t*>(pp);
  const double* p = static_cast<const double*>(pd);
  // p: dtype, N, C, H, W, OC, KH, KW, strideH, strideW, padH, padW, dilH, dilW, groups, OH, OW, (unused)
  auto I = [&](int k) { return static_cast<int>(p[k]); };
  const char* opName = which == 0 ? "conv2d forward" : which == 1 ? "conv2d backward (data)" : "conv2d backward (filter)";
  if (!d->cudnn) {
    cudnnStatus_t s = dnn.Create(&d->cudnn);
    if (!s) s = dnn.SetStream(d->cudnn, d->stream);
    if (s) {
      d->cudnn = nullptr;
      return throwError(env, dnnError("cudnnCreate", s));
    }
  }
  std::string key(reinterpret_cast<const char*>(p), 17 * 8);
  key.push_back(static_cast<char>(which));
  auto it = d->convPlans.find(key);
  if (it == d->convPlans.end()) {
    ConvPlan plan;
    const int dt = p[0] != 0 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    cudnnStatus_t s = dnn.CreateTensorDescriptor(&plan.x);
    if (!s) s = dnn.CreateTensorDescriptor(&plan.y);
    if (!s) s = dnn.CreateFilterDescriptor(&plan.w);
    if (!s) s = dnn.CreateConvolutionDescriptor(&plan.conv);
    if (!s) s = dnn.SetTensor4dDescriptor(plan.x, CUDNN_TENSOR_NCHW, dt, I(1), I(2), I(3), I(4));
    if (!s) s = dnn.SetTensor4dDescriptor(plan.y, CUDNN_TENSOR_NCHW, dt, I(1), I(5), I(15), I(16));
    if (!s) s = dnn.SetFilter4dDescriptor(plan.w, dt, CUDNN_TENSOR_NCHW, I(5), I(2) / I(14), I(6), I(7));
    if (!s) s = dnn.SetConvolution2dDescriptor(plan.conv, I(10), I(11), I(8), I(9), I(12), I(13), CUDNN_CROSS_CORRELATION, dt);
    if (!s) s = dnn.SetConvolutionGroupCount(plan.conv, I(14));
    if (!s) s = dnn.SetConvolutionMathType(plan.conv, CUDNN_DEFAULT_MATH);
    if (s) return throwError(env, dnnError(opName, s));
    cudnnConvAlgoPerf_t perf[8];
    int found = 0;
    if (which == 0) s = dnn.FwdAlgo(d->cudnn, plan.x, plan.w, plan.conv, plan.y, 8, &found, perf);
    else if (which == 1) s = dnn.BwdDataAlgo(d->cudnn, plan.w, plan.y, plan.conv, plan.x, 8, &found, perf);
    else s = dnn.BwdFilterAlgo(d->cudnn, plan.x, plan.y, plan.conv, plan.w, 8, &found, perf);
    if (s) return throwError(env, dnnError(opName, s));
    bool chosen = false;
    for (int k = 0; k < found && !chosen; k++) {
      if (perf[k].status != CUDNN_STATUS_SUCCESS) continue;
      std::size_t ws = 0;
      if (which == 0) s = dnn.FwdWs(d->cudnn, plan.x, plan.w, plan.conv, plan.y, perf[k].algo, &ws);
      else if (which == 1) s = dnn.BwdDataWs(d->cudnn, plan.w, plan.y, plan.conv, plan.x, perf[k].algo, &ws);
      else s = dnn.BwdFilterWs(d->cudnn, plan.x, plan.y, plan.conv, plan.w, perf[k].algo, &ws);
      if (s || !reserveDnnWorkspace(d, ws)) continue;
      plan.algo = perf[k].algo;
      plan.workspace = ws;
      chosen = true;
    }
    if (!chosen) return throwError(env, std::string(opName) + ": cuDNN offered no algorithm that fits in memory for this shape");
    it = d->convPlans.emplace(key, plan).first;
  }
  ConvPlan& plan = it->second;
  if (!reserveDnnWorkspace(d, plan.workspace)) return throwError(env, std::string(opName) + ": out of memory for cuDNN's workspace");
  const double one64 = 1, zero64 = 0;
  const float one32 = 1, zero32 = 0;
  const bool f64 = p[0] != 0;
  const void* one = f64 ? static_cast<const void*>(&one64) : &one32;
  const void* zero = f64 ? static_cast<const void*>(&zero64) : &zero32;
  auto P = [&](int k) { return reinterpret_cast<void*>(static_cast<uintptr_t>(ptr[k])); };
  void* ws = reinterpret_cast<void*>(static_cast<uintptr_t>(d->dnnWorkspace));
  cudnnStatus_t s;
  if (which == 0) {
    s = dnn.Forward(d->cudnn, one, plan.x, P(0), plan.w, P(1), plan.conv, plan.algo, ws, plan.workspace, zero, plan.y, P(2));
  } else if (which == 1) {
    s = dnn.BackwardData(d->cudnn, one, plan.w, P(1), plan.y, P(0), plan.conv, plan.algo, ws, plan.workspace, zero, plan.x, P(2));
  } else {
    s = dnn.BackwardFilter(d->cudnn, one, plan.x, P(0), plan.y, P(1), plan.conv, plan.algo, ws, plan.workspace, zero, plan.w, P(2));
  }
  if (s) return throwError(env, dnnError(opName, s));
  return undef(env);
}

/** loadNvrtc(path) -> { path, version: [major, minor] } or { error }. */
napi_value LoadNvrtc(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  std::string path, err;
  if (!toString(env, a.v[0], path)) return nullptr;
  napi_value out;
  napi_create_object(env, &out);
  if (!nvrtc.lib) {
    void* h = openLibrary(path, false, err);
    if (h) {
      std::string missing;
      dsym(h, nvrtc.Version, "nvrtcVersion", missing);
      dsym(h, nvrtc.GetErrorString, "nvrtcGetErrorString", missing);
      dsym(h, nvrtc.CreateProgram, "nvrtcCreateProgram", missing);
      dsym(h, nvrtc.CompileProgram, "nvrtcCompileProgram", missing);
      dsym(h, nvrtc.GetProgramLogSize, "nvrtcGetProgramLogSize", missing);
      dsym(h, nvrtc.GetProgramLog, "nvrtcGetProgramLog", missing);
      dsym(h, nvrtc.GetCUBINSize, "nvrtcGetCUBINSize", missing);
      dsym(h, nvrtc.GetCUBIN, "nvrtcGetCUBIN", missing);
      dsym(h, nvrtc.DestroyProgram, "nvrtcDestroyProgram", missing);
      if (missing.empty()) {
        nvrtc.lib = h;
        nvrtc.path = path;
      } else {
        err = path + " lacks " + missing + " (kindling needs NVRTC 11.1 or newer)";
      }
    }
  }
  if (!nvrtc.lib) {
    set(env, out, "error", str(env, err));
    return out;
  }
  int major = 0, minor = 0;
  nvrtc.Version(&major, &minor);
  napi_value v;
  napi_create_array_with_length(env, 2, &v);
  napi_set_element(env, v, 0, num(env, major));
  napi_set_element(env, v, 1, num(env, minor));
  set(env, out, "path", str(env, nvrtc.path));
  set(env, out, "version", v);
  return out;
}

/** nvrtcCompile(source, name, options[]) -> { cubin: Uint8Array, log } or { error, log }. */
napi_value NvrtcCompile(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 3)) return nullptr;
  if (!nvrtc.lib) return throwError(env, "NVRTC is not loaded");
  std::string src, name;
  if (!toString(env, a.v[0], src) || !toString(env, a.v[1], name)) return nullptr;
  uint32_t nopt = 0;
  napi_get_array_length(env, a.v[2], &nopt);
  std::vector<std::string> opts(nopt);
  std::vector<const char*> optPtrs(nopt);
  for (uint32_t k = 0; k < nopt; k++) {
    napi_value e;
    napi_get_element(env, a.v[2], k, &e);
    if (!toString(env, e, opts[k])) return nullptr;
    optPtrs[k] = opts[k].c_str();
  }
  nvrtcProgram prog = nullptr;
  nvrtcResult r = nvrtc.CreateProgram(&prog, src.c_str(), name.c_str(), 0, nullptr, nullptr);
  if (r != NVRTC_SUCCESS) return throwError(env, std::string("nvrtcCreateProgram: ") + nvrtc.GetErrorString(r));
  r = nvrtc.CompileProgram(prog, static_cast<int>(nopt), optPtrs.data());
  std::size_t logSize = 0;
  nvrtc.GetProgramLogSize(prog, &logSize);
  std::string log(logSize, '\0');
  if (logSize) nvrtc.GetProgramLog(prog, &log[0]);
  while (!log.empty() && log.back() == '\0') log.pop_back();
  napi_value out;
  napi_create_object(env, &out);
  set(env, out, "log", str(env, log));
  if (r != NVRTC_SUCCESS) {
    set(env, out, "error", str(env, nvrtc.GetErrorString(r)));
  } else {
    std::size_t n = 0;
    nvrtc.GetCUBINSize(prog, &n);
    void* data = nullptr;
    napi_value ab, u8;
    napi_create_arraybuffer(env, n, &data, &ab);
    nvrtc.GetCUBIN(prog, static_cast<char*>(data));
    napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &u8);
    set(env, out, "cubin", u8);
  }
  nvrtc.DestroyProgram(&prog);
  return out;
}

napi_value ModuleInit(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"init", nullptr, Init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"deviceInfo", nullptr, DeviceInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"alloc", nullptr, Alloc, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"free", nullptr, Free, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"memInfo", nullptr, MemInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trimPool", nullptr, TrimPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"synchronize", nullptr, Synchronize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"memsetD32", nullptr, MemsetD32, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyDtoD", nullptr, CopyDtoD, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyHtoD", nullptr, CopyHtoD, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyDtoH", nullptr, CopyDtoH, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyDtoHAsync", nullptr, CopyDtoHAsync, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"loadModule", nullptr, LoadModule, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getFunction", nullptr, GetFunction, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"launch", nullptr, Launch, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"loadBlas", nullptr, LoadBlas, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"loadDnn", nullptr, LoadDnn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"loadNvrtc", nullptr, LoadNvrtc, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"nvrtcCompile", nullptr, NvrtcCompile, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"computeStream", nullptr, ComputeStream, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sideStream", nullptr, SideStream, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"eventRecord", nullptr, EventRecord, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"eventRelease", nullptr, EventRelease, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"streamWaitEvent", nullptr, StreamWaitEvent, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"eventSynchronize", nullptr, EventSynchronize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"eventWaitAsync", nullptr, EventWaitAsync, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, ModuleInit)
