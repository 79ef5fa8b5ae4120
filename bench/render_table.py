#!/usr/bin/env python3
"""Render side_by_side.sh results (JSON lines) as a Markdown table.

  render_table.py RESULTS.jsonl [--datasets adult,aml]

One row per dataset x method x epsilon x implementation (synthema, reference-round = smartnoise as shipped
with mbi's synthetic_data(method="round"), reference-iid = the same fitted model sampled i.i.d.), the
latest line per seed: mean ± sd over seeds of the mean TV distance over all 2-way and all 3-way
marginals, mean wall seconds, mean CPU seconds (user + system) and peak RSS.  Lines with a label (a synthema variant) are shown as
"synthema [label]".  Ratio columns (synthema rows): synthema's 3-way TVD over the
reference's (i.i.d. / round) and synthema's wall time over the reference's, on the same dataset, method
and epsilon (goals: TVD ratio <= 1.05, wall ratio <= 0.1); CPU ratio likewise (less sensitive to load).  Standard library only.
"""
import argparse
import json
import statistics as st


def fmt(xs, d=3):
    if not xs:
        return "—"
    if len(xs) == 1:
        return f"{xs[0]:.{d}f}"
    return f"{st.mean(xs):.{d}f} ± {st.stdev(xs):.{d}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--datasets", default=None)
    a = ap.parse_args()
    latest = {}
    with open(a.results) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if a.datasets and r["dataset"] not in a.datasets.split(","):
                continue
            impl = r["impl"] + (f" [{r['label']}]" if r.get("label") else "")
            latest[(r["dataset"], r["method"], r["epsilon"], impl, r["seed"])] = r
    groups = {}
    for (ds, m, e, impl, _), r in latest.items():
        groups.setdefault((ds, m, e, impl), []).append(r)
    order = {"synthema": 0, "reference-iid": 1, "reference-round": 2}
    keys = sorted(groups, key=lambda k: (k[0], k[1], k[2], order.get(k[3], 9), k[3]))
    print("| data | method | ε | implementation | seeds | TVD 2-way | TVD 3-way | wall s | CPU s | peak RSS MB "
          "| 3-way ratio vs ref i.i.d. | vs ref round | wall ratio | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k in keys:
        rs = sorted(groups[k], key=lambda r: r["seed"])
        t2 = [r["tvd2_mean"] for r in rs]
        t3 = [r["tvd3_mean"] for r in rs]
        wall = st.mean(r["wall_s"] for r in rs)
        rss = st.mean(r["peak_rss_mb"] for r in rs)
        cpus = [r["cpu_s"] for r in rs if "cpu_s" in r]
        cpu = st.mean(cpus) if cpus else None
        ratios = ["", "", "", ""]
        if k[3].startswith("synthema"):
            for i, ref in enumerate(("reference-iid", "reference-round")):
                g = groups.get((k[0], k[1], k[2], ref))
                if g:
                    ratios[i] = f"{st.mean(t3) / st.mean(r['tvd3_mean'] for r in g):.2f}"
            g = groups.get((k[0], k[1], k[2], "reference-round"))
            if g:
                ratios[2] = f"{wall / st.mean(r['wall_s'] for r in g):.3f}"
                ref_cpu = [r["cpu_s"] for r in g if "cpu_s" in r]
                if cpu is not None and ref_cpu:
                    ratios[3] = f"{cpu / st.mean(ref_cpu):.3f}"
        seeds = ",".join(str(r["seed"]) for r in rs)
        print(f"| {k[0]} | {k[1].upper()} | {k[2]:g} | {k[3]} | {seeds} | {fmt(t2)} | {fmt(t3)} | {wall:.1f} "
              f"| {'—' if cpu is None else f'{cpu:.1f}'} | {rss:.0f} | {ratios[0]} | {ratios[1]} | {ratios[2]} "
              f"| {ratios[3]} |")


if __name__ == "__main__":
    main()
