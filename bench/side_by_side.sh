#!/usr/bin/env bash
# Side-by-side benchmark: synthema's MST / AIM against the reference (smartnoise-synth 1.0.8 on mbi 1.1.0)
# on the same integer codes, the same epsilon / delta; workload error = mean total-variation distance over
# all 2-way and 3-way marginals (bench/workload_error.py); wall time and peak RSS from /usr/bin/time -v.
#
#   bench/side_by_side.sh [--quick] [--datasets adult,aml] [--methods mst,aim] [--epsilons 0.1,1,10]
#       [--seeds 0,1,2,3,4] [--ref-methods mst,aim] [--ref-seeds 0,1] [--ref-aim-epsilons 1]
#       [--aim-rounds 50] [--aim-max-model-mb 10] [--aim-degree 2] [--delta 1e-9]
#       [--no-reference] [--no-synthema] [--reuse] [--timeout SECONDS] [--results FILE.jsonl]
#       [--label TEXT --synthema-args 'EXTRA ARGS']
#
# Defaults are the issue's grid: Adult (Private-PGM discretisation) and the simulated AML cohort (2,500
# patients), MST and AIM, epsilon in {0.1, 1, 10}, delta 1e-9, 5 seeds for synthema.  The reference is slow
# (AIM: ~15 min per run on Adult): by default it runs MST at every epsilon with seeds 0,1 and AIM at
# epsilon 1 with seed 0 (--ref-*), with the same AIM settings as synthema (rounds, model-size cap, degree).
# --quick = epsilon 1, seed 0, reference seed 0.  --reuse keeps outputs already in the work directory
# (a cell whose output exists is scored again, not rerun).  Every run appends one JSON line per scored
# output to the results file; a Markdown table of the whole file is printed at the end
# (bench/render_table.py).  --label names a synthema variant (e.g. --label iters5000 --synthema-args
# '--iters 5000'): its outputs go to their own work directories and its rows to their own table lines.
# Reference wall time = the driver's /usr/bin/time wall minus the time of the other sampling method (the
# driver fits once and draws both the "round" and the i.i.d. sample); synthema's = its /usr/bin/time wall.
#
# Dataset adult-observed (a diagnostic, NOT differentially private): Adult with a synthema dictionary whose
# levels are only the codes present in the data, i.e. the domain smartnoise infers from categorical columns.
#
# Environment: PEERS (default ../shared/bench/peers from the repo root: its README explains the reference),
# PY (default /work/venv-peers/bin/python: a venv with smartnoise-synth, mbi, numpy),
# SYNTHEMA (default target/release/synthema), DATA (default ../shared/data), WORK (default bench/work).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
PEERS="${PEERS:-$ROOT/../shared/bench/peers}"
PY="${PY:-/work/venv-peers/bin/python}"
SYNTHEMA="${SYNTHEMA:-$ROOT/target/release/synthema}"
DATA="${DATA:-$ROOT/../shared/data}"
WORK="${WORK:-$BENCH/work}"

datasets=adult,aml methods=mst,aim epsilons=0.1,1,10 seeds=0,1,2,3,4
ref_methods=mst,aim ref_seeds=0,1 ref_aim_epsilons=1
aim_rounds=50 aim_mb=10 aim_degree=2 delta=1e-9
run_ref=1 run_ours=1 reuse=0 tmo=3600 results="" label="" synthema_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) epsilons=1; seeds=0; ref_seeds=0; ref_aim_epsilons=1; shift ;;
    --datasets) datasets="$2"; shift 2 ;;
    --methods) methods="$2"; shift 2 ;;
    --epsilons) epsilons="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --ref-methods) ref_methods="$2"; shift 2 ;;
    --ref-seeds) ref_seeds="$2"; shift 2 ;;
    --ref-aim-epsilons) ref_aim_epsilons="$2"; shift 2 ;;
    --aim-rounds) aim_rounds="$2"; shift 2 ;;
    --aim-max-model-mb) aim_mb="$2"; shift 2 ;;
    --aim-degree) aim_degree="$2"; shift 2 ;;
    --delta) delta="$2"; shift 2 ;;
    --no-reference) run_ref=0; shift ;;
    --no-synthema) run_ours=0; shift ;;
    --reuse) reuse=1; shift ;;
    --timeout) tmo="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    --synthema-args) synthema_args="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "side_by_side.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
