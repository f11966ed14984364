// TorchSwift's C ABI over libtorch: the hand-written core.
// The generated op layer (`atg_*`) is declared in generated/ctorch_generated.h.
//
// Conventions (as PyTorch's AOTI shim and mlx-c):
//  * every function that can fail returns 0 on success and 1 on error; the message (libtorch's own,
//    without the C++ backtrace) is kept per thread and read with ts_last_error();
//  * results are written through out-parameters; a returned ts_tensor is owned by the caller and
//    released with ts_tensor_free();
//  * no C++ exception ever crosses this boundary.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An owned reference to an at::Tensor.
typedef struct ts_tensor_opaque *ts_tensor;

/// A scalar value: kind 0 = floating (d), 1 = integer (i), 2 = boolean (i != 0).
typedef struct {
  double d;
  int64_t i;
  int32_t kind;
} ts_scalar;

// ---- errors and runtime information ----
const char *ts_last_error(void);
/// Version of the torch headers this library was compiled against ("2.8.0").
const char *ts_build_version(void);
/// Path of the libtorch_cpu library actually loaded, and the version read from the torch install
/// it belongs to (torch/version.py or build-version); "unknown" when it cannot be determined.
int ts_runtime_info(const char **library_path, const char **version);
/// libtorch's configuration summary (at::show_config()); caller frees with ts_free.
int ts_show_config(char **out);
/// CPU capability as libtorch dispatches ("AVX512", "AVX2", "DEFAULT", ...); caller frees with ts_free.
int ts_cpu_capability(char **out);
/// CUDA runtime and cuDNN versions libtorch was built with (0 when built without CUDA).
int ts_cuda_versions(int64_t *cuda_runtime, int64_t *cudnn);
/// 1 when libtorch was compiled with the C++11 ABI.
int ts_cxx11_abi(void);
void ts_free(void *p);

// ---- tensor lifetime and creation ----
void ts_tensor_free(ts_tensor t);
/// A new handle to the same tensor (shares storage and autograd identity).
int ts_tensor_share(ts_tensor *out, ts_tensor t);
/// Copies `nbytes` from `data` into a new contiguous tensor of the given shape/dtype on the device.
int ts_tensor_from_data(ts_tensor *out, const void *data, int64_t nbytes, const int64_t *shape, int64_t ndim,
                        int32_t dtype, int32_t device_type, int32_t device_index);
/// Copies the tensor's elements (converted to a contiguous CPU layout of its own dtype) into `dst`.
/// Fails unless nbytes == numel * element_size.
int ts_tensor_copy_to(ts_tensor t, void *dst, int64_t nbytes);
/// Replaces the tensor behind `dst`'s handle by `src`'s (used to rebind a parameter's storage).
int ts_tensor_set_data(ts_tensor dst, ts_tensor src);

// ---- queries ----
/// An undefined tensor (`at::Tensor()`, what libtorch gives for an absent optional result): every query
/// on it but ts_tensor_defined fails.
int ts_tensor_undefined(ts_tensor *out);
int ts_tensor_defined(ts_tensor t, uint8_t *out);
int ts_tensor_dim(ts_tensor t, int64_t *out);
/// Writes min(dim, cap) sizes into out.
int ts_tensor_sizes(ts_tensor t, int64_t *out, int64_t cap);
int ts_tensor_strides(ts_tensor t, int64_t *out, int64_t cap);
int ts_tensor_numel(ts_tensor t, int64_t *out);
int ts_tensor_dtype(ts_tensor t, int32_t *out);
int ts_tensor_device(ts_tensor t, int32_t *type, int32_t *index);
int ts_tensor_is_contiguous(ts_tensor t, uint8_t *out);
int ts_tensor_storage_offset(ts_tensor t, int64_t *out);
int ts_tensor_element_size(ts_tensor t, int64_t *out);
int ts_tensor_data_ptr(ts_tensor t, void **out);
int ts_tensor_item(ts_tensor t, ts_scalar *out);

