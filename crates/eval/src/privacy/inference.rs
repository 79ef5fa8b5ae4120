//! Attribute inference: the attacker knows every non-sensitive compared column of a target
//! (the quasi-identifiers) and reads the sensitive value off the nearest synthetic record(s).
//!
//! The same attack is run on train targets (whose records trained the synthesizer) and on
//! holdout controls (never seen by it). What the release teaches about the population lifts
//! both; only what it leaks about its training records lifts the train targets above the
//! controls, so the risk is the excess success `train − control`.
//!
//! Guesses: k = 1 takes the nearest synthetic record's value; k = 5 takes, for categorical and
//! boolean columns, the majority value of the 5 nearest (ties go to the value of the nearer
//! neighbour) and, for numeric and date columns, the median of their values (missing when at
//! least 3 of the 5 are missing). A guess succeeds when it equals the true value (missing
//! equals missing) or, for numeric and date columns, is within 1/20 of the public range.

use super::distance::{GowerSpace, Neighbours, Points};
use super::{PrivacyOptions, holdout, require_rows, rng_for, sample_indices, subset};
use crate::align::Aligned;
use crate::{Error, Result};

/// A numeric or date guess succeeds within the public range divided by this (1/20 of it).
pub const TOLERANCE_DIVISOR: f64 = 20.0;

/// Two-sided normal quantile for the 95 % intervals.
const Z95: f64 = 1.959_963_984_540_054;

/// Attack success on train targets against holdout controls for one guessing rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferenceRisk {
    pub train_success: f64,
    pub control_success: f64,
    /// `train_success − control_success`.
    pub excess: f64,
    /// 95 % confidence interval of the excess (Newcombe's hybrid score interval, from the
    /// Wilson intervals of both rates).
    pub excess_low: f64,
    pub excess_high: f64,
}

impl InferenceRisk {
    fn new(train_hits: usize, controls_hits: usize, n_train: usize, n_control: usize) -> InferenceRisk {
        let p1 = train_hits as f64 / n_train as f64;
        let p2 = controls_hits as f64 / n_control as f64;
        let (l1, u1) = wilson(train_hits, n_train);
        let (l2, u2) = wilson(controls_hits, n_control);
        let d = p1 - p2;
        InferenceRisk {
            train_success: p1,
            control_success: p2,
            excess: d,
            excess_low: d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
            excess_high: d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "train_success": self.train_success,
            "control_success": self.control_success,
            "excess": self.excess,
            "excess_low": self.excess_low,
            "excess_high": self.excess_high,
        })
    }
}

/// Wilson score interval (95 %) of a binomial proportion.
fn wilson(hits: usize, n: usize) -> (f64, f64) {
    let n = n as f64;
    let p = hits as f64 / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Attribute inference of one sensitive column.
#[derive(Debug, Clone)]
pub struct AttributeInference {
    pub column: String,
    /// The columns the attacker knows.
    pub quasi_identifiers: Vec<String>,
    /// Train targets and holdout controls attacked (equally many).
    pub targets: usize,
    /// Synthetic rows searched / available.
    pub synthetic_rows: usize,
    pub synthetic_total: usize,
    /// Success tolerance of a numeric/date guess, in the column's unit (`None` for categorical
    /// and boolean columns).
    pub tolerance: Option<f64>,
    pub seed: u64,
    /// Guess from the nearest synthetic record.
    pub nearest: InferenceRisk,
    /// Guess from the 5 nearest synthetic records.
    pub vote_of_5: InferenceRisk,
}

impl AttributeInference {
    /// JSON with the field names of this struct as keys; `nearest` and `vote_of_5` as
    /// [`InferenceRisk::to_json`].
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "column": self.column,
            "quasi_identifiers": self.quasi_identifiers,
            "targets": self.targets,
            "synthetic_rows": self.synthetic_rows,
            "synthetic_total": self.synthetic_total,
            "tolerance": self.tolerance,
            "seed": self.seed,
            "nearest": self.nearest.to_json(),
            "vote_of_5": self.vote_of_5.to_json(),
        })
    }
}

