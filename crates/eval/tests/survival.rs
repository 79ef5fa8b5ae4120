//! Survival analysis against lifelines 0.30 golden values (`golden/survival/`, made by
//! `make_golden.py`), and the table-level evaluation on simulated AML cohorts.

use eval::survival::{Design, chi2_sf, concordance_index, cox_fit, kaplan_meier, logrank};
use serde_json::Value as Json;

const COHORT: &str = include_str!("../golden/survival/cohort.csv");
const COHORT_SMALL: &str = include_str!("../golden/survival/cohort_small.csv");
const GOLDEN: &str = include_str!("../golden/survival/golden.json");

/// Tolerances stated in `docs/evaluation-clinical.md`.
const TOL_KM: f64 = 1e-6;
const TOL_LOGRANK: f64 = 1e-6;
const TOL_COX: f64 = 1e-4;

struct Fixture {
    time: Vec<f64>,
    event: Vec<bool>,
    group: Vec<String>,
    x1: Vec<f64>,
    x2: Vec<f64>,
}

fn fixture(csv: &str) -> Fixture {
    let mut f = Fixture {
        time: vec![],
        event: vec![],
        group: vec![],
        x1: vec![],
        x2: vec![],
    };
    for (i, line) in csv.lines().enumerate().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 5, "line {}: {line}", i + 1);
        let num = |s: &str| {
            s.parse::<f64>()
                .unwrap_or_else(|e| panic!("line {}: {s:?}: {e}", i + 1))
        };
        f.time.push(num(cells[0]));
        f.event.push(num(cells[1]) == 1.0);
        f.group.push(cells[2].to_string());
        f.x1.push(num(cells[3]));
        f.x2.push(num(cells[4]));
    }
    f
}

fn golden() -> Json {
    serde_json::from_str(GOLDEN).unwrap_or_else(|e| panic!("golden.json: {e}"))
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * (1.0 + want.abs()),
        "{what}: got {got}, lifelines {want}"
    );
}

fn opt_close(what: &str, got: Option<f64>, want: &Json, tol: f64) {
    match (got, want.as_f64()) {
        (Some(g), Some(w)) => close(what, g, w, tol),
        (None, None) => {}
        _ => panic!("{what}: got {got:?}, lifelines {want}"),
    }
}

fn check_km(name: &str, times: &[f64], events: &[bool], g: &Json) {
    let km = kaplan_meier(times, events);
    let timeline = floats(&g["timeline"]);
    assert_eq!(km.steps.len(), timeline.len(), "{name}: timeline length");
    let (s, lo, hi) = (floats(&g["survival"]), floats(&g["lower"]), floats(&g["upper"]));
    let (at_risk, ev) = (floats(&g["at_risk"]), floats(&g["events"]));
    for (k, st) in km.steps.iter().enumerate() {
        close(&format!("{name} time[{k}]"), st.time, timeline[k], 0.0);
        close(&format!("{name} S[{k}]"), st.survival, s[k], TOL_KM);
        close(&format!("{name} lower[{k}]"), st.lower, lo[k], TOL_KM);
        close(&format!("{name} upper[{k}]"), st.upper, hi[k], TOL_KM);
        assert_eq!(st.at_risk as f64, at_risk[k], "{name} at_risk[{k}]");
        assert_eq!(st.events as f64, ev[k], "{name} events[{k}]");
    }
    let m = km.median();
    opt_close(&format!("{name} median"), m.median, &g["median"], TOL_KM);
    opt_close(&format!("{name} median lower"), m.lower, &g["median_lower"], TOL_KM);
    opt_close(&format!("{name} median upper"), m.upper, &g["median_upper"], TOL_KM);
    for (t, want) in floats(&g["predict_times"]).into_iter().zip(floats(&g["predict"])) {
        close(&format!("{name} S({t})"), km.survival_at(t), want, TOL_KM);
    }
}

#[test]
fn kaplan_meier_matches_lifelines() {
    let (f, g) = (fixture(COHORT), golden());
    check_km("all", &f.time, &f.event, &g["km_all"]);
    let (t, e): (Vec<f64>, Vec<bool>) = f
        .time
        .iter()
        .zip(&f.event)
        .zip(&f.group)
        .filter(|(_, g)| *g == "C")
        .map(|((t, e), _)| (*t, *e))
        .unzip();
    check_km("group C", &t, &e, &g["km_group_C"]);
}

fn group_index(f: &Fixture) -> Vec<usize> {
    f.group
        .iter()
        .map(|g| match g.as_str() {
            "A" => 0,
            "B" => 1,
            _ => 2,
        })
        .collect()
}

