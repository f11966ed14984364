// Fused CUDA kernels with autograd: LayerNorm(residual + dropout(x)) and dropout(activation(x)), the
// memory-bound tails of Transformer layers that eager libtorch runs as 3–4 kernels each (see
// fused_kernels.h for the kernels, jit.h for how they are compiled).
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <optional>
#include <map>
#include <set>
#include <tuple>

#include "../ctorch_internal.h"
#include "fused_kernels.h"
#include "jit.h"

#ifdef TS_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kMaxRow = 2048;  // the LayerNorm kernels keep a row in registers: 64 floats per lane

const char *type_name(at::ScalarType t, const char *what) {
  switch (t) {
    case at::kFloat: return "f32";
    case at::kHalf: return "f16";
    case at::kBFloat16: return "bf16";
    default: TORCH_CHECK(false, "fused kernels: ", what, " must be float32, float16 or bfloat16, got ", t);
  }
}

std::string macro(const char *name, const std::string &value) { return std::string("-D") + name + "=" + value; }

// Compile-time parameters of the kernels.
std::vector<std::string> ln_options(at::ScalarType tx, at::ScalarType tr, at::ScalarType ts, at::ScalarType to,
                                    at::ScalarType tl, at::ScalarType tw, int64_t d, bool has_w, bool has_b, bool dropout) {
  return {macro("TX", type_name(tx, "x")), macro("TR", type_name(tr, "residual")), macro("TS", type_name(ts, "x + residual")),
          macro("TO", type_name(to, "output")), macro("TL", type_name(tl, "output copy")), macro("TW", type_name(tw, "weight")),
          macro("D", std::to_string(d)),
          macro("HAS_W", has_w ? "1" : "0"), macro("HAS_B", has_b ? "1" : "0"), macro("DROPOUT", dropout ? "1" : "0")};
}

std::vector<std::string> act_options(at::ScalarType tx, int64_t act) {
  return {macro("TX", type_name(tx, "input")), macro("ACT", std::to_string(act))};
}

std::vector<std::string> colsum_options(at::ScalarType tin, at::ScalarType tout) {
  return {"-DCOLSUM=1", macro("TIN", type_name(tin, "column-sum input")), macro("TOUT", type_name(tout, "column-sum output"))};
}

#ifdef TS_WITH_CUDA
int multiprocessors(int device) {
  static std::mutex mutex;
  static std::map<int, int> counts;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = counts.find(device);
  if (it != counts.end()) return it->second;
  int n = 0;
  if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || n <= 0) n = 80;
  counts[device] = n;
  return n;
}

/// The default CUDA generator's Philox state for `increment` more numbers per thread (graph-safe).
at::PhiloxCudaState philox_state(int device, uint64_t increment) {
  auto *gen = at::check_generator<at::CUDAGeneratorImpl>(at::cuda::detail::getDefaultCUDAGenerator(device));
  std::lock_guard<std::mutex> lock(gen->mutex_);
  return gen->philox_cuda_state(increment);
}

/// Kernel arguments for the generator state, in the order the kernels take them.
struct PhiloxArgs {
  unsigned long long seed_val = 0, offset_val = 0;
  const long long *seed_ptr = nullptr, *offset_ptr = nullptr;
  unsigned int offset_intragraph = 0;
  int captured = 0;
  explicit PhiloxArgs(const at::PhiloxCudaState &s) {
    captured = s.captured_ ? 1 : 0;
    if (s.captured_) {
      seed_ptr = reinterpret_cast<const long long *>(s.seed_.ptr);
      offset_ptr = reinterpret_cast<const long long *>(s.offset_.ptr);
      offset_intragraph = s.offset_intragraph_;
    } else {
      seed_val = s.seed_.val;
      offset_val = s.offset_.val;
    }
  }
};

unsigned blocks_for(int64_t work_items, int64_t per_block, int64_t cap) {
  int64_t b = (work_items + per_block - 1) / per_block;
  if (b > cap) b = cap;
  return (unsigned)(b < 1 ? 1 : b);
}

