#!/usr/bin/env python3
"""PyTorch + transformers twin of `torchswift finetune`, same recipe and defaults: BertForSequenceClassification
from an HF folder, AdamW (lr, weight decay 0.01 except biases and LayerNorm weights), a schedule by transformers'
get_scheduler name (default constant; --warmup-ratio as TrainingArguments: ceil(steps × ratio)), batch 32 with
dynamic padding and shuffled batches (--group-by-length: length-grouped, megabatches of 50 batches, as
transformers' LengthGroupedSampler), max length 128, gradient clipping when --max-grad-norm > 0 (default off),
one epoch, then accuracy on the evaluation file. Prints one JSON line (accuracy, macro_f1, samples_per_s of the
training loop).

  finetune_reference.py --model DIR --train TRAIN.csv --eval EVAL.csv [--text-column text --label-column sentiment]
"""
import argparse
import csv
import json
import math
import os
import random
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_scheduler  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--train", required=True)
ap.add_argument("--eval", required=True)
ap.add_argument("--text-column", default="text")
ap.add_argument("--label-column", default="sentiment")
ap.add_argument("--batch-size", type=int, default=32)
ap.add_argument("--lr", type=float, default=5e-5)
ap.add_argument("--max-length", type=int, default=128)
ap.add_argument("--epochs", type=int, default=1)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--max-steps", type=int, default=0)
ap.add_argument("--lr-schedule", default="constant")
ap.add_argument("--warmup-ratio", type=float, default=0.0)
ap.add_argument("--max-grad-norm", type=float, default=0.0)
ap.add_argument("--group-by-length", action="store_true")
args = ap.parse_args()
if args.threads:
    torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
random.seed(args.seed)


def read(path):
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        rows = [(r[args.text_column], r[args.label_column].strip()) for r in csv.DictReader(f)]
    return [(t, l) for t, l in rows if t.strip() and l]


train, evalset = read(args.train), read(args.eval)
labels = sorted({l for _, l in train})
lid = {l: i for i, l in enumerate(labels)}
tok = AutoTokenizer.from_pretrained(args.model)
model = AutoModelForSequenceClassification.from_pretrained(
    args.model, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=lid)
enc_train = tok([t for t, _ in train], truncation=True, max_length=args.max_length)["input_ids"]
enc_eval = tok([t for t, _ in evalset], truncation=True, max_length=args.max_length)["input_ids"]
y_train = [lid[l] for _, l in train]
y_eval = [lid.get(l, -1) for _, l in evalset]


def batches(n_items, lengths, shuffle, group=False):
    order = list(range(n_items))
    if shuffle:
        random.shuffle(order)
    if group:
        mega = args.batch_size * 50
        order = [i for s in range(0, n_items, mega) for i in sorted(order[s:s + mega], key=lambda i: -lengths[i])]
    return [order[s:s + args.batch_size] for s in range(0, n_items, args.batch_size)]


def collate(idx, enc, ys):
    t = max(len(enc[i]) for i in idx)
    ids = torch.zeros(len(idx), t, dtype=torch.long)
    mask = torch.zeros(len(idx), t, dtype=torch.long)
    for r, i in enumerate(idx):
        ids[r, :len(enc[i])] = torch.tensor(enc[i])
        mask[r, :len(enc[i])] = 1
    return ids, mask, torch.tensor([ys[i] for i in idx])


no_decay = ["bias", "LayerNorm.weight"]
groups = [
    {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
    {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
]
opt = torch.optim.AdamW(groups, lr=args.lr)
steps_per_epoch = math.ceil(len(train) / args.batch_size)
total = steps_per_epoch * args.epochs
if args.max_steps:
    total = min(total, args.max_steps)
# transformers' Trainer: ceil(total × warmup_ratio) warmup steps, clipping when max_grad_norm > 0.
sched = get_scheduler(args.lr_schedule, opt, num_warmup_steps=math.ceil(total * args.warmup_ratio), num_training_steps=total)
lengths = [len(e) for e in enc_train]
model.train()
seen, step, t0 = 0, 0, time.perf_counter()
for epoch in range(args.epochs):
    for idx in batches(len(train), lengths, True, args.group_by_length):
        ids, mask, y = collate(idx, enc_train, y_train)
        loss = model(input_ids=ids, attention_mask=mask, labels=y).loss
        loss.backward()
        if args.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        seen += len(idx)
        step += 1
        if step >= total:
            break
train_seconds = time.perf_counter() - t0
model.eval()
pred = []
with torch.inference_mode():
    for idx in batches(len(evalset), [len(e) for e in enc_eval], False):
        ids, mask, _ = collate(idx, enc_eval, [0] * len(evalset))
        pred += model(input_ids=ids, attention_mask=mask).logits.argmax(-1).tolist()
acc = sum(int(p == y) for p, y in zip(pred, y_eval)) / len(y_eval)
f1s = []
for c in range(len(labels)):
    tp = sum(1 for p, y in zip(pred, y_eval) if p == c and y == c)
    fp = sum(1 for p, y in zip(pred, y_eval) if p == c and y != c)
    fn = sum(1 for p, y in zip(pred, y_eval) if p != c and y == c)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
print(json.dumps({"benchmark": "finetune", "impl": "pytorch", "accuracy": acc, "macro_f1": sum(f1s) / len(f1s),
                  "samples_per_s": seen / train_seconds, "steps": step, "train_seconds": train_seconds,
                  "threads": torch.get_num_threads()}))
