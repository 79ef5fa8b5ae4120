//! The inpatient table of Machanavajjhala et al. (2007): the optimum of our search against the
//! paper's published 4-anonymous and 3-diverse tables and against brute force over the lattice.

use anon::strategy::{Generalisation, Strategy};
use anon::{Config, Error, Key, anonymize, apply_strategy, measure};
use std::sync::Arc;
use table::csv::{CsvOptions, read_table};
use table::{Dictionary, Table, Value};

const DICT: &str = include_str!("fixtures/inpatient-dictionary.toml");
const DATA: &str = include_str!("fixtures/inpatient.csv");
const K4: &str = include_str!("fixtures/inpatient-k4.toml");
const L3: &str = include_str!("fixtures/inpatient-l3.toml");

fn table() -> Table {
    let dict = Arc::new(Dictionary::from_toml(DICT, "inpatient-dictionary.toml").unwrap());
    read_table(DATA.as_bytes(), "inpatient.csv", dict, &CsvOptions::default()).unwrap()
}

fn key() -> Key {
    Key::from_bytes(b"0123456789abcdef0123456789abcdef").unwrap()
}

fn column(t: &Table, name: &str) -> Vec<String> {
    let c = t.dictionary().index_of(name).unwrap();
    (0..t.n_rows())
        .map(|r| match t.value(r, c) {
            Value::Text(s) => s,
            other => other.to_string(),
        })
        .collect()
}

