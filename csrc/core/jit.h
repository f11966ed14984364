// Run-time compiled CUDA kernels: NVRTC (the copy that ships with torch's CUDA wheels) compiles CUDA C
// source for the current GPU, the driver API loads and launches it. Nothing here needs the CUDA toolkit at
// build time; libnvrtc and libcuda are opened on first use.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ts::jit {

/// Whether NVRTC and the CUDA driver could be opened; `reason` says why not.
bool available(std::string *reason);

/// NVRTC's version ("12.8"), or empty when it was not found.
std::string nvrtc_version();

/// Compiles `source` for compute capability `arch` (e.g. 90) without loading it (no GPU needed): returns the
/// empty string on success, else NVRTC's log. Used by tests to check every kernel variant compiles.
std::string compile_only(const std::string &source, const std::vector<std::string> &options, int arch);

/// How the message of every failure to compile or load kernels for a GPU begins (NVRTC or the driver not found,
/// NVRTC's log, the driver refusing the image): callers may run other code instead.
inline constexpr const char *kBuildFailure = "TorchSwift's fused kernels cannot be built for this GPU: ";

/// The kernel `name` from `source` compiled with `options` for `device`'s GPU: the source is compiled and loaded
/// once per (device, source, options), each kernel looked up once, all cached. `source` must live as long as the
/// process (it is cached by address). Failures throw c10::Error beginning with kBuildFailure.
void *function(int device, const char *source, const std::vector<std::string> &options, const char *name);

/// Launches `fn` on `stream` (a cudaStream_t); throws c10::Error naming `what` on failure.
void launch(void *fn, const char *what, unsigned grid, unsigned block, unsigned shared_bytes, void *stream, void **args);

// ---- CPU emulation, for tests ----
// With an emulator folder set (Tests/TorchTests/KernelEmulator: emulator.h, trampolines.cpp), kernels for CPU
// tensors are compiled with g++ against that folder's emulator and run on the CPU with the same argument arrays
// as on a GPU, so that tests without a GPU run the C layer's host code and autograd around the kernels.

/// Sets (or with an empty string clears) the emulator folder.
void set_emulator(const std::string &folder);

/// Whether an emulator folder is set.
bool emulating();

/// The kernel `name` built for the emulator (built once per options, as `function`); throws with g++'s output on
/// failure.
void *emulated_function(const char *source, const std::vector<std::string> &options, const char *name);

/// Runs an emulated kernel with a driver-style argument array.
void emulated_launch(void *fn, unsigned grid, unsigned block, unsigned shared_bytes, void **args);

}  // namespace ts::jit
