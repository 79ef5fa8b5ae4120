//! Utility of synthetic data: does a model trained on it predict real data as well as a model
//! trained on real data? "Train on synthetic, test on real" (TSTR) against "train on real,
//! test on real" (TRTR), on the real holdout when there is one, else on a fixed split of the
//! real table.
//!
//! | target kind | models | scores (on the real test set) |
//! |---|---|---|
//! | categorical, boolean | logistic regression, random forest | AUC (one-vs-rest macro for more than 2 classes), accuracy |
//! | integer, real, date | ridge regression | R² |
//!
//! AUC: range [0, 1], 0.5 is chance, higher is better. Accuracy: range [0, 1], higher is
//! better. R²: at most 1 (negative when worse than predicting the mean), higher is better. The
//! utility of the synthetic data is the TSTR score next to the TRTR score: close is good.
//! Features: see [`features`](self) — one-hot categorical and boolean columns (missing its own
//! category), standardised numeric and date columns with mean imputation and a missing
//! indicator; the target itself is never a feature. Survival targets (C-index) are not handled
//! here.

pub mod auc;
pub(crate) mod features;
mod json;
pub(crate) mod models;

pub use auc::{auc, auc_one_vs_rest};

use crate::align::Aligned;
use crate::fidelity::check_not_empty;
use crate::{Error, Result};
use features::Features;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use table::{ColumnData, Kind, Table};

/// At most this many training rows (drawn with the seed) are given to each model, to bound
/// the training time.
pub const MAX_TRAINING_ROWS: usize = 5000;
/// Share of the real rows held out for testing when no holdout table is given.
pub const TEST_SHARE: f64 = 0.3;

/// What kind of prediction the target asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// A categorical or boolean target; `classes` are its levels (`"false"`, `"true"` for a
    /// boolean), in code order.
    Classification { classes: Vec<String> },
    /// An integer, real or date target (dates as day numbers).
    Regression,
}

/// Where the test rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestSet {
    /// The holdout table (real rows never seen by the synthesizer).
    Holdout,
    /// A seeded [`TEST_SHARE`] of the real table; the rest is the real training set. The
    /// synthesizer has seen these rows, so TSTR is optimistic.
    RealSplit,
}

/// The model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    LogisticRegression,
    RandomForest,
    RidgeRegression,
}

impl Model {
    /// Stable name in JSON: `"logistic_regression"`, `"random_forest"`, `"ridge_regression"`.
    pub fn name(self) -> &'static str {
        match self {
            Model::LogisticRegression => "logistic_regression",
            Model::RandomForest => "random_forest",
            Model::RidgeRegression => "ridge_regression",
        }
    }
}

/// Which data a model was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Training {
    /// Real training rows (TRTR).
    Real,
    /// Synthetic rows (TSTR).
    Synthetic,
}

impl Training {
    /// Stable name in JSON: `"real"` (TRTR) or `"synthetic"` (TSTR).
    pub fn name(self) -> &'static str {
        match self {
            Training::Real => "real",
            Training::Synthetic => "synthetic",
        }
    }
}

/// The scores of one model trained on one data set, on the real test rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelScore {
    pub model: Model,
    pub trained_on: Training,
    /// Training rows used (at most [`MAX_TRAINING_ROWS`]).
    pub training_rows: usize,
    /// ROC AUC (classification), range [0, 1], higher is better.
    pub auc: Option<f64>,
    /// Share of test rows whose most probable class is right (classification), range [0, 1].
    pub accuracy: Option<f64>,
    /// Coefficient of determination (regression), at most 1, higher is better.
    pub r_squared: Option<f64>,
    /// Why a score is missing (the model could not be trained, or the AUC/R² is undefined).
    pub skipped: Option<String>,
}

/// Rows left out because their target is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingTargets {
    pub real_train: usize,
    pub synthetic: usize,
    pub test: usize,
}

/// The utility of the synthetic data for predicting one target column.
#[derive(Debug, Clone, PartialEq)]
pub struct Utility {
    pub target: String,
    pub task: Task,
    pub test_set: TestSet,
    /// Test rows with a target value.
    pub test_rows: usize,
    pub missing_targets: MissingTargets,
    /// One entry per model and training set: real (TRTR) first, then synthetic (TSTR).
    pub scores: Vec<ModelScore>,
}

