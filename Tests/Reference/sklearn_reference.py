"""Reference classification metrics from scikit-learn.

usage: sklearn_reference.py < cases.json
  stdin: JSON list of {"y_true": [...], "y_pred": [...], "num_classes": n, "names": [...]}
  stdout: JSON list of {"accuracy", "precision", "recall", "f1", "support" (per class, labels=range(n)),
          "macro": [p, r, f1], "weighted": [p, r, f1], "confusion": [[...]], "report": str}
          all with zero_division=0.
"""
import json
import sys
import warnings

from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix,
                             precision_recall_fscore_support)

warnings.filterwarnings("ignore")


def evaluate(case):
    y_true, y_pred, n = case["y_true"], case["y_pred"], case["num_classes"]
    labels = list(range(n))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": [float(x) for x in p],
        "recall": [float(x) for x in r],
        "f1": [float(x) for x in f],
        "support": [int(x) for x in s],
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "report": classification_report(y_true, y_pred, labels=labels, target_names=case["names"],
                                        zero_division=0, digits=case.get("digits", 2)),
    }
    for average in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average,
                                                        zero_division=0)
        out[average] = [float(ap), float(ar), float(af)]
    return out


json.dump([evaluate(c) for c in json.load(sys.stdin)], sys.stdout)
