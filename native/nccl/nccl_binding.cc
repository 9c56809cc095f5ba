// kindling_nccl: NCCL's collectives on device memory, with libnccl.so.2 loaded by dlopen at run time (no nccl.h, no
// link-time dependency: kindling builds and tests without NCCL or a GPU). Device addresses, communicators and
// streams cross into JavaScript as BigInts; the calls only enqueue work on the stream they are given, so they run on
// the JavaScript thread. The one call that blocks is ncclCommInitRank (it waits for every rank to join).
#include <node_api.h>
#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "nccl_api.h"

#if defined(__has_include)
#if __has_include(<nccl.h>)
// Where NCCL's header is at hand, our declarations must match it.
#include <nccl.h>
static_assert(sizeof(ncclUniqueId) == sizeof(knccl::UniqueId), "ncclUniqueId size");
static_assert(static_cast<int>(ncclFloat32) == knccl::kFloat32 && static_cast<int>(ncclFloat64) == knccl::kFloat64 &&
                  static_cast<int>(ncclInt32) == knccl::kInt32 && static_cast<int>(ncclInt64) == knccl::kInt64 &&
                  static_cast<int>(ncclUint8) == knccl::kUint8 && static_cast<int>(ncclBfloat16) == knccl::kBfloat16,
              "ncclDataType_t");
static_assert(static_cast<int>(ncclSum) == knccl::kSum && static_cast<int>(ncclMax) == knccl::kMax &&
                  static_cast<int>(ncclMin) == knccl::kMin && static_cast<int>(ncclAvg) == knccl::kAvg,
              "ncclRedOp_t");
static_assert(static_cast<int>(ncclRemoteError) == knccl::kRemoteError &&
                  static_cast<int>(ncclInProgress) == knccl::kInProgress,
              "ncclResult_t");
#endif
#endif

namespace {

void* lib = nullptr;
knccl::Api api{};
int version = 0;

template <class F>
void sym(F& f, const char* name, std::string& missing) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  if (!f) missing += std::string(missing.empty() ? "" : ", ") + name;
}

napi_value Throw(napi_env env, const std::string& message, const char* code = nullptr) {
  napi_value msg, err;
  napi_create_string_utf8(env, message.c_str(), message.size(), &msg);
  napi_create_error(env, nullptr, msg, &err);
  if (code) {
    napi_value c;
    napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
    napi_set_named_property(env, err, "code", c);
  }
  napi_throw(env, err);
  return nullptr;
}

// Turns a failed NCCL call into a JavaScript error carrying NCCL's words and its ncclResult_t.
bool Check(napi_env env, knccl::Result r, const char* what) {
  if (r == knccl::kSuccess) return true;
  const char* text = api.GetErrorString ? api.GetErrorString(r) : "unknown error";
  std::string code = "NCCL_" + std::to_string(static_cast<int>(r));
  Throw(env, std::string(what) + ": " + (text ? text : "unknown error") + " (ncclResult_t " +
                 std::to_string(static_cast<int>(r)) + ")",
        code.c_str());
  return false;
}

bool Loaded(napi_env env) {
  if (lib) return true;
  Throw(env, "NCCL is not loaded (call open() first)");
  return false;
}

bool Args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < want) {
    Throw(env, "expected " + std::to_string(want) + " arguments, got " + std::to_string(argc));
    return false;
  }
  return true;
}

bool Big(napi_env env, napi_value v, std::uint64_t* out) {
  bool lossless = true;
  if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok) {
    Throw(env, "expected a BigInt (a device address, communicator or stream)");
    return false;
  }
  return true;
}

bool Int(napi_env env, napi_value v, std::int64_t* out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    Throw(env, "expected a number");
    return false;
  }
  return true;
}

template <class T>
T* Ptr(std::uint64_t v) {
  return reinterpret_cast<T*>(static_cast<std::uintptr_t>(v));
}