results="${results:-$BENCH/results/side_by_side-$(date -u +%Y%m%d).jsonl}"
for f in "$PEERS/README.md" "$PY" "$SYNTHEMA" /usr/bin/time; do
  [ -e "$f" ] || { echo "side_by_side.sh: missing $f (see the header for PEERS, PY, SYNTHEMA)" >&2; exit 2; }
done
mkdir -p "$WORK" "$(dirname "$results")"
has() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }

# Prepare one dataset: integer codes, domain JSON and an all-categorical synthema dictionary.
prepare() {
  local ds="$1" dir="$WORK/$1"
  mkdir -p "$dir"
  case "$ds" in
    adult|adult-observed)
      cp "$DATA/adult_pgm.csv" "$dir/codes.csv"
      cp "$DATA/adult_pgm-domain.json" "$dir/domain.json" ;;
    aml)
      if [ ! -s "$dir/codes.csv" ]; then
        "$SYNTHEMA" simulate aml --patients 2500 --sites 1 --seed 1 --out "$dir/raw" >&2
        "$PY" "$BENCH/aml_codes.py" "$dir/raw/dictionary.toml" "$dir/raw/site-1.csv" "$dir/codes.csv" "$dir/domain.json"
      fi ;;
    *) echo "side_by_side.sh: unknown dataset $ds (adult, adult-observed, aml)" >&2; exit 2 ;;
  esac
  local observed=()
  [ "$ds" = adult-observed ] && observed=(--observed "$dir/codes.csv")
  "$PY" "$BENCH/adult_dictionary.py" "$dir/domain.json" "$dir/dictionary.toml" --name "$ds-codes" "${observed[@]}"
}

# "wall_s rss_mb cpu_s" (cpu = user + system) from a /usr/bin/time -v log.
time_fields() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; w = s }
              /Maximum resident set size/ { r = $2 / 1024 }
              /User time \(seconds\)|System time \(seconds\)/ { c += $2 }
              END { printf "%.2f %.1f %.2f", w, r, c }' "$1"
}