void *stream_of(const at::Tensor &t) { return c10::cuda::getCurrentCUDAStream(t.device().index()).stream(); }

// The kernels run on the tensors' GPU, or for CPU tensors under the test emulator (jit.h).

/// Makes the tensor's GPU current for the scope (nothing for CPU tensors).
struct DeviceScope {
  std::optional<c10::cuda::CUDAGuard> guard;
  explicit DeviceScope(const at::Tensor &t) {
    if (t.is_cuda()) guard.emplace(t.device());
  }
};

void *kernel(const at::Tensor &t, const std::vector<std::string> &options, const char *name) {
  if (t.is_cuda()) return ts::jit::function(t.device().index(), ts::fused::kernel_source, options, name);
  return ts::jit::emulated_function(ts::fused::kernel_source, options, name);
}

void run(void *fn, const at::Tensor &t, const char *name, unsigned grid, unsigned block, unsigned shared_bytes,
         void **args) {
  if (t.is_cuda()) ts::jit::launch(fn, name, grid, block, shared_bytes, stream_of(t), args);
  else ts::jit::emulated_launch(fn, grid, block, shared_bytes, args);
}

int sm_count(const at::Tensor &t) { return t.is_cuda() ? multiprocessors(t.device().index()) : 2; }

/// Philox state for `increment` more numbers per thread: the CUDA generator's, or under the emulator the CPU
/// generator's seed with an offset that advances per call.
at::PhiloxCudaState rng_state(const at::Tensor &t, uint64_t increment) {
  if (t.is_cuda()) return philox_state(t.device().index(), increment);
  static std::atomic<uint64_t> offset{0};
  return at::PhiloxCudaState(at::detail::getDefaultCPUGenerator().current_seed(), offset.fetch_add(increment));
}

/// One col_sum launch over a contiguous [rows, cols] matrix, per split of `rows_per_split` rows (see the kernel).
void launch_col_sum(const at::Tensor &in, at::Tensor &out, int64_t rows_per_split) {
  const int64_t rows = in.size(0), cols = in.size(1);
  const int64_t tiles = (cols + 31) / 32, splits = (rows + rows_per_split - 1) / rows_per_split;
  void *fn = kernel(in, colsum_options(in.scalar_type(), out.scalar_type()), "col_sum");
  const void *in_p = in.data_ptr();
  void *out_p = out.data_ptr();
  long long r = rows, c = cols, rps = rows_per_split;
  void *args[] = {&in_p, &out_p, &r, &c, &rps};
  run(fn, in, "col_sum", (unsigned)(tiles * splits), 256, 8 * 32 * sizeof(float), args);
}

/// Sums over the rows of a [rows, cols] matrix (`in`, made contiguous), accumulated in float, as
/// `in.sum(0).to(dtype)` (zeros for no rows). Deterministic. Tall matrices take two passes: per-split partial sums
/// spread over the GPU, then their sum.
at::Tensor column_sums(const at::Tensor &in, at::ScalarType dtype) {
  const auto m = in.contiguous();
  const int64_t rows = m.size(0), cols = m.size(1);
  auto out = at::empty({cols}, m.options().dtype(dtype));
  if (rows == 0 || cols == 0) return out.zero_();
  const int64_t tiles = (cols + 31) / 32;
  // Enough blocks to fill the GPU, at least 256 rows (32 per warp) per split.
  int64_t splits = ((int64_t)sm_count(m) * 4 + tiles - 1) / tiles;
  splits = std::min(splits, (rows + 255) / 256);
  if (splits <= 1) {
    launch_col_sum(m, out, rows);
    return out;
  }
  const int64_t per_split = (rows + splits - 1) / splits;
  splits = (rows + per_split - 1) / per_split;
  auto part = at::empty({splits, cols}, m.options().dtype(at::kFloat));
  launch_col_sum(m, part, per_split);
  launch_col_sum(part, out, splits);
  return out;
}

