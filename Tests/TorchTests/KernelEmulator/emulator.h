// Runs TorchSwift's CUDA kernel source (csrc/core/fused_kernels.h) on the CPU for tests: each block's threads
// are std::threads, warps meet at barriers for shuffles and ballots, __syncthreads is a block barrier. Only
// what the fused kernels use is emulated. Compiled by FusedKernelEmulationTests with g++ -std=c++20.
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__

struct Dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local Dim3 threadIdx, blockIdx;
inline Dim3 blockDim, gridDim;
inline float shared[1 << 15];  // a block's dynamic shared memory (one block runs at a time)

struct Block {
  explicit Block(unsigned threads) : all((std::ptrdiff_t)threads), values(threads), flags(threads) {
    for (unsigned w = 0; w < threads / 32; w++) warps.push_back(std::make_unique<std::barrier<>>(32));
  }
  std::barrier<> all;
  std::vector<std::unique_ptr<std::barrier<>>> warps;
  std::vector<float> values;
  std::vector<unsigned> flags;
};
inline thread_local Block *current_block = nullptr;

inline float __shfl_xor_sync(unsigned, float v, int lane_mask) {
  Block &b = *current_block;
  const unsigned t = threadIdx.x, w = t / 32, lane = t % 32;
  b.values[t] = v;
  b.warps[w]->arrive_and_wait();
  const float r = b.values[w * 32 + (lane ^ (unsigned)lane_mask)];
  b.warps[w]->arrive_and_wait();
  return r;
}

inline unsigned __ballot_sync(unsigned, bool predicate) {
  Block &b = *current_block;
  const unsigned t = threadIdx.x, w = t / 32;
  b.flags[t] = predicate ? 1u : 0u;
  b.warps[w]->arrive_and_wait();
  unsigned r = 0;
  for (unsigned l = 0; l < 32; l++) r |= b.flags[w * 32 + l] << l;
  b.warps[w]->arrive_and_wait();
  return r;
}

inline void __syncthreads() { current_block->all.arrive_and_wait(); }

inline std::mutex atomic_mutex;
inline float atomicAdd(float *address, float v) {
  std::lock_guard<std::mutex> lock(atomic_mutex);
  const float old = *address;
  *address = old + v;
  return old;
}

inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

/// IEEE half ↔ float, round to nearest even (as cvt.rn.f16.f32).
inline float ts_emu_half_to_float(unsigned short h) {
  const unsigned sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
  if (exp == 0) {
    const float v = std::ldexp((float)man, -24);
    return sign ? -v : v;
  }
  if (exp == 31) return __uint_as_float(sign | 0x7f800000u | (man << 13));
  return __uint_as_float(sign | ((exp + 112) << 23) | (man << 13));
}
inline unsigned short ts_emu_float_to_half(float f) {
  const unsigned u = __float_as_uint(f), sign = (u >> 16) & 0x8000u;
  const float a = std::fabs(f);
  if (std::isnan(f)) return (unsigned short)(sign | 0x7e00u);
  if (a >= 65520.0f) return (unsigned short)(sign | 0x7c00u);  // rounds to infinity
  if (a < 6.103515625e-05f) {  // subnormal half: a multiple of 2^-24, rounded to nearest even
    const float q = std::nearbyint(a * 16777216.0f);
    return (unsigned short)(sign | (unsigned)q);
  }
  const unsigned au = __float_as_uint(a);
  unsigned exp = (au >> 23) - 112, man = au & 0x7fffffu;
  unsigned half_man = man >> 13, rest = man & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half_man & 1u))) {
    half_man++;
    if (half_man == 0x400u) { half_man = 0; exp++; }
  }
  return (unsigned short)(sign | (exp << 10) | half_man);
}

/// Runs `body` as a grid of `grid` blocks of `threads` threads, one block at a time.
template <typename F>
void launch(unsigned grid, unsigned threads, F body) {
  gridDim = {grid, 1, 1};
  blockDim = {threads, 1, 1};
  for (unsigned bi = 0; bi < grid; bi++) {
    Block block(threads);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; t++) {
      pool.emplace_back([&, bi, t] {
        blockIdx = {bi, 1, 1};
        threadIdx = {t, 1, 1};
        current_block = &block;
        body();
      });
    }
    for (auto &th : pool) th.join();
  }
}
