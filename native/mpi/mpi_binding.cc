// kindling_mpi: MPI collectives for CPU tensors, with libmpi loaded by dlopen at run time (no mpi.h, no link-time
// dependency, so kindling installs and tests without MPI). Two ABIs are handled: Open MPI's (handles are the
// addresses of ompi_mpi_* symbols) and the MPICH family's (handles are fixed integers). One dedicated thread makes
// every MPI call, fed by a FIFO queue, so async collectives never block the event loop; each finished job is reported
// to JavaScript through one thread-safe function, and wait() blocks on a condition variable for the sync API.
#include <node_api.h>
#include <dlfcn.h>

#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

// ---- the MPI surface we use, declared per ABI ----
template <class H>
struct Api {
  int (*Init_thread)(int*, char***, int, int*) = nullptr;
  int (*Finalize)() = nullptr;
  int (*Comm_rank)(H, int*) = nullptr;
  int (*Comm_size)(H, int*) = nullptr;
  int (*Allreduce)(const void*, void*, int, H, H, H) = nullptr;
  int (*Bcast)(void*, int, H, int, H) = nullptr;
  int (*Allgather)(const void*, int, H, void*, int, H, H) = nullptr;
  int (*Reduce_scatter_block)(const void*, void*, int, H, H, H) = nullptr;
  int (*Barrier)(H) = nullptr;
  int (*Abort)(H, int) = nullptr;
  int (*Error_string)(int, char*, int*) = nullptr;
  int (*Comm_set_errhandler)(H, H) = nullptr;
  H comm_world{};
  H errors_return{};
  H dtypes[4]{};  // float32, float64 (also int64, which kindling stores as doubles), int32, uint8
  H ops[3]{};     // sum, max, min
  void* in_place = nullptr;
};

enum class Abi { None, OpenMPI, Mpich };
constexpr int kThreadFunneled = 1, kThreadSerialized = 2;  // the standard's values, shared by both ABIs
constexpr int kMaxErrorString = 256;                          // >= MPI_MAX_ERROR_STRING in both ABIs

void* lib = nullptr;
Abi abi = Abi::None;
std::string libPath;
Api<void*> ompi;
Api<int> mpich;

template <class F>
bool sym(F& f, const char* name, std::string& missing) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  if (!f) missing += std::string(missing.empty() ? "" : ", ") + name;
  return f != nullptr;
}

template <class H>
bool bindFunctions(Api<H>& a, std::string& missing) {
  sym(a.Init_thread, "MPI_Init_thread", missing);
  sym(a.Finalize, "MPI_Finalize", missing);
  sym(a.Comm_rank, "MPI_Comm_rank", missing);
  sym(a.Comm_size, "MPI_Comm_size", missing);
  sym(a.Allreduce, "MPI_Allreduce", missing);
  sym(a.Bcast, "MPI_Bcast", missing);
  sym(a.Allgather, "MPI_Allgather", missing);
  sym(a.Reduce_scatter_block, "MPI_Reduce_scatter_block", missing);
  sym(a.Barrier, "MPI_Barrier", missing);
  sym(a.Abort, "MPI_Abort", missing);
  sym(a.Error_string, "MPI_Error_string", missing);
  sym(a.Comm_set_errhandler, "MPI_Comm_set_errhandler", missing);
  return missing.empty();
}

bool bindOpenMpi(std::string& missing) {
  const char* names[] = {"ompi_mpi_comm_world", "ompi_mpi_errors_return", "ompi_mpi_float", "ompi_mpi_double",
                         "ompi_mpi_int", "ompi_mpi_unsigned_char", "ompi_mpi_op_sum", "ompi_mpi_op_max",
                         "ompi_mpi_op_min"};
  void* h[9];
  for (int i = 0; i < 9; i++) sym(h[i], names[i], missing);
  if (!bindFunctions(ompi, missing)) return false;
  ompi.comm_world = h[0];
  ompi.errors_return = h[1];
  for (int i = 0; i < 4; i++) ompi.dtypes[i] = h[2 + i];
  for (int i = 0; i < 3; i++) ompi.ops[i] = h[6 + i];
  ompi.in_place = reinterpret_cast<void*>(1);
  return true;
}

