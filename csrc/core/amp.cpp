// Autocast and backend switches (TF32, cuDNN benchmark, deterministic algorithms). No CUDA headers needed.
#include <ATen/autocast_mode.h>

#include "../ctorch_internal.h"

extern "C" {

int ts_autocast_set_enabled(int32_t device_type, uint8_t enabled) {
  TS_TRY
    at::autocast::set_autocast_enabled(static_cast<c10::DeviceType>(device_type), enabled != 0);
  TS_CATCH
}

int ts_autocast_is_enabled(int32_t device_type, uint8_t *out) {
  TS_TRY
    *out = at::autocast::is_autocast_enabled(static_cast<c10::DeviceType>(device_type)) ? 1 : 0;
  TS_CATCH
}

int ts_autocast_set_dtype(int32_t device_type, int32_t dtype) {
  TS_TRY
    at::autocast::set_autocast_dtype(static_cast<c10::DeviceType>(device_type), static_cast<at::ScalarType>(dtype));
  TS_CATCH
}

int ts_autocast_get_dtype(int32_t device_type, int32_t *out) {
  TS_TRY
    *out = static_cast<int32_t>(at::autocast::get_autocast_dtype(static_cast<c10::DeviceType>(device_type)));
  TS_CATCH
}

int ts_autocast_enter(void) {
  TS_TRY
    at::autocast::increment_nesting();
  TS_CATCH
}

int ts_autocast_exit(void) {
  TS_TRY
    // As torch.autocast.__exit__: drop the cast cache when the outermost region ends.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  TS_CATCH
}

int ts_autocast_set_cache_enabled(uint8_t enabled) {
  TS_TRY
    at::autocast::set_autocast_cache_enabled(enabled != 0);
  TS_CATCH
}

int ts_autocast_is_cache_enabled(uint8_t *out) {
  TS_TRY
    *out = at::autocast::is_autocast_cache_enabled() ? 1 : 0;
  TS_CATCH
}

int ts_set_allow_tf32_matmul(uint8_t allow) {
  TS_TRY
    at::globalContext().setAllowTF32CuBLAS(allow != 0);
  TS_CATCH
}

int ts_allow_tf32_matmul(uint8_t *out) {
  TS_TRY
    *out = at::globalContext().allowTF32CuBLAS() ? 1 : 0;
  TS_CATCH
}

int ts_set_allow_tf32_cudnn(uint8_t allow) {
  TS_TRY
    at::globalContext().setAllowTF32CuDNN(allow != 0);
  TS_CATCH
}

int ts_allow_tf32_cudnn(uint8_t *out) {
  TS_TRY
    *out = at::globalContext().allowTF32CuDNN() ? 1 : 0;
  TS_CATCH
}

int ts_set_cudnn_benchmark(uint8_t on) {
  TS_TRY
    at::globalContext().setBenchmarkCuDNN(on != 0);
  TS_CATCH
}

int ts_cudnn_benchmark(uint8_t *out) {
  TS_TRY
    *out = at::globalContext().benchmarkCuDNN() ? 1 : 0;
  TS_CATCH
}

int ts_set_deterministic(uint8_t on, uint8_t warn_only) {
  TS_TRY
    at::globalContext().setDeterministicAlgorithms(on != 0, warn_only != 0);
  TS_CATCH
}

int ts_deterministic(uint8_t *out) {
  TS_TRY
    *out = at::globalContext().deterministicAlgorithms() ? 1 : 0;
  TS_CATCH
}

}  // extern "C"
