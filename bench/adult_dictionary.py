#!/usr/bin/env python3
"""Write a synthema data dictionary for a table of integer codes described by a domain JSON.

  adult_dictionary.py DOMAIN.json OUT.toml [--name NAME] [--observed CODES.csv]

DOMAIN.json maps column -> cardinality k (the Private-PGM format, e.g. adult_pgm-domain.json); every
column becomes categorical with levels "0" .. "k-1" (the domain is public, nothing is read from data).
--observed (a DIAGNOSTIC, not differentially private: it reads the domain from the data) keeps only the
codes that occur in CODES.csv, which is what smartnoise does with categorical columns; it lets a
benchmark separate the effect of the domain from that of the algorithm.  Standard library only.
"""
import argparse
import json


def toml_str(s):
    return json.dumps(str(s))  # a JSON string is a valid TOML basic string


def observed_codes(path):
    """Column -> sorted set of the integer codes present in a CSV of codes."""
    import csv
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        seen = [set() for _ in header]
        for row in r:
            for s, v in zip(seen, row):
                s.add(int(v))
    return {c: sorted(s) for c, s in zip(header, seen)}


def dictionary(domain, name, observed=None):
    lines = ["format_version = 1", f"name = {toml_str(name)}",
             'description = "integer codes; every column categorical with levels 0..k-1 from the public domain"', ""]
    for col, k in domain.items():
        k = int(k)
        if k < 1:
            raise SystemExit(f"column {col!r}: cardinality {k} < 1")
        codes = observed[col] if observed else range(k)
        levels = ", ".join(toml_str(i) for i in codes)
        lines += ["[[column]]", f"name = {toml_str(col)}", 'type = "categorical"', f"levels = [{levels}]", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("domain")
    ap.add_argument("out")
    ap.add_argument("--name", default="adult-pgm")
    ap.add_argument("--observed", default=None)
    a = ap.parse_args()
    with open(a.domain) as f:
        domain = json.load(f)
    with open(a.out, "w") as f:
        f.write(dictionary(domain, a.name, observed_codes(a.observed) if a.observed else None))


if __name__ == "__main__":
    main()
