// NVRTC + CUDA driver API, opened with dlopen on first use (see jit.h).
#include "jit.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>
#include <dlfcn.h>
#include <glob.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>

namespace ts::jit {
namespace {

using nvrtcProgram = void *;
using CUmodule = void *;
using CUfunction = void *;

struct Api {
  // NVRTC
  int (*nvrtcVersion)(int *, int *) = nullptr;
  int (*nvrtcGetNumSupportedArchs)(int *) = nullptr;
  int (*nvrtcGetSupportedArchs)(int *) = nullptr;
  int (*nvrtcCreateProgram)(nvrtcProgram *, const char *, const char *, int, const char *const *,
                            const char *const *) = nullptr;
  int (*nvrtcCompileProgram)(nvrtcProgram, int, const char *const *) = nullptr;
  int (*nvrtcGetProgramLogSize)(nvrtcProgram, size_t *) = nullptr;
  int (*nvrtcGetProgramLog)(nvrtcProgram, char *) = nullptr;
  int (*nvrtcGetCUBINSize)(nvrtcProgram, size_t *) = nullptr;
  int (*nvrtcGetCUBIN)(nvrtcProgram, char *) = nullptr;
  int (*nvrtcGetPTXSize)(nvrtcProgram, size_t *) = nullptr;
  int (*nvrtcGetPTX)(nvrtcProgram, char *) = nullptr;
  int (*nvrtcDestroyProgram)(nvrtcProgram *) = nullptr;
  const char *(*nvrtcGetErrorString)(int) = nullptr;
  // driver
  int (*cuModuleLoadData)(CUmodule *, const void *) = nullptr;
  int (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *) = nullptr;
  int (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *,
                        void **, void **) = nullptr;
  int (*cuGetErrorString)(int, const char **) = nullptr;
  int (*cuDeviceGetAttribute)(int *, int, int) = nullptr;
  bool nvrtc_ok = false, driver_ok = false;
  std::string nvrtc_path, nvrtc_error, driver_error;
};

/// The folder holding libtorch_cpu.so (torch/lib), found from an address inside it.
std::string torch_lib_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void *>(&at::globalContext), &info) == 0 || info.dli_fname == nullptr) return "";
  std::string path = info.dli_fname;
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::vector<std::string> glob_paths(const std::string &pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) {
      std::string p = g.gl_pathv[i];
      if (p.find("builtins") == std::string::npos && p.find(".alt.") == std::string::npos) out.push_back(p);
    }
  }
  globfree(&g);
  return out;
}

/// Where libnvrtc may be: TORCHSWIFT_NVRTC, one already loaded, the NVIDIA wheels beside torch (CUDA 12
/// `nvidia/cuda_nvrtc`, CUDA 13 `nvidia/cu13`), libtorch's own lib folder, then the loader's search path.
std::vector<std::string> nvrtc_candidates() {
  std::vector<std::string> c;
  if (const char *env = std::getenv("TORCHSWIFT_NVRTC")) c.push_back(env);
  std::string lib = torch_lib_dir();
  if (!lib.empty()) {
    for (auto &p : glob_paths(lib + "/../../nvidia/cuda_nvrtc/lib/libnvrtc.so*")) c.push_back(p);
    for (auto &p : glob_paths(lib + "/../../nvidia/cu*/lib/libnvrtc.so*")) c.push_back(p);
    for (auto &p : glob_paths(lib + "/libnvrtc*.so*")) c.push_back(p);
  }
  for (const char *n : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}) c.push_back(n);
  return c;
}

template <typename F>
bool load(void *lib, const char *name, F *&slot) {
  slot = reinterpret_cast<F *>(dlsym(lib, name));
  return slot != nullptr;
}

