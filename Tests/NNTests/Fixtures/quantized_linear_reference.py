"""Reference outputs of PyTorch's quantized linears for Tests/NNTests/QuantizedLinearTests.swift.

Usage: quantized_linear_reference.py OUT.safetensors

One random float32 Linear (w [96, 256], b [96]) and input x [2, 5, 256], quantized as:
  int8_*        gpt-fast's dynamically_quantize_per_channel (int8, symmetric per output channel) and
                torch._weight_int8pack_mm(x, q, scales) + b;
  int4_g{G}_*   gpt-fast's group_quantize_tensor (4 bits, asymmetric per group of G inputs; G = 32, 64, 128, 256),
                torch._convert_weight_to_int4pack_for_cpu(q, 2) and torch._weight_int4pack_mm_for_cpu(...) + b;
  dyn_*         torch.ao.quantization.quantize_dynamic (qint8 weights per tensor, fbgemm/x86 linear_dynamic);
  intmm_out     int8 weights per tensor (as dyn_*), activations per row (max|x| / 127), torch._int_mm;
  float_out     F.linear(x, w, b);
  mask24        w's 2:4 mask by magnitude (the 2 largest |w| of every 4 consecutive inputs), as torch.ao.pruning's
                WeightNormSparsifier(sparsity_level=1.0, sparse_block_shape=(1, 4), zeros_per_block=2) makes it.
The Swift test runs this once (cached by the script's hash) and compares against it.
"""

import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
N, K = 96, 256
w = torch.randn(N, K) * 0.05
b = torch.randn(N) * 0.1
x = torch.randn(2, 5, K)
x2 = x.reshape(-1, K)
out = {"w": w, "b": b, "x": x, "float_out": F.linear(x, w, b)}


# gpt-fast quantize.py, verbatim apart from the device argument.
def dynamically_quantize_per_channel(x, quant_min, quant_max, target_dtype):
    eps = torch.finfo(torch.float32).eps
    min_val, max_val = torch.aminmax(x, dim=1)
    min_val_neg = torch.min(min_val, torch.zeros_like(min_val))
    max_val_pos = torch.max(max_val, torch.zeros_like(max_val))
    max_val_pos = torch.max(-min_val_neg, max_val_pos)
    scales = max_val_pos / (float(quant_max - quant_min) / 2)
    scales = torch.clamp(scales, min=eps).to(x.dtype)
    zero_points = torch.zeros(min_val_neg.size(), dtype=torch.int64)
    x_div = x / scales.unsqueeze(-1)
    x_round = torch.round(x_div)
    x_zp = x_round + zero_points.unsqueeze(-1)
    quant = torch.clamp(x_zp, quant_min, quant_max).to(target_dtype)
    return quant, scales, zero_points


def get_group_qparams(w, n_bit=4, groupsize=128):
    to_quant = w.reshape(-1, groupsize)
    max_val = to_quant.amax(dim=1, keepdim=True)
    min_val = to_quant.amin(dim=1, keepdim=True)
    max_int = 2**n_bit - 1
    scales = (max_val - min_val).clamp(min=1e-6) / max_int
    zeros = min_val + scales * (2 ** (n_bit - 1))
    return scales.to(torch.bfloat16 if False else w.dtype).reshape(w.shape[0], -1), zeros.to(w.dtype).reshape(
        w.shape[0], -1)


def group_quantize_tensor_from_qparams(w, scales, zeros, n_bit=4, groupsize=128):
    to_quant = w.reshape(-1, groupsize)
    scales = scales.reshape(-1, 1)
    zeros = zeros.reshape(-1, 1)
    min_val = zeros - scales * (2 ** (n_bit - 1))
    max_int = 2**n_bit - 1
    min_int = 0
    return to_quant.sub(min_val).div(scales).round().clamp_(min_int, max_int).to(torch.int32).reshape_as(w)


q8, s8, _ = dynamically_quantize_per_channel(w, -128, 127, torch.int8)
out["int8_q"], out["int8_scales"] = q8, s8
out["int8_out"] = torch._weight_int8pack_mm(x2, q8, s8).reshape(2, 5, N) + b

for g in (32, 64, 128, 256):
    scales, zeros = get_group_qparams(w, 4, g)
    q = group_quantize_tensor_from_qparams(w, scales, zeros, 4, g)
    sz = torch.cat([scales.t().unsqueeze(-1), zeros.t().unsqueeze(-1)], 2).contiguous()  # [K/g, N, 2]
    packed = torch._convert_weight_to_int4pack_for_cpu(q, 2)
    out[f"int4_g{g}_q"], out[f"int4_g{g}_scales"], out[f"int4_g{g}_zeros"] = q, scales, zeros
    out[f"int4_g{g}_out"] = torch._weight_int4pack_mm_for_cpu(x2, packed, g, sz).reshape(2, 5, N) + b

lin = torch.nn.Linear(K, N)
with torch.no_grad():
    lin.weight.copy_(w)
    lin.bias.copy_(b)
qmodel = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8)
qw = qmodel[0].weight()
out["dyn_q"] = qw.int_repr()
out["dyn_scale"] = torch.tensor([qw.q_scale()], dtype=torch.float32)
out["dyn_out"] = qmodel(x)
sx = (x2.abs().amax(1, keepdim=True) / 127).clamp(min=torch.finfo(torch.float32).eps)
qx = (x2 / sx).round().clamp(-127, 127).to(torch.int8)
out["intmm_out"] = (torch._int_mm(qx, out["dyn_q"].t()).float() * sx * out["dyn_scale"]).reshape(2, 5, N) + b
from torch.ao.pruning import WeightNormSparsifier

sparse = torch.nn.Sequential(torch.nn.Linear(K, N))
with torch.no_grad():
    sparse[0].weight.copy_(w)
sparsifier = WeightNormSparsifier(sparsity_level=1.0, sparse_block_shape=(1, 4), zeros_per_block=2)
sparsifier.prepare(sparse, [{"tensor_fqn": "0.weight"}])
sparsifier.step()
out["mask24"] = sparse[0].parametrizations.weight[0].mask.to(torch.float32)
save_file({k: v.contiguous() for k, v in out.items()}, sys.argv[1])
