#!/usr/bin/env python3
"""Reference outputs from transformers / sentence-transformers for ModelsTests (called by the tests).

  bert_reference.py minilm MODEL_DIR TEXTS.json OUT.safetensors BATCH MAXLEN
      BertModel last_hidden_state / pooler_output per batch (texts in order, padded to the longest),
      and SentenceTransformer(MODEL_DIR).encode(texts) embeddings.
  bert_reference.py make-classifier OUT_DIR VOCAB_DIR [HIDDEN_ACT]
      a small random BertForSequenceClassification (gelu_new unless named, layer_norm_eps 1e-7, 3 labels) saved with
      save_pretrained, plus the tokenizer files.
  bert_reference.py logits MODEL_DIR TEXTS.json OUT.safetensors
      AutoModelForSequenceClassification logits (eval mode) for the texts, padded together; prints the
      missing/unexpected keys as JSON on stdout.
  bert_reference.py autocast-grads MODEL_DIR TEXTS.json OUT.safetensors
      loss, logits and every parameter's gradient under torch.autocast("cpu", bfloat16), eval mode, and
      the same in float32 (keys prefixed "fp32.").
"""
import json
import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

torch.set_num_threads(max(1, os.cpu_count() or 1))


def minilm(model_dir, texts_path, out, batch, maxlen):
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer, BertModel
    texts = json.load(open(texts_path))
    batch, maxlen = int(batch), int(maxlen)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = BertModel.from_pretrained(model_dir).eval()
    res = {}
    with torch.inference_mode():
        for b, start in enumerate(range(0, len(texts), batch)):
            enc = tok(texts[start:start + batch], padding=True, truncation=True, max_length=maxlen, return_tensors="pt")
            o = model(**enc)
            res[f"b{b}.input_ids"] = enc["input_ids"]
            res[f"b{b}.attention_mask"] = enc["attention_mask"]
            res[f"b{b}.last_hidden_state"] = o.last_hidden_state.contiguous()
            res[f"b{b}.pooler_output"] = o.pooler_output.contiguous()
        st = SentenceTransformer(model_dir, device="cpu")
        res["sentence_embeddings"] = torch.from_numpy(st.encode(texts, batch_size=32)).contiguous()
    save_file(res, out)


def make_classifier(out_dir, vocab_dir, hidden_act="gelu_new"):
    from transformers import BertConfig, BertForSequenceClassification
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=128, hidden_act=hidden_act, layer_norm_eps=1e-7, max_position_embeddings=128,
                     num_labels=3, id2label={0: "negative", 1: "neutral", 2: "positive"},
                     label2id={"negative": 0, "neutral": 1, "positive": 2}, classifier_dropout=0.2)
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():  # make LayerNorm affine parameters non-trivial
        for n, p in model.named_parameters():
            if "LayerNorm" in n:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(out_dir)
    for f in ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        if os.path.exists(os.path.join(vocab_dir, f)):
            shutil.copy(os.path.join(vocab_dir, f), out_dir)


def logits(model_dir, texts_path, out, quantize=None):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    texts = json.load(open(texts_path))
    tok = AutoTokenizer.from_pretrained(model_dir)
    model, info = AutoModelForSequenceClassification.from_pretrained(model_dir, output_loading_info=True)
    model.eval()
    if quantize == "dynamic-int8":  # every nn.Linear, classifier included: qint8 weights per tensor, fbgemm/x86
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    enc = tok(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.inference_mode():
        lg = model(**enc).logits
    save_file({"logits": lg.contiguous(), "input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}, out)
    print(json.dumps({"missing": info["missing_keys"], "unexpected": info["unexpected_keys"],
                      "id2label": {str(k): v for k, v in model.config.id2label.items()},
                      "architectures": model.config.architectures}))


def autocast_grads(model_dir, texts_path, out):
    """Loss, logits and gradients of a classifier under CPU bfloat16 autocast (eval mode: no dropout)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    texts = json.load(open(texts_path))
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    enc = tok(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
    labels = torch.arange(len(texts)) % model.config.num_labels
    res = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels}
    for prefix, autocast in (("fp32.", False), ("", True)):
        model.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            o = model(**enc, labels=labels)
        o.loss.backward()
        res[prefix + "logits"] = o.logits.detach().float().contiguous()
        res[prefix + "loss"] = o.loss.detach().float().reshape(1)
        for n, p in model.named_parameters():
            res[prefix + "grad." + n] = p.grad.contiguous()
    save_file(res, out)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"minilm": minilm, "make-classifier": make_classifier, "logits": logits,
     "autocast-grads": autocast_grads}[cmd](*args)