Api &api() {
  static Api a;
  static std::once_flag once;
  std::call_once(once, [] {
    // NVRTC
    void *nv = nullptr;
    for (const auto &cand : nvrtc_candidates()) {
      nv = dlopen(cand.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (nv) { a.nvrtc_path = cand; break; }
    }
    if (!nv) {
      a.nvrtc_error = "libnvrtc was not found (looked beside torch in the NVIDIA wheels and on the library path; "
                      "set TORCHSWIFT_NVRTC to its path)";
    } else {
      bool ok = load(nv, "nvrtcVersion", a.nvrtcVersion) && load(nv, "nvrtcCreateProgram", a.nvrtcCreateProgram) &&
                load(nv, "nvrtcCompileProgram", a.nvrtcCompileProgram) &&
                load(nv, "nvrtcGetProgramLogSize", a.nvrtcGetProgramLogSize) &&
                load(nv, "nvrtcGetProgramLog", a.nvrtcGetProgramLog) && load(nv, "nvrtcGetPTXSize", a.nvrtcGetPTXSize) &&
                load(nv, "nvrtcGetPTX", a.nvrtcGetPTX) && load(nv, "nvrtcDestroyProgram", a.nvrtcDestroyProgram) &&
                load(nv, "nvrtcGetErrorString", a.nvrtcGetErrorString);
      // Optional (CUDA ≥ 11.2): cubins and the list of supported architectures.
      load(nv, "nvrtcGetCUBINSize", a.nvrtcGetCUBINSize);
      load(nv, "nvrtcGetCUBIN", a.nvrtcGetCUBIN);
      load(nv, "nvrtcGetNumSupportedArchs", a.nvrtcGetNumSupportedArchs);
      load(nv, "nvrtcGetSupportedArchs", a.nvrtcGetSupportedArchs);
      a.nvrtc_ok = ok;
      if (!ok) a.nvrtc_error = a.nvrtc_path + " lacks NVRTC entry points";
    }
    // The driver: already loaded by the CUDA runtime when a GPU is in use.
    void *cu = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (!cu) cu = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!cu) {
      a.driver_error = "the NVIDIA driver library libcuda.so.1 was not found";
    } else {
      a.driver_ok = load(cu, "cuModuleLoadData", a.cuModuleLoadData) &&
                    load(cu, "cuModuleGetFunction", a.cuModuleGetFunction) &&
                    load(cu, "cuLaunchKernel", a.cuLaunchKernel) && load(cu, "cuGetErrorString", a.cuGetErrorString) &&
                    load(cu, "cuDeviceGetAttribute", a.cuDeviceGetAttribute);
      if (!a.driver_ok) a.driver_error = "libcuda.so.1 lacks driver API entry points";
    }
  });
  return a;
}

std::string driver_error(int rc) {
  const char *s = nullptr;
  if (api().cuGetErrorString) api().cuGetErrorString(rc, &s);
  return s ? std::string(s) : "CUDA driver error " + std::to_string(rc);
}

/// The architecture to compile for: the device's own when NVRTC knows it (a cubin), else the newest NVRTC
/// knows below it (PTX, compiled by the driver on load). Returns {arch, cubin}.
std::pair<int, bool> pick_arch(int device_arch) {
  auto &a = api();
  if (!a.nvrtcGetNumSupportedArchs || !a.nvrtcGetSupportedArchs || !a.nvrtcGetCUBIN) return {device_arch, false};
  int n = 0;
  if (a.nvrtcGetNumSupportedArchs(&n) != 0 || n <= 0) return {device_arch, false};
  std::vector<int> archs(n);
  if (a.nvrtcGetSupportedArchs(archs.data()) != 0) return {device_arch, false};
  int best = 0;
  for (int v : archs) {
    if (v == device_arch) return {v, true};
    if (v < device_arch && v > best) best = v;
  }
  return {best > 0 ? best : device_arch, false};
}