bool bindMpich(std::string& missing) {
  if (!bindFunctions(mpich, missing)) return false;
  // MPICH's mpi.h constants (stable across MPICH, Intel MPI, MVAPICH, Cray MPICH).
  mpich.comm_world = 0x44000000;
  mpich.errors_return = 0x54000001;
  const int dt[4] = {0x4c00040a, 0x4c00080b, 0x4c000405, 0x4c000102};  // FLOAT, DOUBLE, INT, UNSIGNED_CHAR
  const int op[3] = {0x58000003, 0x58000001, 0x58000002};              // SUM, MAX, MIN
  for (int i = 0; i < 4; i++) mpich.dtypes[i] = dt[i];
  for (int i = 0; i < 3; i++) mpich.ops[i] = op[i];
  mpich.in_place = reinterpret_cast<void*>(static_cast<intptr_t>(-1));
  return true;
}

// ---- jobs and the communication thread ----
enum class Kind { AllReduce, Broadcast, AllGather, ReduceScatter, Barrier };

struct Job {
  uint64_t ticket;
  Kind kind;
  void* send;  // null: in place
  void* recv;
  int count;   // elements per rank (allGather: sent; reduceScatter: received)
  int dtype;
  int op;
  int root;
};

struct Result {
  bool done = false;
  std::string error;
};

std::mutex mu;
std::condition_variable jobReady, jobDone;
std::deque<std::function<void()>> queue;
std::unordered_map<uint64_t, Result> results;  // filled by the comm thread, erased on the JS thread
std::thread* commThread = nullptr;             // never destroyed: a process may exit while it is inside MPI
bool stopping = false;
uint64_t nextTicket = 1;
int worldRank = -1, worldSize = 0, threadLevel = -1;
bool initialized = false, finalized = false;

napi_threadsafe_function tsfn = nullptr;
// JS-thread only: the typed arrays a pending job uses, kept alive until its completion is delivered.
std::unordered_map<uint64_t, std::vector<napi_ref>> keepAlive;
uint64_t pending = 0;

std::string errorText(int code) {
  char buf[kMaxErrorString + 1] = {0};
  int len = 0;
  int rc = abi == Abi::OpenMPI ? ompi.Error_string(code, buf, &len) : mpich.Error_string(code, buf, &len);
  if (rc != 0 || len <= 0) return "MPI error code " + std::to_string(code);
  return std::string(buf, static_cast<size_t>(len)) + " (MPI error code " + std::to_string(code) + ")";
}

template <class H>
int runJob(Api<H>& a, const Job& j) {
  H dt = a.dtypes[j.dtype];
  switch (j.kind) {
    case Kind::AllReduce:
      return a.Allreduce(j.send ? j.send : a.in_place, j.recv, j.count, dt, a.ops[j.op], a.comm_world);
    case Kind::Broadcast:
      return a.Bcast(j.recv, j.count, dt, j.root, a.comm_world);
    case Kind::AllGather:
      return a.Allgather(j.send, j.count, dt, j.recv, j.count, dt, a.comm_world);
    case Kind::ReduceScatter:
      return a.Reduce_scatter_block(j.send, j.recv, j.count, dt, a.ops[j.op], a.comm_world);
    case Kind::Barrier:
      return a.Barrier(a.comm_world);
  }
  return 0;
}

void commLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu);
      jobReady.wait(lock, [] { return !queue.empty() || stopping; });
      if (queue.empty()) return;
      task = std::move(queue.front());
      queue.pop_front();
    }
    task();
  }
}

void post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu);
    queue.push_back(std::move(task));
  }
  jobReady.notify_one();
}

void finish(uint64_t ticket, std::string error) {
  {
    std::lock_guard<std::mutex> lock(mu);
    Result& r = results[ticket];
    r.done = true;
    r.error = std::move(error);
  }
  jobDone.notify_all();
  if (tsfn) napi_call_threadsafe_function(tsfn, reinterpret_cast<void*>(static_cast<uintptr_t>(ticket)), napi_tsfn_nonblocking);
}

