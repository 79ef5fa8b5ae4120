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

// ---- Bad input: reported in the result, never a panic ----

#[test]
fn separation_is_detected_and_reported_without_looping() {
    // Every subject with x = 1 dies before any subject with x = 0: the likelihood is monotone
    // in β and the hazard ratio of x is infinite.
    let times: Vec<f64> = (1..=20).map(f64::from).collect();
    let events = vec![true; 20];
    let x: Vec<f64> = (0..20).map(|i| if i < 10 { 1.0 } else { 0.0 }).collect();
    let fit = cox_fit(
        &times,
        &events,
        &Design {
            names: vec!["x".into()],
            x: x.clone(),
            rows: 20,
        },
    );
    assert!(!fit.converged);
    assert_eq!(fit.diverging, vec!["x".to_string()]);
    assert!(
        fit.problem.as_deref().is_some_and(|p| p.contains("separation")),
        "{:?}",
        fit.problem
    );
    assert!(fit.coefficients.is_empty());
    assert!(fit.iterations < 100, "{} iterations", fit.iterations);
    let j = fit.to_json();
    assert_eq!(j["log_likelihood"], Json::Null);
    assert_eq!(j["converged"], Json::Bool(false));
    // With a second, ordinary covariate the separated one is still the one named.
    let z: Vec<f64> = (0..20).map(|i| f64::from((i * 7) % 5)).collect();
    let xz: Vec<f64> = x.iter().zip(&z).flat_map(|(a, b)| [*a, *b]).collect();
    let fit = cox_fit(
        &times,
        &events,
        &Design {
            names: vec!["x".into(), "z".into()],
            x: xz,
            rows: 20,
        },
    );
    assert_eq!(fit.diverging, vec!["x".to_string()], "{:?}", fit.problem);
}

#[test]
fn constant_and_collinear_covariates_and_too_few_events_are_reported() {
    let f = fixture(COHORT);
    let n = f.time.len();
    // x2 replaced by a constant: dropped with its reason, x1 still fitted.
    let x: Vec<f64> = (0..n).flat_map(|i| [f.x1[i], 3.0]).collect();
    let fit = cox_fit(
        &f.time,
        &f.event,
        &Design {
            names: vec!["x1".into(), "flat".into()],
            x,
            rows: n,
        },
    );
    assert!(fit.converged, "{:?}", fit.problem);
    assert_eq!(fit.dropped_terms.len(), 1);
    assert_eq!(fit.dropped_terms[0].0, "flat");
    assert_eq!(fit.coefficients.len(), 1);
    // x2 = 2 x1: the information matrix is singular.
    let x: Vec<f64> = (0..n).flat_map(|i| [f.x1[i], 2.0 * f.x1[i]]).collect();
    let fit = cox_fit(
        &f.time,
        &f.event,
        &Design {
            names: vec!["a".into(), "b".into()],
            x,
            rows: n,
        },
    );
    assert!(
        fit.problem.as_deref().is_some_and(|p| p.contains("singular")),
        "{:?}",
        fit.problem
    );
    // Three events only.
    let events: Vec<bool> = (0..n).map(|i| i < 3).collect();
    let x: Vec<f64> = f.x1.clone();
    let fit = cox_fit(
        &f.time,
        &events,
        &Design {
            names: vec!["x1".into()],
            x,
            rows: n,
        },
    );
    assert!(
        fit.problem.as_deref().is_some_and(|p| p.starts_with("3 event(s)")),
        "{:?}",
        fit.problem
    );
}

#[test]
fn the_json_of_degenerate_results_has_no_nan() {
    let km = kaplan_meier(&[], &[]);
    assert_eq!(km.median().median, None);
    let text = km.to_json().to_string();
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    let lr = logrank(&[1.0, 2.0], &[false, false], &[0, 1], &["a".into(), "b".into()]);
    assert!(lr.problem.is_some());
    assert_eq!(lr.to_json()["p_value"], Json::Null);
}

// ---- Tables: simulated AML cohorts ----

mod aml {
    use super::*;
    use cohort::{Config, Disease, simulate};
    use eval::survival::{
        ClinicalOptions, Stratum, check_rules, compare_cox, cox_tstr_cindex, default_strata, evaluate,
    };
    use table::{Table, Value};

