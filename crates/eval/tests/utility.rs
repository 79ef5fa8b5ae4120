//! Utility (TSTR vs TRTR): AUC against scikit-learn's golden values, simulated AML cohorts
//! (synthetic data from the same distribution is nearly as useful as real data, columns
//! shuffled independently are useless), and bad input.

use eval::align::align;
use eval::utility::{Model, Task, TestSet, Training, auc, auc_one_vs_rest, utility};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::Value as Json;
use table::{Table, Value};

const GOLDEN: &str = include_str!("../golden/fidelity/golden.json");

fn numbers(v: &Json) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn auc_matches_scikit_learn() {
    let golden: Json = serde_json::from_str(GOLDEN).unwrap();
    let cases = golden["auc_binary"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let labels: Vec<bool> = numbers(&case["labels"]).iter().map(|&l| l == 1.0).collect();
        let scores = numbers(&case["scores"]);
        let expected = case["auc"].as_f64().unwrap();
        let got = auc(&labels, &scores).unwrap();
        assert!((got - expected).abs() < 1e-9, "{got} vs scikit-learn {expected}");
    }
    let multi = &golden["auc_multiclass"];
    let labels: Vec<usize> = numbers(&multi["labels"]).iter().map(|&l| l as usize).collect();
    let scores: Vec<Vec<f64>> = multi["scores"].as_array().unwrap().iter().map(numbers).collect();
    let expected = multi["auc"].as_f64().unwrap();
    let got = auc_one_vs_rest(&labels, &scores).unwrap();
    assert!((got - expected).abs() < 1e-9, "{got} vs scikit-learn {expected}");
}

fn aml(patients: usize, seed: u64) -> Table {
    let config = cohort::Config {
        patients,
        sites: 1,
        heterogeneity: 0.0,
        seed,
    };
    cohort::simulate(cohort::Disease::Aml, &config).unwrap().sites.remove(0)
}

fn map_rows(table: &Table, mut f: impl FnMut(usize, Vec<Value>) -> Vec<Value>) -> Table {
    let mut out = Table::new(table.dictionary().clone());
    for r in 0..table.n_rows() {
        out.push_row(f(r, table.row(r))).unwrap();
    }
    out
}

fn shuffle_columns(table: &Table, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let width = table.dictionary().columns.len();
    let orders: Vec<Vec<usize>> = (0..width)
        .map(|_| {
            let mut o: Vec<usize> = (0..table.n_rows()).collect();
            o.shuffle(&mut rng);
            o
        })
        .collect();
    map_rows(table, |r, _| (0..width).map(|c| table.value(orders[c][r], c)).collect())
}

#[test]
fn same_distribution_synthetic_is_useful_and_shuffled_is_not() {
    let real = aml(1000, 1);
    let holdout = aml(500, 2);
    let good = aml(1000, 3);
    let shuffled = shuffle_columns(&good, 4);
    let target = "ELN 2022";
    let good = utility(&align(&real, &good, Some(&holdout)).unwrap(), target, 7).unwrap();
    let bad = utility(&align(&real, &shuffled, Some(&holdout)).unwrap(), target, 7).unwrap();
    assert_eq!(good.test_set, TestSet::Holdout);
    assert_eq!(good.test_rows, 500);
    assert!(matches!(&good.task, Task::Classification { classes } if classes.len() == 3));
    assert_eq!(good.scores.len(), 4);
    for model in [Model::LogisticRegression, Model::RandomForest] {
        let trtr = good.score(model, Training::Real).unwrap();
        let tstr = good.score(model, Training::Synthetic).unwrap();
        let tstr_bad = bad.score(model, Training::Synthetic).unwrap();
        let (a_real, a_syn, a_bad) = (trtr.auc.unwrap(), tstr.auc.unwrap(), tstr_bad.auc.unwrap());
        // ELN 2022 is derived from the genetic columns: real data predict it well.
        assert!(a_real > 0.85, "{model:?} TRTR AUC {a_real}");
        assert!(a_syn > a_real - 0.1, "{model:?} TSTR {a_syn} vs TRTR {a_real}");
        assert!(a_bad < 0.7, "{model:?} TSTR on shuffled columns {a_bad}");
        let accuracy = tstr.accuracy.unwrap();
        assert!((0.0..=1.0).contains(&accuracy) && accuracy > tstr_bad.accuracy.unwrap() - 0.05);
        assert!(trtr.skipped.is_none() && trtr.r_squared.is_none());
    }
    // Same seed, same result.
    assert_eq!(
        utility(&align(&real, &shuffled, Some(&holdout)).unwrap(), target, 7).unwrap(),
        bad
    );
}

