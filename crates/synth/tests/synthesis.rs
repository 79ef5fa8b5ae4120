//! Synthesis end to end on simulated AML data: every method produces rows that satisfy every
//! clinical rule, spends at most (and for the DP methods almost exactly) its budget, keeps
//! strong dependences at a generous ε, and refuses bad requests before spending anything.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;
use synth::{Method, Request, synthesize};
use table::Table;
use table::encode::EncodeOptions;

const COLUMNS: &[&str] = &[
    "AGE",
    "SEX",
    "NPM1",
    "FLT3_ITD",
    "TP53",
    "ELN 2022",
    "RESPONSE TO INDUCTION",
    "Allogeneic HSCT",
    "TIME TO HSCT",
    "Overall survival",
    "STATUS_OS",
];

fn data(patients: usize) -> Table {
    let cohort = cohort::simulate(
        cohort::Disease::Aml,
        &cohort::Config {
            patients,
            sites: 1,
            heterogeneity: 0.0,
            seed: 11,
        },
    )
    .unwrap();
    let dict = Arc::new(cohort.dictionary.restrict(|c| COLUMNS.contains(&c.name.as_str())));
    cohort.sites[0].project(dict).unwrap()
}

fn request(method: Method, epsilon: f64) -> Request {
    Request {
        method,
        budget: Some((dp::Epsilon::new(epsilon).unwrap(), dp::Delta::new(1e-9).unwrap())),
        rows: 1500,
        workload_degree: 2,
        max_model_mb: 80.0,
        rounds: Some(20),
        iters: 300,
        encode: EncodeOptions::default(),
    }
}

fn share(t: &Table, column: &str, level: &str) -> f64 {
    let i = t.dictionary().index_of(column).unwrap();
    let hits = (0..t.n_rows())
        .filter(|&r| t.value(r, i) == table::Value::Text(level.into()))
        .count();
    hits as f64 / t.n_rows() as f64
}

fn check(method: Method) {
    let real = data(3000);
    assert!(
        !real.dictionary().rules.is_empty(),
        "the restricted dictionary keeps rules"
    );
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let s = synthesize(&real, &request(method, 5.0), &mut rng, &mut |_| {}).unwrap();
    assert_eq!(s.output.n_rows(), 1500);
    for r in 0..s.output.n_rows() {
        let row = s.output.row(r);
        for rule in &s.output.dictionary().rules {
            assert!(rule.holds(&row), "{method:?}: row {r} breaks {}: {row:?}", rule.source);
        }
    }
    let rho = s.rho.unwrap().get();
    let spent: f64 = s.ledger.iter().map(|c| c.rho.get()).sum();
    assert!(spent <= rho, "{method:?} spent {spent} of {rho}");
    assert!(spent > 0.999 * rho, "{method:?} left budget unspent: {spent} of {rho}");
    // A strong one-way signal survives at ε = 5.
    let (a, b) = (
        share(&real, "ELN 2022", "adverse"),
        share(&s.output, "ELN 2022", "adverse"),
    );
    assert!((a - b).abs() < 0.05, "{method:?}: adverse share real {a} synthetic {b}");
}

#[test]
fn mst_end_to_end() {
    check(Method::Mst);
}

#[test]
fn aim_end_to_end() {
    check(Method::Aim);
}

#[test]
fn independent_end_to_end() {
    check(Method::Independent);
}

/// Share of ELN-adverse patients among TP53-mutated ones (1.0 in the real data, by ELN 2022).
fn adverse_given_tp53(t: &Table) -> f64 {
    let d = t.dictionary();
    let (tp53, eln) = (d.index_of("TP53").unwrap(), d.index_of("ELN 2022").unwrap());
    let mutated: Vec<usize> = (0..t.n_rows())
        .filter(|&r| t.value(r, tp53) == table::Value::Bool(true))
        .collect();
    assert!(!mutated.is_empty());
    let adverse = mutated
        .iter()
        .filter(|&&r| t.value(r, eln) == table::Value::Text("adverse".into()))
        .count();
    adverse as f64 / mutated.len() as f64
}

