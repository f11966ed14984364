// CUDA memory statistics, streams, pinned memory and CUDA graphs. Compiled with CUDA headers when setup
// finds them (TS_WITH_CUDA); otherwise every entry point reports that the C layer was built without CUDA.
#include "../ctorch_internal.h"

#include <dlfcn.h>

#include <cstring>
#include <map>
#include <mutex>

#ifdef TS_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <ATen/cuda/CachingHostAllocator.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/core/Event.h>
#include <cuda_runtime_api.h>
// From ATen/cuda/CUDAContextLight.h, which needs the cuBLAS / CCCL headers that setup does not install.
namespace at::cuda {
TORCH_CUDA_CPP_API void clearCublasWorkspaces();
}
#define TS_REQUIRE_CUDA() \
  TORCH_CHECK(at::detail::getCUDAHooks().hasCUDA(), "CUDA is not available: no NVIDIA driver or GPU was found")
#else
#define TS_REQUIRE_CUDA() TORCH_CHECK(false, "TorchSwift's C layer was built without CUDA headers; rebuild it on a CUDA machine (make setup)")
#endif

namespace {
#ifdef TS_WITH_CUDA
/// Makes `waiter` wait (on the GPU) for the work queued so far on `on`.
void stream_wait(const c10::cuda::CUDAStream &waiter, const c10::cuda::CUDAStream &on) {
  c10::Event ev(c10::DeviceType::CUDA);
  ev.record(on);
  ev.block(waiter);
}

/// The stream every graph of a device warms up and captures on, created once (as PyTorch's
/// `torch.cuda.graph.default_capture_stream`): per-stream state such as cuBLAS workspaces is then made
/// once, not again for each graph.
c10::cuda::CUDAStream capture_stream() {
  static std::mutex mutex;
  static std::map<c10::DeviceIndex, c10::cuda::CUDAStream> streams;
  std::lock_guard<std::mutex> lock(mutex);
  auto device = c10::cuda::current_device();
  auto it = streams.find(device);
  if (it == streams.end()) it = streams.emplace(device, c10::cuda::getStreamFromPool(false, device)).first;
  return it->second;
}

struct Graph {
  at::cuda::CUDAGraph graph;
  std::optional<c10::cuda::CUDAStreamGuard> guard;
  c10::cuda::CUDAStream stream = capture_stream();
};
#endif

/// A function exported by a library already loaded in this process: the global scope first, then the named
/// libraries (opened only if already loaded, RTLD_NOLOAD), so nothing new is loaded.
void *loaded_symbol(const char *symbol, std::initializer_list<const char *> libraries) {
  if (void *f = dlsym(RTLD_DEFAULT, symbol)) return f;
  for (const char *lib : libraries) {
    if (void *h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) {
      void *f = dlsym(h, symbol);
      dlclose(h);
      if (f) return f;
    }
  }
  return nullptr;
}
}  // namespace

extern "C" {

int ts_cuda_built_with_cuda_headers(uint8_t *out) {
  TS_TRY
#ifdef TS_WITH_CUDA
    *out = 1;
#else
    *out = 0;
#endif
  TS_CATCH
}

/// Memory statistics of a device's caching allocator, in bytes: [allocated, peak allocated, reserved, peak reserved].
int ts_cuda_memory_stats(int32_t device, int64_t *out4) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    constexpr size_t all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    out4[0] = stats.allocated_bytes[all].current;
    out4[1] = stats.allocated_bytes[all].peak;
    out4[2] = stats.reserved_bytes[all].current;
    out4[3] = stats.reserved_bytes[all].peak;
#endif
  TS_CATCH
}

int ts_cuda_reset_peak_memory_stats(int32_t device) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
#endif
  TS_CATCH
}

int ts_cuda_empty_cache(void) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  TS_CATCH
}

/// Frees the cuBLAS / cuBLASLt workspaces libtorch keeps per (handle, stream), which `empty_cache` leaves
/// allocated (`torch._C._cuda_clearCublasWorkspaces()`).
int ts_cuda_clear_cublas_workspaces(void) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    at::cuda::clearCublasWorkspaces();
#endif
  TS_CATCH
}

