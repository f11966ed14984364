// The emulated kernels behind the C layer's launch calls (csrc/core/jit.cpp, emulated_function): one entry
// point that takes the kernel's name and a driver-style argument array (a pointer to each argument, in the
// kernel's parameter order) and runs it under emulator.h — so a wrong order or type in the C layer's arrays
// shows up in tests as it would on a GPU.
#include "emulator.h"

#include <cstring>

#include "kernels.cu"

template <typename T>
static T arg(void **a, int i) { return *static_cast<T *>(a[i]); }

extern "C" __attribute__((visibility("default"))) void ts_emulated_launch(const char *name, unsigned grid, unsigned block,
                                                                          unsigned shared_bytes, void **a) {
  if (shared_bytes > sizeof shared) { std::fprintf(stderr, "emulator: %u bytes of shared memory\n", shared_bytes); std::abort(); }
#ifdef D
  if (std::strcmp(name, "dropout_add_ln_fwd") == 0) {
    launch(grid, block, [&] {
      dropout_add_ln_fwd(arg<const TX *>(a, 0), arg<const TR *>(a, 1), arg<const TW *>(a, 2), arg<const TW *>(a, 3),
                         arg<TO *>(a, 4), arg<TL *>(a, 5), arg<TS *>(a, 6), arg<float *>(a, 7), arg<float *>(a, 8),
                         arg<u32 *>(a, 9), arg<long long>(a, 10), arg<float>(a, 11), arg<float>(a, 12),
                         arg<float>(a, 13), arg<u64>(a, 14), arg<const long long *>(a, 15), arg<u64>(a, 16),
                         arg<const long long *>(a, 17), arg<u32>(a, 18), arg<int>(a, 19));
    });
    return;
  }
  if (std::strcmp(name, "dropout_add_ln_bwd") == 0) {
    launch(grid, block, [&] {
      dropout_add_ln_bwd(arg<const TO *>(a, 0), arg<const TL *>(a, 1), arg<const TS *>(a, 2), arg<const TW *>(a, 3),
                         arg<const float *>(a, 4), arg<const float *>(a, 5), arg<const u32 *>(a, 6), arg<TX *>(a, 7),
                         arg<TR *>(a, 8), arg<float *>(a, 9), arg<float *>(a, 10), arg<long long>(a, 11),
                         arg<float>(a, 12));
    });
    return;
  }
#endif
#ifdef ACT
  if (std::strcmp(name, "act_dropout_fwd") == 0) {
    launch(grid, block, [&] {
      act_dropout_fwd(arg<const TX *>(a, 0), arg<TX *>(a, 1), arg<u32 *>(a, 2), arg<long long>(a, 3),
                      arg<long long>(a, 4), arg<float>(a, 5), arg<float>(a, 6), arg<u64>(a, 7),
                      arg<const long long *>(a, 8), arg<u64>(a, 9), arg<const long long *>(a, 10), arg<u32>(a, 11),
                      arg<int>(a, 12));
    });
    return;
  }
  if (std::strcmp(name, "act_dropout_bwd") == 0) {
    launch(grid, block, [&] {
      act_dropout_bwd(arg<const TX *>(a, 0), arg<const TX *>(a, 1), arg<const u32 *>(a, 2), arg<TX *>(a, 3),
                      arg<long long>(a, 4), arg<float>(a, 5));
    });
    return;
  }
#endif
#ifdef COLSUM
  if (std::strcmp(name, "col_sum") == 0) {
    launch(grid, block, [&] {
      col_sum(arg<const TIN *>(a, 0), arg<TOUT *>(a, 1), arg<long long>(a, 2), arg<long long>(a, 3),
              arg<long long>(a, 4));
    });
    return;
  }
#endif
  std::fprintf(stderr, "emulator: no kernel %s in this variant\n", name);
  std::abort();
}
