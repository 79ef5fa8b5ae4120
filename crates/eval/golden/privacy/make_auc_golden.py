"""Golden AUC and TPR-at-FPR values for crates/eval/tests/privacy.rs, from scikit-learn.

AUC: roc_auc_score. TPR at FPR f: on scikit-learn's roc_curve (drop_intermediate=False: one
point per distinct threshold, from (0, 0)), linear interpolation between the last point with
FPR <= f and the next one (the rule documented in crates/eval/src/privacy/roc.rs).

Run: /work/venv-peers/bin/python crates/eval/golden/privacy/make_auc_golden.py
Writes auc.json next to this script.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score, roc_curve

FPRS = [0.0, 0.01, 0.1, 0.25, 0.5]


def tpr_at_fpr(labels, scores, f):
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    i = int(np.searchsorted(fpr, f, side="right")) - 1
    if i + 1 >= len(fpr):
        return float(tpr[i])
    return float(tpr[i] + (tpr[i + 1] - tpr[i]) * (f - fpr[i]) / (fpr[i + 1] - fpr[i]))

rng = np.random.default_rng(20261128)
cases = [
    {"name": "hand, ties", "scores": [0.9, 0.5, 0.5, 0.5, 0.1], "labels": [1, 1, 1, 0, 0]},
    {"name": "all tied", "scores": [1.0] * 5, "labels": [1, 0, 1, 0, 0]},
    {"name": "perfect", "scores": [3.0, 2.0, 1.0, 0.0], "labels": [1, 1, 0, 0]},
    {"name": "inverted", "scores": [0.0, 1.0, 2.0], "labels": [1, 0, 0]},
    {
        "name": "random 200, rounded to 1 decimal (many ties)",
        "scores": [round(float(x), 1) for x in rng.normal(size=200)],
        "labels": [int(x) for x in rng.integers(0, 2, size=200)],
    },
    {
        "name": "random 300, negative distances with exact zeros",
        "scores": [-max(0.0, round(float(x), 2)) for x in rng.normal(0.1, 0.2, size=300)],
        "labels": [int(x) for x in rng.integers(0, 2, size=300)],
    },
]
for c in cases:
    c["roc_auc_score"] = float(roc_auc_score(c["labels"], c["scores"]))
    c["tpr_at_fpr"] = [[f, tpr_at_fpr(c["labels"], c["scores"], f)] for f in FPRS]

out = {"generator": "make_auc_golden.py", "sklearn": sklearn.__version__, "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "auc.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", path)