#[test]
fn logrank_matches_lifelines() {
    let (f, g) = (fixture(COHORT), golden());
    let labels: Vec<String> = ["A", "B", "C"].map(String::from).to_vec();
    let groups = group_index(&f);
    // Two groups: C is outside the two labels, so it is ignored.
    let lr2 = logrank(&f.time, &f.event, &groups, &labels[..2]);
    assert_eq!(lr2.df, 1);
    opt_close(
        "logrank A/B statistic",
        lr2.statistic,
        &g["logrank_A_B"]["statistic"],
        TOL_LOGRANK,
    );
    opt_close("logrank A/B p", lr2.p_value, &g["logrank_A_B"]["p"], TOL_LOGRANK);
    let lr3 = logrank(&f.time, &f.event, &groups, &labels);
    assert_eq!(lr3.df as f64, g["logrank_groups"]["df"].as_f64().unwrap_or(0.0));
    opt_close(
        "logrank 3 groups statistic",
        lr3.statistic,
        &g["logrank_groups"]["statistic"],
        TOL_LOGRANK,
    );
    opt_close(
        "logrank 3 groups p",
        lr3.p_value,
        &g["logrank_groups"]["p"],
        TOL_LOGRANK,
    );
    assert_eq!(lr3.n.iter().sum::<usize>(), f.time.len());
}

#[test]
fn chi2_survival_function_matches_scipy() {
    for case in golden()["chi2_sf"].as_array().into_iter().flatten() {
        let (x, df, sf) = (
            case["x"].as_f64().unwrap_or(0.0),
            case["df"].as_f64().unwrap_or(0.0),
            case["sf"].as_f64().unwrap_or(0.0),
        );
        let got = chi2_sf(x, df);
        assert!(
            (got - sf).abs() <= 1e-9 * sf.max(1e-300) + 1e-15,
            "chi2.sf({x}, {df}) = {got}, scipy {sf}"
        );
    }
}

fn design(f: &Fixture, with_groups: bool) -> Design {
    let mut names = vec!["x1".to_string(), "x2".to_string()];
    if with_groups {
        names.extend(["group_B".to_string(), "group_C".to_string()]);
    }
    let mut x = Vec::new();
    for i in 0..f.time.len() {
        x.extend([f.x1[i], f.x2[i]]);
        if with_groups {
            x.extend([
                f64::from(u8::from(f.group[i] == "B")),
                f64::from(u8::from(f.group[i] == "C")),
            ]);
        }
    }
    Design {
        names,
        x,
        rows: f.time.len(),
    }
}

fn check_cox(name: &str, f: &Fixture, with_groups: bool, g: &Json) {
    let fit = cox_fit(&f.time, &f.event, &design(f, with_groups));
    assert!(fit.converged, "{name}: {:?}", fit.problem);
    let names: Vec<&str> = g["covariates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    assert_eq!(
        fit.coefficients.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        names
    );
    let cols = ["coef", "se", "hr", "hr_lower", "hr_upper", "p"];
    let want: Vec<Vec<f64>> = cols.iter().map(|c| floats(&g[*c])).collect();
    for (k, c) in fit.coefficients.iter().enumerate() {
        let got = [c.coef, c.se, c.hazard_ratio, c.hr_lower, c.hr_upper, c.p_value];
        for (j, col) in cols.iter().enumerate() {
            close(&format!("{name} {} {col}", c.name), got[j], want[j][k], TOL_COX);
        }
    }
    opt_close(
        &format!("{name} log-likelihood"),
        fit.log_likelihood,
        &g["log_likelihood"],
        TOL_COX,
    );
    opt_close(
        &format!("{name} concordance"),
        fit.concordance,
        &g["concordance"],
        TOL_COX,
    );
}

#[test]
fn cox_efron_matches_lifelines() {
    let g = golden();
    check_cox("cox", &fixture(COHORT), true, &g["cox"]);
    check_cox("cox small", &fixture(COHORT_SMALL), false, &g["cox_small"]);
}

#[test]
fn concordance_index_matches_lifelines_with_tied_scores() {
    let (f, g) = (fixture(COHORT), golden());
    let scores = floats(&g["concordance_scores"]);
    let got = concordance_index(&f.time, &scores, &f.event);
    opt_close("concordance", got, &g["concordance"], 1e-12);
    // Perfect and reversed predictions.
    let perfect = concordance_index(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], &[true, true, true]);
    let reversed = concordance_index(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0], &[true, true, true]);
    assert_eq!((perfect, reversed), (Some(1.0), Some(0.0)));
    assert_eq!(concordance_index(&[1.0, 2.0], &[1.0, 2.0], &[false, false]), None);
}
