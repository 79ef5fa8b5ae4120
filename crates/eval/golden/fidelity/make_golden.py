"""Golden values for crates/eval fidelity and utility metrics.

Writes two tiny fixture CSVs (real.csv, synthetic.csv, 200 rows each, made deterministically
with numpy) and golden.json with the values SDMetrics and scikit-learn compute on them.
The Rust test crates/eval/tests/fidelity.rs reads the fixtures and the JSON (no Python needed).

Run from this directory with the peers' venv:
    /work/venv-peers/bin/python make_golden.py

Conventions that match the Rust implementation:
- KSComplement: SDMetrics drops missing values; dates become numbers (rank-based, so day
  numbers and nanoseconds give the same statistic).
- TVComplement: the Rust metric counts "missing" as its own category, SDMetrics drops NaN, so
  missing values are replaced by the token "<missing>" before calling SDMetrics.
- CorrelationSimilarity: Pearson on rows where both columns are present.
- ContingencySimilarity: categorical/boolean pairs only (SDMetrics bins continuous columns its
  own way); groupby(dropna=False) keeps missing as a category, as the Rust metric does.
- roc_auc_score on fixed score vectors (with ties), binary and one-vs-rest macro multiclass.
"""

import json

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
from sdmetrics.single_column import KSComplement, TVComplement

ROWS = 200


def make(seed, shift):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 91 - int(10 * shift), ROWS).astype(float)
    wbc = np.round(np.clip(rng.lognormal(2.5 + shift, 0.8, ROWS) + 0.3 * age, 0.1, 199.9), 1)
    sex = rng.choice(["female", "male"], ROWS, p=[0.45 + 0.1 * shift, 0.55 - 0.1 * shift])
    risk = rng.choice(["favorable", "intermediate", "adverse"], ROWS, p=[0.3, 0.4 - 0.2 * shift, 0.3 + 0.2 * shift])
    relapse = (rng.random(ROWS) < np.where(risk == "adverse", 0.6, 0.25)).astype(int)
    days = rng.integers(0, 3650 - int(1000 * shift), ROWS)
    diagnosis = pd.Timestamp("2010-01-01") + pd.to_timedelta(days, unit="D")
    df = pd.DataFrame(
        {
            "age": age,
            "wbc": wbc,
            "sex": sex,
            "risk": risk.astype(object),
            "relapse": relapse,
            "diagnosis": diagnosis,
        }
    )
    # Missing values in age, wbc, risk, diagnosis.
    for column, share in [("age", 0.05), ("wbc", 0.1 + 0.1 * shift), ("risk", 0.08), ("diagnosis", 0.03)]:
        df.loc[rng.random(ROWS) < share, column] = np.nan
    return df


def write_csv(df, path):
    out = df.copy()
    out["age"] = out["age"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    out["wbc"] = out["wbc"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    out["risk"] = out["risk"].map(lambda v: "" if pd.isna(v) else v)
    out["diagnosis"] = out["diagnosis"].map(lambda v: "" if pd.isna(v) else v.strftime("%Y-%m-%d"))
    out.to_csv(path, index=False, lineterminator="\n")


def main():
    real = make(11, 0.0)
    synthetic = make(12, 0.5)
    write_csv(real, "real.csv")
    write_csv(synthetic, "synthetic.csv")
    # Read back, so the golden values are computed on exactly what the CSVs hold.
    real = pd.read_csv("real.csv", parse_dates=["diagnosis"], keep_default_na=True)
    synthetic = pd.read_csv("synthetic.csv", parse_dates=["diagnosis"], keep_default_na=True)

    golden = {"ks_complement": {}, "tv_complement": {}, "correlation_similarity": {}, "contingency_similarity": {}}
    for column in ["age", "wbc", "diagnosis"]:
        golden["ks_complement"][column] = float(KSComplement.compute(real[column], synthetic[column]))

    def with_missing(series):
        return series.astype(object).where(series.notna(), "<missing>").astype(str)

    for column in ["sex", "risk", "relapse"]:
        golden["tv_complement"][column] = float(
            TVComplement.compute(with_missing(real[column]), with_missing(synthetic[column]))
        )
    for a, b in [("age", "wbc"), ("wbc", "diagnosis"), ("age", "diagnosis")]:
        breakdown = CorrelationSimilarity.compute_breakdown(real[[a, b]], synthetic[[a, b]])
        golden["correlation_similarity"][f"{a}|{b}"] = {
            "score": float(breakdown["score"]),
            "real": float(breakdown["real"]),
            "synthetic": float(breakdown["synthetic"]),
        }
    for a, b in [("sex", "risk"), ("risk", "relapse"), ("sex", "relapse")]:
        golden["contingency_similarity"][f"{a}|{b}"] = float(
            ContingencySimilarity.compute(real[[a, b]], synthetic[[a, b]])
        )

    rng = np.random.default_rng(7)
    auc_cases = []
    labels = rng.integers(0, 2, 60)
    scores = np.round(rng.random(60) + 0.3 * labels, 1)  # rounding makes many ties
    auc_cases.append({"labels": labels.tolist(), "scores": scores.tolist(),
                      "auc": float(roc_auc_score(labels, scores))})
    labels = np.array([0, 0, 1, 1, 0, 1, 0, 1])
    scores = np.array([0.5, 0.5, 0.5, 0.5, 0.1, 0.9, 0.5, 0.2])
    auc_cases.append({"labels": labels.tolist(), "scores": scores.tolist(),
                      "auc": float(roc_auc_score(labels, scores))})
    golden["auc_binary"] = auc_cases

    labels = rng.integers(0, 3, 90)
    raw = rng.random((90, 3)) + 0.4 * np.eye(3)[labels]
    probs = np.round(raw / raw.sum(axis=1, keepdims=True), 2)
    probs = probs / probs.sum(axis=1, keepdims=True)
    golden["auc_multiclass"] = {
        "labels": labels.tolist(),
        "scores": probs.tolist(),
        "auc": float(roc_auc_score(labels, probs, multi_class="ovr", average="macro")),
    }
    import sdmetrics
    import sklearn
    golden["versions"] = {"sdmetrics": sdmetrics.__version__, "scikit-learn": sklearn.__version__}
    with open("golden.json", "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
