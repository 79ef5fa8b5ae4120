//! Privacy measures on leaky releases (verbatim or slightly noisy copies of the training data)
//! and on safe ones (an independent simulation of the same population).

use eval::align::{Aligned, align};
use eval::privacy::{
    self, DistanceAttack, GowerSpace, PrivacyOptions, ShadowOptions, TargetSource, auc, shadow_attack, tpr_at_fpr,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;
use table::{Dictionary, Table, Value};

fn simulate(patients: usize, seed: u64) -> Table {
    let config = cohort::Config {
        patients,
        sites: 1,
        heterogeneity: 0.0,
        seed,
    };
    match cohort::simulate(cohort::Disease::Aml, &config) {
        Ok(mut c) => c.sites.remove(0),
        Err(e) => panic!("simulation failed: {e}"),
    }
}

fn rows(table: &Table, range: std::ops::Range<usize>) -> Table {
    let mut out = Table::new(table.dictionary().clone());
    for r in range {
        out.push_row(table.row(r)).unwrap();
    }
    out
}

/// Train and holdout: two halves of one simulated cohort (so they are exchangeable).
fn train_and_holdout(n: usize, seed: u64) -> (Table, Table) {
    let all = simulate(2 * n, seed);
    (rows(&all, 0..n), rows(&all, n..2 * n))
}

/// `table` with every real value moved by at most ±0.1 % (a "copy with small noise").
fn noisy_copy(table: &Table, seed: u64) -> Table {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut out = Table::new(table.dictionary().clone());
    for r in 0..table.n_rows() {
        let row = table
            .row(r)
            .into_iter()
            .map(|v| match v {
                Value::Real(x) => Value::Real(x * (1.0 + 0.001 * rng.random_range(-1.0..1.0))),
                other => other,
            })
            .collect();
        out.push_row(row).unwrap();
    }
    out
}

fn aligned(train: &Table, synthetic: &Table, holdout: &Table) -> Aligned {
    align(train, synthetic, Some(holdout)).unwrap()
}

// ---- ROC -----------------------------------------------------------------------------------

#[test]
fn auc_counts_ties_one_half() {
    // Pairs (member, non-member): 0.9 beats both; each 0.5 ties 0.5 (½) and beats 0.1 → 5/6.
    let a = auc(&[0.9, 0.5, 0.5], &[0.5, 0.1]).unwrap();
    assert!((a - 5.0 / 6.0).abs() < 1e-12, "{a}");
    assert_eq!(auc(&[1.0, 1.0], &[1.0, 1.0, 1.0]).unwrap(), 0.5);
    assert_eq!(auc(&[3.0, 2.0], &[1.0, 0.0]).unwrap(), 1.0);
    assert_eq!(auc(&[0.0], &[1.0, 2.0]).unwrap(), 0.0);
    // Hand count: 2 > {1, 1}, 1 ties {1, 1} (½ each), 0 loses → (2 + 1 + 0) / 6.
    let a = auc(&[2.0, 1.0, 0.0], &[1.0, 1.0]).unwrap();
    assert!((a - 0.5).abs() < 1e-12, "{a}");
}

#[test]
fn auc_rejects_an_empty_class_and_nan() {
    assert!(auc(&[], &[1.0]).is_err());
    assert!(auc(&[1.0], &[]).is_err());
    assert!(auc(&[f64::NAN], &[1.0]).is_err());
    assert!(tpr_at_fpr(&[1.0], &[0.0], 1.5).is_err());
}

#[test]
fn tpr_at_fpr_interpolates_the_roc_curve() {
    // Thresholds from the top: 0.9 P → (0, 1/3), 0.8 P → (0, 2/3), 0.7 N → (1/4, 2/3),
    // 0.3 P → (1/4, 1), then negatives to (1, 1).
    let pos = [0.9, 0.8, 0.3];
    let neg = [0.7, 0.2, 0.1, 0.0];
    let at = |f| tpr_at_fpr(&pos, &neg, f).unwrap();
    assert!((at(0.0) - 2.0 / 3.0).abs() < 1e-12);
    assert!((at(0.1) - 2.0 / 3.0).abs() < 1e-12);
    assert!((at(0.25) - 1.0).abs() < 1e-12);
    assert!((at(1.0) - 1.0).abs() < 1e-12);
    // All scores tied in pairs: the curve is the diagonal through (1/2, 1/2); linear in between.
    let tied = |f| tpr_at_fpr(&[1.0, 0.0], &[1.0, 0.0], f).unwrap();
    assert!((tied(0.1) - 0.1).abs() < 1e-12);
    assert!((tied(0.75) - 0.75).abs() < 1e-12);
    // A vertical segment at FPR 1/2: (0, 0) → (1/2, 0) → (1/2, 1) → (1, 1). Below 1/2 the
    // attacker finds nobody; at 1/2 the highest point of the segment counts.
    let vertical = |f| tpr_at_fpr(&[0.5], &[1.0, 0.0], f).unwrap();
    assert_eq!(vertical(0.25), 0.0);
    assert_eq!(vertical(0.49), 0.0);
    assert_eq!(vertical(0.5), 1.0);
}

/// AUCs of scikit-learn's `roc_auc_score`, and TPRs at fixed FPRs read off scikit-learn's
/// `roc_curve`, on fixed vectors (committed with the script that made them,
/// `golden/privacy/make_auc_golden.py`).
#[test]
fn auc_and_tpr_match_scikit_learn() {
    let text = include_str!("../golden/privacy/auc.json");
    let golden: serde_json::Value = serde_json::from_str(text).unwrap();
    let cases = golden["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    for case in cases {
        let vec = |k: &str| -> Vec<f64> {
            case[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let (scores, labels) = (vec("scores"), vec("labels"));
        let pos: Vec<f64> = scores
            .iter()
            .zip(&labels)
            .filter(|(_, l)| **l == 1.0)
            .map(|(s, _)| *s)
            .collect();
        let neg: Vec<f64> = scores
            .iter()
            .zip(&labels)
            .filter(|(_, l)| **l == 0.0)
            .map(|(s, _)| *s)
            .collect();
        let expected = case["roc_auc_score"].as_f64().unwrap();
        let got = auc(&pos, &neg).unwrap();
        assert!(
            (got - expected).abs() < 1e-12,
            "{}: {got} vs sklearn {expected}",
            case["name"]
        );
        for point in case["tpr_at_fpr"].as_array().unwrap() {
            let (f, expected) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
            let got = tpr_at_fpr(&pos, &neg, f).unwrap();
            assert!(
                (got - expected).abs() < 1e-12,
                "{} at FPR {f}: {got} vs {expected}",
                case["name"]
            );
        }
    }
}

proptest::proptest! {
    /// The rank formula equals the definition: the share of (member, non-member) pairs the
    /// member wins, ties one half (scores on a coarse grid so that ties are common).
    #[test]
    fn auc_equals_the_pairwise_count(
        pos in proptest::collection::vec(0u8..6, 1..40),
        neg in proptest::collection::vec(0u8..6, 1..40),
    ) {
        let (p, n): (Vec<f64>, Vec<f64>) =
            (pos.iter().map(|&x| f64::from(x)).collect(), neg.iter().map(|&x| f64::from(x)).collect());
        let wins: f64 = p.iter().flat_map(|a| n.iter().map(move |b| match a.total_cmp(b) {
            std::cmp::Ordering::Greater => 1.0,
            std::cmp::Ordering::Equal => 0.5,
            std::cmp::Ordering::Less => 0.0,
        })).sum();
        let a = auc(&p, &n).unwrap();
        proptest::prop_assert!((a - wins / (p.len() * n.len()) as f64).abs() < 1e-12);
        proptest::prop_assert!((a + auc(&n, &p).unwrap() - 1.0).abs() < 1e-12);
        // The TPR at a fixed FPR never decreases with the FPR and reaches 1 at FPR 1.
        let mut last = 0.0;
        for f in [0.0, 0.01, 0.1, 0.3, 0.5, 0.9, 1.0] {
            let t = tpr_at_fpr(&p, &n, f).unwrap();
            proptest::prop_assert!((0.0..=1.0).contains(&t) && t >= last - 1e-12);
            last = t;
        }
        proptest::prop_assert!((last - 1.0).abs() < 1e-12);
    }
}

// ---- Gower distance ------------------------------------------------------------------------

const SMALL: &str = r#"
format_version = 1
name = "small"
[[column]]
name = "dose"
type = "real"
min = 0
max = 10
missing = "allowed"
[[column]]
name = "arm"
type = "categorical"
levels = ["a", "b", "c"]
[[column]]
name = "relapse"
type = "boolean"
true = "1"
false = "0"
missing = "allowed"
[[column]]
name = "start"
type = "date"
format = "%Y-%m-%d"
min = "2020-01-01"
max = "2020-01-11"
[[column]]
name = "weight"
type = "real"
"#;

#[test]
fn gower_distance_uses_public_ranges_and_missing_rules() {
    let dictionary = Arc::new(Dictionary::from_toml(SMALL, "small.toml").unwrap());
    let space = GowerSpace::all(&dictionary).unwrap();
    // "weight" has no public bounds: left out, with the reason.
    assert_eq!(space.names(), ["dose", "arm", "relapse", "start"]);
    assert_eq!(space.skipped()[0].0, "weight");
    let mut t = Table::new(dictionary.clone());
    let date = |d| Value::Date(table::Date::from_ymd(2020, 1, d).unwrap());
    let s = |x: &str| Value::Text(x.into());
    t.push_row(vec![
        Value::Real(2.0),
        s("a"),
        Value::Bool(true),
        date(1),
        Value::Real(70.0),
    ])
    .unwrap();
    t.push_row(vec![
        Value::Real(7.0),
        s("b"),
        Value::Bool(true),
        date(6),
        Value::Real(1.0),
    ])
    .unwrap();
    t.push_row(vec![Value::Missing, s("a"), Value::Missing, date(1), Value::Missing])
        .unwrap();
    t.push_row(vec![Value::Real(30.0), s("a"), Value::Missing, date(1), Value::Missing])
        .unwrap();
    let p = space.encode(&t).unwrap();
    // Rows 0 and 1: dose 5/10, arm 1, relapse 0, start 5/10 → 2/4.
    assert!((space.distance(p.row(0), p.row(1)) - 0.5).abs() < 1e-12);
    // Rows 0 and 2: dose missing vs present 1, arm 0, relapse missing vs present 1, start 0.
    assert!((space.distance(p.row(0), p.row(2)) - 0.5).abs() < 1e-12);
    // Rows 2 and 3: dose missing vs present 1, relapse both missing 0 → 1/4.
    assert!((space.distance(p.row(2), p.row(3)) - 0.25).abs() < 1e-12);
    // Rows 0 and 3: |30 − 2| / 10 is capped at 1; relapse present vs missing 1 → 2/4.
    assert!((space.distance(p.row(0), p.row(3)) - 0.5).abs() < 1e-12);
    assert_eq!(space.distance(p.row(1), p.row(1)), 0.0);
}

#[test]
fn nearest_neighbours_agree_with_brute_force() {
    let all = simulate(300, 11);
    let dictionary = Arc::new(all.dictionary().modelled());
    let all = all.project(dictionary.clone()).unwrap();
    let space = GowerSpace::all(&dictionary).unwrap();
    let query = space.encode(&rows(&all, 0..60)).unwrap();
    let reference = space.encode(&rows(&all, 60..300)).unwrap();
    let nn = space.neighbours(&query, &reference, 3, false);
    for q in 0..query.n_rows() {
        let mut brute: Vec<(f64, usize)> = (0..reference.n_rows())
            .map(|r| (space.distance(query.row(q), reference.row(r)), r))
            .collect();
        brute.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (i, (fast, slow)) in nn.distances(q).iter().zip(&brute).enumerate() {
            assert!((fast - slow.0).abs() < 1e-12, "query {q}, neighbour {i}");
        }
        assert_eq!(nn.indices(q)[0], brute[0].1, "query {q}");
    }
    // Excluding the same index: a table against itself finds the nearest *other* row.
    let self_nn = space.neighbours(&query, &query, 1, true);
    for q in 0..query.n_rows() {
        assert_ne!(self_nn.indices(q)[0], q);
    }
}

// ---- distance measures and the distance attack ---------------------------------------------

#[test]
fn verbatim_copy_is_flagged_by_every_distance_measure() {
    let (train, holdout) = train_and_holdout(800, 21);
    let a = aligned(&train, &train, &holdout);
    let options = PrivacyOptions::default();
    let report = privacy::distance::distance_report(&a, &options).unwrap();
    assert_eq!(report.synthetic_exact_match_rate, 1.0);
    assert_eq!(report.synthetic_dcr.median, 0.0);
    assert!(
        report.holdout_exact_match_rate < 0.05,
        "{}",
        report.holdout_exact_match_rate
    );
    assert!(report.holdout_dcr.median > 0.0);
    assert!(report.share_below_holdout_median > 0.99);
    assert!(report.closer_to_train_share > 0.95, "{}", report.closer_to_train_share);
    let attack = privacy::mia::distance_attack(&a, &options).unwrap();
    assert!(attack.auc > 0.9, "{}", attack.auc);
    assert!(attack.tpr_at_fpr_1pct > 0.9, "{}", attack.tpr_at_fpr_1pct);
    assert_eq!(attack.member_exact_match_rate, 1.0);
    assert!(attack.rare.auc.unwrap() > 0.9);
}

#[test]
fn noisy_copy_is_caught_by_the_distance_attack() {
    let (train, holdout) = train_and_holdout(800, 22);
    let synthetic = noisy_copy(&train, 5);
    let a = aligned(&train, &synthetic, &holdout);
    let attack = privacy::mia::distance_attack(&a, &PrivacyOptions::default()).unwrap();
    assert!(attack.auc > 0.9, "{}", attack.auc);
    let report = privacy::distance::distance_report(&a, &PrivacyOptions::default()).unwrap();
    assert!(report.synthetic_exact_match_rate < 0.5);
    assert!(
        report.synthetic_dcr.median < report.holdout_dcr.p5,
        "{:?} {:?}",
        report.synthetic_dcr,
        report.holdout_dcr
    );
}

fn independent_release() -> Aligned {
    let (train, holdout) = train_and_holdout(1_000, 31);
    let synthetic = simulate(1_000, 32);
    aligned(&train, &synthetic, &holdout)
}

#[test]
fn independent_simulation_shows_no_distance_leakage() {
    let a = independent_release();
    let options = PrivacyOptions::default();
    let report = privacy::distance::distance_report(&a, &options).unwrap();
    // Equal train and holdout samples: ≈ 0.5; ±0.06 is about 4 standard errors at 1,000 rows.
    assert_eq!(report.closeness_rows, 1_000);
    assert!(
        (report.closer_to_train_share - 0.5).abs() < 0.06,
        "{}",
        report.closer_to_train_share
    );
    assert!(
        (report.share_below_holdout_median - 0.5).abs() < 0.08,
        "{}",
        report.share_below_holdout_median
    );
    assert!(report.synthetic_exact_match_rate <= report.holdout_exact_match_rate + 0.02);
    let attack: DistanceAttack = privacy::mia::distance_attack(&a, &options).unwrap();
    assert!((0.4..=0.6).contains(&attack.auc), "{}", attack.auc);
    assert!(attack.tpr_at_fpr_10pct < 0.2, "{}", attack.tpr_at_fpr_10pct);
    let rare_auc = attack.rare.auc.unwrap();
    assert!((0.3..=0.7).contains(&rare_auc), "{rare_auc}");
    assert_eq!(attack.rare.members + attack.rare.non_members, 200);
}

#[test]
fn row_caps_sample_and_report_what_was_used() {
    let a = independent_release();
    let options = PrivacyOptions {
        max_synthetic_rows: 100,
        max_reference_rows: 300,
        max_targets: 50,
        ..PrivacyOptions::default()
    };
    let report = privacy::distance::distance_report(&a, &options).unwrap();
    assert_eq!((report.synthetic_rows, report.synthetic_total), (100, 1_000));
    assert_eq!((report.train_rows, report.train_total), (300, 1_000));
    assert_eq!((report.holdout_rows, report.closeness_rows), (50, 300));
    // Same seed, same numbers.
    let again = privacy::distance::distance_report(&a, &options).unwrap();
    assert_eq!(report.to_json(), again.to_json());
    let attack = privacy::mia::distance_attack(&a, &options).unwrap();
    assert_eq!((attack.targets_per_class, attack.synthetic_rows), (50, 300));
}

#[test]
fn measures_that_need_a_holdout_say_so() {
    let (train, _) = train_and_holdout(50, 41);
    let a = align(&train, &train, None).unwrap();
    let err = privacy::distance::distance_report(&a, &PrivacyOptions::default()).unwrap_err();
    assert!(err.to_string().contains("holdout"), "{err}");
    assert!(privacy::mia::distance_attack(&a, &PrivacyOptions::default()).is_err());
}

// ---- attribute inference -------------------------------------------------------------------

/// Sex is not implied by the other columns, overall survival only loosely (through event
/// times): a release can only teach them about its own training records.
const SENSITIVE: [&str; 2] = ["SEX", "Overall survival"];

#[test]
fn attribute_inference_excess_is_large_on_a_copy() {
    let (train, holdout) = train_and_holdout(800, 51);
    let a = aligned(&train, &train, &holdout);
    let risks = privacy::inference::attribute_inference(&a, &SENSITIVE, &PrivacyOptions::default()).unwrap();
    assert_eq!(risks.len(), 2);
    for r in &risks {
        assert!(r.nearest.train_success > 0.95, "{}: {:?}", r.column, r.nearest);
        assert!(r.nearest.excess > 0.2, "{}: {:?}", r.column, r.nearest);
        assert!(r.nearest.excess_low > 0.0, "{}: {:?}", r.column, r.nearest);
        assert!(!r.quasi_identifiers.iter().any(|q| SENSITIVE.contains(&q.as_str())));
    }
    // Overall survival is an integer 1..7300: tolerance 7299 / 20 days.
    assert_eq!(risks[1].tolerance, Some(7299.0 / 20.0));
    assert_eq!(risks[0].tolerance, None);
}

#[test]
fn attribute_inference_excess_is_near_zero_on_independent_data() {
    let a = independent_release();
    let risks = privacy::inference::attribute_inference(&a, &SENSITIVE, &PrivacyOptions::default()).unwrap();
    for r in &risks {
        for risk in [r.nearest, r.vote_of_5] {
            assert!(risk.excess.abs() < 0.07, "{}: {risk:?}", r.column);
            assert!(
                risk.excess_low < 0.0 && risk.excess_high > 0.0,
                "{}: {risk:?}",
                r.column
            );
            assert!(risk.excess_low < risk.excess && risk.excess < risk.excess_high);
        }
    }
}

#[test]
fn attribute_inference_names_an_unusable_sensitive_column() {
    let a = independent_release();
    let err = privacy::inference::attribute_inference(&a, &["DIAGNOSIS CODE"], &PrivacyOptions::default()).unwrap_err();
    assert!(err.to_string().contains("DIAGNOSIS CODE"), "{err}");
    let err = privacy::inference::attribute_inference(&a, &["ID"], &PrivacyOptions::default()).unwrap_err();
    assert!(err.to_string().contains("\"ID\""), "{err}");
}

// ---- shadow-model attack -------------------------------------------------------------------

/// The attacker's copy of a leaky synthesizer: its training data with ±0.1 % noise.
fn leaky_synthesizer(training: &Table, seed: u64) -> Table {
    noisy_copy(training, seed)
}

/// The attacker's copy of a synthesizer that learns nothing from its input.
fn fresh_synthesizer(training: &Table, seed: u64) -> Table {
    simulate(training.n_rows(), seed)
        .project(training.dictionary().clone())
        .unwrap()
}

#[test]
fn shadow_attack_detects_a_leaky_synthesizer() {
    let (train, holdout) = train_and_holdout(1_250, 61);
    let a = aligned(&train, &noisy_copy(&train, 7), &holdout);
    let result = shadow_attack(&a, &leaky_synthesizer, &ShadowOptions::default()).unwrap();
    assert_eq!(result.targets.len(), 10);
    assert_eq!(
        result
            .targets
            .iter()
            .filter(|t| t.source == TargetSource::Train)
            .count(),
        5
    );
    assert_eq!(result.synthesizer_calls, 200);
    assert!(result.mean_auc > 0.9, "{result:?}");
    assert!(result.release_accuracy >= 0.8, "{result:?}");
}

#[test]
fn shadow_attack_finds_nothing_when_the_synthesizer_ignores_its_input() {
    let (train, holdout) = train_and_holdout(600, 62);
    let a = aligned(&train, &simulate(600, 63), &holdout);
    let result = shadow_attack(&a, &fresh_synthesizer, &ShadowOptions::default()).unwrap();
    // 10 targets × 20 shadow outputs: each AUC has a standard error near 0.13, the mean ≈ 0.04.
    assert!((result.mean_auc - 0.5).abs() < 0.15, "{result:?}");
    let json = result.to_json();
    assert_eq!(json["targets"].as_array().unwrap().len(), 10);
    assert!(json["seconds"].is_null());
}

// ---- the whole section ---------------------------------------------------------------------

#[test]
fn report_json_has_the_documented_keys() {
    let a = independent_release();
    let options = PrivacyOptions {
        max_synthetic_rows: 200,
        max_targets: 200,
        ..PrivacyOptions::default()
    };
    let report = privacy::assess(&a, &["RESPONSE TO INDUCTION"], None, &options).unwrap();
    let json = report.to_json();
    for key in [
        "distance",
        "membership_distance",
        "membership_shadow",
        "attribute_inference",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    for key in [
        "synthetic_dcr",
        "holdout_dcr",
        "share_below_holdout_median",
        "closer_to_train_share",
        "synthetic_nndr",
        "holdout_nndr",
        "synthetic_exact_match_rate",
        "holdout_exact_match_rate",
    ] {
        assert!(json["distance"].get(key).is_some(), "{key}");
    }
    assert!(json["membership_distance"]["rare"]["auc"].is_number());
    assert_eq!(json["attribute_inference"][0]["column"], "RESPONSE TO INDUCTION");
    assert!(json["attribute_inference"][0]["nearest"]["excess"].is_number());
}

#[test]
fn row_caps_too_small_to_run_are_refused() {
    let a = independent_release();
    let tiny = PrivacyOptions {
        max_reference_rows: 4,
        ..PrivacyOptions::default()
    };
    let err = privacy::inference::attribute_inference(&a, &["SEX"], &tiny).unwrap_err();
    assert!(err.to_string().contains("5 reference rows"), "{err}");
    let odd = PrivacyOptions {
        rare_fraction: 0.0,
        ..PrivacyOptions::default()
    };
    assert!(privacy::mia::distance_attack(&a, &odd).is_err());
    assert!(privacy::distance::distance_report(&a, &odd).is_err());
}
