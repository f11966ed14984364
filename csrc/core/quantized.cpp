// Dynamic int8 linear through fbgemm (PyTorch's quantize_dynamic): `quantized::linear_prepack` packs an int8 weight
// (per-tensor or per-output-channel scales, zero point 0) once; `quantized::linear_dynamic` quantizes each batch of
// activations at run time (per tensor, uint8) and multiplies. Neither is an ATen native function, so they are called
// through the dispatcher by schema name. The packed weight is a TorchScript custom class, kept in an IValue.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/ivalue.h>

#include "../ctorch_internal.h"

namespace {
struct QPacked {
  c10::IValue packed;
};

c10::IValue call_op(const char *name, std::vector<c10::IValue> args) {
  auto op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
  torch::jit::Stack stack(std::move(args));
  op.callBoxed(&stack);
  TORCH_CHECK(stack.size() == 1, name, " returned ", stack.size(), " values");
  return stack[0];
}
}  // namespace

extern "C" {

int ts_qengine_set(const char *name) {
  TS_TRY
  std::string n(name ? name : "");
  at::QEngine e;
  if (n == "fbgemm") e = at::QEngine::FBGEMM;
  else if (n == "qnnpack") e = at::QEngine::QNNPACK;
  else if (n == "x86") e = at::QEngine::X86;
  else if (n == "onednn") e = at::QEngine::ONEDNN;
  else TORCH_CHECK(false, "unknown quantized engine '", n, "' (known: fbgemm, x86, qnnpack, onednn)");
  at::globalContext().setQEngine(e);
  return 0;
  TS_CATCH
}

int ts_qlinear_dynamic_prepack(ts_tensor weight_int8, ts_tensor scales, ts_tensor bias, void **out) {
  TS_TRY
  auto &w = ts::unwrap(weight_int8);
  auto &s = ts::unwrap(scales);
  TORCH_CHECK(w.scalar_type() == at::kChar && w.dim() == 2, "dynamic int8 linear: weight must be a 2-D int8 tensor, got ",
              w.scalar_type(), " of ", w.dim(), " dims");
  TORCH_CHECK(w.device().is_cpu(), "dynamic int8 linear: fbgemm runs on the CPU only");
  at::Tensor q;
  if (s.numel() == 1) {
    q = at::_make_per_tensor_quantized_tensor(w.contiguous(), s.item<double>(), 0);
  } else {
    TORCH_CHECK(s.numel() == w.size(0), "dynamic int8 linear: ", s.numel(), " scales for ", w.size(0), " output channels");
    auto zp = at::zeros({w.size(0)}, at::kLong);
    q = at::_make_per_channel_quantized_tensor(w.contiguous(), s.to(at::kDouble).contiguous(), zp, 0);
  }
  std::optional<at::Tensor> b;
  if (bias) b = ts::unwrap(bias).to(at::kFloat).contiguous();
  auto packed = call_op("quantized::linear_prepack", {q, b});
  *out = new QPacked{std::move(packed)};
  return 0;
  TS_CATCH
}

int ts_qlinear_dynamic(void *packed, ts_tensor x, uint8_t reduce_range, ts_tensor *out) {
  TS_TRY
  TORCH_CHECK(packed != nullptr, "dynamic int8 linear: no packed weight");
  auto *p = static_cast<QPacked *>(packed);
  auto y = call_op("quantized::linear_dynamic", {ts::unwrap(x), p->packed, (bool)reduce_range});
  *out = ts::wrap(y.toTensor());
  return 0;
  TS_CATCH
}

void ts_qlinear_dynamic_free(void *packed) { delete static_cast<QPacked *>(packed); }

}  // extern "C"
