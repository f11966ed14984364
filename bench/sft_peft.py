#!/usr/bin/env python3
"""transformers + peft side of the LoRA fine-tuning benchmark (the twin of `torchswift-bench sft`): the same model,
random token batches of the same shape, LoRA r on q_proj/v_proj (alpha 2r), AdamW lr 1e-4, one warm-up step, then
--steps timed steps. Prints one JSON line (impl "pytorch") with steps/s and the peak resident memory.

    .venv/bin/python bench/sft_peft.py --model DIR [--batch-size 4] [--seq-len 256] [--steps 5] [--lora-r 16]
"""
import argparse
import json
import resource
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--lora-r", type=int, default=16)
    a = ap.parse_args()
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=a.lora_r, lora_alpha=2 * a.lora_r, target_modules=["q_proj", "v_proj"],
                                             lora_dropout=0.0, task_type="CAUSAL_LM"))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(0)

    def step():
        ids = torch.randint(0, vocab, (a.batch_size, a.seq_len), generator=g)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        opt.zero_grad()

    step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"benchmark": "sft_lora", "variant": f"{model.config.model_type} r={a.lora_r} q,v, batch "
                      f"{a.batch_size} x {a.seq_len}, cpu", "impl": "pytorch", "steps_per_s": a.steps / seconds,
                      "peak_rss_bytes": peak}))


if __name__ == "__main__":
    main()
