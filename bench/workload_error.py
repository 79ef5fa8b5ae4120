#!/usr/bin/env python3
"""Average total-variation distance between two tables of integer codes over all 2-way and 3-way marginals.

  workload_error.py REAL.csv SYNTH.csv [--domain DOMAIN.json] [--label TEXT]

Both CSVs have a header and the same columns (order may differ) holding integer codes 0..k-1.
Cardinalities come from DOMAIN.json (column -> k) when given, else from the largest code seen in
either table.  TV(p, q) = 1/2 * sum |p - q| over the cells of a marginal, each table normalised by
its own row count.  Every pair and every triple of columns is computed (14 columns: 91 and 364).
Prints one JSON line: mean / max TV for 1-, 2- and 3-way, and the counts.  numpy only.
"""
import argparse
import csv
import itertools
import json
import sys

import numpy as np


def read_codes(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        rows = [row for row in r]
    try:
        arr = np.array(rows, dtype=np.int64).reshape(len(rows), len(header))
    except ValueError as e:
        raise SystemExit(f"{path}: every field must be an integer code ({e})")
    return header, arr


def tv(real, synth, cols, sizes):
    shape = tuple(sizes[c] for c in cols)
    ri = np.ravel_multi_index(tuple(real[:, c] for c in cols), shape)
    si = np.ravel_multi_index(tuple(synth[:, c] for c in cols), shape)
    n = int(np.prod(shape))
    p = np.bincount(ri, minlength=n) / len(ri)
    q = np.bincount(si, minlength=n) / len(si)
    return 0.5 * float(np.abs(p - q).sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("real")
    ap.add_argument("synth")
    ap.add_argument("--domain")
    ap.add_argument("--label", default=None)
    a = ap.parse_args()
    hr, real = read_codes(a.real)
    hs, synth = read_codes(a.synth)
    if sorted(hr) != sorted(hs):
        raise SystemExit(f"column mismatch: {a.real} has {hr}, {a.synth} has {hs}")
    synth = synth[:, [hs.index(c) for c in hr]]
    if a.domain:
        with open(a.domain) as f:
            dom = json.load(f)
        sizes = [int(dom[c]) for c in hr]
    else:
        sizes = [int(max(real[:, j].max(), synth[:, j].max())) + 1 for j in range(len(hr))]
    for name, arr in (("real", real), ("synth", synth)):
        if arr.min() < 0 or any(arr[:, j].max() >= sizes[j] for j in range(len(hr))):
            raise SystemExit(f"{name} table has a code outside 0..k-1")
    out = {"label": a.label, "real": a.real, "synth": a.synth, "real_rows": len(real), "synth_rows": len(synth)}
    for k in (1, 2, 3):
        vals = [tv(real, synth, c, sizes) for c in itertools.combinations(range(len(hr)), k)]
        out[f"tvd{k}_mean"] = round(float(np.mean(vals)), 5) if vals else None
        out[f"tvd{k}_max"] = round(float(np.max(vals)), 5) if vals else None
        out[f"n{k}"] = len(vals)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
