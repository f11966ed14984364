#!/usr/bin/env python3
"""transformers' side of the decoder-only generation benchmark (the twin of `torchswift-bench llm`).

    .venv/bin/python bench/llm_generate.py --model DIR [--prompt-tokens 128] [--new-tokens 64] [--batch-size 1]
                                           [--device cpu] [--dtype float32] [--cache dynamic|static]
    .venv/bin/python bench/llm_generate.py --make DIR [--config smollm-135m|llama-3.2-1b] [--dtype D] [--device D]
                                           # a random model of that shape

Greedy `generate` with no EOS on a seeded random prompt (the same ids as the Swift side); prefill = prompt tokens /
time of a 1-token generate, decode = (N - 1) tokens / (time of an N-token generate - that). Best of --repeats.
Prints JSON lines (impl "pytorch").
"""
import argparse
import json
import os
import time

import torch


CONFIGS = {
    # SmolLM-135M's shape.
    "smollm-135m": dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                        num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=2048,
                        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=0,
                        eos_token_id=0),
    # Llama-3.2-1B's shape.
    "llama-3.2-1b": dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, head_dim=64, max_position_embeddings=131072,
                         rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True, bos_token_id=128000,
                         eos_token_id=128001, rope_scaling={"rope_type": "llama3", "factor": 32.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
}


def make(out, name, dtype, device):
    """A model of a real model's shape with random weights (N(0, 0.02)), saved as safetensors."""
    from transformers import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig(**CONFIGS[name])
    torch.manual_seed(0)
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model = model.to_empty(device=device).to(getattr(torch, dtype))
    model.tie_weights()  # to_empty made lm_head a tensor of its own
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    model.save_pretrained(out, safe_serialization=True)


class WeightOnlyInt8Linear(torch.nn.Module):
    """gpt-fast's int8 weight-only linear (per-channel symmetric scales) on torch._weight_int8pack_mm."""

    def __init__(self, linear):
        super().__init__()
        w = linear.weight.detach().float()
        scales = (w.abs().amax(dim=1) / 127.5).clamp(min=torch.finfo(torch.float32).eps)
        self.register_buffer("weight", (w / scales[:, None]).round().clamp(-128, 127).to(torch.int8))
        self.register_buffer("scales", scales.to(linear.weight.dtype))
        self.bias = linear.bias

    def forward(self, x):
        y = torch._weight_int8pack_mm(x.reshape(-1, x.shape[-1]), self.weight, self.scales.to(x.dtype))
        y = y.reshape(*x.shape[:-1], -1)
        return y if self.bias is None else y + self.bias


def quantize_int8(model):
    """Every nn.Linear but lm_head, as torchswift --quantize int8."""
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear) and child_name != "lm_head":
                setattr(module, child_name, WeightOnlyInt8Linear(child))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--make", help="write a random model of --config's shape into this folder")
    ap.add_argument("--config", default="smollm-135m", choices=sorted(CONFIGS))
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--cache", default="dynamic", help="dynamic (transformers' default) or static")
    ap.add_argument("--compile", action="store_true", help="torch.compile the forward (with --cache static)")
    ap.add_argument("--quantize", choices=["int8"], help="gpt-fast's weight-only int8 linears (_weight_int8pack_mm)")
    a = ap.parse_args()
    if a.make:
        make(a.make, a.config, a.dtype, a.device)
        return
    from transformers import AutoModelForCausalLM
    dtype = getattr(torch, a.dtype)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=dtype).to(a.device).eval()
    if a.quantize == "int8":
        quantize_int8(model)
    if a.compile:
        model.forward = torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)
    vocab = model.config.vocab_size
    state = 12345
    rows = []
    for _ in range(a.batch_size):
        row = []
        for _ in range(a.prompt_tokens):
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            row.append((state >> 33) % vocab)
        rows.append(row)
    ids = torch.tensor(rows, device=a.device)
    mask = torch.ones_like(ids)
    kwargs = dict(do_sample=False, eos_token_id=None, pad_token_id=0, min_new_tokens=0)
    if a.cache == "static":
        kwargs["cache_implementation"] = "static"

    def timed(n):
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, **kwargs)
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        assert out.shape[1] == ids.shape[1] + n
        return time.perf_counter() - start

    timed(2)
    one = many = float("inf")
    for _ in range(a.repeats):
        one = min(one, timed(1))
        many = min(many, timed(a.new_tokens))
    variant = (f"{model.config.model_type} {a.dtype}{' ' + a.quantize if a.quantize else ''} batch {a.batch_size}, {a.prompt_tokens}+{a.new_tokens} tokens, "
               f"{a.device}")
    impl = "pytorch" if not a.compile else "pytorch-compiled"
    print(json.dumps({"benchmark": "llm_prefill", "variant": variant, "impl": impl,
                      "tokens_per_s": a.prompt_tokens * a.batch_size / one}))
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    print(json.dumps({"benchmark": "llm_decode", "variant": variant, "impl": impl,
                      "tokens_per_s": (a.new_tokens - 1) * a.batch_size / max(many - one, 1e-9),
                      "weight_bytes": weight_bytes}))


if __name__ == "__main__":
    main()
