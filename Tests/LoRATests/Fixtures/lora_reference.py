"""PEFT references for the LoRA tests.

    lora_reference.py make OUT CAUSAL_LM_FIXTURES    adapters made by peft on small random models, with outputs
    lora_reference.py logits < REQUESTS.json         logits of models (base + adapter through
                                                     PeftModel.from_pretrained, or a plain folder) as JSON

`make` writes OUT/<case>/ for each case: peft-adapter/ (save_pretrained of a LoRA model whose A and B are random,
so the adapter changes the outputs), reference.safetensors (input_ids, logits of the adapted model, and the
gradient of sum(logits · probe) for every trainable tensor under PEFT's saved names) and info.json (the base folder,
trainable and total parameter counts as print_trainable_parameters reports them).
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

CASES = {
    # Llama (tied head), q/v targets, rsLoRA, dropout (off in eval), bias none.
    "llama_qv": dict(base="llama3", cls="causal", config=dict(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                     lora_dropout=0.1, use_rslora=True, task_type="CAUSAL_LM")),
    # Qwen2 with biases: all-linear, bias all.
    "qwen2_all_linear": dict(base="qwen2", cls="causal", config=dict(r=2, lora_alpha=4, target_modules="all-linear",
                             bias="all", task_type="CAUSAL_LM")),
    # Mistral, regex targets, bias lora_only.
    "mistral_regex": dict(base="mistral", cls="causal", config=dict(r=3, lora_alpha=6,
                          target_modules=r".*layers\.[01]\.mlp\.(gate|down)_proj", bias="lora_only",
                          task_type="CAUSAL_LM")),
    # GPT-2's Conv1D (fan_in_fan_out).
    "gpt2_c_attn": dict(base="gpt2", cls="causal", config=dict(r=4, lora_alpha=8, target_modules=["c_attn", "c_fc"],
                        fan_in_fan_out=True, task_type="CAUSAL_LM")),
    # BERT classification: query/value, the classifier trained in full (modules_to_save).
    "bert_seq_cls": dict(base="bert", cls="seqcls", config=dict(r=4, lora_alpha=8, target_modules=["query", "value"],
                         modules_to_save=["classifier"], task_type="SEQ_CLS")),
}


def load_base(path, cls):
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification
    loader = AutoModelForCausalLM if cls == "causal" else AutoModelForSequenceClassification
    return loader.from_pretrained(path, dtype=torch.float32).eval()


def make_bert(out):
    from transformers import BertConfig, BertForSequenceClassification
    torch.manual_seed(3)
    config = BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, num_labels=3,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertForSequenceClassification(config)
    model.save_pretrained(out, safe_serialization=True)
    return out


def make(out, fixtures):
    from peft import LoraConfig, get_peft_model
    os.makedirs(out, exist_ok=True)
    bert = make_bert(os.path.join(out, "bert-base"))
    for seed, (name, case) in enumerate(CASES.items()):
        base = bert if case["base"] == "bert" else os.path.join(fixtures, case["base"])
        model = load_base(base, case["cls"])
        peft_model = get_peft_model(model, LoraConfig(**case["config"]))
        g = torch.Generator().manual_seed(100 + seed)
        with torch.no_grad():
            for n, p in peft_model.named_parameters():
                if "lora_" in n:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        peft_model.eval()
        d = os.path.join(out, name)
        peft_model.save_pretrained(os.path.join(d, "peft-adapter"))
        vocab = model.config.vocab_size
        ids = torch.randint(3, vocab, (2, 7), generator=g)
        logits = peft_model(input_ids=ids).logits
        probe = torch.randn(logits.shape, generator=g)
        (logits * probe).sum().backward()
        ref = {"input_ids": ids, "logits": logits.detach().contiguous(), "probe": probe}
        for n, p in peft_model.named_parameters():
            if p.requires_grad and p.grad is not None:
                key = n.replace(".default", "").replace("modules_to_save.", "")
                ref["grad:" + key] = p.grad.contiguous()
        save_file(ref, os.path.join(d, "reference.safetensors"))
        trainable, total = peft_model.get_nb_trainable_parameters()
        with open(os.path.join(d, "info.json"), "w") as f:
            json.dump({"base": base, "kind": case["cls"], "trainable": trainable, "all": total}, f)


def logits(model_dir, base, ids):
    ids = torch.tensor(ids)
    if base:
        from peft import PeftModel
        cls = "seqcls" if "SEQ_CLS" in open(os.path.join(model_dir, "adapter_config.json")).read() else "causal"
        model = PeftModel.from_pretrained(load_base(base, cls), model_dir).eval()
    else:
        cfg = json.load(open(os.path.join(model_dir, "config.json")))
        cls = "seqcls" if any(a.endswith("SequenceClassification") for a in cfg.get("architectures", [])) else "causal"
        model = load_base(model_dir, cls)
    with torch.no_grad():
        return model(input_ids=ids).logits.flatten().tolist()


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    else:  # logits: a JSON list of {"model": DIR, "base": DIR or null, "ids": [[...]]} on stdin
        requests = json.load(sys.stdin)
        print(json.dumps([logits(r["model"], r.get("base"), r["ids"]) for r in requests]))
