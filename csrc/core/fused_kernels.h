// CUDA C source of TorchSwift's fused kernels, compiled at run time by NVRTC (jit.h) with the macros:
//   TX, TR, TS, TO, TW   element types (f32, f16, bf16) of x, residual, x + residual, the output, weight/bias
//   TL                   type of the output's low-precision copy (autocast's cast of it, written when y2 is set)
//   D                    row length (LayerNorm's normalized size), HAS_W, HAS_B, DROPOUT, ACT (0 relu, 1 gelu)
//   TIN, TOUT            input and output types of col_sum (compiled when COLSUM is defined)
// Dropout masks come from Philox-4x32-10 keyed by the CUDA generator's seed and offset (graph-safe, as
// PyTorch's own dropout) and are kept as bits: bit `lane` of word i of a row in the LayerNorm kernels, bit
// e % 32 of word e / 32 (flat index e) in the activation kernels.
#pragma once

namespace ts::fused {

inline const char *kernel_source = R"CUDA(
typedef unsigned int u32;
typedef unsigned long long u64;
typedef float f32;
struct f16 { unsigned short x; };
struct bf16 { unsigned short x; };

__device__ __forceinline__ float to_f(f32 v) { return v; }
#ifdef TS_HOST_EMULATION  // Tests/TorchTests/KernelEmulator runs this source on the CPU
__device__ __forceinline__ float to_f(f16 v) { return ts_emu_half_to_float(v.x); }
#else
__device__ __forceinline__ float to_f(f16 v) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v.x)); return f; }
#endif
__device__ __forceinline__ float to_f(bf16 v) { return __uint_as_float(((u32)v.x) << 16); }
template <typename T> __device__ __forceinline__ T from_f(float f);
template <> __device__ __forceinline__ f32 from_f<f32>(float f) { return f; }
template <> __device__ __forceinline__ f16 from_f<f16>(float f) {
  f16 r;
#ifdef TS_HOST_EMULATION
  r.x = ts_emu_float_to_half(f);
#else
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r.x) : "f"(f));
#endif
  return r;
}
template <> __device__ __forceinline__ bf16 from_f<bf16>(float f) {
  u32 u = __float_as_uint(f);
  bf16 r;
  if ((u & 0x7fffffffu) > 0x7f800000u) { r.x = (unsigned short)((u >> 16) | 0x40u); return r; }  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
  r.x = (unsigned short)(u >> 16);
  return r;
}
/// `f` rounded to T's precision, as eager ops that store a T round it.
template <typename T> __device__ __forceinline__ float round_to(float f) { return to_f(from_f<T>(f)); }

struct u4 { u32 a, b, c, d; };