/// Name, total memory (bytes), compute capability and multiprocessor count of a device.
int ts_cuda_device_properties(int32_t device, char **name, int64_t *total_memory, int32_t *major, int32_t *minor,
                              int32_t *multiprocessors) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    TORCH_CHECK(device >= 0 && device < c10::cuda::device_count(), "CUDA device ", device, " does not exist (",
                (int)c10::cuda::device_count(), " visible)");
    // cudart is loaded by libtorch_cuda; look its functions up there. CUDA 12+ exports the properties call as
    // cudaGetDeviceProperties_v2. The headers compiled against may be another CUDA version than the runtime
    // (cudaDeviceProp changed layout in CUDA 13), so only the struct's stable prefix (name, totalGlobalMem) is
    // read from it, into an oversized buffer; the rest comes from cudaDeviceGetAttribute, whose ids are stable.
    using PropsFn = int (*)(cudaDeviceProp *, int);
    using AttrFn = int (*)(int *, cudaDeviceAttr, int);
    auto props = reinterpret_cast<PropsFn>(dlsym(RTLD_DEFAULT, "cudaGetDeviceProperties_v2"));
    if (!props) props = reinterpret_cast<PropsFn>(dlsym(RTLD_DEFAULT, "cudaGetDeviceProperties"));
    auto attr = reinterpret_cast<AttrFn>(dlsym(RTLD_DEFAULT, "cudaDeviceGetAttribute"));
    TORCH_CHECK(props != nullptr && attr != nullptr, "the CUDA runtime library is not loaded");
    std::vector<std::max_align_t> buffer(sizeof(cudaDeviceProp) / sizeof(std::max_align_t) + 1024);
    auto *p = reinterpret_cast<cudaDeviceProp *>(buffer.data());
    TORCH_CHECK(props(p, device) == 0, "cudaGetDeviceProperties(", device, ") failed");
    std::string n(p->name, strnlen(p->name, sizeof(p->name)));
    *name = static_cast<char *>(std::malloc(n.size() + 1));
    std::memcpy(*name, n.c_str(), n.size() + 1);
    *total_memory = static_cast<int64_t>(p->totalGlobalMem);
    int v = 0;
    TORCH_CHECK(attr(&v, cudaDevAttrComputeCapabilityMajor, device) == 0, "cudaDeviceGetAttribute failed");
    *major = v;
    TORCH_CHECK(attr(&v, cudaDevAttrComputeCapabilityMinor, device) == 0, "cudaDeviceGetAttribute failed");
    *minor = v;
    TORCH_CHECK(attr(&v, cudaDevAttrMultiProcessorCount, device) == 0, "cudaDeviceGetAttribute failed");
    *multiprocessors = v;
#endif
  TS_CATCH
}

/// NVIDIA driver version (e.g. 12080 for a driver supporting CUDA 12.8) and CUDA runtime version.
int ts_cuda_driver_version(int32_t *driver, int32_t *runtime) {
  TS_TRY
    *driver = 0;
    *runtime = 0;
#ifdef TS_WITH_CUDA
    // The CUDA runtime is loaded by libtorch_cuda; look its functions up there rather than linking it.
    using VersionFn = int (*)(int *);
    int d = 0, r = 0;
    if (auto f = reinterpret_cast<VersionFn>(dlsym(RTLD_DEFAULT, "cudaDriverGetVersion")); f && f(&d) == 0) *driver = d;
    if (auto f = reinterpret_cast<VersionFn>(dlsym(RTLD_DEFAULT, "cudaRuntimeGetVersion")); f && f(&r) == 0) *runtime = r;
#endif
  TS_CATCH
}

/// A copy of a CPU tensor in page-locked (pinned) memory, for non-blocking host-to-device copies.
int ts_tensor_pin_memory(ts_tensor *out, ts_tensor t) {
  TS_TRY
    TS_REQUIRE_CUDA();
    *out = ts::wrap(ts::unwrap(t).pin_memory());
  TS_CATCH
}

int ts_tensor_is_pinned(ts_tensor t, uint8_t *out) {
  TS_TRY
    *out = ts::unwrap(t).is_pinned() ? 1 : 0;
  TS_CATCH
}

/// Creates a CUDA graph with its own capture stream (from the pool) on the current device.
int ts_cuda_graph_new(void **out) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    *out = new Graph();
#endif
  TS_CATCH
}