impl Utility {
    /// The score of `model` trained on `trained_on`, if it was run.
    pub fn score(&self, model: Model, trained_on: Training) -> Option<&ModelScore> {
        self.scores
            .iter()
            .find(|s| s.model == model && s.trained_on == trained_on)
    }
}

/// Seed offset of the train/test split and of the training-row sample.
const SEED_OFFSET: u64 = 0x7574_696c;

/// Trains on real and on synthetic rows to predict `target`, and scores both on real test
/// rows (the holdout if `aligned` has one, else a seeded split of the real table).
///
/// Errors when a table has no row or `target` is not one of the compared columns (unknown,
/// identifier, text, or left out by [`crate::align::align`]). A model that cannot be trained
/// (one class, too few rows) or a score that is undefined is reported in
/// [`ModelScore::skipped`], never as NaN.
pub fn utility(aligned: &Aligned, target: &str, seed: u64) -> Result<Utility> {
    check_not_empty(aligned)?;
    let index = aligned.dictionary.index_of(target).ok_or_else(|| {
        Error::Input(format!(
            "target column {target:?} is not among the compared columns (unknown, identifier, text, or left \
             out by alignment)"
        ))
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(SEED_OFFSET));
    let (test_set, test_table, test_rows, real_train) = match &aligned.holdout {
        Some(h) => (
            TestSet::Holdout,
            h,
            (0..h.n_rows()).collect(),
            (0..aligned.real.n_rows()).collect(),
        ),
        None => {
            let mut rows: Vec<usize> = (0..aligned.real.n_rows()).collect();
            rows.shuffle(&mut rng);
            let test = ((rows.len() as f64) * TEST_SHARE).ceil() as usize;
            let train = rows.split_off(test.min(rows.len()));
            (TestSet::RealSplit, &aligned.real, rows, train)
        }
    };
    let present = |table: &Table, rows: Vec<usize>| -> (Vec<usize>, usize) {
        let column = table.column(index);
        let before = rows.len();
        let kept: Vec<usize> = rows.into_iter().filter(|&r| !is_missing(column, r)).collect();
        let dropped = before - kept.len();
        (kept, dropped)
    };
    let (test_rows, test_missing) = present(test_table, test_rows);
    let (real_train, real_missing) = present(&aligned.real, real_train);
    let (synthetic_train, synthetic_missing) = present(&aligned.synthetic, (0..aligned.synthetic.n_rows()).collect());
    let mut cap = |mut rows: Vec<usize>| {
        if rows.len() > MAX_TRAINING_ROWS {
            rows.shuffle(&mut rng);
            rows.truncate(MAX_TRAINING_ROWS);
            rows.sort_unstable();
        }
        rows
    };
    let trainings = [
        (Training::Real, &aligned.real, cap(real_train)),
        (Training::Synthetic, &aligned.synthetic, cap(synthetic_train)),
    ];
    let task = match &aligned.dictionary.columns[index].kind {
        Kind::Categorical { levels, .. } => Task::Classification {
            classes: levels.clone(),
        },
        Kind::Boolean { .. } => Task::Classification {
            classes: vec!["false".into(), "true".into()],
        },
        _ => Task::Regression,
    };
    let test = TestRows {
        table: test_table,
        rows: &test_rows,
        target: index,
    };
    let mut scores = Vec::new();
    for (trained_on, table, rows) in &trainings {
        let train = TestRows {
            table,
            rows,
            target: index,
        };
        match &task {
            Task::Classification { classes } => {
                for model in [Model::LogisticRegression, Model::RandomForest] {
                    scores.push(classify(model, *trained_on, &train, &test, classes.len(), seed));
                }
            }
            Task::Regression => scores.push(regress(*trained_on, &train, &test)),
        }
    }
    Ok(Utility {
        target: target.to_string(),
        task,
        test_set,
        test_rows: test_rows.len(),
        missing_targets: MissingTargets {
            real_train: real_missing,
            synthetic: synthetic_missing,
            test: test_missing,
        },
        scores,
    })
}

/// Rows of a table, with the target column's index.
struct TestRows<'a> {
    table: &'a Table,
    rows: &'a [usize],
    target: usize,
}

impl TestRows<'_> {
    /// Class codes of the target (categorical level or 0/1); rows were filtered to have one.
    fn labels(&self) -> Vec<u32> {
        let column = self.table.column(self.target);
        self.rows
            .iter()
            .map(|&r| match column {
                ColumnData::Category(v) => v[r].unwrap_or(0),
                ColumnData::Bool(v) => v[r].map_or(0, u32::from),
                _ => 0,
            })
            .collect()
    }

    fn numbers(&self) -> Vec<f64> {
        let column = self.table.column(self.target);
        self.rows.iter().map(|&r| number(column, r).unwrap_or(0.0)).collect()
    }
}

