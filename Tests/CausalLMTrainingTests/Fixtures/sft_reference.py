"""PyTorch + transformers (+ peft) references for causal-LM training.

    sft_reference.py train < REQUEST.json   plain PyTorch loop: {"base", "adapter" (null: full fine-tuning),
        "batches": safetensors file with step{i}_micro{j}_{input_ids,attention_mask,labels}, "steps", "micro",
        "lr", "weight_decay", "warmup", "max_grad_norm"} -> JSON list of per-step mean losses
    sft_reference.py masks < REQUEST.json   {"tokenizer": DIR, "conversations": [[{role, content}]]} -> the
        assistant-only labels of each conversation: the tokens that the conversation up to and including each
        assistant message adds to the prompt up to it with the generation prompt, rendered and tokenized by
        transformers' apply_chat_template; -100 elsewhere
"""
import json
import sys

import torch


def train(req):
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, get_linear_schedule_with_warmup
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(req["base"], dtype=torch.float32)
    if req.get("adapter"):
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, req["adapter"], is_trainable=True)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": req["weight_decay"]},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    opt = torch.optim.AdamW(groups, lr=req["lr"], betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, req["warmup"], req["steps"])
    batches = load_file(req["batches"])
    losses = []
    for s in range(req["steps"]):
        total = 0.0
        for m in range(req["micro"]):
            b = {k: batches[f"step{s}_micro{m}_{k}"] for k in ("input_ids", "attention_mask", "labels")}
            loss = model(**b).loss
            total += loss.item()
            (loss / req["micro"]).backward()
        torch.nn.utils.clip_grad_norm_(params, req["max_grad_norm"])
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(total / req["micro"])
    return losses


def masks(req):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(req["tokenizer"])
    out = []
    for conv in req["conversations"]:
        full = tok.apply_chat_template(conv, tokenize=True)
        labels = [-100] * len(full)
        for i, m in enumerate(conv):
            if m["role"] != "assistant":
                continue
            prompt = tok.apply_chat_template(conv[:i], tokenize=True, add_generation_prompt=True)
            upto = tok.apply_chat_template(conv[:i + 1], tokenize=True)
            assert upto[:len(prompt)] == prompt and full[:len(upto)] == upto
            for j in range(len(prompt), len(upto)):
                labels[j] = full[j]
        out.append({"input_ids": full, "labels": labels})
    return out


if __name__ == "__main__":
    request = json.load(sys.stdin)
    print(json.dumps(train(request) if sys.argv[1] == "train" else masks(request)))
