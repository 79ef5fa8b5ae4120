#!/usr/bin/env python3
"""Golden k, l, entropy-l and t of the anon crate's fixtures, computed by pycanon.

Run from the repository root with the peers' venv:

    /work/venv-peers/bin/python crates/anon/golden/make_golden.py

It reads crates/anon/tests/fixtures/*.csv (the outputs of our anonymiser are written first by
`cargo test --profile ci -p anon --test golden write_outputs -- --ignored`) and writes
crates/anon/golden/pycanon.json, which the Rust test `golden` compares with `anon::measure`.

pycanon's definitions: every equivalence class of the QI values counts (no suppression);
l = fewest distinct SA values in a class; entropy l = int(min over classes of exp(entropy));
t = largest EMD of a class to the whole file's distribution, with the ordered distance for a
numeric SA column and the equal distance for a string column. pycanon's recursive (c,l) is not
compared: it sorts the class counts increasingly (r[0] is the rarest value), whereas
Machanavajjhala et al. define r1 as the most frequent; our crate follows the paper.
"""

import json
import os
import sys

import pandas as pd
from pycanon import anonymity

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")

FIVE = ["age", "sex", "race", "marital_status", "education"]
INPATIENT = ["zip", "age", "nationality"]

# (file, dictionary, quasi-identifiers, sensitive attributes, models the file was made to reach)
CASES = [
    ("inpatient.csv", "inpatient-dictionary.toml", INPATIENT, ["condition"], None),
    ("inpatient.csv", "inpatient-dictionary.toml", ["zip"], ["condition"], None),
    ("inpatient-anon-l3.csv", "inpatient-anon-l3-dictionary.toml", INPATIENT, ["condition"], {"k": 4, "l": 3}),
    ("adult-sample.csv", "adult-dictionary.toml", ["age", "sex", "race"], ["income"], None),
    ("adult-sample.csv", "adult-dictionary.toml", ["sex", "race"], ["hours_per_week"], None),
    ("adult-sample.csv", "adult-dictionary.toml", ["race", "sex", "marital_status"], ["income"], None),
    ("adult-sample-anon-k5l2.csv", "adult-sample-anon-k5l2-dictionary.toml", FIVE, ["income"], {"k": 5, "l": 2}),
    ("adult-sample-anon-k5t.csv", "adult-sample-anon-k5t-dictionary.toml", FIVE, ["income"], {"k": 5, "t": 0.15}),
    ("adult-sample-anon-k5t.csv", "adult-sample-anon-k5t-dictionary.toml", FIVE, ["hours_per_week"], None),
]


def main() -> int:
    cases = []
    for file, dictionary, qi, sa, requested in CASES:
        # Empty fields stay the empty string: a missing value is a value of its own, as in anon.
        df = pd.read_csv(os.path.join(FIXTURES, file), keep_default_na=False, dtype={"zip": str})
        case = {
            "file": file,
            "dictionary": dictionary,
            "qi": qi,
            "sa": sa,
            "rows": len(df),
            "k": int(anonymity.k_anonymity(df, qi)),
            "l": int(anonymity.l_diversity(df, qi, sa)),
            "entropy_l": int(anonymity.entropy_l_diversity(df, qi, sa)),
            "t": float(anonymity.t_closeness(df, qi, sa)),
        }
        if requested is not None:
            case["requested"] = requested
        cases.append(case)
        print(f"{file} qi={qi} sa={sa}: k={case['k']} l={case['l']} entropy_l={case['entropy_l']} t={case['t']:.6f}")
    import pycanon

    out = {
        "made_by": "crates/anon/golden/make_golden.py",
        "pycanon_version": getattr(pycanon, "__version__", "unknown"),
        "cases": cases,
    }
    with open(os.path.join(HERE, "pycanon.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