// ---- autograd ----
/// Computes gradients of `tensors` (with `grads`, NULL entries for implicit ones) into the leaves' .grad.
int ts_backward(const ts_tensor *tensors, int64_t n, const ts_tensor *grads, uint8_t retain_graph,
                uint8_t create_graph);
/// torch.autograd.grad: writes n_inputs tensors (NULL where unused and allow_unused).
int ts_autograd_grad(ts_tensor *out, const ts_tensor *outputs, int64_t n_outputs, const ts_tensor *grad_outputs,
                     const ts_tensor *inputs, int64_t n_inputs, uint8_t retain_graph, uint8_t create_graph,
                     uint8_t allow_unused);
/// The tensor's .grad, or NULL in *out when it has none.
int ts_tensor_grad(ts_tensor *out, ts_tensor t);
/// Sets .grad (NULL clears it).
int ts_tensor_set_grad(ts_tensor t, ts_tensor grad);
int ts_tensor_requires_grad(ts_tensor t, uint8_t *out);
int ts_tensor_set_requires_grad(ts_tensor t, uint8_t requires_grad);
int ts_tensor_is_leaf(ts_tensor t, uint8_t *out);
int ts_tensor_has_grad_fn(ts_tensor t, uint8_t *out);
/// Name of the node that produced the tensor ("AddBackward0"), or empty; caller frees with ts_free.
int ts_tensor_grad_fn_name(ts_tensor t, char **out);
int ts_grad_enabled(uint8_t *out);
int ts_set_grad_enabled(uint8_t enabled);
/// Enters inference mode on this thread; the guard must be released with ts_inference_mode_exit on
/// the same thread, innermost first.
int ts_inference_mode_enter(void **guard);
void ts_inference_mode_exit(void *guard);
int ts_inference_mode_enabled(uint8_t *out);

// ---- random numbers and threads ----
int ts_manual_seed(uint64_t seed);
int ts_set_num_threads(int32_t n);
int ts_get_num_threads(int32_t *out);
int ts_set_num_interop_threads(int32_t n);
/// CPU generator state (a uint8 tensor), and restore it.
int ts_get_rng_state(ts_tensor *out);
int ts_set_rng_state(ts_tensor state);

// ---- files: a dict of name -> tensor as written by torch.save (read) and readable by torch.load ----
/// Reads every entry; *names (malloc'd strings) and *tensors are malloc'd arrays of *count entries.
int ts_load_tensor_dict(const char *path, char ***names, ts_tensor **tensors, int64_t *count);
/// The bytes of torch.save({names[i]: tensors[i]}) in *data (malloc'd, *size bytes): Swift writes them to the
/// file (atomically, through the package's one file writer).
int ts_pickle_tensor_dict(const char *const *names, const ts_tensor *tensors, int64_t count, char **data,
                          int64_t *size);

// ---- CUDA ----
int ts_cuda_is_available(uint8_t *out);
int ts_cuda_device_count(int32_t *out);
int ts_cuda_synchronize(int32_t device);

// ---- autocast and backend switches (csrc/core/amp.cpp) ----
int ts_autocast_set_enabled(int32_t device_type, uint8_t enabled);
int ts_autocast_is_enabled(int32_t device_type, uint8_t *out);
int ts_autocast_set_dtype(int32_t device_type, int32_t dtype);
int ts_autocast_get_dtype(int32_t device_type, int32_t *out);
/// Enter/exit an autocast region (nesting count; the cast cache is cleared when the outermost exits).
int ts_autocast_enter(void);
int ts_autocast_exit(void);
/// The autocast cast cache (`torch.autocast(cache_enabled=...)`); off inside CUDA graph capture.
int ts_autocast_set_cache_enabled(uint8_t enabled);
int ts_autocast_is_cache_enabled(uint8_t *out);
int ts_set_allow_tf32_matmul(uint8_t allow);
int ts_allow_tf32_matmul(uint8_t *out);
int ts_set_allow_tf32_cudnn(uint8_t allow);
int ts_allow_tf32_cudnn(uint8_t *out);
int ts_set_cudnn_benchmark(uint8_t on);
int ts_cudnn_benchmark(uint8_t *out);
int ts_set_deterministic(uint8_t on, uint8_t warn_only);
int ts_deterministic(uint8_t *out);