/// Attribute inference of every column in `sensitive` (names of aligned columns); the
/// quasi-identifiers are all other compared columns not declared sensitive.
pub fn attribute_inference(
    aligned: &Aligned,
    sensitive: &[&str],
    options: &PrivacyOptions,
) -> Result<Vec<AttributeInference>> {
    if sensitive.is_empty() {
        return Ok(Vec::new());
    }
    options.check()?;
    let holdout = holdout(aligned, "attribute inference")?;
    require_rows(&aligned.synthetic, 5, "synthetic table")?;
    require_rows(&aligned.real, 1, "training table")?;
    require_rows(holdout, 1, "holdout")?;
    let space = GowerSpace::all(&aligned.dictionary)?;
    let mut positions = Vec::with_capacity(sensitive.len());
    for name in sensitive {
        let position = space.position(name).ok_or_else(|| {
            let why = space
                .skipped()
                .iter()
                .find(|(c, _)| c == name)
                .map_or("not a column of the aligned tables".to_string(), |(_, r)| r.clone());
            Error::Input(format!("sensitive column {name:?}: {why}"))
        })?;
        positions.push(position);
    }
    let qi: Vec<usize> = (0..space.n_columns()).filter(|j| !positions.contains(j)).collect();
    if qi.is_empty() {
        return Err(Error::Input(
            "every compared column is declared sensitive: the attacker would know nothing".into(),
        ));
    }
    let qi_space = space.select(&qi);

    let mut rng = rng_for(options.seed, 3);
    let m = aligned.real.n_rows().min(holdout.n_rows()).min(options.max_targets);
    let train_rows = sample_indices(aligned.real.n_rows(), m, &mut rng);
    let control_rows = sample_indices(holdout.n_rows(), m, &mut rng);
    let syn_rows = sample_indices(aligned.synthetic.n_rows(), options.max_reference_rows, &mut rng);
    let train = subset(&aligned.real, &train_rows)?;
    let control = subset(holdout, &control_rows)?;
    let syn = subset(&aligned.synthetic, &syn_rows)?;
    let (train_full, control_full, syn_full) = (space.encode(&train)?, space.encode(&control)?, space.encode(&syn)?);
    let syn_qi = qi_space.encode(&syn)?;
    let train_nn = qi_space.neighbours(&qi_space.encode(&train)?, &syn_qi, 5, false);
    let control_nn = qi_space.neighbours(&qi_space.encode(&control)?, &syn_qi, 5, false);

    let mut out = Vec::with_capacity(positions.len());
    for (&j, name) in positions.iter().zip(sensitive) {
        let column = Column {
            j,
            numeric: space.is_numeric(j),
            tolerance: space.range(j) / TOLERANCE_DIVISOR,
        };
        let hits = |targets: &Points, nn: &Neighbours, k: usize| -> usize {
            (0..targets.n_rows())
                .filter(|&t| column.success(targets.row(t)[j], column.guess(&syn_full, nn.indices(t), k)))
                .count()
        };
        let risk = |k: usize| {
            InferenceRisk::new(
                hits(&train_full, &train_nn, k),
                hits(&control_full, &control_nn, k),
                m,
                m,
            )
        };
        out.push(AttributeInference {
            column: name.to_string(),
            quasi_identifiers: qi_space.names().to_vec(),
            targets: m,
            synthetic_rows: syn_rows.len(),
            synthetic_total: aligned.synthetic.n_rows(),
            tolerance: column.numeric.then_some(column.tolerance),
            seed: options.seed,
            nearest: risk(1),
            vote_of_5: risk(5),
        });
    }
    Ok(out)
}

/// The sensitive column being guessed.
struct Column {
    /// Position in the full space.
    j: usize,
    numeric: bool,
    tolerance: f64,
}

impl Column {
    /// The guess from the first `k` neighbours (NaN = "missing").
    fn guess(&self, syn: &Points, neighbours: &[usize], k: usize) -> f64 {
        let values: Vec<f64> = neighbours[..k].iter().map(|&i| syn.row(i)[self.j]).collect();
        if k == 1 {
            return values[0];
        }
        if self.numeric {
            let mut present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            if present.len() * 2 <= values.len() {
                return f64::NAN;
            }
            present.sort_by(f64::total_cmp);
            return super::distance::quantile(&present, 0.5);
        }
        // Majority vote; missing is a value of its own; ties go to the nearer neighbour's value.
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        let mut best = values[0];
        let mut best_count = 0;
        for &v in &values {
            let count = values.iter().filter(|&&w| same(v, w)).count();
            if count > best_count {
                best = v;
                best_count = count;
            }
        }
        best
    }

    fn success(&self, truth: f64, guess: f64) -> bool {
        match (truth.is_nan(), guess.is_nan()) {
            (true, true) => true,
            (true, false) | (false, true) => false,
            (false, false) if self.numeric => (truth - guess).abs() <= self.tolerance,
            (false, false) => truth == guess,
        }
    }
}
