#!/usr/bin/env python3
"""Fine-tuning accuracy of the plain PyTorch + transformers recipe on a fixed split of the bundled corpus
(issue 13): the yardstick for `torchswift finetune`'s defaults (scripts/accuracy-check.sh runs both sides).

  finetune_accuracy.py split --corpus CORPUS.csv --out DIR
      seed-0 `random.shuffle` of all rows of the corpus; DIR/train.csv = the first 4,000 rows,
      DIR/eval.csv = the last 2,000 rows (columns as in the corpus).
  finetune_accuracy.py pytorch --model DIR --train TRAIN.csv --eval EVAL.csv --seed N
      the plain recipe: AutoModelForSequenceClassification from the HF folder, torch.optim.AdamW(model.parameters(),
      lr=5e-5) (PyTorch's defaults otherwise: weight decay 0.01 on every parameter), no schedule, no clipping,
      batch 32 shuffled by a torch generator seeded with N, dynamic padding (DataCollatorWithPadding),
      max length 128, one epoch; then accuracy on the evaluation file. N also seeds the new head's
      initialisation and dropout (torch.manual_seed). Prints one JSON line.
"""
import argparse
import csv
import json
import os
import random
import sys
import time


def split(args):
    with open(args.corpus, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    random.seed(0)
    random.shuffle(rows)
    os.makedirs(args.out, exist_ok=True)
    for name, part in (("train", rows[:args.train_rows]), ("eval", rows[-args.eval_rows:])):
        with open(os.path.join(args.out, name + ".csv"), "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(part)
    print(json.dumps({"rows": len(rows), "train": args.train_rows, "eval": args.eval_rows, "out": args.out}))


def pytorch(args):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    if args.threads:
        torch.set_num_threads(args.threads)

    def read(path):
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            rows = [(r[args.text_column], r[args.label_column].strip()) for r in csv.DictReader(f)]
        return [(t, l) for t, l in rows if t.strip() and l]

    train, evalset = read(args.train), read(args.eval)
    labels = sorted({l for _, l in train})
    lid = {l: i for i, l in enumerate(labels)}
    torch.manual_seed(args.seed)
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSequenceClassification.from_pretrained(
        args.model, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=lid)
    collate = DataCollatorWithPadding(tok)

    def encode(rows):
        enc = tok([t for t, _ in rows], truncation=True, max_length=args.max_length)
        return [{"input_ids": i, "attention_mask": m, "labels": lid.get(l, -1)}
                for i, m, (_, l) in zip(enc["input_ids"], enc["attention_mask"], rows)]

    train_ds, eval_ds = encode(train), encode(evalset)
    g = torch.Generator()
    g.manual_seed(args.seed)
    loader = torch.utils.data.DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, generator=g,
                                         collate_fn=collate)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    model.train()
    steps, t0 = 0, time.perf_counter()
    for _ in range(args.epochs):
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            steps += 1
    train_seconds = time.perf_counter() - t0
    model.eval()
    correct = 0
    with torch.inference_mode():
        for batch in torch.utils.data.DataLoader(eval_ds, batch_size=64, collate_fn=collate):
            pred = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.argmax(-1)
            correct += int((pred == batch["labels"]).sum())
    print(json.dumps({"impl": "pytorch", "seed": args.seed, "accuracy": correct / len(eval_ds), "steps": steps,
                      "train_seconds": round(train_seconds, 1), "threads": torch.get_num_threads()}))


ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
sub = ap.add_subparsers(dest="cmd", required=True)
s = sub.add_parser("split")
s.add_argument("--corpus", required=True)
s.add_argument("--out", required=True)
s.add_argument("--train-rows", type=int, default=4000)
s.add_argument("--eval-rows", type=int, default=2000)
p = sub.add_parser("pytorch")
p.add_argument("--model", required=True)
p.add_argument("--train", required=True)
p.add_argument("--eval", required=True)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--text-column", default="text")
p.add_argument("--label-column", default="sentiment")
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--lr", type=float, default=5e-5)
p.add_argument("--max-length", type=int, default=128)
p.add_argument("--epochs", type=int, default=1)
p.add_argument("--threads", type=int, default=0)
args = ap.parse_args()
{"split": split, "pytorch": pytorch}[args.cmd](args)
sys.stdout.flush()
