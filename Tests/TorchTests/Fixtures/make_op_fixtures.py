#!/usr/bin/env python3
"""Reference values for TorchSwift's op-parity test (Tests/TorchTests/OpParityTests.swift).

For each case: deterministic inputs, PyTorch's output, and for differentiable cases the gradient of
sum(output * w) with respect to every floating input (w is a fixed random tensor saved too).
Regenerate with the pinned torch:  .venv/bin/python Tests/TorchTests/Fixtures/make_op_fixtures.py
Writes Tests/TorchTests/Fixtures/ops.pt (a dict name -> tensor, read by Torch.load).
"""
import os

import torch
import torch.nn.functional as F

g = torch.Generator().manual_seed(1234)


def randn(*s): return torch.randn(*s, generator=g)
def rand(*s): return torch.rand(*s, generator=g)
def pos(*s): return torch.rand(*s, generator=g) + 0.1          # strictly positive
def unit(*s): return torch.rand(*s, generator=g) * 1.8 - 0.9   # inside (-1, 1)
def ints(lo, hi, *s): return torch.randint(lo, hi, s, generator=g)
def mask(*s): return torch.rand(*s, generator=g) > 0.5


# name: (function, inputs, differentiable)
CASES = {
    # arithmetic and broadcasting
    "add": (lambda a, b: a + b, lambda: [randn(3, 4), randn(4)], True),
    "add_alpha": (lambda a, b: torch.add(a, b, alpha=2.5), lambda: [randn(3, 4), randn(3, 4)], True),
    "add_scalar": (lambda a: a + 1.5, lambda: [randn(2, 3)], True),
    "sub": (lambda a, b: a - b, lambda: [randn(2, 3, 4), randn(3, 1)], True),
    "rsub_scalar": (lambda a: 2 - a, lambda: [randn(5)], True),
    "mul": (lambda a, b: a * b, lambda: [randn(4, 1), randn(1, 5)], True),
    "mul_scalar": (lambda a: a * -3.0, lambda: [randn(3)], True),
    "div": (lambda a, b: a / b, lambda: [randn(3, 4), pos(3, 4)], True),
    "div_scalar": (lambda a: a / 4.0, lambda: [randn(6)], True),
    "rdiv_scalar": (lambda a: 2.0 / a, lambda: [pos(6)], True),
    "div_floor": (lambda a, b: torch.div(a, b, rounding_mode="floor"), lambda: [randn(8) * 5, pos(8)], False),
    "div_trunc": (lambda a, b: torch.div(a, b, rounding_mode="trunc"), lambda: [randn(8) * 5, pos(8)], False),
    "remainder": (lambda a, b: torch.remainder(a, b), lambda: [randn(8) * 5, pos(8)], False),
    "pow_scalar": (lambda a: a.pow(3), lambda: [randn(5)], True),
    "pow_tensor": (lambda a, b: a.pow(b), lambda: [pos(5), randn(5)], True),
    "neg": (lambda a: -a, lambda: [randn(4)], True),
    "matmul_2d": (lambda a, b: a @ b, lambda: [randn(3, 4), randn(4, 5)], True),
    "matmul_batched": (lambda a, b: a @ b, lambda: [randn(2, 3, 4), randn(4, 2)], True),
    "matmul_vec": (lambda a, b: a @ b, lambda: [randn(3, 4), randn(4)], True),
    "mm": (lambda a, b: torch.mm(a, b), lambda: [randn(2, 3), randn(3, 2)], True),
    "bmm": (lambda a, b: torch.bmm(a, b), lambda: [randn(2, 3, 4), randn(2, 4, 3)], True),
    "dot": (lambda a, b: torch.dot(a, b), lambda: [randn(6), randn(6)], True),
    "outer": (lambda a, b: torch.outer(a, b), lambda: [randn(3), randn(4)], True),
    "addmm": (lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0), lambda: [randn(2, 4), randn(2, 3), randn(3, 4)], True),
    "addcmul": (lambda a, b, c: torch.addcmul(a, b, c, value=0.5), lambda: [randn(4), randn(4), randn(4)], True),
    "addcdiv": (lambda a, b, c: torch.addcdiv(a, b, c, value=0.5), lambda: [randn(4), randn(4), pos(4)], True),
    "lerp": (lambda a, b: torch.lerp(a, b, 0.3), lambda: [randn(5), randn(5)], True),
    "maximum": (lambda a, b: torch.maximum(a, b), lambda: [randn(6), randn(6)], True),
    "minimum": (lambda a, b: torch.minimum(a, b), lambda: [randn(6), randn(6)], True),
    # elementwise math
    "abs": (torch.abs, lambda: [randn(6)], True),
    "exp": (torch.exp, lambda: [randn(6)], True),
    "expm1": (torch.expm1, lambda: [randn(6)], True),
    "log": (torch.log, lambda: [pos(6)], True),
    "log1p": (torch.log1p, lambda: [pos(6)], True),
    "log2": (torch.log2, lambda: [pos(6)], True),
    "log10": (torch.log10, lambda: [pos(6)], True),
    "sqrt": (torch.sqrt, lambda: [pos(6)], True),
    "rsqrt": (torch.rsqrt, lambda: [pos(6)], True),
    "square": (torch.square, lambda: [randn(6)], True),
    "reciprocal": (torch.reciprocal, lambda: [pos(6)], True),
    "sin": (torch.sin, lambda: [randn(6)], True),
    "cos": (torch.cos, lambda: [randn(6)], True),
    "tan": (torch.tan, lambda: [unit(6)], True),
    "asin": (torch.asin, lambda: [unit(6)], True),
    "acos": (torch.acos, lambda: [unit(6)], True),
    "atan": (torch.atan, lambda: [randn(6)], True),
    "atan2": (torch.atan2, lambda: [randn(6), randn(6)], True),
    "sinh": (torch.sinh, lambda: [randn(6)], True),
    "cosh": (torch.cosh, lambda: [randn(6)], True),
    "tanh": (torch.tanh, lambda: [randn(6)], True),
    "sigmoid": (torch.sigmoid, lambda: [randn(6)], True),
    "erf": (torch.erf, lambda: [randn(6)], True),
    "erfc": (torch.erfc, lambda: [randn(6)], True),
    "erfinv": (torch.erfinv, lambda: [unit(6)], True),
    "sign": (torch.sign, lambda: [randn(6)], False),
    "floor": (torch.floor, lambda: [randn(6) * 3], False),
    "ceil": (torch.ceil, lambda: [randn(6) * 3], False),
    "round": (torch.round, lambda: [randn(6) * 3], False),
    "round_decimals": (lambda a: torch.round(a, decimals=2), lambda: [randn(6)], False),
    "trunc": (torch.trunc, lambda: [randn(6) * 3], False),
    "frac": (torch.frac, lambda: [randn(6) * 3], True),
    "clamp": (lambda a: torch.clamp(a, -0.5, 0.5), lambda: [randn(8)], True),
    "clamp_min": (lambda a: torch.clamp(a, min=0.1), lambda: [randn(8)], True),
    "nan_to_num": (lambda a: torch.nan_to_num(a / (a > 0).float(), nan=0.0, posinf=9.0, neginf=-9.0), lambda: [randn(8)], False),
    # activations and normalisation
    "relu": (F.relu, lambda: [randn(3, 4)], True),
    "gelu": (F.gelu, lambda: [randn(3, 4)], True),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"), lambda: [randn(3, 4)], True),
    "silu": (F.silu, lambda: [randn(3, 4)], True),
    "mish": (F.mish, lambda: [randn(3, 4)], True),
    "elu": (F.elu, lambda: [randn(3, 4)], True),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.2), lambda: [randn(3, 4)], True),
    "softplus": (F.softplus, lambda: [randn(3, 4)], True),
    "hardtanh": (F.hardtanh, lambda: [randn(3, 4) * 2], True),
    "logsigmoid": (F.logsigmoid, lambda: [randn(3, 4)], True),
    "glu": (F.glu, lambda: [randn(3, 4)], True),
    "softmax": (lambda a: torch.softmax(a, dim=-1), lambda: [randn(3, 5)], True),
    "softmax_dim0": (lambda a: torch.softmax(a, dim=0), lambda: [randn(3, 5)], True),
    "log_softmax": (lambda a: torch.log_softmax(a, dim=1), lambda: [randn(3, 5)], True),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (6,), w, b, eps=1e-5), lambda: [randn(2, 3, 6), randn(6), randn(6)], True),
    "layer_norm_noaffine": (lambda x: F.layer_norm(x, (3, 4), eps=1e-6), lambda: [randn(2, 3, 4)], True),
    "linear": (F.linear, lambda: [randn(2, 3, 4), randn(5, 4), randn(5)], True),
    "embedding": (lambda w, i: F.embedding(i, w), lambda: [randn(10, 4), ints(0, 10, 2, 3)], True),
    "embedding_padding": (lambda w, i: F.embedding(i, w, padding_idx=0), lambda: [randn(10, 4), torch.tensor([[0, 2, 0], [1, 0, 3]])], True),
    "sdpa": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v), lambda: [randn(2, 3, 4, 8), randn(2, 3, 5, 8), randn(2, 3, 5, 8)], True),
    "sdpa_causal": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), lambda: [randn(1, 2, 4, 8), randn(1, 2, 4, 8), randn(1, 2, 4, 8)], True),
    "sdpa_boolmask": (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), lambda: [randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 4), torch.tensor([[True] * 5, [True, True, False, True, False], [False, True, True, True, True]])], True),
    "sdpa_floatmask": (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), lambda: [randn(1, 2, 3, 4), randn(1, 2, 5, 4), randn(1, 2, 5, 4), randn(3, 5)], True),
    "normalize": (lambda a: F.normalize(a, dim=1), lambda: [randn(3, 4)], True),
    "pad": (lambda a: F.pad(a, (1, 2)), lambda: [randn(2, 3)], True),
    # reductions
    "sum": (torch.sum, lambda: [randn(3, 4)], True),
    "sum_dim": (lambda a: a.sum(dim=1), lambda: [randn(3, 4)], True),
    "sum_dims_keepdim": (lambda a: a.sum(dim=(0, 2), keepdim=True), lambda: [randn(2, 3, 4)], True),
    "mean": (torch.mean, lambda: [randn(3, 4)], True),
    "mean_dim": (lambda a: a.mean(dim=-1, keepdim=True), lambda: [randn(3, 4)], True),
    "prod": (torch.prod, lambda: [pos(5)], True),
    "prod_dim": (lambda a: a.prod(dim=1), lambda: [pos(2, 3)], True),
    "var": (torch.var, lambda: [randn(3, 4)], True),
    "var_dim_unbiased0": (lambda a: torch.var(a, dim=1, correction=0), lambda: [randn(3, 4)], True),
    "std": (torch.std, lambda: [randn(3, 4)], True),
    "std_dim": (lambda a: torch.std(a, dim=0, keepdim=True), lambda: [randn(3, 4)], True),
    "max_all": (torch.max, lambda: [randn(3, 4)], True),
    "min_all": (torch.min, lambda: [randn(3, 4)], True),
    "max_dim": (lambda a: a.max(dim=1).values, lambda: [randn(3, 4)], True),
    "max_dim_indices": (lambda a: a.max(dim=1).indices, lambda: [randn(3, 4)], False),
    "min_dim": (lambda a: a.min(dim=0, keepdim=True).values, lambda: [randn(3, 4)], True),
    "amax": (lambda a: a.amax(dim=(0, 1)), lambda: [randn(2, 3, 4)], True),
    "amin": (lambda a: a.amin(dim=-1), lambda: [randn(2, 3, 4)], True),
    "argmax": (lambda a: a.argmax(dim=1), lambda: [randn(3, 4)], False),
    "argmin": (lambda a: a.argmin(), lambda: [randn(3, 4)], False),
    "logsumexp": (lambda a: torch.logsumexp(a, dim=1), lambda: [randn(3, 4)], True),
    "norm": (lambda a: torch.linalg.vector_norm(a), lambda: [randn(3, 4)], True),
    "norm_l1_dim": (lambda a: torch.linalg.vector_norm(a, ord=1, dim=1), lambda: [randn(3, 4)], True),
    "cumsum": (lambda a: torch.cumsum(a, dim=1), lambda: [randn(3, 4)], True),
    "cumprod": (lambda a: torch.cumprod(a, dim=0), lambda: [pos(3, 4)], True),
    "all": (lambda m: m.all(dim=1), lambda: [mask(3, 4)], False),
    "any": (lambda m: m.any(), lambda: [mask(3, 4)], False),
    # comparisons and selection
    "eq": (lambda a, b: a == b, lambda: [ints(0, 3, 10), ints(0, 3, 10)], False),
    "ne_scalar": (lambda a: a != 1, lambda: [ints(0, 3, 10)], False),
    "lt": (lambda a, b: a < b, lambda: [randn(6), randn(6)], False),
    "le_scalar": (lambda a: a <= 0.0, lambda: [randn(6)], False),
    "gt": (lambda a, b: a > b, lambda: [randn(2, 3), randn(3)], False),
    "ge_scalar": (lambda a: a >= 0.5, lambda: [randn(6)], False),
    "where": (lambda c, a, b: torch.where(c, a, b), lambda: [mask(3, 4), randn(3, 4), randn(4)], True),
    "where_scalar": (lambda c, a: torch.where(c, a, 0.0), lambda: [mask(3, 4), randn(3, 4)], True),
    "masked_fill": (lambda a, m: a.masked_fill(m, -1e9), lambda: [randn(3, 4), mask(3, 4)], True),
    "masked_select": (lambda a, m: torch.masked_select(a, m), lambda: [randn(3, 4), mask(3, 4)], True),
    "gather": (lambda a, i: torch.gather(a, 1, i), lambda: [randn(3, 4), ints(0, 4, 3, 2)], True),
    "index_select": (lambda a, i: torch.index_select(a, 0, i), lambda: [randn(5, 3), torch.tensor([4, 0, 2, 2])], True),
    "scatter": (lambda a, i, s: a.scatter(1, i, s), lambda: [randn(3, 4), torch.tensor([[0, 1], [2, 3], [1, 0]]), randn(3, 2)], True),
    "tril": (lambda a: torch.tril(a), lambda: [randn(4, 4)], True),
    "triu_offset": (lambda a: torch.triu(a, 1), lambda: [randn(4, 4)], True),
    "sort_values": (lambda a: torch.sort(a, dim=1).values, lambda: [randn(3, 5)], True),
    "sort_desc_indices": (lambda a: torch.sort(a, dim=1, descending=True).indices, lambda: [randn(3, 5)], False),
    "topk": (lambda a: torch.topk(a, 2, dim=1).values, lambda: [randn(3, 5)], True),
    "flip": (lambda a: torch.flip(a, [0, 1]), lambda: [randn(3, 4)], True),
    "roll": (lambda a: torch.roll(a, [1], [1]), lambda: [randn(3, 4)], True),
    "one_hot": (lambda i: F.one_hot(i, 5), lambda: [ints(0, 5, 6)], False),
    "clone": (lambda a: a.clone(), lambda: [randn(3)], True),
    "einsum": (lambda a, b: torch.einsum("bij,bjk->bik", a, b), lambda: [randn(2, 3, 4), randn(2, 4, 5)], True),
    # shapes and views
    "view": (lambda a: a.view(4, 3), lambda: [randn(3, 4)], True),
    "reshape": (lambda a: a.reshape(-1, 2), lambda: [randn(3, 4)], True),
    "permute": (lambda a: a.permute(2, 0, 1), lambda: [randn(2, 3, 4)], True),
    "transpose": (lambda a: a.transpose(0, 2), lambda: [randn(2, 3, 4)], True),
    "t": (lambda a: a.t(), lambda: [randn(2, 3)], True),
    "contiguous_of_transpose": (lambda a: a.t().contiguous(), lambda: [randn(2, 3)], True),
    "squeeze": (lambda a: a.squeeze(), lambda: [randn(1, 3, 1, 2)], True),
    "squeeze_dim": (lambda a: a.squeeze(2), lambda: [randn(1, 3, 1, 2)], True),
    "unsqueeze": (lambda a: a.unsqueeze(1), lambda: [randn(3, 2)], True),
    "expand": (lambda a: a.expand(3, 4), lambda: [randn(3, 1)], True),
    "flatten": (lambda a: a.flatten(1), lambda: [randn(2, 3, 4)], True),
    "unflatten": (lambda a: a.unflatten(1, (2, 2)), lambda: [randn(3, 4)], True),
    "narrow": (lambda a: a.narrow(1, 1, 2), lambda: [randn(3, 4)], True),
    "repeat": (lambda a: a.repeat(2, 3), lambda: [randn(2, 2)], True),
    "repeat_interleave": (lambda a: a.repeat_interleave(2, dim=0), lambda: [randn(2, 3)], True),
    "cat": (lambda a, b: torch.cat([a, b], dim=1), lambda: [randn(2, 3), randn(2, 2)], True),
    "stack": (lambda a, b: torch.stack([a, b], dim=1), lambda: [randn(2, 3), randn(2, 3)], True),
    "split_second": (lambda a: torch.split(a, 2, dim=1)[1], lambda: [randn(3, 5)], True),
    "split_sizes_last": (lambda a: torch.split(a, [1, 4], dim=1)[1], lambda: [randn(3, 5)], True),
    "chunk_last": (lambda a: torch.chunk(a, 3, dim=0)[2], lambda: [randn(7, 2)], True),
    "unbind_first": (lambda a: torch.unbind(a, dim=1)[0], lambda: [randn(3, 4)], True),
    # indexing
    "index_int": (lambda a: a[1], lambda: [randn(3, 4)], True),
    "index_neg_slice": (lambda a: a[:, -3:], lambda: [randn(3, 4)], True),
    "index_step": (lambda a: a[::2, 1:4:2], lambda: [randn(5, 5)], True),
    "index_tensor": (lambda a, i: a[i], lambda: [randn(5, 3), torch.tensor([0, 4, 4, 1])], True),
    "index_tensor_dim1": (lambda a, i: a[:, i], lambda: [randn(3, 5), torch.tensor([0, 4, 2])], True),
    "index_mask": (lambda a, m: a[m], lambda: [randn(3, 4), mask(3, 4)], True),
    "index_row_mask": (lambda a, m: a[m], lambda: [randn(4, 3), torch.tensor([True, False, True, True])], True),
    "index_newaxis_ellipsis": (lambda a: a[None, ..., 1], lambda: [randn(2, 3, 4)], True),
    "index_two_tensors": (lambda a, i, j: a[i, j], lambda: [randn(4, 5), torch.tensor([0, 3, 1]), torch.tensor([4, 0, 2])], True),
    # losses
    "cross_entropy": (lambda x, t: F.cross_entropy(x, t), lambda: [randn(4, 5), ints(0, 5, 4)], True),
    "cross_entropy_smooth_ignore": (lambda x, t: F.cross_entropy(x, t, ignore_index=1, label_smoothing=0.1), lambda: [randn(6, 3), torch.tensor([0, 1, 2, 1, 0, 2])], True),
    "nll_loss": (lambda x, t: F.nll_loss(F.log_softmax(x, 1), t), lambda: [randn(4, 5), ints(0, 5, 4)], True),
    "mse_loss": (F.mse_loss, lambda: [randn(3, 4), randn(3, 4)], True),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, lambda: [randn(3, 4), rand(3, 4)], True),
    "kl_div_batchmean": (lambda a, b: F.kl_div(F.log_softmax(a, 1), F.softmax(b, 1), reduction="batchmean"), lambda: [randn(3, 4), randn(3, 4)], True),
    # dtype conversion
    "to_float64": (lambda a: a.double(), lambda: [randn(4)], True),
    "to_int": (lambda a: (a * 10).long(), lambda: [randn(4)], False),
}


def main():
    out = {}
    for name, (fn, make_inputs, diff) in CASES.items():
        inputs = make_inputs()
        for i, x in enumerate(inputs):
            out[f"{name}.in{i}"] = x.clone()
        req = [x.clone().requires_grad_(diff and x.is_floating_point()) for x in inputs]
        y = fn(*req)
        out[f"{name}.out"] = y.detach().clone()
        if diff:
            w = randn(*y.shape) if y.dim() > 0 else randn(())
            out[f"{name}.w"] = w
            (y * w).sum().backward()
            for i, x in enumerate(req):
                if x.requires_grad:
                    out[f"{name}.grad{i}"] = x.grad.clone()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.pt")
    torch.save(out, path)
    print(f"wrote {len(CASES)} cases ({len(out)} tensors) to {path} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