// Runs fn on the comm thread and waits for it (init and finalize, which the API makes synchronous).
void runOnCommThread(const std::function<void()>& fn) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  post([&] {
    fn();
    std::lock_guard<std::mutex> lock(m);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return done; });
}

// ---- N-API helpers ----
napi_value undefinedValue(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}
napi_value throwError(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}
napi_value str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}
napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}
bool getInt(napi_env env, napi_value v, int& out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != static_cast<double>(static_cast<int>(d))) return false;
  out = static_cast<int>(d);
  return true;
}

struct Buf {
  void* data = nullptr;
  size_t bytes = 0;
  napi_value value = nullptr;
};
bool getBuffer(napi_env env, napi_value v, Buf& b) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return false;
  napi_typedarray_type type;
  size_t length;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &length, &b.data, &ab, &off) != napi_ok) return false;
  size_t ab_len;
  void* ab_data;
  napi_get_arraybuffer_info(env, ab, &ab_data, &ab_len);
  static const size_t sizes[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
  b.bytes = length * (static_cast<size_t>(type) < sizeof(sizes) / sizeof(sizes[0]) ? sizes[type] : 1);
  b.value = v;
  return true;
}

constexpr size_t kDtypeBytes[4] = {4, 8, 4, 1};

void onComplete(napi_env env, napi_value js_cb, void*, void* data) {
  uint64_t ticket = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data));
  std::string error;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = results.find(ticket);
    if (it != results.end()) {
      error = it->second.error;
      results.erase(it);
    }
  }
  if (env == nullptr) return;
  auto k = keepAlive.find(ticket);
  if (k != keepAlive.end()) {
    for (napi_ref r : k->second) napi_delete_reference(env, r);
    keepAlive.erase(k);
  }
  if (pending > 0 && --pending == 0 && tsfn) napi_unref_threadsafe_function(env, tsfn);
  napi_value args[2] = {num(env, static_cast<double>(ticket)), error.empty() ? nullptr : str(env, error)};
  if (!args[1]) napi_get_null(env, &args[1]);
  napi_call_function(env, undefinedValue(env), js_cb, 2, args, nullptr);
}

// load(paths: string[]) -> { library, abi } | { error }
napi_value Load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_value out;
  napi_create_object(env, &out);
  auto abiName = [] { return abi == Abi::OpenMPI ? "openmpi" : "mpich"; };
  if (lib) {
    napi_set_named_property(env, out, "library", str(env, libPath));
    napi_set_named_property(env, out, "abi", str(env, abiName()));
    return out;
  }
  uint32_t n = 0;
  napi_get_array_length(env, argv[0], &n);
  std::string tried;
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    napi_get_element(env, argv[0], i, &el);
    char path[4096];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, el, path, sizeof(path), &len) != napi_ok) continue;
    // RTLD_GLOBAL: Open MPI's plugins resolve libmpi's own symbols through the global namespace.
    void* h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
      const char* e = dlerror();
      tried += std::string("\n  ") + path + ": " + (e ? e : "not found");
      continue;
    }
    lib = h;
    std::string missing;
    bool ok;
    if (dlsym(h, "ompi_mpi_comm_world")) {
      abi = Abi::OpenMPI;
      ok = bindOpenMpi(missing);
    } else {
      abi = Abi::Mpich;
      ok = bindMpich(missing);
    }
    if (ok) {
      libPath = path;
      napi_set_named_property(env, out, "library", str(env, libPath));
      napi_set_named_property(env, out, "abi", str(env, abiName()));
      return out;
    }
    tried += std::string("\n  ") + path + ": loaded, but lacks " + missing;
    dlclose(h);
    lib = nullptr;
    abi = Abi::None;
  }
  napi_set_named_property(env, out, "error", str(env, tried));
  return out;
}