# Score one output and append a JSON line: score DS METHOD IMPL EPS SEED OUT.csv TIMELOG EXTRA_JSON CMD
score() {
  local ds="$1" m="$2" impl="$3" eps="$4" seed="$5" out="$6" tlog="$7" extra="$8" cmd="$9"
  local tf wall rss cpu err
  tf=$(time_fields "$tlog"); read -r wall rss cpu <<< "$tf"
  err=$("$PY" "$BENCH/workload_error.py" "$WORK/$ds/codes.csv" "$out" --domain "$WORK/$ds/domain.json")
  "$PY" - "$err" "$extra" "$cmd" <<PYEOF >> "$results"
import json, sys
err = json.loads(sys.argv[1]); extra = json.loads(sys.argv[2])
row = {"dataset": "$ds", "method": "$m", "impl": "$impl", "epsilon": float("$eps"), "delta": float("$delta"),
       "seed": int("$seed"), "wall_s": float("$wall"), "cpu_s": float("$cpu"), "peak_rss_mb": float("$rss"),
       "load_avg_1m": float(open("/proc/loadavg").read().split()[0]), "label": "$label",
       "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "cmd": sys.argv[3]}
row.update({k: err[k] for k in err if k.startswith(("tvd", "n", "synth_rows", "real_rows"))})
row.update(extra)
ref = extra.get("ref")
if ref:  # the driver draws both samples; charge each implementation row only its own sampling time
    row["wall_total_s"] = row["wall_s"]
    other = ref["sample_iid_s"] if row["impl"] == "reference-round" else ref["sample_round_s"]
    row["wall_s"] = round(row["wall_s"] - other, 2)
print(json.dumps(row))
PYEOF
  echo "  $impl $ds $m eps=$eps seed=$seed wall=${wall}s rss=${rss}MB $(echo "$err" | grep -o '"tvd2_mean": [0-9.]*, ' )$(echo "$err" | grep -o '"tvd3_mean": [0-9.]*')" >&2
}

run_synthema() {
  local ds="$1" m="$2" eps="$3" seed="$4" dir="$WORK/$1/${2}_e${3}_s${4}${label:+_$label}" rows extra=()
  mkdir -p "$dir"
  rows=$(( $(wc -l < "$WORK/$ds/codes.csv") - 1 ))
  [ "$m" = aim ] && extra=(--rounds "$aim_rounds" --max-model-mb "$aim_mb" --degree "$aim_degree")
  # shellcheck disable=SC2206  # word splitting of the variant's extra arguments is intended
  [ -n "$synthema_args" ] && extra+=($synthema_args)
  local cmd=("$SYNTHEMA" synth --input "$WORK/$ds/codes.csv" --schema "$WORK/$ds/dictionary.toml" --method "$m"
             --epsilon "$eps" --delta "$delta" --rows "$rows" --out "$dir/synthema.csv" --seed "$seed" "${extra[@]}")
  if [ "$reuse" = 0 ] || [ ! -s "$dir/synthema.csv" ]; then
    timeout "$tmo" /usr/bin/time -v -o "$dir/synthema.time" "${cmd[@]}" > "$dir/synthema.log" 2>&1 \
      || { echo "  synthema $ds $m eps=$eps seed=$seed FAILED (see $dir/synthema.log)" >&2; return 0; }
  fi
  local params="{\"synthema_args\": \"$synthema_args\"}"
  [ "$m" = aim ] && params="{\"synthema_args\": \"$synthema_args\", \"aim_rounds\": $aim_rounds, \"aim_max_model_mb\": $aim_mb, \"aim_degree\": $aim_degree}"
  score "$ds" "$m" synthema "$eps" "$seed" "$dir/synthema.csv" "$dir/synthema.time" "$params" "${cmd[*]}"
}

run_reference() {
  local ds="$1" m="$2" eps="$3" seed="$4" dir="$WORK/$1/${2}_e${3}_s${4}"
  mkdir -p "$dir"
  local cmd=("$PY" "$BENCH/reference_synth.py" --method "$m" --data "$WORK/$ds/codes.csv" --epsilon "$eps"
             --delta "$delta" --seed "$seed" --out "$dir/ref.csv")
  [ "$m" = aim ] && cmd+=(--aim-max-model-size "$aim_mb" --aim-rounds "$aim_rounds" --aim-degree "$aim_degree")
  if [ "$reuse" = 0 ] || [ ! -s "$dir/ref.json" ]; then
    timeout "$tmo" /usr/bin/time -v -o "$dir/ref.time" "${cmd[@]}" > "$dir/ref.json" 2> "$dir/ref.err" \
      || { echo "  reference $ds $m eps=$eps seed=$seed FAILED or timed out (see $dir/ref.err)" >&2; return 0; }
  fi
  local info; info=$(tail -n 1 "$dir/ref.json")
  local extra; extra=$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); d.pop("out",None); d.pop("out_iid",None); print(json.dumps({"ref": d}))' "$info")
  score "$ds" "$m" reference-round "$eps" "$seed" "$dir/ref.csv" "$dir/ref.time" "$extra" "${cmd[*]}"
  score "$ds" "$m" reference-iid "$eps" "$seed" "$dir/ref_iid.csv" "$dir/ref.time" "$extra" "${cmd[*]}"
}

IFS=, read -r -a DS <<< "$datasets"; IFS=, read -r -a MS <<< "$methods"
IFS=, read -r -a ES <<< "$epsilons"; IFS=, read -r -a SS <<< "$seeds"; IFS=, read -r -a RS <<< "$ref_seeds"
echo "side_by_side: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load $(cut -d' ' -f1-3 /proc/loadavg); results -> $results" >&2
for ds in "${DS[@]}"; do
  prepare "$ds"
  for m in "${MS[@]}"; do
    for eps in "${ES[@]}"; do
      if [ "$run_ours" = 1 ]; then
        for s in "${SS[@]}"; do run_synthema "$ds" "$m" "$eps" "$s"; done
      fi
      if [ "$run_ref" = 1 ] && has "$ref_methods" "$m"; then
        if [ "$m" = aim ] && ! has "$ref_aim_epsilons" "$eps"; then continue; fi
        for s in "${RS[@]}"; do run_reference "$ds" "$m" "$eps" "$s"; done
      fi
    done
  done
done
"$PY" "$BENCH/render_table.py" "$results"
