// The hand-written core of TorchSwift's C layer: lifetime, data access, queries, autograd, RNG, threads,
// CUDA queries and build information. See Sources/CTorch/ctorch.h for the contract.
#include "ctorch_internal.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/core/grad_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

namespace {
thread_local std::string last_error;

char *dup_string(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// The tensor behind a handle for a metadata query: an undefined tensor (at::Tensor()) fails with a message
// instead of answering dim 1, numel 0 or dtype Undefined.
const at::Tensor &defined_tensor(ts_tensor t, const char *query) {
  const at::Tensor &r = ts::unwrap(t);
  TORCH_CHECK(r.defined(), query, "() called on an undefined Tensor");
  return r;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Finds the version of the torch install that owns `lib_path` (.../torch/lib/libtorch_cpu.so):
// a pip wheel has torch/version.py; a standalone libtorch archive has build-version.
std::string version_near(const std::string &lib_path) {
  auto slash = lib_path.rfind('/');
  if (slash == std::string::npos) return "unknown";
  std::string lib_dir = lib_path.substr(0, slash);
  std::string root = lib_dir.substr(0, lib_dir.rfind('/'));
  std::string py = read_file(root + "/version.py");
  std::smatch m;
  static const std::regex re("__version__\\s*=\\s*'([^']+)'");
  if (!py.empty() && std::regex_search(py, m, re)) return m[1];
  std::string bv = read_file(root + "/build-version");
  while (!bv.empty() && (bv.back() == '\n' || bv.back() == ' ')) bv.pop_back();
  return bv.empty() ? "unknown" : bv;
}
}  // namespace

void ts::set_error(const char *message) { last_error = message ? message : "unknown error"; }

extern "C" {

const char *ts_last_error(void) { return last_error.c_str(); }

const char *ts_build_version(void) { return TORCH_VERSION; }

int ts_runtime_info(const char **library_path, const char **version) {
  TS_TRY
    static std::string path, ver;
    static bool done = false;
    if (!done) {
      Dl_info info;
      // A symbol defined in libtorch_cpu: where it came from is the library actually loaded.
      if (dladdr(reinterpret_cast<void *>(&at::show_config), &info) && info.dli_fname) {
        path = info.dli_fname;
        ver = version_near(path);
      } else {
        path = "unknown";
        ver = "unknown";
      }
      done = true;
    }
    *library_path = path.c_str();
    *version = ver.c_str();
  TS_CATCH
}

int ts_show_config(char **out) {
  TS_TRY
    *out = dup_string(at::show_config());
  TS_CATCH
}

int ts_cpu_capability(char **out) {
  TS_TRY
    *out = dup_string(at::get_cpu_capability());
  TS_CATCH
}

int ts_cuda_versions(int64_t *cuda_runtime, int64_t *cudnn) {
  TS_TRY
    const auto &hooks = at::detail::getCUDAHooks();
    *cuda_runtime = hooks.hasCUDA() || hooks.versionCUDART() ? hooks.versionCUDART() : 0;
    *cudnn = 0;
    try {
      *cudnn = hooks.versionCuDNN();
    } catch (...) {
      *cudnn = 0;
    }
  TS_CATCH
}

int ts_cxx11_abi(void) { return _GLIBCXX_USE_CXX11_ABI; }

void ts_free(void *p) { std::free(p); }

void ts_tensor_free(ts_tensor t) { delete reinterpret_cast<at::Tensor *>(t); }

int ts_tensor_share(ts_tensor *out, ts_tensor t) {
  TS_TRY
    *out = ts::wrap(ts::unwrap(t));
  TS_CATCH
}

int ts_tensor_from_data(ts_tensor *out, const void *data, int64_t nbytes, const int64_t *shape, int64_t ndim,
                        int32_t dtype, int32_t device_type, int32_t device_index) {
  TS_TRY
    TORCH_CHECK(ndim >= 0, "negative number of dimensions ", ndim);
    std::vector<int64_t> sizes(shape, shape + ndim);
    for (auto s : sizes) TORCH_CHECK(s >= 0, "invalid shape ", sizes, ": sizes must be non-negative");
    auto st = static_cast<at::ScalarType>(dtype);
    auto options = at::TensorOptions().dtype(st);
    int64_t numel = c10::multiply_integers(sizes);
    int64_t expected = numel * static_cast<int64_t>(c10::elementSize(st));
    TORCH_CHECK(nbytes == expected, "data holds ", nbytes, " bytes but shape ", sizes, " of ", st, " needs ",
                expected);
    auto dev = ts::device(device_type, device_index);
    at::Tensor t;
    if (expected == 0) {
      t = at::empty(sizes, options.device(dev));
    } else {
      // Exactly one copy, straight into the destination device's memory.
      at::Tensor view = at::from_blob(const_cast<void *>(data), sizes, options);
      t = dev.is_cpu() ? view.clone() : view.to(dev);
    }
    *out = ts::wrap(std::move(t));
  TS_CATCH
}

int ts_tensor_copy_to(ts_tensor t, void *dst, int64_t nbytes) {
  TS_TRY
    at::Tensor c = ts::unwrap(t).detach();
    if (!c.device().is_cpu()) c = c.to(at::kCPU);
    if (c.is_conj()) c = c.resolve_conj();
    if (c.is_neg()) c = c.resolve_neg();
    c = c.contiguous();
    int64_t expected = c.numel() * static_cast<int64_t>(c.element_size());
    TORCH_CHECK(nbytes == expected, "destination holds ", nbytes, " bytes but the tensor has ", expected);
    if (expected > 0) std::memcpy(dst, c.data_ptr(), static_cast<size_t>(expected));
  TS_CATCH
}

int ts_tensor_set_data(ts_tensor dst, ts_tensor src) {
  TS_TRY
    ts::unwrap(dst).set_data(ts::unwrap(src));
  TS_CATCH
}

int ts_tensor_undefined(ts_tensor *out) {
  TS_TRY
    *out = ts::wrap(at::Tensor());
  TS_CATCH
}

int ts_tensor_defined(ts_tensor t, uint8_t *out) {
  TS_TRY
    *out = ts::unwrap(t).defined() ? 1 : 0;
  TS_CATCH
}

int ts_tensor_dim(ts_tensor t, int64_t *out) {
  TS_TRY
    *out = defined_tensor(t, "dim").dim();
  TS_CATCH
}

int ts_tensor_sizes(ts_tensor t, int64_t *out, int64_t cap) {
  TS_TRY
    auto s = defined_tensor(t, "sizes").sizes();
    for (int64_t i = 0; i < (int64_t)s.size() && i < cap; i++) out[i] = s[i];
  TS_CATCH
}

int ts_tensor_strides(ts_tensor t, int64_t *out, int64_t cap) {
  TS_TRY
    auto s = defined_tensor(t, "strides").strides();
    for (int64_t i = 0; i < (int64_t)s.size() && i < cap; i++) out[i] = s[i];
  TS_CATCH
}

int ts_tensor_numel(ts_tensor t, int64_t *out) {
  TS_TRY
    *out = defined_tensor(t, "numel").numel();
  TS_CATCH
}

int ts_tensor_dtype(ts_tensor t, int32_t *out) {
  TS_TRY
    *out = static_cast<int32_t>(defined_tensor(t, "scalar_type").scalar_type());
  TS_CATCH
}

int ts_tensor_device(ts_tensor t, int32_t *type, int32_t *index) {
  TS_TRY
    auto d = defined_tensor(t, "device").device();
    *type = static_cast<int32_t>(d.type());
    *index = d.has_index() ? d.index() : -1;
  TS_CATCH
}

int ts_tensor_is_contiguous(ts_tensor t, uint8_t *out) {
  TS_TRY
    *out = defined_tensor(t, "is_contiguous").is_contiguous() ? 1 : 0;
  TS_CATCH
}

int ts_tensor_storage_offset(ts_tensor t, int64_t *out) {
  TS_TRY
    *out = defined_tensor(t, "storage_offset").storage_offset();
  TS_CATCH
}

int ts_tensor_element_size(ts_tensor t, int64_t *out) {
  TS_TRY
    *out = static_cast<int64_t>(defined_tensor(t, "element_size").element_size());
  TS_CATCH
}

int ts_tensor_data_ptr(ts_tensor t, void **out) {
  TS_TRY
    *out = ts::unwrap(t).data_ptr();
  TS_CATCH
}

int ts_tensor_item(ts_tensor t, ts_scalar *out) {
  TS_TRY
    *out = ts::from_scalar(ts::unwrap(t).item());
  TS_CATCH
}

int ts_backward(const ts_tensor *tensors, int64_t n, const ts_tensor *grads, uint8_t retain_graph,
                uint8_t create_graph) {
  TS_TRY
    std::vector<at::Tensor> ts_, gs;
    for (int64_t i = 0; i < n; i++) {
      ts_.push_back(ts::unwrap(tensors[i]));
      gs.push_back(grads && grads[i] ? ts::unwrap(grads[i]) : at::Tensor());
    }
    torch::autograd::backward(ts_, gs, retain_graph ? std::optional<bool>(true) : std::optional<bool>(),
                              create_graph != 0);
  TS_CATCH
}

int ts_autograd_grad(ts_tensor *out, const ts_tensor *outputs, int64_t n_outputs, const ts_tensor *grad_outputs,
                     const ts_tensor *inputs, int64_t n_inputs, uint8_t retain_graph, uint8_t create_graph,
                     uint8_t allow_unused) {
  TS_TRY
    std::vector<at::Tensor> os, gs, is;
    for (int64_t i = 0; i < n_outputs; i++) {
      os.push_back(ts::unwrap(outputs[i]));
      gs.push_back(grad_outputs && grad_outputs[i] ? ts::unwrap(grad_outputs[i]) : at::Tensor());
    }
    for (int64_t i = 0; i < n_inputs; i++) is.push_back(ts::unwrap(inputs[i]));
    auto r = torch::autograd::grad(os, is, gs, retain_graph ? std::optional<bool>(true) : std::optional<bool>(),
                                   create_graph != 0, allow_unused != 0);
    for (int64_t i = 0; i < n_inputs; i++) out[i] = r[i].defined() ? ts::wrap(r[i]) : nullptr;
  TS_CATCH
}

int ts_tensor_grad(ts_tensor *out, ts_tensor t) {
  TS_TRY
    const at::Tensor &g = ts::unwrap(t).grad();
    *out = g.defined() ? ts::wrap(g) : nullptr;
  TS_CATCH
}

int ts_tensor_set_grad(ts_tensor t, ts_tensor grad) {
  TS_TRY
    ts::unwrap(t).mutable_grad() = grad ? ts::unwrap(grad) : at::Tensor();
  TS_CATCH
}

int ts_tensor_requires_grad(ts_tensor t, uint8_t *out) {
  TS_TRY
    *out = ts::unwrap(t).requires_grad() ? 1 : 0;
  TS_CATCH
}

int ts_tensor_version(ts_tensor t, int64_t *out) {
  TS_TRY
    *out = (int64_t)ts::unwrap(t)._version();
  TS_CATCH
}

int ts_tensor_set_requires_grad(ts_tensor t, uint8_t requires_grad) {
  TS_TRY
    ts::unwrap(t).set_requires_grad(requires_grad != 0);
  TS_CATCH
}

int ts_tensor_is_leaf(ts_tensor t, uint8_t *out) {
  TS_TRY
    *out = ts::unwrap(t).is_leaf() ? 1 : 0;
  TS_CATCH
}

int ts_tensor_has_grad_fn(ts_tensor t, uint8_t *out) {
  TS_TRY
    *out = ts::unwrap(t).grad_fn() ? 1 : 0;
  TS_CATCH
}

int ts_tensor_grad_fn_name(ts_tensor t, char **out) {
  TS_TRY
    auto fn = ts::unwrap(t).grad_fn();
    *out = dup_string(fn ? fn->name() : std::string());
  TS_CATCH
}

int ts_grad_enabled(uint8_t *out) {
  TS_TRY
    *out = at::GradMode::is_enabled() ? 1 : 0;
  TS_CATCH
}

int ts_set_grad_enabled(uint8_t enabled) {
  TS_TRY
    at::GradMode::set_enabled(enabled != 0);
  TS_CATCH
}

int ts_inference_mode_enter(void **guard) {
  TS_TRY
    *guard = new c10::InferenceMode(true);
  TS_CATCH
}

void ts_inference_mode_exit(void *guard) { delete static_cast<c10::InferenceMode *>(guard); }

int ts_inference_mode_enabled(uint8_t *out) {
  TS_TRY
    *out = c10::InferenceMode::is_enabled() ? 1 : 0;
  TS_CATCH
}

int ts_manual_seed(uint64_t seed) {
  TS_TRY
    at::manual_seed(seed);
  TS_CATCH
}

int ts_set_num_threads(int32_t n) {
  TS_TRY
    TORCH_CHECK(n > 0, "number of threads must be positive, got ", n);
    at::set_num_threads(n);
  TS_CATCH
}

int ts_get_num_threads(int32_t *out) {
  TS_TRY
    *out = at::get_num_threads();
  TS_CATCH
}

int ts_set_num_interop_threads(int32_t n) {
  TS_TRY
    TORCH_CHECK(n > 0, "number of threads must be positive, got ", n);
    at::set_num_interop_threads(n);
  TS_CATCH
}

int ts_get_rng_state(ts_tensor *out) {
  TS_TRY
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = ts::wrap(gen.get_state());
  TS_CATCH
}

int ts_set_rng_state(ts_tensor state) {
  TS_TRY
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(ts::unwrap(state));
  TS_CATCH
}

int ts_cuda_is_available(uint8_t *out) {
  TS_TRY
    *out = at::detail::getCUDAHooks().hasCUDA() && at::detail::getCUDAHooks().deviceCount() > 0 ? 1 : 0;
  TS_CATCH
}

int ts_cuda_device_count(int32_t *out) {
  TS_TRY
    *out = at::detail::getCUDAHooks().hasCUDA() ? at::detail::getCUDAHooks().deviceCount() : 0;
  TS_CATCH
}

int ts_cuda_synchronize(int32_t device) {
  TS_TRY
    TORCH_CHECK(at::detail::getCUDAHooks().hasCUDA(), "CUDA is not available: no NVIDIA driver or GPU was found");
    at::detail::getCUDAHooks().deviceSynchronize(static_cast<c10::DeviceIndex>(device));
  TS_CATCH
}

}  // extern "C"

// ---- tensor files written by torch.save / read by torch.load (a dict of name -> tensor) ----
#include <torch/csrc/jit/serialization/pickle.h>

extern "C" {

int ts_load_tensor_dict(const char *path, char ***names, ts_tensor **tensors, int64_t *count) {
  TS_TRY
    std::ifstream in(path, std::ios::binary);
    TORCH_CHECK(in.good(), "cannot open '", path, "'");
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    c10::IValue v;
    try {
      v = torch::jit::pickle_load(bytes);
    } catch (const c10::Error &e) {
      TORCH_CHECK(false, "'", path, "' is not a file written by torch.save: ", e.what_without_backtrace());
    } catch (const std::exception &e) {
      TORCH_CHECK(false, "'", path, "' is not a file written by torch.save: ", e.what());
    }
    TORCH_CHECK(v.isGenericDict(), "'", path, "' does not hold a dict of tensors (found ", v.tagKind(), ")");
    auto dict = v.toGenericDict();
    // Everything is checked and copied into owners first; the caller gets the arrays only when all succeeded,
    // so a bad entry (or a failed allocation) frees the names and tensors read before it.
    std::vector<std::unique_ptr<char, decltype(&std::free)>> name_owners;
    std::vector<std::unique_ptr<at::Tensor>> tensor_owners;
    name_owners.reserve(dict.size());
    tensor_owners.reserve(dict.size());
    for (const auto &entry : dict) {
      TORCH_CHECK(entry.key().isString(), "'", path, "': a key is not a string (found ", entry.key().tagKind(), ")");
      TORCH_CHECK(entry.value().isTensor(), "'", path, "': entry '", entry.key().toStringRef(), "' is not a tensor (found ",
                  entry.value().tagKind(), ")");
      name_owners.emplace_back(dup_string(entry.key().toStringRef()), &std::free);
      tensor_owners.push_back(std::make_unique<at::Tensor>(entry.value().toTensor()));
    }
    size_t n = name_owners.size();
    std::unique_ptr<char *, decltype(&std::free)> name_array(
        static_cast<char **>(std::malloc(sizeof(char *) * (n ? n : 1))), &std::free);
    std::unique_ptr<ts_tensor, decltype(&std::free)> tensor_array(
        static_cast<ts_tensor *>(std::malloc(sizeof(ts_tensor) * (n ? n : 1))), &std::free);
    if (!name_array || !tensor_array) throw std::bad_alloc();
    for (size_t i = 0; i < n; i++) {
      name_array.get()[i] = name_owners[i].release();
      tensor_array.get()[i] = reinterpret_cast<ts_tensor>(tensor_owners[i].release());
    }
    *names = name_array.release();
    *tensors = tensor_array.release();
    *count = static_cast<int64_t>(n);
  TS_CATCH
}

int ts_pickle_tensor_dict(const char *const *names, const ts_tensor *tensors, int64_t count, char **data,
                          int64_t *size) {
  TS_TRY
    c10::Dict<std::string, at::Tensor> dict;
    for (int64_t i = 0; i < count; i++) dict.insert(names[i], ts::unwrap(tensors[i]));
    std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
    char *out = static_cast<char *>(std::malloc(bytes.size() ? bytes.size() : 1));
    if (!out) throw std::bad_alloc();
    if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
    *data = out;
    *size = static_cast<int64_t>(bytes.size());
  TS_CATCH
}

}  // extern "C"