/// Every node of the lattice, evaluated through the public API; the least loss among those
/// that satisfy the models.
fn brute_force(t: &Table, config: &Config, heights: &[usize]) -> (Vec<usize>, f64) {
    let total: usize = heights.iter().product();
    let mut best: Option<(Vec<usize>, f64)> = None;
    for idx in 0..total {
        let mut rest = idx;
        let mut node = Vec::new();
        for &h in heights.iter().rev() {
            node.push(rest % h);
            rest /= h;
        }
        node.reverse();
        let strategy = Strategy {
            generalisation: config
                .quasi_identifiers
                .iter()
                .zip(&node)
                .zip(heights)
                .map(|((q, &level), &levels)| Generalisation {
                    column: q.column.clone(),
                    level,
                    levels,
                })
                .collect(),
            optimal: false,
        };
        match apply_strategy(t, config, &strategy, Some(&key())) {
            Ok(o) => {
                if best.as_ref().is_none_or(|b| o.report.loss < b.1) {
                    best = Some((node, o.report.loss));
                }
            }
            Err(Error::NoSolution(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    best.unwrap()
}

#[test]
fn four_anonymous_optimum_is_the_papers_figure_2() {
    let t = table();
    let config = Config::from_toml(K4, "inpatient-k4.toml").unwrap();
    let o = anonymize(&t, &config, Some(&key())).unwrap();
    let levels: Vec<usize> = o.strategy.generalisation.iter().map(|g| g.level).collect();
    assert_eq!(levels, vec![2, 1, 1], "zip 130**/148**, age <30/3*/>=40, nationality *");
    let zip = column(&o.output, "zip");
    let age = column(&o.output, "age");
    assert_eq!(&zip[..4], &["130**", "130**", "130**", "130**"]);
    assert_eq!(&zip[4..8], &["148**", "148**", "148**", "148**"]);
    assert_eq!(&age[..4], &["<30", "<30", "<30", "<30"]);
    assert_eq!(&age[8..], &["3*", "3*", "3*", "3*"]);
    assert!(column(&o.output, "nationality").iter().all(|v| v == "*"));
    assert_eq!(o.report.reached.k, Some(4));
    assert_eq!(
        o.report.reached.l_distinct,
        Some(1),
        "class 130**/3* is all Cancer: the paper's homogeneity attack"
    );
    let m = measure(&o.output, &["zip", "age", "nationality"], &["condition"]).unwrap();
    assert_eq!(m.k, 4);
    // Brute force over all 5 × 3 × 2 nodes agrees.
    let (node, loss) = brute_force(&t, &config, &[5, 3, 2]);
    assert_eq!(node, levels);
    assert!((loss - o.report.loss).abs() < 1e-12);
    assert_eq!(o.report.search.lattice_size, 30);
    assert!(o.report.search.nodes_checked < 30);
}

#[test]
fn three_diverse_optimum_has_the_papers_figure_3_partition() {
    let t = table();
    let config = Config::from_toml(L3, "inpatient-l3.toml").unwrap();
    let o = anonymize(&t, &config, Some(&key())).unwrap();
    let levels: Vec<usize> = o.strategy.generalisation.iter().map(|g| g.level).collect();
    assert_eq!(levels, vec![1, 2, 1]);
    let zip = column(&o.output, "zip");
    // Figure 3: {1, 4, 9, 10} 1305*, {5, 6, 7, 8} 1485*, {2, 3, 11, 12} 1306*.
    for (rows, label) in [
        ([0, 3, 8, 9], "1305*"),
        ([4, 5, 6, 7], "1485*"),
        ([1, 2, 10, 11], "1306*"),
    ] {
        for r in rows {
            assert_eq!(zip[r], label, "row {}", r + 1);
        }
    }
    let m = measure(&o.output, &["zip", "age", "nationality"], &["condition"]).unwrap();
    assert_eq!((m.k, m.l_distinct), (4, Some(3)));
    assert_eq!(o.report.reached.l_distinct, Some(3));
    let (node, _) = brute_force(&t, &config, &[5, 3, 2]);
    assert_eq!(node, levels);
}

#[test]
fn identifiers_become_keyed_pseudonyms_stable_across_runs() {
    let t = table();
    let config = Config::from_toml(K4, "inpatient-k4.toml").unwrap();
    let a = anonymize(&t, &config, Some(&key())).unwrap();
    let b = anonymize(&t, &config, Some(&key())).unwrap();
    let ids = column(&a.output, "id");
    assert_eq!(ids, column(&b.output, "id"));
    assert_eq!(ids[0], key().pseudonym("P01", 32));
    assert!(
        ids.iter()
            .all(|p| p.len() == 32 && p.chars().all(|c| c.is_ascii_hexdigit()))
    );
    let other = Key::from_bytes(&[9u8; 40]).unwrap();
    let c = anonymize(&t, &config, Some(&other)).unwrap();
    assert_ne!(column(&c.output, "id")[0], ids[0]);
    // Without a key, pseudonymisation is refused.
    assert_eq!(
        anonymize(&t, &config, None).unwrap_err(),
        Error::KeyRequired {
            operation: "pseudonymisation"
        }
    );
    // Remove drops the column.
    let removed = Config::from_toml(&K4.replace("\"pseudonymize\"", "\"remove\""), "x.toml").unwrap();
    let o = anonymize(&t, &removed, None).unwrap();
    assert!(o.output.dictionary().index_of("id").is_none());
}

#[test]
fn strategy_round_trips_and_reapplies_to_a_new_batch() {
    let t = table();
    let config = Config::from_toml(K4, "inpatient-k4.toml").unwrap();
    let o = anonymize(&t, &config, Some(&key())).unwrap();
    let text = o.strategy.to_toml();
    let back = Strategy::from_toml(&text).unwrap();
    assert_eq!(back, o.strategy);
    let again = apply_strategy(&t, &config, &back, Some(&key())).unwrap();
    assert_eq!(column(&again.output, "zip"), column(&o.output, "zip"));
    assert!(!again.report.search.optimal);
    // A batch on which the saved node no longer reaches k: a clear no-solution error.
    let dict = Arc::clone(t.dictionary());
    let mut small = Table::new(dict);
    for r in 0..6 {
        small.push_row(t.row(r)).unwrap();
    }
    match apply_strategy(&small, &config, &back, Some(&key())) {
        Err(Error::NoSolution(n)) => assert!(n.suppressed_needed > 0),
        other => panic!("expected no solution, got {other:?}"),
    }
    // A strategy for other hierarchies is refused.
    let wrong = Strategy::from_toml(&text.replace("levels = 5", "levels = 4")).unwrap();
    assert!(matches!(
        apply_strategy(&t, &config, &wrong, Some(&key())),
        Err(Error::Strategy { .. })
    ));
}

#[test]
fn suppression_within_the_limit_reaches_k() {
    let t = table();
    // k = 5 on 12 rows: no node without suppression except total generalisation of zip/age;
    // with 4 records allowed (one third), a finer node becomes optimal.
    let text = K4
        .replace("k = 4", "k = 5")
        .replace("suppression_limit = 0.0", "suppression_limit = 0.34");
    let config = Config::from_toml(&text, "k5.toml").unwrap();
    let o = anonymize(&t, &config, Some(&key())).unwrap();
    assert!(o.report.suppressed > 0 && o.report.suppressed <= 4);
    assert_eq!(o.output.n_rows(), 12 - o.report.suppressed);
    let m = measure(&o.output, &["zip", "age", "nationality"], &[]).unwrap();
    assert!(m.k >= 5);
    // Masked instead of removed: every row kept, suppressed QIs are "*".
    let masked = Config::from_toml(&format!("suppressed_records = \"mask\"\n{text}"), "k5m.toml").unwrap();
    let o2 = anonymize(&t, &masked, Some(&key())).unwrap();
    assert_eq!(o2.output.n_rows(), 12);
    let stars = column(&o2.output, "zip").iter().filter(|z| *z == "*").count();
    assert_eq!(stars, o.report.suppressed);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let t = table();
    // Unsatisfiable: k larger than the table.
    let config = Config::from_toml(&K4.replace("k = 4", "k = 13"), "k13.toml").unwrap();
    match anonymize(&t, &config, Some(&key())) {
        Err(Error::NoSolution(n)) => {
            assert_eq!(n.suppressed_needed, 12);
            assert_eq!(n.suppression_allowed, 0);
            assert!(n.to_string().contains("no solution"));
        }
        other => panic!("expected no solution, got {other:?}"),
    }
    // An age hierarchy that misses 55.
    let config = Config::from_toml(&K4.replace(", \"55\"", ""), "gap.toml").unwrap();
    assert_eq!(
        anonymize(&t, &config, Some(&key())).unwrap_err(),
        Error::Uncovered {
            column: "age".into(),
            value: "55".into(),
            level: 1
        }
    );
    // A sensitive attribute that is also a QI.
    let both = K4.replace("column = \"condition\"", "column = \"age\"");
    assert_eq!(
        Config::from_toml(&both, "both.toml").unwrap_err(),
        Error::SensitiveIsQuasiIdentifier { column: "age".into() }
    );
    // Unknown field, located.
    match Config::from_toml(&format!("{K4}\n[privacy2]\nk = 1\n"), "typo.toml") {
        Err(Error::Config { source_name, line, .. }) => {
            assert_eq!(source_name, "typo.toml");
            assert!(line > 1);
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    // Key too short.
    assert_eq!(
        Key::from_bytes(b"short").unwrap_err(),
        Error::KeyTooShort { length: 5, minimum: 32 }
    );
    // A QI that is not in the dictionary.
    let missing = Config::from_toml(
        &K4.replace("column = \"nationality\"", "column = \"country\""),
        "m.toml",
    )
    .unwrap();
    assert!(matches!(
        anonymize(&t, &missing, Some(&key())),
        Err(Error::Column { .. })
    ));
}

#[test]
fn greedy_fallback_is_labelled_not_optimal_and_satisfies_k() {
    let t = table();
    let config = Config::from_toml(&format!("lattice_limit = 10\n{K4}"), "greedy.toml").unwrap();
    let o = anonymize(&t, &config, Some(&key())).unwrap();
    assert!(!o.report.search.optimal);
    assert!(o.report.search.method.contains("NOT optimal"));
    assert!(o.report.reached.k.unwrap() >= 4);
    assert!(o.report.to_html().contains("NOT optimal"));
}

#[test]
fn report_has_risks_json_and_self_contained_html() {
    let t = table();
    let config = Config::from_toml(K4, "inpatient-k4.toml").unwrap();
    let o = anonymize(&t, &config, Some(&key())).unwrap();
    let r = &o.report;
    // Before: every record is unique on (zip, age, nationality).
    assert_eq!(r.risk_before.sample_uniques, 12);
    assert_eq!(r.risk_before.prosecutor_highest, 1.0);
    assert_eq!(r.risk_after.prosecutor_highest, 0.25);
    assert_eq!(r.risk_after.prosecutor_average, 0.25);
    assert_eq!(r.risk_after.records_above_threshold, 12, "0.25 > 0.2 for all");
    assert_eq!(r.risk_after.marketer, 0.25);
    assert_eq!(r.class_sizes_before[0].records, 12);
    assert_eq!(
        r.class_sizes_after.iter().find(|b| b.label == "3–4").unwrap().classes,
        3
    );
    let json = r.to_json();
    assert_eq!(json["reached"]["k"], 4);
    assert_eq!(json["search"]["lattice_size"], 30);
    let html = r.to_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"));
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
}