// init(onComplete) -> { rank, size, threadLevel }
napi_value Init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (!lib) return throwError(env, "kindling_mpi: init() before a library was loaded");
  if (finalized) return throwError(env, "MPI was finalized in this process and cannot be initialised again");
  if (!initialized) {
    napi_value name = str(env, "kindling.mpi.complete");
    if (napi_create_threadsafe_function(env, argv[0], nullptr, name, 0, 1, nullptr, nullptr, nullptr, onComplete,
                                        &tsfn) != napi_ok) {
      return throwError(env, "kindling_mpi: could not create the completion callback");
    }
    napi_unref_threadsafe_function(env, tsfn);
    commThread = new std::thread(commLoop);
    commThread->detach();
    int rc = 0;
    std::string err;
    runOnCommThread([&] {
      int provided = -1;
      rc = abi == Abi::OpenMPI ? ompi.Init_thread(nullptr, nullptr, kThreadSerialized, &provided)
                               : mpich.Init_thread(nullptr, nullptr, kThreadSerialized, &provided);
      if (rc != 0) return;
      threadLevel = provided;
      if (abi == Abi::OpenMPI) {
        ompi.Comm_set_errhandler(ompi.comm_world, ompi.errors_return);
        ompi.Comm_rank(ompi.comm_world, &worldRank);
        ompi.Comm_size(ompi.comm_world, &worldSize);
      } else {
        mpich.Comm_set_errhandler(mpich.comm_world, mpich.errors_return);
        mpich.Comm_rank(mpich.comm_world, &worldRank);
        mpich.Comm_size(mpich.comm_world, &worldSize);
      }
    });
    if (rc != 0) return throwError(env, "MPI_Init_thread failed with code " + std::to_string(rc));
    // Only the thread that initialised MPI ever calls it, which FUNNELED already permits.
    if (threadLevel < kThreadFunneled) {
      return throwError(env, "the MPI library provides thread level " + std::to_string(threadLevel) +
                                 "; kindling needs MPI_THREAD_FUNNELED or better");
    }
    initialized = true;
  }
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "rank", num(env, worldRank));
  napi_set_named_property(env, out, "size", num(env, worldSize));
  napi_set_named_property(env, out, "threadLevel", num(env, threadLevel));
  return out;
}

// submit(kind, send|null, recv|null, dtype, op, root) -> ticket. Counts follow from recv (or send) and the world size.
napi_value Submit(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (!initialized || finalized) return throwError(env, "kindling_mpi: no MPI process group is active");
  int kind, dtype, op, root;
  if (argc < 6 || !getInt(env, argv[0], kind) || !getInt(env, argv[3], dtype) || !getInt(env, argv[4], op) ||
      !getInt(env, argv[5], root) || kind < 0 || kind > 4 || dtype < 0 || dtype > 3 || op < 0 || op > 2) {
    return throwError(env, "kindling_mpi.submit: bad arguments");
  }
  Buf send, recv;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  bool hasSend = t != napi_null && t != napi_undefined;
  napi_typeof(env, argv[2], &t);
  bool hasRecv = t != napi_null && t != napi_undefined;
  if ((hasSend && !getBuffer(env, argv[1], send)) || (hasRecv && !getBuffer(env, argv[2], recv))) {
    return throwError(env, "kindling_mpi.submit: buffers must be typed arrays");
  }
  Job j{};
  j.kind = static_cast<Kind>(kind);
  j.send = hasSend ? send.data : nullptr;
  j.recv = hasRecv ? recv.data : nullptr;
  j.dtype = dtype;
  j.op = op;
  j.root = root;
  const size_t eb = kDtypeBytes[dtype];
  size_t count = 0;
  switch (j.kind) {
    case Kind::AllReduce:
    case Kind::Broadcast:
      if (!hasRecv) return throwError(env, "kindling_mpi.submit: missing buffer");
      count = recv.bytes / eb;
      if (hasSend && send.bytes != recv.bytes) return throwError(env, "kindling_mpi.submit: buffer sizes differ");
      break;
    case Kind::AllGather:
      if (!hasSend || !hasRecv || recv.bytes != send.bytes * static_cast<size_t>(worldSize)) {
        return throwError(env, "kindling_mpi.submit: allGather needs recv = worldSize x send");
      }
      count = send.bytes / eb;
      break;
    case Kind::ReduceScatter:
      if (!hasSend || !hasRecv || send.bytes != recv.bytes * static_cast<size_t>(worldSize)) {
        return throwError(env, "kindling_mpi.submit: reduceScatter needs send = worldSize x recv");
      }
      count = recv.bytes / eb;
      break;
    case Kind::Barrier:
      break;
  }
  if (count > static_cast<size_t>(INT_MAX)) {
    return throwError(env, "kindling_mpi: a collective over more than 2^31-1 elements is not supported yet");
  }
  j.count = static_cast<int>(count);
  uint64_t ticket = nextTicket++;
  j.ticket = ticket;
  std::vector<napi_ref> refs;
  for (Buf* b : {&send, &recv}) {
    if (!b->value) continue;
    napi_ref r;
    napi_create_reference(env, b->value, 1, &r);
    refs.push_back(r);
  }
  keepAlive[ticket] = std::move(refs);
  if (pending++ == 0) napi_ref_threadsafe_function(env, tsfn);
  post([j] {
    int rc = abi == Abi::OpenMPI ? runJob(ompi, j) : runJob(mpich, j);
    finish(j.ticket, rc == 0 ? std::string() : errorText(rc));
  });
  return num(env, static_cast<double>(ticket));
}