#[test]
fn boolean_and_numeric_targets_without_holdout() {
    let real = aml(800, 5);
    let synthetic = aml(800, 6);
    let aligned = align(&real, &synthetic, None).unwrap();
    let boolean = utility(&aligned, "Intensive chemotherapy induction", 1).unwrap();
    assert_eq!(boolean.test_set, TestSet::RealSplit);
    assert_eq!(boolean.test_rows, 240);
    assert_eq!(
        boolean
            .score(Model::RandomForest, Training::Real)
            .unwrap()
            .training_rows,
        560
    );
    assert!(
        boolean
            .scores
            .iter()
            .all(|s| s.auc.is_some_and(|a| (0.0..=1.0).contains(&a)))
    );

    let numeric = utility(&aligned, "AGE", 1).unwrap();
    assert_eq!(numeric.task, Task::Regression);
    assert_eq!(numeric.scores.len(), 2);
    for s in &numeric.scores {
        assert_eq!(s.model, Model::RidgeRegression);
        let r2 = s.r_squared.unwrap();
        assert!(r2.is_finite() && r2 <= 1.0 && r2 > 0.0, "{s:?}");
        assert!(s.auc.is_none() && s.accuracy.is_none());
    }
}

#[test]
fn single_class_synthetic_target_is_skipped_with_a_reason() {
    let real = aml(600, 8);
    let column = real.dictionary().index_of("Allogeneic HSCT").unwrap();
    let one_class = map_rows(&aml(600, 9), |_, mut row| {
        row[column] = Value::Bool(false);
        row
    });
    let result = utility(&align(&real, &one_class, None).unwrap(), "Allogeneic HSCT", 2).unwrap();
    for model in [Model::LogisticRegression, Model::RandomForest] {
        let tstr = result.score(model, Training::Synthetic).unwrap();
        assert!(tstr.auc.is_none() && tstr.accuracy.is_none());
        assert!(
            tstr.skipped.as_deref().unwrap().contains("fewer than 2 classes"),
            "{:?}",
            tstr.skipped
        );
        assert!(result.score(model, Training::Real).unwrap().auc.is_some());
    }
    let json = result.to_json();
    assert_eq!(json["scores"][2]["trained_on"], "synthetic");
    assert!(json["scores"][2]["auc"].is_null());
    for key in [
        "target",
        "task",
        "classes",
        "test_set",
        "test_rows",
        "missing_targets",
        "scores",
    ] {
        assert!(json.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(json["classes"], serde_json::json!(["false", "true"]));
}

#[test]
fn unknown_identifier_and_empty_inputs_are_errors() {
    let real = aml(200, 10);
    let synthetic = aml(200, 11);
    let aligned = align(&real, &synthetic, None).unwrap();
    for target in ["NO_SUCH_COLUMN", "ID"] {
        let err = utility(&aligned, target, 0).unwrap_err();
        assert!(err.to_string().contains("not among the compared columns"), "{err}");
    }
    let empty = Table::new(synthetic.dictionary().clone());
    let err = utility(&align(&real, &empty, None).unwrap(), "SEX", 0).unwrap_err();
    assert!(err.to_string().contains("no rows"), "{err}");
}

mod properties {
    use eval::utility::auc;
    use proptest::prelude::*;

    /// AUC by counting every (positive, negative) pair: 1 if the positive scores higher, ½ on a
    /// tie.
    fn brute_force(labels: &[bool], scores: &[f64]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &li) in labels.iter().enumerate() {
            for (j, &lj) in labels.iter().enumerate() {
                if li && !lj {
                    pairs += 1.0;
                    if scores[i] > scores[j] {
                        wins += 1.0;
                    } else if scores[i] == scores[j] {
                        wins += 0.5;
                    }
                }
            }
        }
        wins / pairs
    }

    proptest! {
        #[test]
        fn auc_is_the_pairwise_win_rate(rows in proptest::collection::vec((any::<bool>(), 0u8..8), 2..60)) {
            let labels: Vec<bool> = rows.iter().map(|r| r.0).collect();
            // Few distinct scores, so many ties.
            let scores: Vec<f64> = rows.iter().map(|r| f64::from(r.1) / 4.0).collect();
            let both = labels.iter().any(|&l| l) && labels.iter().any(|&l| !l);
            match auc(&labels, &scores) {
                None => prop_assert!(!both),
                Some(a) => {
                    prop_assert!(both);
                    prop_assert!((a - brute_force(&labels, &scores)).abs() < 1e-12);
                    let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
                    let b = auc(&labels, &negated).unwrap();
                    prop_assert!((a + b - 1.0).abs() < 1e-12);
                }
            }
        }
    }
}