#[test]
fn aim_keeps_a_dependence_that_independent_loses() {
    let real = data(3000);
    assert_eq!(adverse_given_tp53(&real), 1.0);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut req = request(Method::Aim, 10.0);
    req.rounds = None;
    let aim = synthesize(&real, &req, &mut rng, &mut |_| {}).unwrap();
    let ind = synthesize(&real, &request(Method::Independent, 10.0), &mut rng, &mut |_| {}).unwrap();
    let (a, i) = (adverse_given_tp53(&aim.output), adverse_given_tp53(&ind.output));
    assert!(a > 0.85, "AIM: P(adverse | TP53) = {a}");
    assert!(i < 0.7, "independent: P(adverse | TP53) = {i}");
    assert!(!aim.selected.is_empty());
}

#[test]
fn copula_needs_no_budget_and_keeps_rules() {
    let real = data(800);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut req = request(Method::Copula, 1.0);
    req.budget = None;
    let s = synthesize(&real, &req, &mut rng, &mut |_| {}).unwrap();
    assert_eq!(s.output.n_rows(), 1500);
    assert!(s.ledger.is_empty() && s.rho.is_none() && s.model.is_none());
}

#[test]
fn bad_requests_spend_nothing() {
    let real = data(500);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    // No budget for a DP method.
    let mut req = request(Method::Mst, 1.0);
    req.budget = None;
    assert!(synthesize(&real, &req, &mut rng, &mut |_| {}).is_err());
    // Zero rows.
    let mut req = request(Method::Aim, 1.0);
    req.rows = 0;
    assert!(synthesize(&real, &req, &mut rng, &mut |_| {}).is_err());
    // A budget too small for the rounds asked.
    let mut req = request(Method::Aim, 1e-6);
    req.rounds = Some(1);
    req.workload_degree = 2;
    let e = synthesize(&real, &req, &mut rng, &mut |_| {});
    assert!(
        e.is_ok() || e.is_err(),
        "either works within budget or refuses; never panics"
    );
    // A numeric column without bounds.
    let mut dict = (**real.dictionary()).clone();
    let os = dict.index_of("Overall survival").unwrap();
    dict.columns[os].kind = table::Kind::Integer {
        unit: None,
        min: Some(1),
        max: None,
        bins: Vec::new(),
    };
    let unbounded = real.project(Arc::new(dict)).unwrap_err();
    let _ = unbounded;
    let mut dict = (**real.dictionary()).clone();
    dict.columns[os].kind = table::Kind::Integer {
        unit: None,
        min: Some(1),
        max: None,
        bins: Vec::new(),
    };
    let mut unbounded = Table::new(Arc::new(dict));
    for r in 0..real.n_rows() {
        unbounded.push_row(real.row(r)).unwrap();
    }
    let err = synthesize(&unbounded, &request(Method::Mst, 1.0), &mut rng, &mut |_| {}).unwrap_err();
    assert!(
        err.to_string().contains("bound") || err.to_string().contains("max"),
        "{err}"
    );
}

#[test]
fn model_samples_more_rows_with_rules() {
    let real = data(1000);
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let s = synthesize(&real, &request(Method::Mst, 2.0), &mut rng, &mut |_| {}).unwrap();
    let model = s.model.unwrap();
    let (more, report) = model.sample(700, &mut rng).unwrap();
    assert_eq!(more.n_rows(), 700);
    assert_eq!(report.rows, 700);
    for r in 0..700 {
        let row = more.row(r);
        assert!(more.dictionary().rules.iter().all(|rule| rule.holds(&row)));
    }
}

#[test]
fn small_noisy_data_still_gives_rule_abiding_rows_by_repair() {
    // 300 patients at ε = 0.5: the model is nearly independent, and pure rejection would
    // discard almost every record under the ELN rules; repair keeps sampling efficient.
    let real = data(300);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let mut req = request(Method::Aim, 0.5);
    req.rows = 400;
    let s = synthesize(&real, &req, &mut rng, &mut |_| {}).unwrap();
    assert_eq!(s.output.n_rows(), 400);
    for r in 0..400 {
        let row = s.output.row(r);
        assert!(
            s.output.dictionary().rules.iter().all(|rule| rule.holds(&row)),
            "row {r}"
        );
    }
    assert!(s.report.records_repaired > 0, "{:?}", s.report);
    assert!(s.report.rejection_rate() < 0.5, "{:?}", s.report);
}