/// Philox-4x32-10 (Salmon et al., as cuRAND): counter (offset, subsequence), key seed.
__device__ __forceinline__ u4 philox(u64 seed, u64 offset, u64 subsequence) {
  u32 k0 = (u32)seed, k1 = (u32)(seed >> 32);
  u32 c0 = (u32)offset, c1 = (u32)(offset >> 32), c2 = (u32)subsequence, c3 = (u32)(subsequence >> 32);
#pragma unroll
  for (int round = 0; round < 10; round++) {
    if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
    const u32 hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    const u32 hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  u4 r = {c0, c1, c2, c3};
  return r;
}

__device__ __forceinline__ u32 pick(const u4 &r, int j) { return j == 0 ? r.a : j == 1 ? r.b : j == 2 ? r.c : r.d; }

/// Keep with probability 1 - p: a 24-bit uniform in [0, 1) compared with p.
__device__ __forceinline__ bool keep_draw(u32 r, float p) { return (float)(r >> 8) * (1.0f / 16777216.0f) >= p; }

/// The generator state as at::cuda::philox::unpack reads it: values, or pointers filled at graph replay.
__device__ __forceinline__ void unpack(u64 seed_val, const long long *seed_ptr, u64 offset_val,
                                      const long long *offset_ptr, u32 offset_intragraph, int captured,
                                      u64 &seed, u64 &offset) {
  if (captured) {
    seed = (u64)*seed_ptr;
    offset = (u64)*offset_ptr + offset_intragraph;
  } else {
    seed = seed_val;
    offset = offset_val;
  }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

#ifdef D
#define N ((D + 31) / 32)
#define NG ((N + 3) / 4)

/// y = LayerNorm(residual + dropout(x)) over rows of D, one warp per row; the row stays in registers.
/// s = residual + dropout(x) is kept for the backward (as eager LayerNorm keeps its input).
extern "C" __global__ void __launch_bounds__(128) dropout_add_ln_fwd(
    const TX *__restrict__ x, const TR *__restrict__ r, const TW *__restrict__ w, const TW *__restrict__ b,
    TO *__restrict__ y, TL *__restrict__ y2, TS *__restrict__ s_out, float *__restrict__ mean_out, float *__restrict__ rstd_out, u32 *__restrict__ bits,
    long long rows, float p, float scale, float eps, u64 seed_val, const long long *seed_ptr, u64 offset_val,
    const long long *offset_ptr, u32 offset_intragraph, int captured) {
  const int lane = threadIdx.x & 31;
  const long long first = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const long long step = ((long long)gridDim.x * blockDim.x) >> 5;
  u64 seed = 0, offset = 0;
#if DROPOUT
  unpack(seed_val, seed_ptr, offset_val, offset_ptr, offset_intragraph, captured, seed, offset);
#endif
  for (long long row = first; row < rows; row += step) {
    const long long base = row * D;
    float v[N];
    float sum = 0.f;
    u4 rnd = {0u, 0u, 0u, 0u};
#pragma unroll
    for (int i = 0; i < N; i++) {
      const int col = i * 32 + lane;
      float s = 0.f;
      bool keep = true;
#if DROPOUT
      if (i % 4 == 0) rnd = philox(seed, offset / 4, (u64)(row * NG + i / 4) * 32u + (u64)lane);
      keep = keep_draw(pick(rnd, i % 4), p);
#endif
      if (col < D) {
        const float xv = to_f(x[base + col]);
#if DROPOUT
        const float d = keep ? round_to<TX>(xv * scale) : 0.f;
#else
        const float d = xv;
#endif
        s = round_to<TS>(to_f(r[base + col]) + d);
        s_out[base + col] = from_f<TS>(s);  // exact: s is already rounded to TS
      }
#if DROPOUT
      const u32 word = __ballot_sync(0xffffffffu, keep && col < D);
      if (lane == 0) bits[row * N + i] = word;
#endif
      v[i] = s;
      sum += s;
    }
    const float mean = warp_sum(sum) * (1.0f / D);
    float sq = 0.f;
#pragma unroll
    for (int i = 0; i < N; i++) {
      const float dv = v[i] - mean;
      if (i * 32 + lane < D) sq += dv * dv;
    }
    const float rstd = rsqrtf(warp_sum(sq) * (1.0f / D) + eps);
#pragma unroll
    for (int i = 0; i < N; i++) {
      const int col = i * 32 + lane;
      if (col < D) {
        float o = (v[i] - mean) * rstd;
#if HAS_W
        o = o * to_f(w[col]);
#endif
#if HAS_B
        o = o + to_f(b[col]);
#endif
        const TO yo = from_f<TO>(o);
        y[base + col] = yo;
        if (y2) y2[base + col] = from_f<TL>(to_f(yo));
      }
    }
    if (lane == 0) {
      mean_out[row] = mean;
      rstd_out[row] = rstd;
    }
  }
}

/// Gradients of dropout_add_ln_fwd (from the output and, when dy2 is set, its low-precision copy): dx and dresidual
/// per row, dweight and dbias as one partial row per block (summed over blocks by the caller); from s and the bits.
extern "C" __global__ void __launch_bounds__(128) dropout_add_ln_bwd(
    const TO *__restrict__ dy, const TL *__restrict__ dy2, const TS *__restrict__ s_in, const TW *__restrict__ w,
    const float *__restrict__ mean_in, const float *__restrict__ rstd_in, const u32 *__restrict__ bits,
    TX *__restrict__ dx, TR *__restrict__ dr, float *__restrict__ dw_part, float *__restrict__ db_part,
    long long rows, float scale) {
  extern __shared__ float shared[];  // [2 * D]: this block's dweight, dbias
  const int lane = threadIdx.x & 31;
  const long long first = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const long long step = ((long long)gridDim.x * blockDim.x) >> 5;
#if HAS_W || HAS_B
  for (int j = threadIdx.x; j < 2 * D; j += blockDim.x) shared[j] = 0.f;
  __syncthreads();
#endif
  float dw_acc[N], db_acc[N];
#pragma unroll
  for (int i = 0; i < N; i++) { dw_acc[i] = 0.f; db_acc[i] = 0.f; }
  for (long long row = first; row < rows; row += step) {
    const long long base = row * D;
    const float mean = mean_in[row], rstd = rstd_in[row];
    float xhat[N], g[N];
    bool keep[N];
    float s1 = 0.f, s2 = 0.f;
#pragma unroll
    for (int i = 0; i < N; i++) {
      const int col = i * 32 + lane;
#if DROPOUT
      keep[i] = (bits[row * N + i] >> lane) & 1u;
#else
      keep[i] = true;
#endif
      xhat[i] = 0.f;
      g[i] = 0.f;
      if (col < D) {
        const float s = to_f(s_in[base + col]);
        xhat[i] = (s - mean) * rstd;
        float dyv = to_f(dy[base + col]);
        if (dy2) dyv += to_f(dy2[base + col]);  // the gradient through the low-precision copy
#if HAS_W
        g[i] = dyv * to_f(w[col]);
#else
        g[i] = dyv;
#endif
        dw_acc[i] += dyv * xhat[i];
        db_acc[i] += dyv;
        s1 += g[i];
        s2 += g[i] * xhat[i];
      }
    }
    const float c1 = warp_sum(s1) * (1.0f / D), c2 = warp_sum(s2) * (1.0f / D);
#pragma unroll
    for (int i = 0; i < N; i++) {
      const int col = i * 32 + lane;
      if (col < D) {
        const float ds = rstd * (g[i] - c1 - xhat[i] * c2);
        dr[base + col] = from_f<TR>(ds);
#if DROPOUT
        dx[base + col] = from_f<TX>(keep[i] ? ds * scale : 0.f);
#else
        dx[base + col] = from_f<TX>(ds);
#endif
      }
    }
  }
#if HAS_W || HAS_B
#pragma unroll
  for (int i = 0; i < N; i++) {
    const int col = i * 32 + lane;
    if (col < D) {
      atomicAdd(&shared[col], dw_acc[i]);
      atomicAdd(&shared[D + col], db_acc[i]);
    }
  }
  __syncthreads();
  for (int j = threadIdx.x; j < D; j += blockDim.x) {
    dw_part[(long long)blockIdx.x * D + j] = shared[j];
    db_part[(long long)blockIdx.x * D + j] = shared[D + j];
  }
#endif
}
#endif  // D

#ifdef ACT
__device__ __forceinline__ float activation(float v) {
#if ACT == 0
  return v <= 0.f ? 0.f : v;  // NaN passes, as torch.relu
#else
  return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
#endif
}

/// y = dropout(activation(x)) over a flat contiguous tensor of n elements. Each warp step covers four
/// 32-element words; the kept bits (for relu: kept and x > 0, all its backward needs) go to bits[].
extern "C" __global__ void __launch_bounds__(256) act_dropout_fwd(
    const TX *__restrict__ x, TX *__restrict__ y, u32 *__restrict__ bits, long long n, long long words, float p,
    float scale, u64 seed_val, const long long *seed_ptr, u64 offset_val, const long long *offset_ptr,
    u32 offset_intragraph, int captured) {
  const int lane = threadIdx.x & 31;
  const long long first = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const long long step = ((long long)gridDim.x * blockDim.x) >> 5;
  u64 seed = 0, offset = 0;
  unpack(seed_val, seed_ptr, offset_val, offset_ptr, offset_intragraph, captured, seed, offset);
  for (long long q = first; q * 4 < words; q += step) {
    const u4 rnd = philox(seed, offset / 4, (u64)q * 32u + (u64)lane);
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const long long word = q * 4 + j;
      if (word < words) {
        const long long e = word * 32 + lane;
        const bool valid = e < n;
        const float xv = valid ? to_f(x[e]) : 0.f;
        const float a = round_to<TX>(activation(xv));
        const bool keep = keep_draw(pick(rnd, j), p);
        if (valid) y[e] = from_f<TX>(keep ? a * scale : 0.f);
#if ACT == 0
        const bool bit = valid && keep && !(xv <= 0.f);
#else
        const bool bit = valid && keep;
#endif
        const u32 mask = __ballot_sync(0xffffffffu, bit);
        if (lane == 0) bits[word] = mask;
      }
    }
  }
}

/// dx of act_dropout_fwd from dy, the bits and (gelu) x.
extern "C" __global__ void __launch_bounds__(256) act_dropout_bwd(
    const TX *__restrict__ dy, const TX *__restrict__ x, const u32 *__restrict__ bits, TX *__restrict__ dx,
    long long n, float scale) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += stride) {
    const bool bit = (bits[e >> 5] >> (e & 31)) & 1u;
    float g = 0.f;
    if (bit) {
#if ACT == 0
      g = to_f(dy[e]) * scale;
#else
      const float v = to_f(x[e]);
      const float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
      const float pdf = expf(-0.5f * v * v) * 0.39894228040143268f;
      g = round_to<TX>(to_f(dy[e]) * scale) * (cdf + v * pdf);
#endif
    }
    dx[e] = from_f<TX>(g);
  }
}
#endif  // ACT