napi_value Undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// open(path): dlopens NCCL and resolves every symbol; returns NCCL's version code (e.g. 22105 for 2.21.5).
napi_value Open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, 1, argv)) return nullptr;
  char path[4096];
  size_t n = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &n) != napi_ok) return Throw(env, "open: expected a path");
  if (!lib) {
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      return Throw(env, e ? e : "dlopen failed", "ENOENT");
    }
    lib = h;
    std::string missing;
    sym(api.GetVersion, "ncclGetVersion", missing);
    sym(api.GetUniqueId, "ncclGetUniqueId", missing);
    sym(api.CommInitRank, "ncclCommInitRank", missing);
    sym(api.CommAbort, "ncclCommAbort", missing);
    sym(api.CommDestroy, "ncclCommDestroy", missing);
    sym(api.CommGetAsyncError, "ncclCommGetAsyncError", missing);
    sym(api.AllReduce, "ncclAllReduce", missing);
    sym(api.Broadcast, "ncclBroadcast", missing);
    sym(api.AllGather, "ncclAllGather", missing);
    sym(api.ReduceScatter, "ncclReduceScatter", missing);
    sym(api.GroupStart, "ncclGroupStart", missing);
    sym(api.GroupEnd, "ncclGroupEnd", missing);
    sym(api.GetErrorString, "ncclGetErrorString", missing);
    if (!missing.empty()) {
      dlclose(lib);
      lib = nullptr;
      api = knccl::Api{};
      return Throw(env, std::string(path) + " lacks " + missing + " (not NCCL 2, or too old)", "ENOSYM");
    }
    if (!Check(env, api.GetVersion(&version), "ncclGetVersion")) return nullptr;
  }
  napi_value v;
  napi_create_int32(env, version, &v);
  return v;
}

napi_value UniqueId(napi_env env, napi_callback_info) {
  if (!Loaded(env)) return nullptr;
  knccl::UniqueId id;
  std::memset(&id, 0, sizeof id);
  if (!Check(env, api.GetUniqueId(&id), "ncclGetUniqueId")) return nullptr;
  void* data = nullptr;
  napi_value ab, u8;
  napi_create_arraybuffer(env, sizeof id, &data, &ab);
  std::memcpy(data, &id, sizeof id);
  napi_create_typedarray(env, napi_uint8_array, sizeof id, ab, 0, &u8);
  return u8;
}

// initRank(id: Uint8Array(128), nranks, rank) -> communicator
napi_value InitRank(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!Loaded(env) || !Args(env, info, 3, argv)) return nullptr;
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset) != napi_ok || type != napi_uint8_array ||
      length != sizeof(knccl::UniqueId)) {
    return Throw(env, "ncclCommInitRank: the unique id must be a Uint8Array of " + std::to_string(knccl::kUniqueIdBytes) + " bytes");
  }
  std::int64_t nranks = 0, rank = 0;
  if (!Int(env, argv[1], &nranks) || !Int(env, argv[2], &rank)) return nullptr;
  knccl::UniqueId id;
  std::memcpy(&id, data, sizeof id);
  knccl::Comm comm = nullptr;
  if (!Check(env, api.CommInitRank(&comm, static_cast<int>(nranks), id, static_cast<int>(rank)), "ncclCommInitRank")) return nullptr;
  napi_value v;
  napi_create_bigint_uint64(env, reinterpret_cast<std::uintptr_t>(comm), &v);
  return v;
}

// The collectives: (send, recv, count, dtype, opOrRoot, comm, stream); allGather has no fifth argument.
napi_value Collective(napi_env env, napi_callback_info info, int kind) {
  const size_t want = kind == 2 ? 6 : 7;
  napi_value argv[7];
  if (!Loaded(env) || !Args(env, info, want, argv)) return nullptr;
  std::uint64_t send = 0, recv = 0, comm = 0, stream = 0;
  std::int64_t count = 0, dtype = 0, extra = 0;
  if (!Big(env, argv[0], &send) || !Big(env, argv[1], &recv) || !Int(env, argv[2], &count) || !Int(env, argv[3], &dtype)) return nullptr;
  if (kind != 2 && !Int(env, argv[4], &extra)) return nullptr;
  if (!Big(env, argv[want - 2], &comm) || !Big(env, argv[want - 1], &stream)) return nullptr;
  if (count < 0) return Throw(env, "count must be >= 0");
  const auto n = static_cast<size_t>(count);
  const auto t = static_cast<knccl::DataType>(dtype);
  auto* c = Ptr<void>(comm);
  auto* s = Ptr<void>(stream);
  knccl::Result r = knccl::kSuccess;
  const char* what = "";
  switch (kind) {
    case 0:
      what = "ncclAllReduce";
      r = api.AllReduce(Ptr<const void>(send), Ptr<void>(recv), n, t, static_cast<knccl::RedOp>(extra), c, s);
      break;
    case 1:
      what = "ncclBroadcast";
      r = api.Broadcast(Ptr<const void>(send), Ptr<void>(recv), n, t, static_cast<int>(extra), c, s);
      break;
    case 2:
      what = "ncclAllGather";
      r = api.AllGather(Ptr<const void>(send), Ptr<void>(recv), n, t, c, s);
      break;
    default:
      what = "ncclReduceScatter";
      r = api.ReduceScatter(Ptr<const void>(send), Ptr<void>(recv), n, t, static_cast<knccl::RedOp>(extra), c, s);
      break;
  }
  if (!Check(env, r, what)) return nullptr;
  return Undefined(env);
}