void ts_cuda_graph_free(void *g) {
#ifdef TS_WITH_CUDA
  delete static_cast<Graph *>(g);
#else
  (void)g;
#endif
}

/// Makes the graph's side stream current (it first waits for the current stream) and begins capture.
int ts_cuda_graph_capture_begin(void *g) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    auto *graph = static_cast<Graph *>(g);
    auto current = c10::cuda::getCurrentCUDAStream();
    stream_wait(graph->stream, current);
    graph->guard.emplace(graph->stream);
    graph->graph.capture_begin();
#endif
  TS_CATCH
}

/// Ends capture, restores the previous stream and makes it wait for the side stream.
int ts_cuda_graph_capture_end(void *g) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    auto *graph = static_cast<Graph *>(g);
    try {
      graph->graph.capture_end();
    } catch (...) {
      graph->guard.reset();
      throw;
    }
    graph->guard.reset();
    stream_wait(c10::cuda::getCurrentCUDAStream(), graph->stream);
#endif
  TS_CATCH
}

int ts_cuda_graph_replay(void *g) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    static_cast<Graph *>(g)->graph.replay();
#endif
  TS_CATCH
}

/// Runs subsequent work on the capture stream (returned as a handle) until ts_cuda_side_stream_exit; used
/// for the warm-up iterations before capture, as PyTorch's `torch.cuda.graph` recipe does.
int ts_cuda_side_stream_enter(void **out) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    auto s = capture_stream();
    stream_wait(s, c10::cuda::getCurrentCUDAStream());
    auto *guard = new c10::cuda::CUDAStreamGuard(s);
    *out = guard;
#endif
  TS_CATCH
}

int ts_cuda_side_stream_exit(void *handle) {
  TS_TRY
#ifdef TS_WITH_CUDA
    auto *guard = static_cast<c10::cuda::CUDAStreamGuard *>(handle);
    auto side = guard->current_stream();
    delete guard;
    stream_wait(c10::cuda::getCurrentCUDAStream(), side);
#else
    (void)handle;
#endif
  TS_CATCH
}

// ---- streams and events (torch.cuda.Stream / torch.cuda.Event) ----
#ifdef TS_WITH_CUDA
namespace {
c10::DeviceIndex checked_device(int32_t device) {
  auto count = c10::cuda::device_count();
  TORCH_CHECK(device >= 0 && device < count, "CUDA device ", device, " does not exist (", static_cast<int>(count),
              " visible device(s); CUDA_VISIBLE_DEVICES selects them)");
  return static_cast<c10::DeviceIndex>(device);
}
c10::cuda::CUDAStream &stream_of(void *s) { return *static_cast<c10::cuda::CUDAStream *>(s); }
c10::Event &event_of(void *e) { return *static_cast<c10::Event *>(e); }
}  // namespace
#endif

/// kind: 0 a new stream from libtorch's pool (1: high priority), 2 the device's current stream, 3 its default stream.
int ts_cuda_stream_get(int32_t device, int32_t kind, void **out) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    auto index = checked_device(device);
    switch (kind) {
      case 0: *out = new c10::cuda::CUDAStream(c10::cuda::getStreamFromPool(false, index)); break;
      case 1: *out = new c10::cuda::CUDAStream(c10::cuda::getStreamFromPool(true, index)); break;
      case 2: *out = new c10::cuda::CUDAStream(c10::cuda::getCurrentCUDAStream(index)); break;
      case 3: *out = new c10::cuda::CUDAStream(c10::cuda::getDefaultCUDAStream(index)); break;
      default: TORCH_CHECK(false, "unknown stream kind ", kind);
    }
#endif
  TS_CATCH
}

void ts_cuda_stream_free(void *s) {
#ifdef TS_WITH_CUDA
  delete static_cast<c10::cuda::CUDAStream *>(s);
#else
  (void)s;
#endif
}

/// id (unique per stream of a device), device index, priority (lower is higher).
int ts_cuda_stream_info(void *s, int64_t *id, int32_t *device, int32_t *priority) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    auto &stream = stream_of(s);
    *id = stream.id();
    *device = stream.device_index();
    *priority = stream.priority();
#endif
  TS_CATCH
}