/// Compiles to a cubin (or PTX); throws with NVRTC's log on failure.
std::string compile(const std::string &source, const std::vector<std::string> &options, int arch, bool cubin) {
  auto &a = api();
  TORCH_CHECK(a.nvrtc_ok, "cannot compile CUDA kernels: ", a.nvrtc_error);
  nvrtcProgram prog = nullptr;
  int rc = a.nvrtcCreateProgram(&prog, source.c_str(), "torchswift_kernels.cu", 0, nullptr, nullptr);
  TORCH_CHECK(rc == 0, "nvrtcCreateProgram failed: ", a.nvrtcGetErrorString(rc));
  std::vector<std::string> opts = options;
  opts.push_back(std::string("--gpu-architecture=") + (cubin ? "sm_" : "compute_") + std::to_string(arch));
  opts.push_back("--std=c++17");
  std::vector<const char *> raw;
  for (auto &o : opts) raw.push_back(o.c_str());
  rc = a.nvrtcCompileProgram(prog, (int)raw.size(), raw.data());
  if (rc != 0) {
    size_t n = 0;
    a.nvrtcGetProgramLogSize(prog, &n);
    std::string log(n, '\0');
    if (n) a.nvrtcGetProgramLog(prog, log.data());
    a.nvrtcDestroyProgram(&prog);
    TORCH_CHECK(false, "NVRTC could not compile TorchSwift's fused kernels for sm_", arch, ": ",
                a.nvrtcGetErrorString(rc), "\n", log);
  }
  size_t n = 0;
  std::string image;
  if (cubin) {
    a.nvrtcGetCUBINSize(prog, &n);
    image.resize(n);
    a.nvrtcGetCUBIN(prog, image.data());
  } else {
    a.nvrtcGetPTXSize(prog, &n);
    image.resize(n);
    a.nvrtcGetPTX(prog, image.data());
  }
  a.nvrtcDestroyProgram(&prog);
  return image;
}

}  // namespace

bool available(std::string *reason) {
  auto &a = api();
  if (!a.nvrtc_ok) { if (reason) *reason = a.nvrtc_error; return false; }
  if (!a.driver_ok) { if (reason) *reason = a.driver_error; return false; }
  return true;
}