napi_value AllReduce(napi_env env, napi_callback_info info) { return Collective(env, info, 0); }
napi_value Broadcast(napi_env env, napi_callback_info info) { return Collective(env, info, 1); }
napi_value AllGather(napi_env env, napi_callback_info info) { return Collective(env, info, 2); }
napi_value ReduceScatter(napi_env env, napi_callback_info info) { return Collective(env, info, 3); }

napi_value GroupStart(napi_env env, napi_callback_info) {
  if (!Loaded(env) || !Check(env, api.GroupStart(), "ncclGroupStart")) return nullptr;
  return Undefined(env);
}
napi_value GroupEnd(napi_env env, napi_callback_info) {
  if (!Loaded(env) || !Check(env, api.GroupEnd(), "ncclGroupEnd")) return nullptr;
  return Undefined(env);
}

bool CommArg(napi_env env, napi_callback_info info, knccl::Comm* comm) {
  napi_value argv[1];
  std::uint64_t v = 0;
  if (!Loaded(env) || !Args(env, info, 1, argv) || !Big(env, argv[0], &v)) return false;
  *comm = Ptr<void>(v);
  return true;
}

// asyncError(comm): the communicator's pending error as an ncclResult_t (0: none, 7: still in progress).
napi_value AsyncError(napi_env env, napi_callback_info info) {
  knccl::Comm comm = nullptr;
  if (!CommArg(env, info, &comm)) return nullptr;
  knccl::Result pending = knccl::kSuccess;
  if (!Check(env, api.CommGetAsyncError(comm, &pending), "ncclCommGetAsyncError")) return nullptr;
  napi_value v;
  napi_create_int32(env, static_cast<int>(pending), &v);
  return v;
}

napi_value Abort(napi_env env, napi_callback_info info) {
  knccl::Comm comm = nullptr;
  if (!CommArg(env, info, &comm) || !Check(env, api.CommAbort(comm), "ncclCommAbort")) return nullptr;
  return Undefined(env);
}

napi_value Destroy(napi_env env, napi_callback_info info) {
  knccl::Comm comm = nullptr;
  if (!CommArg(env, info, &comm) || !Check(env, api.CommDestroy(comm), "ncclCommDestroy")) return nullptr;
  return Undefined(env);
}

napi_value ErrorString(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::int64_t code = 0;
  if (!Loaded(env) || !Args(env, info, 1, argv) || !Int(env, argv[0], &code)) return nullptr;
  const char* text = api.GetErrorString(static_cast<knccl::Result>(code));
  napi_value v;
  napi_create_string_utf8(env, text ? text : "", NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value ModuleInit(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"uniqueId", nullptr, UniqueId, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"initRank", nullptr, InitRank, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"allReduce", nullptr, AllReduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"broadcast", nullptr, Broadcast, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"allGather", nullptr, AllGather, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduceScatter", nullptr, ReduceScatter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"groupStart", nullptr, GroupStart, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"groupEnd", nullptr, GroupEnd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"asyncError", nullptr, AsyncError, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"abort", nullptr, Abort, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"destroy", nullptr, Destroy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"errorString", nullptr, ErrorString, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, ModuleInit)
