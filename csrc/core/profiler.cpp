// libtorch's profiler (Kineto) behind the C ABI: what `torch.profiler.profile` records — operator calls on the
// CPU and, with CUPTI, kernels, copies and fills on the GPU — and its Chrome trace export.
#include <ATen/record_function.h>
#include <kineto/ActivityType.h>
#include <torch/csrc/autograd/profiler_kineto.h>

#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "../ctorch_internal.h"

namespace {

namespace prof = torch::autograd::profiler;
namespace impl = torch::profiler::impl;

/// A finished recording: the events, copied once so their names stay valid while the result lives.
struct Recording {
  std::unique_ptr<prof::ProfilerResult> result;
  std::vector<std::string> names;
  std::vector<std::string> shapes;
  std::vector<ts_profile_event> events;
};

/// libkineto's activity types (whose numbering changes between releases) as ts_profile_event kinds.
int32_t kind_of(uint8_t activity) {
  switch (static_cast<libkineto::ActivityType>(activity)) {
    case libkineto::ActivityType::CPU_OP: return TS_PROFILE_CPU_OP;
    case libkineto::ActivityType::USER_ANNOTATION: return TS_PROFILE_USER_ANNOTATION;
    case libkineto::ActivityType::CONCURRENT_KERNEL: return TS_PROFILE_KERNEL;
    case libkineto::ActivityType::GPU_MEMCPY: return TS_PROFILE_MEMCPY;
    case libkineto::ActivityType::GPU_MEMSET: return TS_PROFILE_MEMSET;
    case libkineto::ActivityType::CUDA_RUNTIME:
    case libkineto::ActivityType::CUDA_DRIVER: return TS_PROFILE_RUNTIME;
    case libkineto::ActivityType::CPU_INSTANT_EVENT: return TS_PROFILE_INSTANT;
    default: return TS_PROFILE_OTHER;
  }
}

std::string shapes_text(const prof::KinetoEvent &e) {
  if (!e.hasShapes()) return "";
  std::string s = "[";
  bool first = true;
  for (const auto &shape : e.shapes()) {
    if (!first) s += ", ";
    first = false;
    s += "[";
    for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
    s += "]";
  }
  return s + "]";
}

/// Which thread's recording is running, if any: libtorch keeps the profiler's state per thread (and its own global
/// flag only covers recordings with the CPU activity), so start, stop and the checks go through this.
std::mutex owner_mutex;
bool recording = false;
std::thread::id owner;

void check_not_recording() {
  std::lock_guard<std::mutex> lock(owner_mutex);
  TORCH_CHECK(!recording && !prof::isProfilerEnabledInMainThread(),
              "the profiler is already running (one recording at a time)");
}

void set_recording(bool on) {
  std::lock_guard<std::mutex> lock(owner_mutex);
  recording = on;
  owner = std::this_thread::get_id();
}

void check_owner() {
  std::lock_guard<std::mutex> lock(owner_mutex);
  TORCH_CHECK(recording, "the profiler is not running");
  TORCH_CHECK(owner == std::this_thread::get_id(),
              "the profiler must be stopped on the thread that started it");
}

std::set<impl::ActivityType> activity_set(int32_t cpu, int32_t cuda) {
  check_not_recording();
  TORCH_CHECK(cpu || cuda, "the profiler needs at least one activity (CPU or CUDA)");
  std::set<impl::ActivityType> activities;
  if (cpu) activities.insert(impl::ActivityType::CPU);
  if (cuda) {
    TORCH_CHECK(at::hasCUDA(), "cannot profile CUDA activity: no CUDA device (or libtorch is CPU-only)");
    activities.insert(impl::ActivityType::CUDA);
  }
  return activities;
}

impl::ProfilerConfig config_of(int32_t record_shapes, int32_t profile_memory) {
  return impl::ProfilerConfig(impl::ProfilerState::KINETO, record_shapes != 0, profile_memory != 0);
}

}  // namespace

extern "C" {

int ts_profiler_prepare(int32_t cpu, int32_t cuda, int32_t record_shapes, int32_t profile_memory) {
  TS_TRY
    auto activities = activity_set(cpu, cuda);
    prof::prepareProfiler(config_of(record_shapes, profile_memory), activities);
  TS_CATCH
}

int ts_profiler_enable(int32_t cpu, int32_t cuda, int32_t record_shapes, int32_t profile_memory) {
  TS_TRY
    auto activities = activity_set(cpu, cuda);
    prof::enableProfiler(config_of(record_shapes, profile_memory), activities);
    set_recording(true);
  TS_CATCH
}

int ts_record_function_enter(const char *name, void **out) {
  TS_TRY
    auto rf = std::make_unique<at::RecordFunction>(at::RecordScope::USER_SCOPE);
    if (rf->isActive()) rf->before(std::string(name));
    *out = rf.release();
  TS_CATCH
}

void ts_record_function_exit(void *handle) {
  try {
    delete static_cast<at::RecordFunction *>(handle);  // ends the range
  } catch (...) {
  }
}

int ts_profiler_stop(void **out, int64_t *count) {
  TS_TRY
    check_owner();
    auto rec = std::make_unique<Recording>();
    set_recording(false);  // whatever disableProfiler says, this recording has ended
    rec->result = prof::disableProfiler();
    const auto &events = rec->result->events();
    rec->names.reserve(events.size());
    rec->shapes.reserve(events.size());
    for (const auto &e : events) {
      rec->names.push_back(e.name());
      rec->shapes.push_back(shapes_text(e));
    }
    rec->events.reserve(events.size());
    for (size_t i = 0; i < events.size(); i++) {
      const auto &e = events[i];
      ts_profile_event ev{};
      ev.name = rec->names[i].c_str();
      ev.shapes = rec->shapes[i].c_str();
      ev.kind = kind_of(e.activityType());
      ev.device_type = static_cast<int32_t>(e.deviceType());
      ev.device_index = e.deviceIndex();
      ev.thread = static_cast<int64_t>(e.startThreadId());
      ev.start_ns = static_cast<int64_t>(e.startNs());
      ev.duration_ns = static_cast<int64_t>(e.durationNs());
      ev.correlation = static_cast<int64_t>(e.correlationId());
      ev.linked_correlation = static_cast<int64_t>(e.linkedCorrelationId());
      ev.sequence_nr = e.sequenceNr();
      ev.bytes = e.nBytes();
      rec->events.push_back(ev);
    }
    *count = static_cast<int64_t>(rec->events.size());
    *out = rec.release();
  TS_CATCH
}

const ts_profile_event *ts_profile_events(void *recording) {
  return static_cast<Recording *>(recording)->events.data();
}

int ts_profile_save(void *recording, const char *path) {
  TS_TRY
    static_cast<Recording *>(recording)->result->save(path);
  TS_CATCH
}

void ts_profile_free(void *recording) { delete static_cast<Recording *>(recording); }

int ts_profiler_is_running(uint8_t *out) {
  TS_TRY
    std::lock_guard<std::mutex> lock(owner_mutex);
    *out = recording ? 1 : 0;
  TS_CATCH
}

}  // extern "C"