std::string nvrtc_version() {
  auto &a = api();
  int major = 0, minor = 0;
  if (!a.nvrtc_ok || a.nvrtcVersion(&major, &minor) != 0) return "";
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string compile_only(const std::string &source, const std::vector<std::string> &options, int arch) {
  try {
    compile(source, options, arch, false);
    return "";
  } catch (const c10::Error &e) {
    return e.what_without_backtrace();
  }
}

/// `options` as one string, a cache key.
static std::string joined(const std::vector<std::string> &options) {
  std::string key;
  for (auto &o : options) key += o + ' ';
  return key;
}

void *function(int device, const char *source, const std::vector<std::string> &options, const char *name) {
  static std::mutex mutex;
  static std::map<std::tuple<int, const char *, std::string>, CUmodule> modules;
  static std::map<std::pair<CUmodule, std::string>, CUfunction> functions;
  const auto module_key = std::make_tuple(device, source, joined(options));
  std::lock_guard<std::mutex> lock(mutex);
  auto m = modules.find(module_key);
  if (m != modules.end()) {
    auto f = functions.find(std::make_pair(m->second, std::string(name)));
    if (f != functions.end()) return f->second;
  }
  try {
    if (m == modules.end()) {
      std::string reason;
      TORCH_CHECK(available(&reason), reason);
      auto &a = api();
      int major = 0, minor = 0;
      // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76
      int rc = a.cuDeviceGetAttribute(&major, 75, device);
      TORCH_CHECK(rc == 0, "cuDeviceGetAttribute: ", driver_error(rc));
      a.cuDeviceGetAttribute(&minor, 76, device);
      auto [arch, cubin] = pick_arch(major * 10 + minor);
      std::string image = compile(source, options, arch, cubin);
      CUmodule module = nullptr;
      rc = a.cuModuleLoadData(&module, image.data());
      TORCH_CHECK(rc == 0, "the driver did not load the kernels (sm_", arch, cubin ? " cubin" : " PTX", "): ",
                  driver_error(rc));
      m = modules.emplace(module_key, module).first;
    }
    CUfunction fn = nullptr;
    int rc = api().cuModuleGetFunction(&fn, m->second, name);
    TORCH_CHECK(rc == 0, "kernel ", name, " not found: ", driver_error(rc));
    functions.emplace(std::make_pair(m->second, std::string(name)), fn);
    return fn;
  } catch (const c10::Error &e) {
    TORCH_CHECK(false, kBuildFailure, e.what_without_backtrace());
  }
}

namespace {
std::mutex emulator_mutex;
std::string emulator_folder;

struct EmulatedKernel {
  void (*launch)(const char *, unsigned, unsigned, unsigned, void **);
  std::string name;
};
}  // namespace

void set_emulator(const std::string &folder) {
  std::lock_guard<std::mutex> lock(emulator_mutex);
  emulator_folder = folder;
}

bool emulating() {
  std::lock_guard<std::mutex> lock(emulator_mutex);
  return !emulator_folder.empty();
}

void *emulated_function(const char *source, const std::vector<std::string> &options, const char *name) {
  static std::map<std::string, void *> libraries;              // options → dlopen handle
  static std::map<std::string, EmulatedKernel *> kernels;      // options + name → kernel (kept for the process)
  std::lock_guard<std::mutex> lock(emulator_mutex);
  TORCH_CHECK(!emulator_folder.empty(), "fused kernels on CPU tensors need the test emulator (ts_fused_set_emulator)");
  const std::string key = joined(options);
  auto k = kernels.find(key + name);
  if (k != kernels.end()) return k->second;
  auto l = libraries.find(key);
  if (l == libraries.end()) {
    const std::string build = emulator_folder + "/.build";
    std::string cmd = "mkdir -p '" + build + "'";
    TORCH_CHECK(std::system(cmd.c_str()) == 0, "cannot create ", build);
    const std::string cu = build + "/kernels.cu";
    if (FILE *f = std::fopen(cu.c_str(), "wb")) {
      std::fputs(source, f);
      std::fclose(f);
    }
    const std::string so = build + "/k" + std::to_string(std::hash<std::string>{}(key)) + ".so";
    cmd = "g++ -std=c++20 -O1 -shared -fPIC -pthread -fvisibility=hidden -Wno-unknown-pragmas -DTS_HOST_EMULATION " + key +
          "-I'" + emulator_folder + "' -I'" + build + "' '" + emulator_folder + "/trampolines.cpp' -o '" + so + "' 2>&1";
    std::string output;
    FILE *pipe = popen(cmd.c_str(), "r");
    TORCH_CHECK(pipe != nullptr, "cannot run g++ for the kernel emulator");
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
    TORCH_CHECK(pclose(pipe) == 0, "building the emulated kernels failed (", key, "):\n", output);
    void *handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    TORCH_CHECK(handle != nullptr, "cannot load ", so, ": ", dlerror());
    l = libraries.emplace(key, handle).first;
  }
  auto *launch = reinterpret_cast<void (*)(const char *, unsigned, unsigned, unsigned, void **)>(
      dlsym(l->second, "ts_emulated_launch"));
  TORCH_CHECK(launch != nullptr, "the emulated kernels lack ts_emulated_launch");
  auto *kernel = new EmulatedKernel{launch, name};
  kernels.emplace(key + name, kernel);
  return kernel;
}

void emulated_launch(void *fn, unsigned grid, unsigned block, unsigned shared_bytes, void **args) {
  auto *k = static_cast<EmulatedKernel *>(fn);
  k->launch(k->name.c_str(), grid, block, shared_bytes, args);
}

void launch(void *fn, const char *what, unsigned grid, unsigned block, unsigned shared_bytes, void *stream,
            void **args) {
  int rc = api().cuLaunchKernel(fn, grid, 1, 1, block, 1, 1, shared_bytes, stream, args, nullptr);
  TORCH_CHECK(rc == 0, "launching ", what, " failed: ", driver_error(rc));
}

}  // namespace ts::jit