/// Builds every col_sum variant column_sums may launch for `tin` input and `tout` output on t's device (one pass,
/// or partial sums in float and their sum); on a GPU once per (device, tin, tout), since callers ask per call.
void build_column_sums(const at::Tensor &t, at::ScalarType tin, at::ScalarType tout) {
  static std::mutex mutex;
  static std::set<std::tuple<int, int, int>> built;
  const auto key = std::make_tuple((int)t.device().index(), (int)tin, (int)tout);
  if (t.is_cuda()) {
    std::lock_guard<std::mutex> lock(mutex);
    if (built.count(key)) return;
  }
  for (auto opts : {colsum_options(tin, tout), colsum_options(tin, at::kFloat), colsum_options(at::kFloat, tout)})
    kernel(t, opts, "col_sum");
  if (t.is_cuda()) {
    std::lock_guard<std::mutex> lock(mutex);
    built.insert(key);
  }
}

struct DropoutAddLayerNorm : public torch::autograd::Function<DropoutAddLayerNorm> {
  // Forward inputs: x, residual, weight, bias, p, eps, training, out_dtype, copy_dtype (copy_dtype < 0: no copy).
  // Outputs: y, the mask bits, y's low-precision copy (empty without one). Saved: s = residual + dropout(x) in
  // their promoted dtype (what eager LayerNorm keeps), the weight, mean, rstd and the bits.
  static variable_list forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &residual,
                               const at::Tensor &weight, const at::Tensor &bias, double p, double eps, bool training,
                               int64_t out_dtype, int64_t copy_dtype) {
    const int64_t d = x.size(-1);
    const int64_t rows = d > 0 ? x.numel() / d : 0;
    const auto tx = x.scalar_type(), tr = residual.scalar_type();
    const auto ts = at::promote_types(tx, tr);
    const auto to = static_cast<at::ScalarType>(out_dtype);
    const bool has_copy = copy_dtype >= 0;
    const auto tl = has_copy ? static_cast<at::ScalarType>(copy_dtype) : to;
    const auto tw = weight.defined() ? weight.scalar_type() : bias.defined() ? bias.scalar_type() : at::kFloat;
    const bool dropout = training && p > 0;
    float scale = dropout ? (float)(1.0 / (1.0 - p)) : 1.0f;
    DeviceScope guard(x);
    auto xc = x.contiguous(), rc = residual.contiguous();
    auto wc = weight.defined() ? weight.contiguous() : weight;
    auto bc = bias.defined() ? bias.to(tw).contiguous() : bias;
    auto y = at::empty(x.sizes(), x.options().dtype(to));
    auto y2 = has_copy ? at::empty(x.sizes(), x.options().dtype(tl)) : at::empty({0}, x.options().dtype(tl));
    auto sum = at::empty(x.sizes(), x.options().dtype(ts));
    auto f32 = x.options().dtype(at::kFloat);
    auto mean = at::empty({rows}, f32), rstd = at::empty({rows}, f32);
    const int64_t words = (d + 31) / 32;
    auto bits = at::empty({dropout ? rows * words : 0}, x.options().dtype(at::kInt));
    if (rows > 0) {
      void *fn = kernel(x, ln_options(tx, tr, ts, to, tl, tw, d, wc.defined(), bc.defined(), dropout), "dropout_add_ln_fwd");
      PhiloxArgs rng(dropout ? rng_state(x, 4) : at::PhiloxCudaState(0, 0));
      const void *x_p = xc.data_ptr(), *r_p = rc.data_ptr();
      const void *w_p = wc.defined() ? wc.data_ptr() : nullptr, *b_p = bc.defined() ? bc.data_ptr() : nullptr;
      void *y_p = y.data_ptr(), *y2_p = has_copy ? y2.data_ptr() : nullptr, *s_p = sum.data_ptr();
      void *mean_p = mean.data_ptr(), *rstd_p = rstd.data_ptr(), *bits_p = bits.data_ptr();
      long long n_rows = rows;
      float pf = (float)p, epsf = (float)eps;
      void *args[] = {&x_p, &r_p, &w_p, &b_p, &y_p, &y2_p, &s_p, &mean_p, &rstd_p, &bits_p, &n_rows, &pf, &scale, &epsf,
                      &rng.seed_val, &rng.seed_ptr, &rng.offset_val, &rng.offset_ptr, &rng.offset_intragraph,
                      &rng.captured};
      run(fn, x, "dropout_add_ln_fwd", blocks_for(rows, 4, (int64_t)sm_count(x) * 32), 128, 0, args);
    }
    ctx->save_for_backward({sum, wc, mean, rstd, bits});
    ctx->saved_data["scale"] = (double)scale;
    ctx->saved_data["dropout"] = dropout;
    ctx->saved_data["has_b"] = bc.defined();
    ctx->saved_data["x_dtype"] = (int64_t)tx;
    ctx->saved_data["residual_dtype"] = (int64_t)tr;
    ctx->saved_data["out_dtype"] = out_dtype;
    ctx->saved_data["copy_dtype"] = copy_dtype;
    ctx->saved_data["bias_dtype"] = (int64_t)(bias.defined() ? bias.scalar_type() : tw);
    if (has_copy) ctx->mark_non_differentiable({bits});
    else ctx->mark_non_differentiable({bits, y2});
    return {y, bits, y2};
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto sum = saved[0], w = saved[1], mean = saved[2], rstd = saved[3], bits = saved[4];
    const bool dropout = ctx->saved_data["dropout"].toBool(), has_b = ctx->saved_data["has_b"].toBool();
    const auto tx = static_cast<at::ScalarType>(ctx->saved_data["x_dtype"].toInt());
    const auto tr = static_cast<at::ScalarType>(ctx->saved_data["residual_dtype"].toInt());
    const auto to = static_cast<at::ScalarType>(ctx->saved_data["out_dtype"].toInt());
    const int64_t copy_dtype = ctx->saved_data["copy_dtype"].toInt();
    const auto tl = copy_dtype >= 0 ? static_cast<at::ScalarType>(copy_dtype) : to;
    const auto tb = static_cast<at::ScalarType>(ctx->saved_data["bias_dtype"].toInt());
    const auto tw = w.defined() ? w.scalar_type() : tb;
    float scale = (float)ctx->saved_data["scale"].toDouble();
    const int64_t d = sum.size(-1);
    const int64_t rows = d > 0 ? sum.numel() / d : 0;
    DeviceScope guard(sum);
    at::Tensor dy = grads[0].defined() ? grads[0].to(to).contiguous() : at::zeros(sum.sizes(), sum.options().dtype(to));
    at::Tensor dy2 = copy_dtype >= 0 && grads.size() > 2 && grads[2].defined() ? grads[2].to(tl).contiguous() : at::Tensor();
    auto dx = at::empty(sum.sizes(), sum.options().dtype(tx)), dr = at::empty(sum.sizes(), sum.options().dtype(tr));
    const unsigned blocks = blocks_for(rows, 4, (int64_t)sm_count(sum) * 4);
    const bool params = w.defined() || has_b;
    auto f32 = sum.options().dtype(at::kFloat);
    // One partial row per block (none without rows, so that their column sums are zeros).
    const int64_t part_rows = params && rows > 0 ? (int64_t)blocks : 0;
    auto dw_part = at::empty({part_rows, d}, f32);
    auto db_part = at::empty({part_rows, d}, f32);
    if (rows > 0) {
      void *fn = kernel(sum, ln_options(tx, tr, sum.scalar_type(), to, tl, tw, d, w.defined(), has_b, dropout),
                        "dropout_add_ln_bwd");
      const void *dy_p = dy.data_ptr(), *dy2_p = dy2.defined() ? dy2.data_ptr() : nullptr, *s_p = sum.data_ptr();
      const void *w_p = w.defined() ? w.data_ptr() : nullptr;
      const void *mean_p = mean.data_ptr(), *rstd_p = rstd.data_ptr(), *bits_p = bits.data_ptr();
      void *dx_p = dx.data_ptr(), *dr_p = dr.data_ptr(), *dw_p = dw_part.data_ptr(), *db_p = db_part.data_ptr();
      long long n_rows = rows;
      void *args[] = {&dy_p, &dy2_p, &s_p, &w_p, &mean_p, &rstd_p, &bits_p, &dx_p, &dr_p, &dw_p, &db_p, &n_rows, &scale};
      run(fn, sum, "dropout_add_ln_bwd", blocks, 128, params ? (unsigned)(2 * d * sizeof(float)) : 0, args);
    }
    at::Tensor dw, db;
    if (w.defined()) dw = column_sums(dw_part, tw);
    if (has_b) db = column_sums(db_part, tb);
    // One gradient per forward input: x, residual, weight, bias, then none for p, eps, training, the dtypes.
    return {dx, dr, dw, db, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct ActivationDropout : public torch::autograd::Function<ActivationDropout> {
  static variable_list forward(AutogradContext *ctx, const at::Tensor &x, int64_t act, double p) {
    DeviceScope guard(x);
    auto xc = x.contiguous();
    auto y = at::empty(x.sizes(), xc.options());
    const int64_t n = xc.numel(), words = (n + 31) / 32;
    auto bits = at::empty({words}, x.options().dtype(at::kInt));
    float pf = (float)p, scale = (float)(1.0 / (1.0 - p));
    if (n > 0) {
      void *fn = kernel(x, act_options(xc.scalar_type(), act), "act_dropout_fwd");
      PhiloxArgs rng(rng_state(x, 4));
      const void *xp = xc.data_ptr();
      void *yp = y.data_ptr(), *kp = bits.data_ptr();
      long long nn = n, nw = words;
      void *args[] = {&xp, &yp, &kp, &nn, &nw, &pf, &scale, &rng.seed_val, &rng.seed_ptr, &rng.offset_val,
                      &rng.offset_ptr, &rng.offset_intragraph, &rng.captured};
      const int64_t quads = (words + 3) / 4;
      run(fn, x, "act_dropout_fwd", blocks_for(quads, 8, (int64_t)sm_count(x) * 16), 256, 0, args);
    }
    // relu's backward needs only the bits; gelu's also needs x.
    ctx->save_for_backward({act == 0 ? at::Tensor() : xc, bits});
    ctx->saved_data["act"] = act;
    ctx->saved_data["scale"] = (double)scale;
    ctx->mark_non_differentiable({bits});
    return {y, bits};
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto x = saved[0], bits = saved[1];
    const int64_t act = ctx->saved_data["act"].toInt();
    float scale = (float)ctx->saved_data["scale"].toDouble();
    auto dy = grads[0];
    DeviceScope guard(dy);
    auto tx = act == 0 ? dy.scalar_type() : x.scalar_type();
    dy = dy.to(tx).contiguous();
    auto dx = at::empty(dy.sizes(), dy.options());
    const int64_t n = dy.numel();
    if (n > 0) {
      void *fn = kernel(dy, act_options(tx, act), "act_dropout_bwd");
      const void *dyp = dy.data_ptr(), *xp = x.defined() ? x.data_ptr() : nullptr, *kp = bits.data_ptr();
      void *dxp = dx.data_ptr();
      long long nn = n;
      void *args[] = {&dyp, &xp, &kp, &dxp, &nn, &scale};
      run(fn, dy, "act_dropout_bwd", blocks_for(n, 256, (int64_t)sm_count(dy) * 32), 256, 0, args);
    }
    return {dx, at::Tensor(), at::Tensor()};
  }
};

/// y = x Wᵀ + b as at::linear computes it (cuBLAS with the bias in its epilogue), with the bias gradient summed by
/// col_sum straight into the bias's dtype instead of libtorch's generic reduction and a cast. Inputs already cast
/// (by autocast) and x contiguous; the weight [N, K].
struct Linear : public torch::autograd::Function<Linear> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &w, const at::Tensor &b) {
    const int64_t k = x.size(-1), n = w.size(0);
    auto x2 = x.reshape({x.numel() / k, k});
    auto y = b.defined() ? at::addmm(b, x2, w.t()) : at::mm(x2, w.t());
    // x for the weight's gradient, W for the input's: each kept only when needed (as addmm's autograd does).
    ctx->save_for_backward({w.requires_grad() ? x : at::Tensor(), x.requires_grad() ? w : at::Tensor()});
    ctx->saved_data["x_sizes"] = x.sizes().vec();
    ctx->saved_data["n"] = n;
    ctx->saved_data["bias_dtype"] = (int64_t)(b.defined() ? b.scalar_type() : at::ScalarType::Undefined);
    auto shape = x.sizes().vec();
    shape.back() = n;
    return y.view(shape);
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto x = saved[0], w = saved[1];
    const auto x_sizes = ctx->saved_data["x_sizes"].toIntVector();
    const int64_t n = ctx->saved_data["n"].toInt(), k = x_sizes.back();
    auto g = grads[0].reshape({grads[0].numel() / n, n});
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0) && w.defined()) dx = g.mm(w).view(x_sizes);
    if (ctx->needs_input_grad(1) && x.defined()) dw = g.t().mm(x.reshape({x.numel() / k, k}));
    const int64_t bias_dtype = ctx->saved_data["bias_dtype"].toInt();
    if (ctx->needs_input_grad(2) && bias_dtype != (int64_t)at::ScalarType::Undefined) {
      DeviceScope guard(g);
      db = column_sums(g, static_cast<at::ScalarType>(bias_dtype));
    }
    return {dx, dw, db};
  }
};
#endif  // TS_WITH_CUDA