// ---- CUDA memory, devices, pinned memory, graphs (csrc/core/cuda.cpp) ----
int ts_cuda_built_with_cuda_headers(uint8_t *out);
/// out4 = [allocated, peak allocated, reserved, peak reserved] bytes.
int ts_cuda_memory_stats(int32_t device, int64_t *out4);
int ts_cuda_reset_peak_memory_stats(int32_t device);
int ts_cuda_empty_cache(void);
int ts_cuda_clear_cublas_workspaces(void);
int ts_cuda_device_properties(int32_t device, char **name, int64_t *total_memory, int32_t *major, int32_t *minor,
                              int32_t *multiprocessors);
int ts_cuda_driver_version(int32_t *driver, int32_t *runtime);
int ts_tensor_pin_memory(ts_tensor *out, ts_tensor t);
int ts_tensor_is_pinned(ts_tensor t, uint8_t *out);
int ts_cuda_graph_new(void **out);
void ts_cuda_graph_free(void *g);
int ts_cuda_graph_capture_begin(void *g);
int ts_cuda_graph_capture_end(void *g);
int ts_cuda_graph_replay(void *g);
int ts_cuda_side_stream_enter(void **out);
int ts_cuda_side_stream_exit(void *handle);
/// Streams (kind 0: new from the pool, 1: new high-priority, 2: current, 3: default) and events.
int ts_cuda_stream_get(int32_t device, int32_t kind, void **out);
void ts_cuda_stream_free(void *s);
int ts_cuda_stream_info(void *s, int64_t *id, int32_t *device, int32_t *priority);
int ts_cuda_stream_synchronize(void *s);
int ts_cuda_stream_query(void *s, uint8_t *out);
int ts_cuda_stream_wait_stream(void *waiter, void *on);
int ts_cuda_stream_set_current(void *s, void **previous);
int ts_tensor_record_stream(ts_tensor t, void *s);
int ts_cuda_event_new(uint8_t enable_timing, void **out);
void ts_cuda_event_free(void *e);
int ts_cuda_event_record(void *e, void *s);
int ts_cuda_event_block(void *e, void *s);
int ts_cuda_event_synchronize(void *e);
int ts_cuda_event_query(void *e, uint8_t *out);
int ts_cuda_event_elapsed_ms(void *start, void *end, double *out);
// ---- fused CUDA kernels, compiled at run time with NVRTC (csrc/core/fused.cpp, csrc/core/jit.cpp) ----
/// Whether the fused kernels can run here; `reason` (free with ts_free) says why not, or names NVRTC's version.
int ts_fused_status(uint8_t *available, char **reason);
/// Compiles every kernel variant for compute capability `arch` (e.g. 90) without a GPU; `log` is empty when
/// all compiled, else the first failure.
int ts_fused_compile_check(int32_t arch, char **log);
/// LayerNorm(residual + dropout(x)) over the last dimension (≤ 2048), with autograd. With `copy_dtype` ≥ 0
/// (a dtype code) `copy` also receives the output cast to that dtype, written by the same kernel, with
/// gradients flowing back through both; `mask` (may be null) receives the kept-element bits as int32 words,
/// `ceil(D / 32)` per row.
int ts_fused_dropout_add_layer_norm(ts_tensor x, ts_tensor residual, ts_tensor weight, ts_tensor bias, double p,
                                    double eps, uint8_t training, int32_t copy_dtype, ts_tensor *out, ts_tensor *copy,
                                    ts_tensor *mask);