// wait(ticket, timeoutMs) -> { done, error }; a negative timeout waits forever.
napi_value Wait(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  double td = 0, tm = -1;
  napi_get_value_double(env, argv[0], &td);
  if (argc > 1) napi_get_value_double(env, argv[1], &tm);
  uint64_t ticket = static_cast<uint64_t>(td);
  bool done = false;
  std::string error;
  {
    std::unique_lock<std::mutex> lock(mu);
    auto ready = [&] {
      auto it = results.find(ticket);
      return it != results.end() && it->second.done;
    };
    if (tm < 0) {
      jobDone.wait(lock, ready);
      done = true;
    } else {
      done = jobDone.wait_for(lock, std::chrono::duration<double, std::milli>(tm), ready);
    }
    if (done) error = results[ticket].error;
  }
  napi_value out;
  napi_create_object(env, &out);
  napi_value b;
  napi_get_boolean(env, done, &b);
  napi_set_named_property(env, out, "done", b);
  napi_value e;
  if (error.empty()) napi_get_null(env, &e);
  else e = str(env, error);
  napi_set_named_property(env, out, "error", e);
  return out;
}

// finalize(): MPI_Finalize on the comm thread once its queue is drained; the thread then exits.
napi_value Finalize(napi_env env, napi_callback_info) {
  if (initialized && !finalized) {
    int rc = 0;
    runOnCommThread([&] { rc = abi == Abi::OpenMPI ? ompi.Finalize() : mpich.Finalize(); });
    finalized = true;
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    jobReady.notify_all();
    if (tsfn) {
      napi_release_threadsafe_function(tsfn, napi_tsfn_release);
      tsfn = nullptr;
    }
    if (rc != 0) return throwError(env, "MPI_Finalize failed: " + errorText(rc));
  }
  return undefinedValue(env);
}

// abort(code): MPI_Abort from the calling thread; the comm thread may be stuck in a collective a dead peer never
// joins, and aborting is the one call that has to get through regardless.
napi_value Abort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int code = 1;
  if (argc > 0) getInt(env, argv[0], code);
  if (initialized && !finalized) {
    if (abi == Abi::OpenMPI) ompi.Abort(ompi.comm_world, code);
    else mpich.Abort(mpich.comm_world, code);
  }
  return undefinedValue(env);
}

napi_value ModuleInit(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"load", nullptr, Load, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"init", nullptr, Init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"submit", nullptr, Submit, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"wait", nullptr, Wait, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"finalize", nullptr, Finalize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"abort", nullptr, Abort, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, ModuleInit)
