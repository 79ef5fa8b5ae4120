#!/usr/bin/env python3
"""Discretise a CSV with the public domains of its synthema data dictionary into integer codes.

  aml_codes.py DICT.toml DATA.csv OUT_CODES.csv OUT_DOMAIN.json [--default-bins 16]

Per column (identifier and text columns are dropped):
  categorical  level i of `levels` -> code i
  boolean      the `false` token -> 0, the `true` token -> 1
  integer/real `bins` edges e1 < .. < ek inside [min, max] -> k + 1 codes [min, e1), [e1, e2), .., [ek, max];
               without `bins`, DEFAULT_BINS equal-width bins on [min, max] (max falls in the last bin)
  date         as integer/real on the day number (format %Y-%m-%d only)
  missing      when the column allows missing values, one extra code (the last) for a missing token.
The domain JSON (column -> cardinality) comes from the dictionary alone, never from the data.  A value
outside its declared domain is an error naming the line, column and value.  Python 3.11+ standard library.
"""
import argparse
import csv
import datetime
import json
import math
import sys
import tomllib


def fail(msg):
    raise SystemExit(f"aml_codes.py: {msg}")


def day_number(text, where):
    try:
        return datetime.date.fromisoformat(str(text)).toordinal()
    except ValueError:
        fail(f"{where}: {text!r} is not a YYYY-MM-DD date")


class Coder:
    """Maps one column's raw field to its integer code."""

    def __init__(self, col, default_missing, default_bins):
        self.name = col["name"]
        self.type = col["type"]
        self.missing_tokens = set(col.get("missing_tokens", default_missing))
        self.allows_missing = col.get("missing", "forbidden") == "allowed"
        if self.type == "categorical":
            self.levels = {lv: i for i, lv in enumerate(col["levels"])}
            self.k = len(self.levels)
        elif self.type == "boolean":
            self.levels = {str(col.get("false", "0")): 0, str(col.get("true", "1")): 1}
            self.k = 2
        elif self.type in ("integer", "real", "date"):
            if "min" not in col or "max" not in col:
                fail(f"column {self.name!r}: a numeric column needs public min and max")
            conv = (lambda v: day_number(v, f"column {self.name!r}")) if self.type == "date" else float
            self.lo, self.hi = conv(col["min"]), conv(col["max"])
            self.edges = [conv(e) for e in col.get("bins", [])]
            if self.edges:
                self.k = len(self.edges) + 1
            else:
                self.width = (self.hi - self.lo) / default_bins
                self.k = default_bins
            self.conv = conv
        else:
            fail(f"column {self.name!r}: unsupported type {self.type!r}")
        self.missing_code = self.k if self.allows_missing else None
        self.cardinality = self.k + (1 if self.allows_missing else 0)

    def code(self, field, line):
        where = f"line {line}, column {self.name!r}, value {field!r}"
        if field in self.missing_tokens:
            if self.missing_code is None:
                fail(f"{where}: missing but the dictionary forbids missing values")
            return self.missing_code
        if self.type in ("categorical", "boolean"):
            if field not in self.levels:
                fail(f"{where}: not one of the declared levels")
            return self.levels[field]
        try:
            v = day_number(field, where) if self.type == "date" else float(field)
        except ValueError:
            fail(f"{where}: not a number")
        if not (math.isfinite(v) and self.lo <= v <= self.hi):
            fail(f"{where}: outside [{self.lo}, {self.hi}]")
        if self.edges:
            return sum(1 for e in self.edges if v >= e)
        if self.width <= 0:
            return 0
        return min(int((v - self.lo) / self.width), self.k - 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dictionary")
    ap.add_argument("data")
    ap.add_argument("out_codes")
    ap.add_argument("out_domain")
    ap.add_argument("--default-bins", type=int, default=16)
    a = ap.parse_args()
    with open(a.dictionary, "rb") as f:
        dic = tomllib.load(f)
    default_missing = dic.get("missing_tokens", [""])
    coders = [Coder(c, default_missing, a.default_bins) for c in dic["column"]
              if c["type"] not in ("identifier", "text")]
    with open(a.data, newline="") as f, open(a.out_codes, "w", newline="") as g:
        r = csv.reader(f)
        header = next(r)
        missing = [c.name for c in coders if c.name not in header]
        if missing:
            fail(f"{a.data}: columns {missing} of the dictionary are not in the header")
        idx = [header.index(c.name) for c in coders]
        w = csv.writer(g)
        w.writerow([c.name for c in coders])
        n = 0
        for line, row in enumerate(r, start=2):
            if len(row) != len(header):
                fail(f"{a.data} line {line}: {len(row)} fields, header has {len(header)}")
            w.writerow([c.code(row[i], line) for c, i in zip(coders, idx)])
            n += 1
    with open(a.out_domain, "w") as f:
        json.dump({c.name: c.cardinality for c in coders}, f, indent=1)
    print(json.dumps({"rows": n, "columns": len(coders), "codes": a.out_codes, "domain": a.out_domain}),
          file=sys.stderr)


if __name__ == "__main__":
    main()
