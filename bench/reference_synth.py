#!/usr/bin/env python3
"""Run the reference MST / AIM (smartnoise-synth on mbi) on a table of integer codes.

  reference_synth.py --method mst|aim --data CODES.csv --epsilon E --seed S --out OUT.csv
      [--delta 1e-9] [--rows N] [--aim-max-model-size MB] [--aim-rounds N] [--aim-degree 2]

Every column is passed as categorical integer codes (the input is already discretised),
preprocessor_eps = 0 so the whole epsilon goes to the mechanism.  Writes OUT.csv (mbi's default
synthetic_data(method="round"), as smartnoise ships it) and OUT_iid.csv (an i.i.d. sample drawn from
the SAME fitted model with method="sample"; mbi 1.1.0's "round" makes sibling columns co-monotone,
see PEERS/README.md).  Prints one JSON line with fit and sample times.  Runs in the peers venv.
"""
import argparse
import contextlib
import json
import random
import sys
import time

import numpy as np
import pandas as pd


@contextlib.contextmanager
def mbi_sampling(method):
    """Force mbi MarkovRandomField.synthetic_data(method=...) for the duration of the block."""
    from mbi import MarkovRandomField
    orig = MarkovRandomField.synthetic_data

    def patched(self, rows=None, method_=None):
        return orig(self, rows=rows, method=method)
    MarkovRandomField.synthetic_data = patched
    try:
        yield
    finally:
        MarkovRandomField.synthetic_data = orig


def as_codes(out, columns):
    out = pd.DataFrame(out, columns=columns) if not isinstance(out, pd.DataFrame) else out
    out.columns = columns
    return out.astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", required=True, choices=["mst", "aim"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--epsilon", type=float, required=True)
    ap.add_argument("--delta", type=float, default=1e-9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--aim-max-model-size", type=float, default=10)
    ap.add_argument("--aim-rounds", type=int, default=50)
    ap.add_argument("--aim-degree", type=int, default=2)
    ap.add_argument("--aim-max-cells", type=int, default=10000)
    a = ap.parse_args()
    random.seed(a.seed)
    np.random.seed(a.seed)
    from snsynth import Synthesizer
    codes = pd.read_csv(a.data)
    rows = a.rows or len(codes)
    kwargs = {"delta": a.delta}
    if a.method == "aim":
        kwargs.update(max_model_size=a.aim_max_model_size, degree=a.aim_degree, max_cells=a.aim_max_cells,
                      rounds=a.aim_rounds)
    synth = Synthesizer.create(a.method, epsilon=a.epsilon, **kwargs)
    t0 = time.time()
    with contextlib.redirect_stdout(sys.stderr):
        synth.fit(codes, categorical_columns=list(codes.columns), preprocessor_eps=0.0)
    t1 = time.time()
    with contextlib.redirect_stdout(sys.stderr):
        out = as_codes(synth.sample(rows), codes.columns)
    t2 = time.time()
    with contextlib.redirect_stdout(sys.stderr), mbi_sampling("sample"):
        iid = as_codes(synth.sample(rows), codes.columns)
    t3 = time.time()
    out.to_csv(a.out, index=False)
    iid_path = a.out[:-4] + "_iid.csv" if a.out.endswith(".csv") else a.out + "_iid"
    iid.to_csv(iid_path, index=False)
    info = {"method": a.method, "fit_s": round(t1 - t0, 2), "sample_round_s": round(t2 - t1, 2),
            "sample_iid_s": round(t3 - t2, 2), "rows": rows, "out": a.out, "out_iid": iid_path,
            "params": {k: v for k, v in vars(a).items() if k not in ("data", "out")}}
    if a.method == "aim":
        model = synth.synthesizer
        cl = list(model.cliques)
        info["aim_model_cliques"] = [list(c) for c in cl]
        info["aim_model_size_mb"] = float(sum(model.domain.size(c) for c in cl) * 8 / 2 ** 20)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
