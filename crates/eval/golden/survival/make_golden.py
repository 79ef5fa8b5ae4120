"""Golden values for crates/eval/src/survival: fixture CSVs and lifelines' results on them.

Run from this directory with the peers' venv (lifelines 0.30, pandas, numpy, scipy):

    /work/venv-peers/bin/python make_golden.py

It writes `cohort.csv` (150 rows: time, event, group, x1, x2), `cohort_small.csv` (the first 40
rows, for a small-sample Cox fit) and `golden.json`. Everything is deterministic (numpy seed
20261128); the Rust test `crates/eval/tests/survival.rs` reads the committed files with
`include_str!` and never runs Python.
"""

import json

import numpy as np
import pandas as pd
import scipy.stats
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import concordance_index, median_survival_times

SEED = 20261128
N = 150


def make_cohort():
    rng = np.random.default_rng(SEED)
    group = rng.choice(["A", "B", "C"], size=N, p=[0.4, 0.35, 0.25])
    x1 = np.round(rng.normal(0.0, 1.0, size=N), 3)
    x2 = rng.binomial(1, 0.4, size=N)
    lin = 0.5 * x1 + 0.7 * x2 + np.where(group == "B", 0.4, 0.0) + np.where(group == "C", -0.5, 0.0)
    event_time = rng.exponential(1.0 / (0.002 * np.exp(lin)))
    censor_time = rng.uniform(50, 1500, size=N)
    # Integer days, so that event and censoring times tie (tests Efron ties and KM ties).
    time = np.ceil(np.minimum(event_time, censor_time)).astype(int)
    event = (event_time <= censor_time).astype(int)
    return pd.DataFrame({"time": time, "event": event, "group": group, "x1": x1, "x2": x2})


def km_golden(df, times):
    kmf = KaplanMeierFitter().fit(df["time"], df["event"])
    ci = kmf.confidence_interval_
    med_ci = median_survival_times(ci)
    finite = lambda v: None if not np.isfinite(v) else float(v)
    return {
        "timeline": [float(t) for t in kmf.survival_function_.index],
        "survival": [float(s) for s in kmf.survival_function_.iloc[:, 0]],
        "lower": [float(s) for s in ci.iloc[:, 0]],
        "upper": [float(s) for s in ci.iloc[:, 1]],
        "at_risk": [int(n) for n in kmf.event_table["at_risk"]],
        "events": [int(n) for n in kmf.event_table["observed"]],
        "median": finite(kmf.median_survival_time_),
        "median_lower": finite(med_ci.iloc[0, 0]),
        "median_upper": finite(med_ci.iloc[0, 1]),
        "predict_times": times,
        "predict": [float(s) for s in kmf.predict(times)],
    }


def cox_golden(df, formula_cols):
    cph = CoxPHFitter()  # Efron ties, no penalty (lifelines' defaults)
    cph.fit(df[["time", "event"] + formula_cols], duration_col="time", event_col="event")
    s = cph.summary
    return {
        "covariates": list(s.index),
        "coef": [float(v) for v in s["coef"]],
        "se": [float(v) for v in s["se(coef)"]],
        "hr": [float(v) for v in s["exp(coef)"]],
        "hr_lower": [float(v) for v in s["exp(coef) lower 95%"]],
        "hr_upper": [float(v) for v in s["exp(coef) upper 95%"]],
        "p": [float(v) for v in s["p"]],
        "log_likelihood": float(cph.log_likelihood_),
        "concordance": float(cph.concordance_index_),
    }


def main():
    df = make_cohort()
    df.to_csv("cohort.csv", index=False)
    small = df.iloc[:40].copy()
    small.to_csv("cohort_small.csv", index=False)

    design = df.copy()
    design["group_B"] = (design["group"] == "B").astype(int)
    design["group_C"] = (design["group"] == "C").astype(int)
    small_design = design.iloc[:40].copy()

    a, b = df[df["group"] == "A"], df[df["group"] == "B"]
    lr2 = logrank_test(a["time"], b["time"], a["event"], b["event"])
    lr3 = multivariate_logrank_test(df["time"], df["group"], df["event"])

    rng = np.random.default_rng(SEED + 1)
    # Predicted scores with ties (rounded), higher = longer survival (lifelines' convention).
    scores = np.round(-df["x1"].to_numpy() + rng.normal(0, 0.5, size=N), 1)

    chi2 = []
    for x, k in [(0.5, 1), (3.841458820694124, 1), (10.0, 2), (1.0, 3), (25.0, 5), (0.01, 4), (80.0, 10), (7.5, 7)]:
        chi2.append({"x": x, "df": k, "sf": float(scipy.stats.chi2.sf(x, k))})

    golden = {
        "source": "lifelines " + __import__("lifelines").__version__ + ", make_golden.py, seed " + str(SEED),
        "km_all": km_golden(df, [30.0, 100.0, 365.25, 730.5, 1000.0]),
        "km_group_C": km_golden(df[df["group"] == "C"], [100.0, 500.0]),
        "logrank_A_B": {"statistic": float(lr2.test_statistic), "p": float(lr2.p_value), "df": 1},
        "logrank_groups": {"statistic": float(lr3.test_statistic), "p": float(lr3.p_value),
                           "df": int(lr3.degrees_of_freedom)},
        "cox": cox_golden(design, ["x1", "x2", "group_B", "group_C"]),
        "cox_small": cox_golden(small_design, ["x1", "x2"]),
        "concordance_scores": [float(v) for v in scores],
        "concordance": float(concordance_index(df["time"], scores, df["event"])),
        "chi2_sf": chi2,
    }
    with open("golden.json", "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
