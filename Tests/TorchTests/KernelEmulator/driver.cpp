// Runs one variant of the fused kernels (the macros of csrc/core/fused_kernels.h set on the command line) under
// emulator.h, on float32 files in a folder, and writes float32 results there (see FusedKernelEmulationTests).
//   LayerNorm (-DD=…):  driver DIR ROWS P EPS SEED OFFSET HAS_COPY HAS_DY2 GRID_FWD GRID_BWD
//     reads x r w b dy [dy2]; writes y [y2] s mean rstd bits dx dr dw db
//   activation (-DACT=…): driver DIR N P SEED OFFSET GRID_FWD GRID_BWD
//     reads x dy; writes y bits dx
#include "emulator.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels.cu"

static std::string folder;

static std::vector<float> read_f32(const char *name, size_t count) {
  std::vector<float> v(count);
  FILE *f = std::fopen((folder + "/" + name).c_str(), "rb");
  if (!f) { std::fprintf(stderr, "cannot open %s\n", name); std::exit(2); }
  if (std::fread(v.data(), 4, count, f) != count) { std::fprintf(stderr, "short read %s\n", name); std::exit(2); }
  std::fclose(f);
  return v;
}

template <typename T>
static std::vector<T> converted(const std::vector<float> &v) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); i++) out[i] = from_f<T>(v[i]);
  return out;
}

template <typename T>
static void write_f32(const char *name, const std::vector<T> &v) {
  std::vector<float> f(v.size());
  for (size_t i = 0; i < v.size(); i++) f[i] = to_f(v[i]);
  FILE *out = std::fopen((folder + "/" + name).c_str(), "wb");
  std::fwrite(f.data(), 4, f.size(), out);
  std::fclose(out);
}

static void write_u32(const char *name, const std::vector<u32> &v) {
  FILE *out = std::fopen((folder + "/" + name).c_str(), "wb");
  std::fwrite(v.data(), 4, v.size(), out);
  std::fclose(out);
}

int main(int argc, char **argv) {
#ifdef D
  if (argc != 11) { std::fprintf(stderr, "usage: see driver.cpp\n"); return 2; }
  folder = argv[1];
  const long long rows = std::atoll(argv[2]);
  const float p = (float)std::atof(argv[3]), eps = (float)std::atof(argv[4]);
  const u64 seed = std::strtoull(argv[5], nullptr, 10), offset = std::strtoull(argv[6], nullptr, 10);
  const bool has_copy = std::atoi(argv[7]) != 0, has_dy2 = std::atoi(argv[8]) != 0;
  const unsigned grid_fwd = (unsigned)std::atoi(argv[9]), grid_bwd = (unsigned)std::atoi(argv[10]);
  const size_t n = (size_t)rows * D, words = (size_t)rows * N;
  const float scale = p > 0 ? 1.0f / (1.0f - p) : 1.0f;
  auto x = converted<TX>(read_f32("x", n));
  auto r = converted<TR>(read_f32("r", n));
  auto w = converted<TW>(read_f32("w", D));
  auto b = converted<TW>(read_f32("b", D));
  std::vector<TO> y(n);
  std::vector<TL> y2(has_copy ? n : 0);
  std::vector<TS> s(n);
  std::vector<float> mean(rows), rstd(rows);
  std::vector<u32> bits(words);
  launch(grid_fwd, 128, [&] {
    dropout_add_ln_fwd(x.data(), r.data(), w.data(), b.data(), y.data(), has_copy ? y2.data() : nullptr, s.data(),
                       mean.data(), rstd.data(), bits.data(), rows, p, scale, eps, seed, nullptr, offset, nullptr, 0, 0);
  });
  auto dy = converted<TO>(read_f32("dy", n));
  std::vector<TL> dy2;
  if (has_dy2) dy2 = converted<TL>(read_f32("dy2", n));
  std::vector<TX> dx(n);
  std::vector<TR> dr(n);
  std::vector<float> dw_part((size_t)grid_bwd * D, 0.f), db_part((size_t)grid_bwd * D, 0.f);
  launch(grid_bwd, 128, [&] {
    dropout_add_ln_bwd(dy.data(), has_dy2 ? dy2.data() : nullptr, s.data(), w.data(), mean.data(), rstd.data(),
                       bits.data(), dx.data(), dr.data(), dw_part.data(), db_part.data(), rows, scale);
  });
  std::vector<float> dw(D, 0.f), db(D, 0.f);
  for (unsigned g = 0; g < grid_bwd; g++)
    for (int j = 0; j < D; j++) { dw[j] += dw_part[(size_t)g * D + j]; db[j] += db_part[(size_t)g * D + j]; }
  write_f32("y", y);
  if (has_copy) write_f32("y2", y2);
  write_f32("s", s);
  write_f32("mean", mean);
  write_f32("rstd", rstd);
  write_u32("bits", bits);
  write_f32("dx", dx);
  write_f32("dr", dr);
  write_f32("dw", dw);
  write_f32("db", db);
#else
  if (argc != 8) { std::fprintf(stderr, "usage: see driver.cpp\n"); return 2; }
  folder = argv[1];
  const long long n = std::atoll(argv[2]);
  const float p = (float)std::atof(argv[3]);
  const u64 seed = std::strtoull(argv[4], nullptr, 10), offset = std::strtoull(argv[5], nullptr, 10);
  const unsigned grid_fwd = (unsigned)std::atoi(argv[6]), grid_bwd = (unsigned)std::atoi(argv[7]);
  const long long words = (n + 31) / 32;
  const float scale = 1.0f / (1.0f - p);
  auto x = converted<TX>(read_f32("x", (size_t)n));
  std::vector<TX> y((size_t)n);
  std::vector<u32> bits((size_t)words);
  launch(grid_fwd, 256, [&] {
    act_dropout_fwd(x.data(), y.data(), bits.data(), n, words, p, scale, seed, nullptr, offset, nullptr, 0, 0);
  });
  auto dy = converted<TX>(read_f32("dy", (size_t)n));
  std::vector<TX> dx((size_t)n);
  launch(grid_bwd, 256, [&] { act_dropout_bwd(dy.data(), x.data(), bits.data(), dx.data(), n, scale); });
  write_f32("y", y);
  write_u32("bits", bits);
  write_f32("dx", dx);
#endif
  return 0;
}