int ts_cuda_stream_synchronize(void *s) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    stream_of(s).synchronize();
#endif
  TS_CATCH
}

/// out = 1 when all work queued on the stream has finished.
int ts_cuda_stream_query(void *s, uint8_t *out) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    *out = stream_of(s).query() ? 1 : 0;
#endif
  TS_CATCH
}

/// Makes `waiter` wait (on the GPU, without blocking the host) for the work queued so far on `on`.
int ts_cuda_stream_wait_stream(void *waiter, void *on) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    stream_wait(stream_of(waiter), stream_of(on));
#endif
  TS_CATCH
}

/// Makes `s` its device's current stream; *previous receives the stream it replaces (free it after restoring).
int ts_cuda_stream_set_current(void *s, void **previous) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    auto &stream = stream_of(s);
    auto *old = new c10::cuda::CUDAStream(c10::cuda::getCurrentCUDAStream(stream.device_index()));
    c10::cuda::setCurrentCUDAStream(stream);
    if (previous) *previous = old; else delete old;
#endif
  TS_CATCH
}

/// Marks a CUDA tensor's memory as in use by stream `s` (`Tensor.record_stream`): the caching allocator does not
/// hand it out again until the work queued on `s` so far has finished.
int ts_tensor_record_stream(ts_tensor t, void *s) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    const auto &tensor = ts::unwrap(t);
    TORCH_CHECK(tensor.is_cuda(), "record_stream: expected a CUDA tensor, got one on ", tensor.device());
    c10::cuda::CUDACachingAllocator::recordStream(tensor.storage().data_ptr(), stream_of(s));
#endif
  TS_CATCH
}

/// A CUDA event; with timing (cudaEventDefault) when enable_timing is 1, else cudaEventDisableTiming.
int ts_cuda_event_new(uint8_t enable_timing, void **out) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    *out = new c10::Event(c10::DeviceType::CUDA,
                          enable_timing ? c10::EventFlag::BACKEND_DEFAULT : c10::EventFlag::PYTORCH_DEFAULT);
#endif
  TS_CATCH
}

void ts_cuda_event_free(void *e) {
#ifdef TS_WITH_CUDA
  delete static_cast<c10::Event *>(e);
#else
  (void)e;
#endif
}

int ts_cuda_event_record(void *e, void *s) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    event_of(e).record(stream_of(s));
#endif
  TS_CATCH
}

/// Makes stream `s` wait for the event's recorded work.
int ts_cuda_event_block(void *e, void *s) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    event_of(e).block(stream_of(s));
#endif
  TS_CATCH
}

int ts_cuda_event_synchronize(void *e) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    event_of(e).synchronize();
#endif
  TS_CATCH
}

int ts_cuda_event_query(void *e, uint8_t *out) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    *out = event_of(e).query() ? 1 : 0;
#endif
  TS_CATCH
}

/// Milliseconds from `start` to `end` (both recorded with timing, `end` completed).
int ts_cuda_event_elapsed_ms(void *start, void *end, double *out) {
  TS_TRY
    TS_REQUIRE_CUDA();
#ifdef TS_WITH_CUDA
    TORCH_CHECK(event_of(start).was_marked_for_recording() && event_of(end).was_marked_for_recording(),
                "elapsedTime: both events must be recorded first");
    *out = event_of(start).elapsedTime(event_of(end));
#endif
  TS_CATCH
}

int ts_nccl_runtime_version(int32_t *out) {
  TS_TRY
    *out = 0;
    using Fn = int (*)(int *);  // ncclResult_t ncclGetVersion(int *version); ncclSuccess == 0
    if (auto f = reinterpret_cast<Fn>(loaded_symbol("ncclGetVersion", {"libnccl.so.2", "libnccl.so"}))) {
      int v = 0;
      if (f(&v) == 0) *out = v;
    }
  TS_CATCH
}

int ts_cudnn_runtime_version(int64_t *out) {
  TS_TRY
    *out = 0;
    using Fn = size_t (*)();  // size_t cudnnGetVersion(void)
    if (auto f = reinterpret_cast<Fn>(loaded_symbol("cudnnGetVersion", {"libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"}))) {
      *out = static_cast<int64_t>(f());
    }
  TS_CATCH
}

}  // extern "C"