    fn cohort(patients: usize, seed: u64) -> Table {
        let c = simulate(
            Disease::Aml,
            &Config {
                patients,
                sites: 1,
                heterogeneity: 0.0,
                seed,
            },
        )
        .unwrap_or_else(|e| panic!("simulate: {e}"));
        c.sites.into_iter().next().unwrap_or_else(|| panic!("one site"))
    }

    fn covariates() -> Vec<String> {
        ["AGE", "ELN 2022", "NPM1", "FLT3_ITD", "TP53"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn a_table_compared_with_itself_agrees_exactly() {
        let real = cohort(600, 7);
        let options = ClinicalOptions::defaults(real.dictionary());
        assert_eq!(options.strata.len(), 7);
        let clinical = evaluate(&real, &real, &options);
        assert!(clinical.problems.is_empty(), "{:?}", clinical.problems);
        assert_eq!(
            clinical
                .endpoints
                .iter()
                .map(|e| e.endpoint.as_str())
                .collect::<Vec<_>>(),
            ["OS", "EFS"]
        );
        let os = &clinical.endpoints[0];
        assert_eq!(os.unit, Some(eval::survival::TimeUnit::Days));
        assert_eq!(os.strata.len(), 8);
        assert_eq!(os.strata[0].stratum, "all");
        assert_eq!(os.strata[0].n_real, 600);
        for s in os.strata.iter().filter(|s| s.skipped.is_none()) {
            let lr = s
                .logrank
                .as_ref()
                .unwrap_or_else(|| panic!("{}: no log-rank", s.stratum));
            assert!(lr.statistic.is_some_and(|x| x.abs() < 1e-9), "{}: {lr:?}", s.stratum);
            assert!(s.landmark_differences.iter().flatten().all(|d| d.abs() < 1e-12));
            assert_eq!(s.median_difference.map(f64::abs).unwrap_or(0.0), 0.0);
        }
        // Landmarks at 1, 2, 5 years in days.
        let landmarks = &os.strata[0]
            .real
            .as_ref()
            .map(|k| k.landmarks.clone())
            .unwrap_or_default();
        assert_eq!(
            landmarks.iter().map(|l| l.time).collect::<Vec<_>>(),
            [Some(365.25), Some(730.5), Some(1826.25)]
        );
        // The Cox fits agree perfectly with themselves.
        assert_eq!(clinical.cox.len(), 2);
        let cox = &clinical.cox[0];
        assert!(cox.real.converged, "{:?}", cox.real.problem);
        assert!(cox.real.coefficients.iter().any(|c| c.name == "ELN 2022=adverse"));
        for o in &cox.agreement {
            assert!(o.overlap.is_some_and(|j| (j - 1.0).abs() < 1e-12), "{o:?}");
            assert_eq!(o.intervals_overlap, Some(true));
        }
        // Simulated rows satisfy every rule.
        assert!(!clinical.rules.is_empty());
        assert!(
            clinical
                .rules
                .iter()
                .all(|r| r.real.as_ref().is_some_and(|v| v.violations == 0))
        );
        // Stable JSON keys, no NaN.
        let j = clinical.to_json();
        let text = j.to_string();
        assert!(!text.contains("NaN"));
        let curve = &j["endpoints"][0]["strata"][0]["real"]["curve"];
        assert_eq!(curve[0], serde_json::json!([0.0, 1.0, 1.0, 1.0]));
        assert!(j["endpoints"][0]["strata"][0]["real"]["median"]["median"].is_number());
        assert!(j["cox"][0]["agreement"][0]["overlap"].is_number());
    }

    #[test]
    fn two_cohorts_differ_but_plausibly() {
        let (real, synthetic) = (cohort(800, 1), cohort(800, 2));
        let options = ClinicalOptions::defaults(real.dictionary());
        let clinical = evaluate(&real, &synthetic, &options);
        let all = &clinical.endpoints[0].strata[0];
        let p = all.logrank.as_ref().and_then(|l| l.p_value).unwrap_or(0.0);
        assert!(
            p > 0.001,
            "two draws of one simulator should not differ strongly: p = {p}"
        );
        // ELN 2022 separates survival strongly on both sides (3 groups, df 2).
        let eln = clinical
            .prognostic
            .iter()
            .find(|p| p.endpoint == "OS" && p.column == "ELN 2022");
        for side in eln.map(|p| [p.real.as_ref(), p.synthetic.as_ref()]).unwrap_or_default() {
            let lr = side.unwrap_or_else(|| panic!("ELN log-rank: {eln:?}"));
            assert_eq!((lr.df, lr.groups.len()), (2, 3));
            assert!(lr.p_value.is_some_and(|p| p < 1e-6), "{lr:?}");
        }
        // Adverse-risk patients do worse than favourable ones, in both tables.
        let median = |name: &str, real: bool| {
            let s = clinical.endpoints[0].strata.iter().find(|s| s.stratum == name);
            let k = s.and_then(|s| if real { s.real.as_ref() } else { s.synthetic.as_ref() });
            k.and_then(|k| k.landmarks[0].survival).unwrap_or(f64::NAN)
        };
        for side in [true, false] {
            assert!(median("ELN 2022 adverse", side) < median("ELN 2022 favorable", side));
        }
        let cox = compare_cox(&real, &synthetic, &real.dictionary().time_to_event[0], &covariates())
            .unwrap_or_else(|e| panic!("{e}"));
        let age = cox
            .agreement
            .iter()
            .find(|o| o.name == "AGE")
            .unwrap_or_else(|| panic!("AGE term"));
        assert!(age.real_hr.is_some_and(|hr| hr > 1.0), "{age:?}");
        assert_eq!(age.intervals_overlap, Some(true), "{age:?}");
    }

    #[test]
    fn empty_and_small_strata_are_skipped_with_a_reason() {
        let real = cohort(300, 3);
        let dict = real.dictionary();
        let strata = vec![
            Stratum::parse("nobody", "AGE > 200", dict).unwrap_or_else(|e| panic!("{e}")),
            Stratum::parse("alive", "STATUS_OS == 0", dict).unwrap_or_else(|e| panic!("{e}")),
        ];
        let options = ClinicalOptions {
            strata,
            cox_covariates: vec![],
            landmark_years: vec![1.0],
            logrank_by: vec!["AGE".into()],
        };
        let clinical = evaluate(&real, &real, &options);
        let os = &clinical.endpoints[0];
        assert_eq!(os.strata[1].skipped.as_deref(), Some("empty in the real data"));
        assert!(
            os.strata[2]
                .skipped
                .as_deref()
                .is_some_and(|s| s.starts_with("too few events: 0 real, 0 synthetic")),
            "{:?}",
            os.strata[2]
        );
        assert!(os.strata[2].n_real > 0);
        // AGE is real-valued: it cannot group a log-rank test, said on both sides.
        let by_age = &clinical.prognostic[0];
        assert!(
            by_age.real.is_none()
                && by_age
                    .problem
                    .as_deref()
                    .is_some_and(|p| p.contains("only categorical"))
        );
        assert!(os.strata[2].to_json()["real"].is_null());
        assert!(clinical.cox.is_empty());
        assert!(Stratum::parse("bad", "NOT_A_COLUMN == 1", dict).is_err());
        // SCD lacks the AML genetics: at most the age strata apply.
        let scd = default_strata(&cohort::dictionary(Disease::Scd));
        assert!(
            scd.iter().all(|s| s.name.starts_with("age")),
            "{:?}",
            scd.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
    }

    #[test]
    fn rule_violations_are_counted_with_their_rows() {
        let real = cohort(200, 4);
        let dict = real.dictionary().clone();
        let eln = dict.index_of("ELN 2022").unwrap_or_else(|| panic!("ELN 2022"));
        let tp53 = dict.index_of("TP53").unwrap_or_else(|| panic!("TP53"));
        // Synthetic rows: every TP53-mutated patient made favourable (breaks the TP53 rule).
        let mut synthetic = Table::new(dict.clone());
        let mut broken = Vec::new();
        for r in 0..real.n_rows() {
            let mut row = real.row(r);
            if row[tp53] == Value::Bool(true) {
                row[eln] = Value::Text("favorable".into());
                broken.push(r);
            }
            synthetic.push_row(row).unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(!broken.is_empty());
        let checks = check_rules(&real, &synthetic);
        let tp53_rule = checks
            .iter()
            .find(|c| c.name == "eln2022_tp53_not_favorable")
            .unwrap_or_else(|| panic!("rule"));
        let (r, s) = (tp53_rule.real.as_ref(), tp53_rule.synthetic.as_ref());
        assert_eq!(r.map(|v| v.violations), Some(0));
        let s = s.unwrap_or_else(|| panic!("synthetic side"));
        // Some TP53 rows carry a CBF lesion, which makes favourable allowed.
        assert!(s.violations > 0 && s.violations <= broken.len(), "{s:?}");
        assert!(s.first_rows.iter().all(|row| broken.contains(row)));
        assert!(s.first_rows.len() <= 5);
        assert_eq!(
            tp53_rule.to_json()["synthetic"]["violations"],
            serde_json::json!(s.violations)
        );
    }

    #[test]
    fn cox_train_on_synthetic_test_on_real() {
        let (synthetic, real) = (cohort(600, 5), cohort(600, 6));
        let c = cox_tstr_cindex(&synthetic, &real, "Overall survival", "STATUS_OS", &covariates())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!((0.6..0.9).contains(&c), "C = {c}");
        // Trained and tested on one table, it is the fit's own concordance.
        let own = cox_tstr_cindex(&real, &real, "Overall survival", "STATUS_OS", &covariates()).unwrap_or(0.0);
        let (obs, design) = eval::survival::cox_data(&real, "Overall survival", "STATUS_OS", &covariates())
            .unwrap_or_else(|e| panic!("{e}"));
        let fit = cox_fit(&obs.times, &obs.events, &design);
        assert_eq!(fit.concordance, Some(own));
        // Unusable covariates are errors with the column named.
        let err = cox_tstr_cindex(&synthetic, &real, "Overall survival", "STATUS_OS", &["ID".into()]);
        assert!(err.is_err_and(|e| e.to_string().contains("\"ID\"")));
    }
}

mod missing_columns {
    use cohort::{Config, Disease, simulate};
    use eval::survival::{ClinicalOptions, evaluate};
    use std::sync::Arc;

    #[test]
    fn a_synthetic_table_without_a_column_skips_what_needs_it() {
        let c = simulate(
            Disease::Aml,
            &Config {
                patients: 300,
                sites: 1,
                heterogeneity: 0.0,
                seed: 9,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let real = c.sites[0].clone();
        let without = Arc::new(real.dictionary().restrict(|col| col.name != "TP53"));
        let synthetic = real.project(without).unwrap_or_else(|e| panic!("{e}"));
        let options = ClinicalOptions::defaults(real.dictionary());
        let clinical = evaluate(&real, &synthetic, &options);
        let tp53 = clinical.endpoints[0]
            .strata
            .iter()
            .find(|s| s.stratum == "TP53 mutated");
        let skipped = tp53.and_then(|s| s.skipped.clone()).unwrap_or_default();
        assert!(skipped.contains("does not apply"), "{skipped}");
        // The Cox model needs TP53: reported as a problem per endpoint, not a panic.
        assert!(
            clinical.problems.iter().any(|p| p.contains("TP53")),
            "{:?}",
            clinical.problems
        );
        // Rules reading TP53 cannot be checked on the synthetic side.
        let rule = clinical.rules.iter().find(|r| r.name == "eln2022_tp53_not_favorable");
        assert!(rule.is_some_and(|r| r.synthetic.is_none() && r.real.is_some() && r.problem.is_some()));
    }
}

mod properties {
    use eval::survival::{concordance_index, kaplan_meier, logrank};
    use proptest::prelude::*;

    /// Harrell's C by its definition, over all pairs (lifelines' comparable-pair rules).
    fn brute_force_c(times: &[f64], scores: &[f64], events: &[bool]) -> Option<f64> {
        let (mut pairs, mut score) = (0.0, 0.0);
        for i in 0..times.len() {
            for j in 0..times.len() {
                let comparable = events[i] && (times[i] < times[j] || (times[i] == times[j] && !events[j]));
                if comparable {
                    pairs += 1.0;
                    if scores[i] < scores[j] {
                        score += 1.0;
                    } else if scores[i] == scores[j] {
                        score += 0.5;
                    }
                }
            }
        }
        (pairs > 0.0).then(|| score / pairs)
    }

    fn cohort() -> impl Strategy<Value = Vec<(u8, bool, u8, bool)>> {
        prop::collection::vec((1u8..30, any::<bool>(), 0u8..6, any::<bool>()), 0..60)
    }

    proptest! {
        #[test]
        fn concordance_matches_its_definition(rows in cohort()) {
            let times: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            let events: Vec<bool> = rows.iter().map(|r| r.1).collect();
            let scores: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
            let got = concordance_index(&times, &scores, &events);
            let want = brute_force_c(&times, &scores, &events);
            match (got, want) {
                (Some(g), Some(w)) => prop_assert!((g - w).abs() < 1e-12, "{g} vs {w}"),
                (g, w) => prop_assert_eq!(g, w),
            }
        }

        #[test]
        fn kaplan_meier_is_a_non_increasing_curve_inside_its_band(rows in cohort()) {
            let times: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            let events: Vec<bool> = rows.iter().map(|r| r.1).collect();
            let km = kaplan_meier(&times, &events);
            prop_assert_eq!(km.steps[0].time, 0.0);
            prop_assert_eq!(km.steps.iter().map(|s| s.events).sum::<usize>(), km.events);
            prop_assert_eq!(km.steps.iter().map(|s| s.events + s.censored).sum::<usize>(), rows.len());
            for w in km.steps.windows(2) {
                prop_assert!(w[1].survival <= w[0].survival + 1e-15);
                prop_assert!(w[1].time > w[0].time);
            }
            for s in &km.steps {
                prop_assert!(s.lower <= s.survival + 1e-12 && s.survival <= s.upper + 1e-12, "{:?}", s);
                prop_assert!((0.0..=1.0).contains(&s.lower) && (0.0..=1.0).contains(&s.upper));
            }
        }

        #[test]
        fn logrank_does_not_depend_on_group_order(rows in cohort()) {
            let times: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            let events: Vec<bool> = rows.iter().map(|r| r.1).collect();
            let groups: Vec<usize> = rows.iter().map(|r| usize::from(r.3)).collect();
            let flipped: Vec<usize> = groups.iter().map(|g| 1 - g).collect();
            let labels = vec!["a".to_string(), "b".to_string()];
            let (a, b) = (logrank(&times, &events, &groups, &labels), logrank(&times, &events, &flipped, &labels));
            match (a.statistic, b.statistic) {
                (Some(x), Some(y)) => {
                    prop_assert!((x - y).abs() < 1e-9 * (1.0 + x));
                    prop_assert!(a.p_value.is_some_and(|p| (0.0..=1.0).contains(&p)));
                }
                (x, y) => prop_assert_eq!(x.is_none(), y.is_none()),
            }
        }
    }
}

mod exclusions {
    use eval::survival::{TimeUnit, observations};
    use std::sync::Arc;
    use table::{Dictionary, Table, Value};

    const DICT: &str = r#"
format_version = 1
name = "months"
description = "integer status, times in months"
missing_tokens = [""]

[[column]]
name = "t"
type = "real"
description = "months to death or last follow-up"
unit = "months"
missing = "allowed"

[[column]]
name = "dead"
type = "integer"
description = "0 alive, 1 dead"
min = 0
max = 1
missing = "allowed"

[[time_to_event]]
name = "OS"
time = "t"
status = "dead"
description = "overall survival"
"#;

    #[test]
    fn missing_and_invalid_rows_are_counted_not_used() {
        let dict = Arc::new(Dictionary::from_toml(DICT, "months.toml").unwrap_or_else(|e| panic!("{e}")));
        let mut t = Table::new(dict.clone());
        let rows = [
            (Value::Real(3.0), Value::Int(1)),
            (Value::Missing, Value::Int(1)),
            (Value::Real(4.0), Value::Missing),
            (Value::Real(-1.0), Value::Int(0)),
            (Value::Real(5.0), Value::Int(2)),
            (Value::Real(6.5), Value::Int(0)),
        ];
        for (time, status) in rows {
            t.push_row(vec![time, status]).unwrap_or_else(|e| panic!("{e}"));
        }
        let obs = observations(&t, &dict.time_to_event[0]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(obs.times, vec![3.0, 6.5]);
        assert_eq!(obs.events, vec![true, false]);
        assert_eq!(obs.rows, vec![0, 5]);
        let e = obs.excluded;
        assert_eq!((e.missing_time, e.missing_status, e.invalid, e.total()), (1, 1, 2, 4));
        assert_eq!(obs.unit, Some(TimeUnit::Months));
        assert_eq!(TimeUnit::Months.per_year(), 12.0);
        assert_eq!(TimeUnit::parse("Days"), Some(TimeUnit::Days));
        assert_eq!(TimeUnit::parse("10^9/L"), None);
    }
}