bool is_float_type(at::ScalarType t) { return t == at::kFloat || t == at::kHalf || t == at::kBFloat16; }

/// Where the kernels run: CUDA tensors, and CPU tensors under the test emulator.
bool kernels_run_on(const at::Tensor &t) { return t.is_cuda() || (t.is_cpu() && ts::jit::emulating()); }

}  // namespace

extern "C" {

int ts_fused_status(uint8_t *available, char **reason) {
  TS_TRY
    *available = 0;
    *reason = nullptr;
#ifdef TS_WITH_CUDA
    std::string why;
    if (!at::detail::getCUDAHooks().hasCUDA()) {
      why = "no CUDA device";
    } else if (ts::jit::available(&why)) {
      *available = 1;
      why = "NVRTC " + ts::jit::nvrtc_version();
    }
#else
    std::string why = "the C layer was built without CUDA headers";
#endif
    *reason = strdup(why.c_str());
  TS_CATCH
}

int ts_fused_compile_check(int32_t arch, char **log) {
  TS_TRY
    *log = nullptr;
    std::string failures;
    std::string why;
    ts::jit::available(&why);
    if (ts::jit::nvrtc_version().empty()) TORCH_CHECK(false, "cannot compile CUDA kernels: ", why);
    const at::ScalarType types[] = {at::kFloat, at::kHalf, at::kBFloat16};
    auto check = [&](const std::vector<std::string> &opts) {
      std::string err = ts::jit::compile_only(ts::fused::kernel_source, opts, arch);
      if (!err.empty() && failures.empty()) {
        failures = "options:";
        for (auto &o : opts) failures += " " + o;
        failures += "\n" + err;
      }
    };
    // Every dtype pair with and without dropout and affine parameters at a ragged and a full row length;
    // the extremes of the row length once.
    for (auto tx : types)
      for (auto tr : types)
        for (int64_t d : {33, 768})
          for (int flags = 0; flags < 4; flags++) {
            const bool dropout = flags & 1, affine = flags & 2;
            auto ts_ = at::promote_types(tx, tr);
            const auto to = tx == tr ? ts_ : at::kFloat;
            check(ln_options(tx, tr, ts_, to, tx == tr ? to : at::kBFloat16, tx == tr ? tx : at::kFloat, d, affine, affine, dropout));
          }
    for (int64_t d : {int64_t(1), kMaxRow})
      check(ln_options(at::kBFloat16, at::kFloat, at::kFloat, at::kFloat, at::kHalf, at::kFloat, d, true, true, true));
    for (auto tx : types)
      for (int64_t act : {0, 1}) check(act_options(tx, act));
    for (auto tin : types)
      for (auto tout : types) check(colsum_options(tin, tout));
    *log = strdup(failures.c_str());
  TS_CATCH
}

int ts_fused_set_emulator(const char *folder) {
  TS_TRY
    ts::jit::set_emulator(folder ? folder : "");
  TS_CATCH
}

int ts_fused_dropout_add_layer_norm(ts_tensor x, ts_tensor residual, ts_tensor weight, ts_tensor bias, double p,
                                    double eps, uint8_t training, int32_t copy_dtype, ts_tensor *out, ts_tensor *copy,
                                    ts_tensor *mask) {
  TS_TRY
#ifdef TS_WITH_CUDA
    auto &xt = ts::unwrap(x), &rt = ts::unwrap(residual);
    at::Tensor wt = weight ? ts::unwrap(weight) : at::Tensor(), bt = bias ? ts::unwrap(bias) : at::Tensor();
    TORCH_CHECK(kernels_run_on(xt) && xt.device() == rt.device(),
                "dropout_add_layer_norm: x and residual must be on the same CUDA device, got ", xt.device(), " and ",
                rt.device());
    TORCH_CHECK(xt.sizes() == rt.sizes(), "dropout_add_layer_norm: x ", xt.sizes(), " and residual ", rt.sizes(),
                " must have the same shape");
    TORCH_CHECK(xt.dim() >= 1 && xt.size(-1) >= 1 && xt.size(-1) <= kMaxRow,
                "dropout_add_layer_norm: the last dimension must be in 1...", kMaxRow, ", got ", xt.sizes());
    const int64_t d = xt.size(-1);
    for (auto *t : {&wt, &bt})
      if (t->defined())
        TORCH_CHECK(t->dim() == 1 && t->size(0) == d && t->device() == xt.device(),
                    "dropout_add_layer_norm: weight and bias must be [", d, "] on ", xt.device(), ", got ", t->sizes(),
                    " on ", t->device());
    TORCH_CHECK(is_float_type(xt.scalar_type()) && is_float_type(rt.scalar_type()),
                "dropout_add_layer_norm: x and residual must be float32, float16 or bfloat16");
    TORCH_CHECK(p >= 0 && p < 1, "dropout_add_layer_norm: p must be in [0, 1), got ", p);
    // As eager: x + residual in their promoted type; LayerNorm runs in float32 under CUDA autocast.
    auto out_dtype = at::autocast::is_autocast_enabled(xt.device().type()) ? at::kFloat
                                                                 : at::promote_types(xt.scalar_type(), rt.scalar_type());
    if (copy_dtype >= 0)
      TORCH_CHECK(is_float_type(static_cast<at::ScalarType>(copy_dtype)),
                  "dropout_add_layer_norm: the output copy must be float32, float16 or bfloat16");
    auto r = DropoutAddLayerNorm::apply(xt, rt, wt, bt, p, eps, training != 0, (int64_t)out_dtype, (int64_t)copy_dtype);
    *out = ts::wrap(r[0]);
    if (mask) *mask = ts::wrap(r[1]);
    if (copy) *copy = copy_dtype >= 0 ? ts::wrap(r[2]) : nullptr;
#else
    (void)x; (void)residual; (void)weight; (void)bias; (void)p; (void)eps; (void)training; (void)copy_dtype; (void)out;
    (void)copy; (void)mask;
    TORCH_CHECK(false, "TorchSwift's C layer was built without CUDA headers");
#endif
  TS_CATCH
}

int ts_fused_linear(ts_tensor x, ts_tensor weight, ts_tensor bias, ts_tensor *out) {
  TS_TRY
#ifdef TS_WITH_CUDA
    auto xt = ts::unwrap(x), wt = ts::unwrap(weight);
    at::Tensor bt = bias ? ts::unwrap(bias) : at::Tensor();
    TORCH_CHECK(kernels_run_on(xt) && wt.device() == xt.device() && (!bt.defined() || bt.device() == xt.device()),
                "linear: input, weight and bias must be on the same CUDA device, got ", xt.device(), ", ", wt.device(),
                bt.defined() ? std::string(" and ") + bt.device().str() : std::string());
    TORCH_CHECK(xt.dim() >= 1 && wt.dim() == 2 && xt.size(-1) == wt.size(1),
                "linear: input ", xt.sizes(), " and weight ", wt.sizes(), " do not fit (expected the input's last dimension = ",
                wt.dim() == 2 ? wt.size(1) : -1, ")");
    TORCH_CHECK(!bt.defined() || (bt.dim() == 1 && bt.size(0) == wt.size(0)), "linear: bias must be [", wt.size(0),
                "], got ", bt.sizes());
    // As autocast's linear: inputs cast to the autocast dtype (cached for leaf weights when the cache is on).
    const auto type = xt.device().type();
    if (at::autocast::is_autocast_enabled(type)) {
      const auto low = at::autocast::get_autocast_dtype(type);
      xt = at::autocast::cached_cast(low, xt, type);
      wt = at::autocast::cached_cast(low, wt, type);
      if (bt.defined()) bt = at::autocast::cached_cast(low, bt, type);
    }
    TORCH_CHECK(is_float_type(xt.scalar_type()) && xt.scalar_type() == wt.scalar_type() &&
                    (!bt.defined() || bt.scalar_type() == xt.scalar_type()),
                "linear: input, weight and bias must share one of float32, float16 or bfloat16, got ", xt.scalar_type(),
                ", ", wt.scalar_type(), bt.defined() ? std::string(", ") + c10::toString(bt.scalar_type()) : std::string());
    TORCH_CHECK(wt.size(0) > 0 && wt.size(1) > 0, "linear: the fused path needs a non-empty weight, got ", wt.sizes());
    // The backward sums the bias gradient with col_sum: build it now, so that a GPU it cannot be built for falls back
    // to eager ops here rather than failing in backward().
    if (bt.defined() && bt.requires_grad()) build_column_sums(xt, xt.scalar_type(), bt.scalar_type());
    *out = ts::wrap(Linear::apply(xt.contiguous(), wt, bt));
#else
    (void)x; (void)weight; (void)bias; (void)out;
    TORCH_CHECK(false, "TorchSwift's C layer was built without CUDA headers");
#endif
  TS_CATCH
}

int ts_fused_activation_dropout(ts_tensor x, int32_t activation, double p, ts_tensor *out, ts_tensor *mask) {
  TS_TRY
#ifdef TS_WITH_CUDA
    auto &xt = ts::unwrap(x);
    TORCH_CHECK(kernels_run_on(xt), "activation_dropout: x must be on a CUDA device, got ", xt.device());
    TORCH_CHECK(is_float_type(xt.scalar_type()), "activation_dropout: x must be float32, float16 or bfloat16");
    TORCH_CHECK(activation == 0 || activation == 1, "activation_dropout: activation must be 0 (relu) or 1 (gelu)");
    TORCH_CHECK(p > 0 && p < 1, "activation_dropout: p must be in (0, 1), got ", p);
    auto r = ActivationDropout::apply(xt, (int64_t)activation, p);
    *out = ts::wrap(r[0]);
    if (mask) *mask = ts::wrap(r[1]);
#else
    (void)x; (void)activation; (void)p; (void)out; (void)mask;
    TORCH_CHECK(false, "TorchSwift's C layer was built without CUDA headers");
#endif
  TS_CATCH
}

}  // extern "C"
