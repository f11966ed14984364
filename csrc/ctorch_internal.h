// Internal helpers shared by the hand-written core and the generated op layer.
#pragma once
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <optional>
#include <string>
#include <vector>

#include "../Sources/CTorch/ctorch.h"

// The torch the C layer is compiled against is major.minor or newer (torch/version.h): for the few torch APIs that
// differ across the supported versions (2.8 to 2.11), e.g. c10d::Reducer's constructor in csrc/core/distributed.cpp.
#define TS_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace ts {

/// Stores the message for ts_last_error() on this thread.
void set_error(const char *message);

inline ts_tensor wrap(at::Tensor t) { return reinterpret_cast<ts_tensor>(new at::Tensor(std::move(t))); }
inline at::Tensor &unwrap(ts_tensor t) { return *reinterpret_cast<at::Tensor *>(t); }

inline at::Scalar to_scalar(ts_scalar s) {
  switch (s.kind) {
    case 1: return at::Scalar(s.i);
    case 2: return at::Scalar(s.i != 0);
    default: return at::Scalar(s.d);
  }
}

inline ts_scalar from_scalar(const at::Scalar &s) {
  ts_scalar r{0.0, 0, 0};
  if (s.isBoolean()) { r.kind = 2; r.i = s.toBool() ? 1 : 0; }
  else if (s.isIntegral(false)) { r.kind = 1; r.i = s.toLong(); }
  else { r.kind = 0; r.d = s.toDouble(); }
  return r;
}

inline at::Device device(int32_t type, int32_t index) {
  return at::Device(static_cast<c10::DeviceType>(type), static_cast<c10::DeviceIndex>(index));
}

inline std::optional<at::Device> opt_device(int32_t type, int32_t index) {
  if (type < 0) return std::nullopt;
  return device(type, index);
}

inline std::vector<at::Tensor> tensor_list(const ts_tensor *p, int64_t n) {
  std::vector<at::Tensor> v;
  v.reserve(n > 0 ? (size_t)n : 0);
  for (int64_t i = 0; i < n; i++) {
    TORCH_CHECK(p[i] != nullptr, "tensor list entry ", i, " is null");
    v.push_back(unwrap(p[i]));
  }
  return v;
}

inline c10::List<std::optional<at::Tensor>> optional_tensor_list(const ts_tensor *p, int64_t n) {
  c10::List<std::optional<at::Tensor>> v;
  v.reserve(n > 0 ? (size_t)n : 0);
  for (int64_t i = 0; i < n; i++) {
    if (p[i]) v.push_back(unwrap(p[i])); else v.push_back(std::nullopt);
  }
  return v;
}

}  // namespace ts

// Every C entry point wraps its body in TS_TRY ... TS_CATCH: no exception crosses into Swift.
#define TS_TRY try {
#define TS_CATCH                                                   \
  }                                                                \
  catch (const c10::Error &e) {                                    \
    ts::set_error(e.what_without_backtrace());                     \
    return 1;                                                      \
  }                                                                \
  catch (const std::exception &e) {                                \
    ts::set_error(e.what());                                       \
    return 1;                                                      \
  }                                                                \
  catch (...) {                                                    \
    ts::set_error("unknown C++ exception in libtorch");            \
    return 1;                                                      \
  }                                                                \
  return 0;
