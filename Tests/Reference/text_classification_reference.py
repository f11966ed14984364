"""What transformers makes of a sequence-classification folder: the text-classification pipeline's
scores (top_k=None: softmax, sigmoid or none as the config's problem_type and num_labels ask), the model's logits per text (one text at a time, no padding), accuracy and
mean cross-entropy. Input on stdin: {"model": DIR, "max_length": N, "texts": [...], "labels": [...]}.
Prints one JSON object."""
import json
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

req = json.load(sys.stdin)
torch.set_num_threads(1)
tok = AutoTokenizer.from_pretrained(req["model"])
model = AutoModelForSequenceClassification.from_pretrained(req["model"]).eval()
clf = pipeline("text-classification", model=model, tokenizer=tok, device="cpu")
outs = clf(req["texts"], top_k=None, truncation=True, max_length=req["max_length"])
id2label = model.config.id2label
scores = [[next(o["score"] for o in out if o["label"] == id2label[i]) for i in range(len(id2label))]
          for out in outs]
logits, losses, correct = [], [], 0
with torch.no_grad():
    for text, label in zip(req["texts"], req["labels"]):
        enc = tok(text, truncation=True, max_length=req["max_length"], return_tensors="pt")
        row = model(**enc).logits[0]
        logits.append(row.tolist())
        if req.get("loss", True):
            losses.append(torch.nn.functional.cross_entropy(row.double()[None], torch.tensor([label])).item())
        correct += int(row.argmax().item() == label)
print(json.dumps({
    "scores": scores, "logits": logits, "labels": [id2label[int(torch.tensor(p).argmax())] for p in scores],
    "accuracy": correct / len(req["texts"]), "loss": sum(losses) / len(losses) if losses else None,
}))
