#!/usr/bin/env python3
"""Reference values for TorchSwift's nn parity tests (Tests/NNTests), llm.c style.

For small TransformerEncoders (variants: post-norm, norm_first, gelu, batch_first, boolean and float masks)
and MultiheadAttention (each mask kind, need_weights): the state dict, input, output, loss and every
parameter's gradient; ten AdamW steps (decay / no-decay groups, linear warmup, grad clipping) with their
losses; seeded freshly-built layers (same RNG stream as libtorch in Swift); every loss with each option;
PyTorch's module reprs (as uint8 tensors). Tensors are saved as flat dicts readable by Torch.load.
Regenerate with the pinned torch:  .venv/bin/python Tests/NNTests/Fixtures/make_nn_fixtures.py
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
OUT = {}
g = torch.Generator().manual_seed(20240611)


def randn(*s): return torch.randn(*s, generator=g)
def text(s): return torch.tensor(list(s.encode()), dtype=torch.uint8)


# ---------- TransformerEncoder variants ----------
D, H, FF, LAYERS, S, B = 32, 4, 64, 2, 7, 3
VARIANTS = {
    # name: (norm_first, activation, batch_first, final_norm, key_padding_mask kind, attn mask kind)
    "base": (False, "relu", False, True, None, None),
    "norm_first": (True, "relu", False, False, None, None),
    "gelu": (False, "gelu", False, True, None, None),
    "batch_first": (False, "relu", True, True, None, None),
    "masked_bool": (False, "relu", False, True, "bool", "bool"),
    "masked_float": (True, "gelu", True, True, "float", "float"),
}


def key_padding_mask(kind):
    pad = torch.zeros(B, S, dtype=torch.bool)
    pad[1, 5:] = True
    pad[2, 3:] = True
    if kind == "bool":
        return pad
    return torch.zeros(B, S).masked_fill(pad, float("-inf"))


def attn_mask(kind):
    causal = torch.triu(torch.ones(S, S, dtype=torch.bool), diagonal=1)
    if kind == "bool":
        return causal
    return (randn(S, S) * 0.5).masked_fill(causal, float("-inf"))


def build(norm_first, act, batch_first, final_norm):
    layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation=act, batch_first=batch_first,
                                       norm_first=norm_first)
    return nn.TransformerEncoder(layer, LAYERS, norm=nn.LayerNorm(D) if final_norm else None,
                                 enable_nested_tensor=False)


torch.manual_seed(7)
for name, (norm_first, act, batch_first, final_norm, kpm_kind, mask_kind) in VARIANTS.items():
    model = build(norm_first, act, batch_first, final_norm)
    with torch.no_grad():  # make LayerNorm parameters and biases non-trivial
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(randn(p.shape) * 0.1)
    shape = (B, S, D) if batch_first else (S, B, D)
    x = randn(*shape)
    target = randn(*shape)
    kpm = key_padding_mask(kpm_kind) if kpm_kind else None
    mask = attn_mask(mask_kind) if mask_kind else None
    for k, v in model.state_dict().items():
        OUT[f"{name}.sd.{k}"] = v.clone()
    out = model(x, mask=mask, src_key_padding_mask=kpm)
    loss = F.mse_loss(out, target)
    loss.backward()
    OUT[f"{name}.input"] = x
    OUT[f"{name}.target"] = target
    OUT[f"{name}.output"] = out.detach()
    OUT[f"{name}.loss"] = loss.detach()
    if kpm is not None:
        OUT[f"{name}.kpm"] = kpm
    if mask is not None:
        OUT[f"{name}.mask"] = mask
    for k, p in model.named_parameters():
        OUT[f"{name}.grad.{k}"] = p.grad.clone()
    if name == "base":  # eval mode, no grad: PyTorch's fast path (_transformer_encoder_layer_fwd)
        model.eval()
        with torch.no_grad():
            OUT["base.eval_output"] = model(x)
        OUT["repr.encoder"] = text(repr(model))

# ---------- ten AdamW steps: decay / no-decay groups, linear warmup, clipping ----------
model = build(False, "relu", False, True)
for k, v in model.state_dict().items():
    OUT[f"train.sd.{k}"] = v.clone()
x = randn(S, B, D)
target = randn(S, B, D)
OUT["train.input"] = x
OUT["train.target"] = target
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=3e-3)
warmup, total = 3, 10
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
losses, norms = [], []
for step in range(10):
    opt.zero_grad()
    loss = F.mse_loss(model(x), target)
    loss.backward()
    norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    opt.step()
    sched.step()
    losses.append(loss.item())
OUT["train.losses"] = torch.tensor(losses, dtype=torch.float64)
OUT["train.norms"] = torch.tensor(norms, dtype=torch.float64)
for k, v in model.state_dict().items():
    OUT[f"train.final.{k}"] = v.clone()

# ---------- MultiheadAttention, each mask kind ----------
E, MH, L, SRC, MB = 16, 4, 5, 6, 2
MHA_CASES = {
    # name: (batch_first, self-attention, kpm kind, attn mask kind, need_weights, average)
    "kpm_bool": (False, True, "bool", None, False, True),
    "attn_float": (False, False, None, "float", True, True),
    "attn_bool": (False, False, None, "bool", False, True),
    "attn_bool_weights": (True, False, "bool", "bool", True, False),
    "attn3d_float_kpm_float": (True, True, "float", "float3d", False, True),
    "plain_weights": (False, True, None, None, True, True),
}
torch.manual_seed(11)
for name, (batch_first, self_attn, kpm_kind, mask_kind, need_weights, average) in MHA_CASES.items():
    mha = nn.MultiheadAttention(E, MH, batch_first=batch_first)
    with torch.no_grad():
        mha.in_proj_bias.copy_(randn(3 * E) * 0.1)
        mha.out_proj.bias.copy_(randn(E) * 0.1)
    src_len = L if self_attn else SRC
    def seq(n): return randn(MB, n, E) if batch_first else randn(n, MB, E)
    q = seq(L).requires_grad_()
    k = q if self_attn else seq(src_len).requires_grad_()
    v = q if self_attn else seq(src_len).requires_grad_()
    kpm = None
    if kpm_kind:
        pad = torch.zeros(MB, src_len, dtype=torch.bool)
        pad[1, src_len - 2:] = True
        kpm = pad if kpm_kind == "bool" else torch.zeros(MB, src_len).masked_fill(pad, float("-inf"))
    mask = None
    if mask_kind == "float":
        mask = randn(L, src_len)
    elif mask_kind == "bool":
        mask = torch.zeros(L, src_len, dtype=torch.bool)
        mask[0, 1] = mask[2, 0] = mask[3, 4] = True
    elif mask_kind == "float3d":
        mask = randn(MB * MH, L, src_len)
    out, weights = mha(q, k, v, key_padding_mask=kpm, need_weights=need_weights, attn_mask=mask,
                       average_attn_weights=average)
    w = randn(*out.shape)
    w2 = randn(*weights.shape) if weights is not None else None
    loss = (out * w).sum() + ((weights * w2).sum() if weights is not None else 0)
    loss.backward()
    P = f"mha.{name}."
    for kk, vv in mha.state_dict().items():
        OUT[P + "sd." + kk] = vv.clone()
    OUT[P + "q"] = q.detach()
    if not self_attn:
        OUT[P + "k"] = k.detach()
        OUT[P + "v"] = v.detach()
        OUT[P + "grad_k"] = k.grad.clone()
        OUT[P + "grad_v"] = v.grad.clone()
    OUT[P + "grad_q"] = q.grad.clone()
    if kpm is not None:
        OUT[P + "kpm"] = kpm
    if mask is not None:
        OUT[P + "mask"] = mask
    OUT[P + "out"] = out.detach()
    OUT[P + "w"] = w
    if weights is not None:
        OUT[P + "weights"] = weights.detach()
        OUT[P + "w2"] = w2
    OUT[P + "loss"] = loss.detach()
    for kk, p in mha.named_parameters():
        OUT[P + "grad." + kk] = p.grad.clone()

# ---------- seeded construction: the same RNG stream as libtorch ----------
torch.manual_seed(1234)
seeded = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF), LAYERS, enable_nested_tensor=False)
for k, v in seeded.state_dict().items():
    OUT[f"seeded.encoder.{k}"] = v.clone()
torch.manual_seed(99)
OUT["seeded.linear.weight"], OUT["seeded.linear.bias"] = [t.detach().clone() for t in nn.Linear(20, 30).parameters()]
OUT["seeded.embedding.weight"] = nn.Embedding(10, 4, padding_idx=1).weight.detach().clone()

# ---------- reprs ----------
OUT["repr.embedding"] = text(repr(nn.Embedding(10, 3, padding_idx=0)))
OUT["repr.sequential"] = text(repr(nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Dropout(0.1), nn.GELU("tanh"),
                                                 nn.LayerNorm(5, eps=1e-6), nn.Tanh(), nn.SiLU(), nn.Linear(5, 2, bias=False))))
OUT["repr.mha"] = text(repr(nn.MultiheadAttention(8, 2)))

# ---------- losses, each option: value and gradient with respect to the input ----------
N, C = 6, 5
logits = randn(N, C)
labels = torch.tensor([0, 3, 4, 1, 3, 2])
labels_ignore = torch.tensor([0, -100, 4, 1, 2, -100])
probs = randn(N, C).softmax(-1)
weight = torch.rand(C, generator=g) + 0.5
reg_in, reg_target = randn(4, 3), randn(4, 3)
bin_target = (torch.rand(4, 3, generator=g) > 0.5).float()
bce_weight, pos_weight = torch.rand(3, generator=g) + 0.5, torch.rand(3, generator=g) * 3
teacher = randn(N, C) * 2
OUT.update({"loss.logits": logits, "loss.labels": labels, "loss.labels_ignore": labels_ignore, "loss.probs": probs,
            "loss.weight": weight, "loss.reg_in": reg_in, "loss.reg_target": reg_target, "loss.bin_target": bin_target,
            "loss.bce_weight": bce_weight, "loss.pos_weight": pos_weight, "loss.teacher": teacher})
log_p = logits.log_softmax(-1)
LOSSES = {
    "ce_mean": (lambda x: F.cross_entropy(x, labels), logits),
    "ce_sum": (lambda x: F.cross_entropy(x, labels, reduction="sum"), logits),
    "ce_none": (lambda x: F.cross_entropy(x, labels, reduction="none"), logits),
    "ce_ignore": (lambda x: F.cross_entropy(x, labels_ignore), logits),
    "ce_ignore_custom": (lambda x: F.cross_entropy(x, labels, ignore_index=3), logits),
    "ce_smooth": (lambda x: F.cross_entropy(x, labels, label_smoothing=0.1), logits),
    "ce_weight": (lambda x: F.cross_entropy(x, labels, weight=weight), logits),
    "ce_weight_smooth_ignore": (lambda x: F.cross_entropy(x, labels_ignore, weight=weight, label_smoothing=0.2), logits),
    "ce_probs": (lambda x: F.cross_entropy(x, probs), logits),
    "ce_probs_smooth_weight": (lambda x: F.cross_entropy(x, probs, weight=weight, label_smoothing=0.1), logits),
    "mse_mean": (lambda x: F.mse_loss(x, reg_target), reg_in),
    "mse_sum": (lambda x: F.mse_loss(x, reg_target, reduction="sum"), reg_in),
    "mse_none": (lambda x: F.mse_loss(x, reg_target, reduction="none"), reg_in),
    "bce_mean": (lambda x: F.binary_cross_entropy_with_logits(x, bin_target), reg_in),
    "bce_sum_weight": (lambda x: F.binary_cross_entropy_with_logits(x, bin_target, weight=bce_weight, reduction="sum"), reg_in),
    "bce_pos_weight": (lambda x: F.binary_cross_entropy_with_logits(x, bin_target, pos_weight=pos_weight), reg_in),
    "bce_none": (lambda x: F.binary_cross_entropy_with_logits(x, bin_target, reduction="none"), reg_in),
    "kl_batchmean": (lambda x: F.kl_div(x.log_softmax(-1), probs, reduction="batchmean"), logits),
    "kl_mean": (lambda x: F.kl_div(x.log_softmax(-1), probs, reduction="mean"), logits),
    "kl_sum": (lambda x: F.kl_div(x.log_softmax(-1), probs, reduction="sum"), logits),
    "kl_none": (lambda x: F.kl_div(x.log_softmax(-1), probs, reduction="none"), logits),
    "kl_log_target": (lambda x: F.kl_div(x.log_softmax(-1), probs.log(), reduction="batchmean", log_target=True), logits),
    "distill": (lambda x: 0.7 * 2.0 ** 2 * F.kl_div((x / 2.0).log_softmax(-1), (teacher / 2.0).softmax(-1),
                                                      reduction="batchmean") + 0.3 * F.cross_entropy(x, labels), logits),
}
for name, (fn, inp) in LOSSES.items():
    x = inp.clone().requires_grad_()
    value = fn(x)
    w = randn(*value.shape) if value.dim() > 0 else torch.tensor(1.0)
    (value * w).sum().backward()
    OUT[f"loss.{name}.value"] = value.detach()
    OUT[f"loss.{name}.w"] = w
    OUT[f"loss.{name}.grad"] = x.grad.clone()

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn.pt")
torch.save({k: v.contiguous() for k, v in OUT.items()}, path)
print(f"wrote {path}: {len(OUT)} tensors")