/// Tests only: with a folder holding Tests/TorchTests/KernelEmulator's files, the fused entry points also take CPU
/// tensors and run the kernels under that emulator (built with g++); null turns it off.
int ts_fused_set_emulator(const char *folder);
/// The tensor's version counter (bumped by each in-place change).
int ts_tensor_version(ts_tensor t, int64_t *out);
/// dropout(activation(x)) (0 relu, 1 gelu) with 0 < p < 1, with autograd; `mask` receives the bits of
/// the flat elements whose gradient passes (kept, and x > 0 for relu).
int ts_fused_activation_dropout(ts_tensor x, int32_t activation, double p, ts_tensor *out, ts_tensor *mask);
// ---- profiler: libtorch's Kineto profiler, as torch.profiler (csrc/core/profiler.cpp) ----
/// Event kinds (libkineto's activity types, kept stable here).
enum {
  TS_PROFILE_CPU_OP = 0,
  TS_PROFILE_USER_ANNOTATION = 1,
  TS_PROFILE_KERNEL = 2,
  TS_PROFILE_MEMCPY = 3,
  TS_PROFILE_MEMSET = 4,
  TS_PROFILE_RUNTIME = 5,
  TS_PROFILE_INSTANT = 6,
  TS_PROFILE_OTHER = 7,
};
/// One recorded event; `name` and `shapes` (input shapes as text, empty unless recorded) live as long as the recording.
typedef struct {
  const char *name;
  const char *shapes;
  int32_t kind;
  int32_t device_type;
  int32_t device_index;
  int64_t thread;
  int64_t start_ns;
  int64_t duration_ns;
  int64_t correlation;
  int64_t linked_correlation;
  int64_t sequence_nr;
  int64_t bytes;
} ts_profile_event;
/// A recording on this thread (and the autograd threads it starts work on) of operators (`cpu`) and GPU activity
/// through CUPTI (`cuda`): `prepare` starts the tracers (a warm-up: nothing kept), `enable` then starts recording.
int ts_profiler_prepare(int32_t cpu, int32_t cuda, int32_t record_shapes, int32_t profile_memory);
int ts_profiler_enable(int32_t cpu, int32_t cuda, int32_t record_shapes, int32_t profile_memory);
/// A named range in the recording (`torch.profiler.record_function`): enter returns a handle that exit ends and frees.
int ts_record_function_enter(const char *name, void **out);
void ts_record_function_exit(void *handle);
/// Stops recording (on the thread that started it); `out` receives the recording (free with ts_profile_free).
int ts_profiler_stop(void **out, int64_t *count);
/// The recording's `count` events.
const ts_profile_event *ts_profile_events(void *recording);
/// Writes the recording as a Chrome trace (JSON), as torch.profiler's export_chrome_trace.
int ts_profile_save(void *recording, const char *path);
void ts_profile_free(void *recording);
int ts_profiler_is_running(uint8_t *out);
/// y = x Wᵀ + b (weight [N, K], bias [N] or null) as at::linear, under autocast as autocast's linear, with autograd;
/// its backward sums the bias gradient with a fused column-sum kernel. x is made contiguous.
int ts_fused_linear(ts_tensor x, ts_tensor weight, ts_tensor bias, ts_tensor *out);
/// Versions of the NCCL and cuDNN libraries loaded in this process (0 when not loaded), e.g. 22703 for
/// NCCL 2.27.3 and 91002 for cuDNN 9.10.2; found by symbol, so they work without CUDA headers.
int ts_nccl_runtime_version(int32_t *out);
int ts_cudnn_runtime_version(int64_t *out);

// ---- dynamic int8 linear through fbgemm (csrc/core/quantized.cpp), as PyTorch's quantize_dynamic ----
/// Sets the quantized engine (at::globalContext().setQEngine): "fbgemm", "x86", "qnnpack" or "onednn".
int ts_qengine_set(const char *name);
/// Packs an int8 weight [N, K] with one scale (per tensor) or N scales (per output channel), zero point 0, and an
/// optional float bias [N] (quantized::linear_prepack); free the result with ts_qlinear_dynamic_free.
int ts_qlinear_dynamic_prepack(ts_tensor weight_int8, ts_tensor scales, ts_tensor bias, void **out);
/// y = dequant(quant(x) · W_int8ᵀ) + b with x quantized per tensor at run time (quantized::linear_dynamic).
int ts_qlinear_dynamic(void *packed, ts_tensor x, uint8_t reduce_range, ts_tensor *out);
void ts_qlinear_dynamic_free(void *packed);

#ifdef __cplusplus
}
#endif