fn is_missing(column: &ColumnData, row: usize) -> bool {
    match column {
        ColumnData::Bool(v) => v[row].is_none(),
        ColumnData::Int(v) => v[row].is_none(),
        ColumnData::Real(v) => v[row].is_none(),
        ColumnData::Date(v) => v[row].is_none(),
        ColumnData::Category(v) => v[row].is_none(),
        ColumnData::Text(v) => v[row].is_none(),
    }
}

fn number(column: &ColumnData, row: usize) -> Option<f64> {
    match column {
        ColumnData::Int(v) => v[row].map(|x| x as f64),
        ColumnData::Real(v) => v[row],
        ColumnData::Date(v) => v[row].map(|d| f64::from(d.days())),
        _ => None,
    }
}

fn classify(
    model: Model,
    trained_on: Training,
    train: &TestRows,
    test: &TestRows,
    classes: usize,
    seed: u64,
) -> ModelScore {
    let mut score = ModelScore {
        model,
        trained_on,
        training_rows: train.rows.len(),
        auc: None,
        accuracy: None,
        r_squared: None,
        skipped: None,
    };
    if test.rows.is_empty() {
        score.skipped = Some("no test row has a target value".into());
        return score;
    }
    let features = Features::fit(&[(train.table, train.rows)], Some(train.target));
    let (x_train, x_test) = (
        features.design(train.table, train.rows),
        features.design(test.table, test.rows),
    );
    let y_train = train.labels();
    let probabilities = match model {
        Model::LogisticRegression => models::logistic(&x_train, &y_train, &x_test, classes),
        _ => models::forest(&x_train, &y_train, &x_test, classes, seed),
    };
    let probabilities = match probabilities {
        Ok(p) => p,
        Err(reason) => {
            score.skipped = Some(format!("not trained: {reason}"));
            return score;
        }
    };
    let y_test = test.labels();
    let right = probabilities
        .iter()
        .zip(&y_test)
        .filter(|(p, y)| {
            let best = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(c, _)| c);
            best == Some(**y as usize)
        })
        .count();
    score.accuracy = Some(right as f64 / y_test.len() as f64);
    score.auc = if classes == 2 {
        let positive: Vec<bool> = y_test.iter().map(|&y| y == 1).collect();
        let p1: Vec<f64> = probabilities.iter().map(|p| p[1]).collect();
        auc(&positive, &p1)
    } else {
        let labels: Vec<usize> = y_test.iter().map(|&y| y as usize).collect();
        auc_one_vs_rest(&labels, &probabilities)
    };
    if score.auc.is_none() {
        score.skipped = Some("AUC undefined: the test rows have a single class".into());
    }
    score
}

fn regress(trained_on: Training, train: &TestRows, test: &TestRows) -> ModelScore {
    let mut score = ModelScore {
        model: Model::RidgeRegression,
        trained_on,
        training_rows: train.rows.len(),
        auc: None,
        accuracy: None,
        r_squared: None,
        skipped: None,
    };
    let features = Features::fit(&[(train.table, train.rows)], Some(train.target));
    let (x_train, x_test) = (
        features.design(train.table, train.rows),
        features.design(test.table, test.rows),
    );
    match models::ridge(&x_train, &train.numbers(), &x_test) {
        Err(reason) => score.skipped = Some(format!("not trained: {reason}")),
        Ok(predicted) => {
            let y = test.numbers();
            score.r_squared = r_squared(&y, &predicted);
            if score.r_squared.is_none() {
                score.skipped = Some("R² undefined: fewer than 2 test rows or a constant test target".into());
            }
        }
    }
    score
}

/// 1 − Σ(y − ŷ)² / Σ(y − ȳ)², `None` with fewer than 2 rows or a constant `y`.
fn r_squared(y: &[f64], predicted: &[f64]) -> Option<f64> {
    if y.len() < 2 || y.len() != predicted.len() {
        return None;
    }
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let residual: f64 = y.iter().zip(predicted).map(|(v, p)| (v - p).powi(2)).sum();
    (total > 0.0).then(|| 1.0 - residual / total)
}
