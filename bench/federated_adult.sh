#!/usr/bin/env bash
# Issue 5's Adult measurement (docs/benchmarks.md, "Federated vs central synthesis"): central vs
# federated AIM and MST on UCI Adult split non-IID over 5 sites (Dirichlet(0.5) by education), its
# IID control, AIM with T = 28, and the AML cohort, per selection variant (`floor:4`, the
# oracle's default since 2026-11-28, is the heterogeneity-floor correction of `scores:4`);
# ε = 1, δ = 1e-9, 5 seeds.
#
#   bench/federated_adult.sh [OUT_DIR]      (default OUT_DIR: bench/work/federated)
#
# Reads ../shared/data/adult.csv (or $ADULT_CSV); nothing else outside the repository. Each run's
# Markdown table goes to OUT_DIR/NAME.md, site sizes and selected cliques to OUT_DIR/NAME.err,
# wall/CPU time to OUT_DIR/NAME.time. Runs one at a time under `nice -n 15` (shared machine).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/bench/work/federated}"
mkdir -p "$out"
export ADULT_CSV="${ADULT_CSV:-$root/../shared/data/adult.csv}"
cd "$root"
cargo build --release -p federation --example federated_bench
bin="${CARGO_TARGET_DIR:-$root/target}/release/examples/federated_bench"
variants="scores:4,floor:4,marginals,votes:64,scores:1,scores:16,votes:1024"
run() {
  local name="$1"; shift
  echo "== $name: federated_bench $*" >&2
  /usr/bin/time -p -o "$out/$name.time" nice -n 15 "$bin" "$@" >"$out/$name.md" 2>"$out/$name.err"
}
run aim_adult      selection aim adult 5 default "$variants"
run aim_adult_iid  selection aim adult-iid 5 default "$variants"
run mst_adult      selection mst adult 5 default "scores:4,floor:4,marginals,votes:64"
run aim_aml        selection aim aml 5 default "$variants"
run aim_aml_all    selection aim aml-all 5 default "scores:4,floor:4,marginals,votes:64"
run aim_adult_T28     selection aim adult 5 28 "scores:4,floor:4,marginals,votes:64"
run aim_adult_iid_T28 selection aim adult-iid 5 28 "scores:4,floor:4,marginals,votes:64"
echo "results in $out" >&2