#ifdef COLSUM
/// Column sums of a row-major [rows, cols] matrix in float, deterministic (a fixed order, no atomics): block b sums
/// the 32 columns of tile b % tiles over rows [split · rows_per_split, (split + 1) · rows_per_split) with split =
/// b / tiles, its eight warps taking every eighth row, then adds the warps' sums in order, into out[split · cols + c].
/// With rows_per_split < rows it writes per-split partial sums for a second pass.
extern "C" __global__ void __launch_bounds__(256) col_sum(
    const TIN *__restrict__ in, TOUT *__restrict__ out, long long rows, long long cols, long long rows_per_split) {
  extern __shared__ float shared[];  // [8 * 32]: each warp's sums
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const long long tiles = (cols + 31) / 32;
  const long long tile = blockIdx.x % tiles, split = blockIdx.x / tiles;
  const long long col = tile * 32 + lane;
  const long long begin = split * rows_per_split;
  const long long end = begin + rows_per_split < rows ? begin + rows_per_split : rows;
  float acc = 0.f;
  if (col < cols) {
    for (long long r = begin + warp; r < end; r += 8) acc += to_f(in[r * cols + col]);
  }
  shared[warp * 32 + lane] = acc;
  __syncthreads();
  if (warp == 0 && col < cols) {
    float total = 0.f;
#pragma unroll
    for (int w = 0; w < 8; w++) total += shared[w * 32 + lane];
    out[split * cols + col] = from_f<TOUT>(total);
  }
}
#endif  // COLSUM
)CUDA";

}  // namespace ts::fused
