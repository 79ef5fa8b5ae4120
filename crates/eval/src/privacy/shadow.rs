//! Shadow-model membership inference in the style of Stadler, Oprisanu and Troncoso,
//! "Synthetic Data – Anonymisation Groundhog Day" (USENIX Security 2022).
//!
//! Threat model: the attacker knows one target record, holds a reference sample of the same
//! population (here: the holdout without the targets), can run the synthesizer (here: the
//! `shadow` closure), and sees the release. For each target the attacker
//!
//! 1. draws `shadows_per_label` shadow training sets from the reference, each of `n − 1` fresh
//!    rows plus the target ("in") and as many with one more reference row instead ("out");
//! 2. runs the synthesizer on each and extracts features of its output: naive features (per
//!    column: mean, standard deviation and missing share of numeric/date columns; level shares
//!    of categorical/boolean columns), correlation features (Pearson correlation of every pair
//!    of the first 30 numeric/date columns) and target-proximity features (the target's
//!    nearest Gower distance to the output, the mean of its 5 nearest distances, the share of
//!    output rows within 0.05 of it, as in the closest-distance attacks of TAPAS, Houssiau et
//!    al. 2022);
//! 3. trains an L2-regularised logistic regression (smartcore) on the standardised features to
//!    tell "in" from "out".
//!
//! Reported per target: the AUC and accuracy of the classifier on shadow outputs it was not
//! trained on (k-fold cross-validation over the shadow pairs), and its membership probability
//! on the real release. Half the targets come from train (members of the release), half from
//! the holdout (non-members); all are the most isolated records of a candidate pool, the
//! records this attack is known to expose first.
//!
//! Cost: `targets × 2 × shadows_per_label` synthesizer runs on `min(train rows, reference rows,
//! max_shadow_rows)` rows plus `targets × (folds + 1)` small logistic regressions.

use super::distance::{GowerSpace, Points, share};
use super::roc::auc;
use super::{Synthesizer, holdout, require_rows, rng_for, sample_indices, subset};
use crate::align::Aligned;
use crate::{Error, Result};
use rand::RngExt;
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

/// At most this many numeric/date columns enter the correlation features (their pairs grow
/// quadratically).
const MAX_CORRELATED_COLUMNS: usize = 30;
/// Candidate records per source among which the most isolated become targets.
const CANDIDATES_PER_SOURCE: usize = 500;
/// L2 penalty of the attack classifier.
const CLASSIFIER_ALPHA: f64 = 1.0;
/// Gower radius of the "share of output rows near the target" feature.
const NEAR_RADIUS: f64 = 0.05;

/// Size of the shadow-model attack. The defaults keep it to 200 synthesizer runs; raise
/// `targets` for a finer picture of who is exposed and `shadows_per_label` for steadier
/// per-target AUCs (the cost grows with their product).
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowOptions {
    /// Targets attacked, half from train (rounded up), half from the holdout.
    pub targets: usize,
    /// Shadow outputs per label ("in", "out") and target.
    pub shadows_per_label: usize,
    /// Cap on the rows of a shadow training set.
    pub max_shadow_rows: usize,
    /// Cross-validation folds over the shadow pairs (at most `shadows_per_label`).
    pub folds: usize,
    pub seed: u64,
}

impl Default for ShadowOptions {
    /// 10 targets, 10 shadows per label, shadow sets of at most 1,000 rows, 5 folds, seed 0.
    fn default() -> Self {
        ShadowOptions {
            targets: 10,
            shadows_per_label: 10,
            max_shadow_rows: 1_000,
            folds: 5,
            seed: 0,
        }
    }
}

/// Where a target record comes from: train records are members of the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetSource {
    Train,
    Holdout,
}

impl TargetSource {
    pub fn name(self) -> &'static str {
        match self {
            TargetSource::Train => "train",
            TargetSource::Holdout => "holdout",
        }
    }
}

/// The attack on one target.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowTarget {
    pub source: TargetSource,
    /// Row of the target in its source table.
    pub row: usize,
    /// Gower distance to the nearest other candidate record (how much of an outlier it is).
    pub isolation: f64,
    /// Cross-validated AUC of the classifier on shadow outputs.
    pub auc: f64,
    /// Cross-validated accuracy (threshold 0.5).
    pub accuracy: f64,
    /// Membership probability the classifier gives on the real release.
    pub release_score: f64,
}

impl ShadowTarget {
    /// Whether the classifier's verdict on the release (score > 0.5 = member) is right.
    pub fn release_correct(&self) -> bool {
        (self.release_score > 0.5) == (self.source == TargetSource::Train)
    }
}

/// Result of the shadow-model attack.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowAttack {
    pub targets: Vec<ShadowTarget>,
    /// Rows of each shadow training set.
    pub shadow_rows: usize,
    pub shadows_per_label: usize,
    pub folds: usize,
    /// Features per shadow output.
    pub features: usize,
    /// Synthesizer runs made.
    pub synthesizer_calls: usize,
    pub mean_auc: f64,
    pub mean_accuracy: f64,
    /// Share of targets whose membership in the release the classifier gets right.
    pub release_accuracy: f64,
    pub seed: u64,
    /// Wall-clock seconds of the run. This crate reads no clock: `None` unless the caller, who
    /// timed the call, sets it.
    pub seconds: Option<f64>,
}

impl ShadowAttack {
    /// JSON with the field names of this struct as keys; `targets` as an array of objects with
    /// keys `source` (`"train"`/`"holdout"`), `row`, `isolation`, `auc`, `accuracy`,
    /// `release_score`, `release_correct`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "targets": self.targets.iter().map(|t| serde_json::json!({
                "source": t.source.name(),
                "row": t.row,
                "isolation": t.isolation,
                "auc": t.auc,
                "accuracy": t.accuracy,
                "release_score": t.release_score,
                "release_correct": t.release_correct(),
            })).collect::<Vec<_>>(),
            "shadow_rows": self.shadow_rows,
            "shadows_per_label": self.shadows_per_label,
            "folds": self.folds,
            "features": self.features,
            "synthesizer_calls": self.synthesizer_calls,
            "mean_auc": self.mean_auc,
            "mean_accuracy": self.mean_accuracy,
            "release_accuracy": self.release_accuracy,
            "seed": self.seed,
            "seconds": self.seconds,
        })
    }
}

/// Runs the shadow-model attack against `aligned.synthetic` (trained on `aligned.real`), with
/// the holdout (required) as the attacker's reference data and `synthesizer(training, seed)`
/// as the attacker's copy of the synthesizer. Its output must have the aligned columns.
pub fn shadow_attack(aligned: &Aligned, synthesizer: &Synthesizer, options: &ShadowOptions) -> Result<ShadowAttack> {
    let holdout = holdout(aligned, "the shadow-model attack")?;
    if options.targets < 2 || options.shadows_per_label < 2 || options.folds < 2 {
        return Err(Error::Input(format!(
            "the shadow-model attack needs at least 2 targets, 2 shadows per label and 2 folds, got {}, {} and {}",
            options.targets, options.shadows_per_label, options.folds
        )));
    }
    let from_train = options.targets.div_ceil(2);
    let from_holdout = options.targets - from_train;
    require_rows(&aligned.real, from_train.max(2), "training table")?;
    require_rows(&aligned.synthetic, 1, "synthetic table")?;
    require_rows(holdout, from_holdout + 2, "holdout")?;
    let space = GowerSpace::all(&aligned.dictionary)?;
    let mut rng = rng_for(options.seed, 4);

    // Targets: the most isolated records of a candidate pool drawn from train and holdout.
    let train_candidates = sample_indices(aligned.real.n_rows(), CANDIDATES_PER_SOURCE, &mut rng);
    let holdout_candidates = sample_indices(holdout.n_rows(), CANDIDATES_PER_SOURCE, &mut rng);
    let mut pool = subset(&aligned.real, &train_candidates)?;
    pool.append(&subset(holdout, &holdout_candidates)?)
        .map_err(|e| Error::Input(format!("pooling candidates: {e}")))?;
    let pool_points = space.encode(&pool)?;
    let isolation = space.neighbours(&pool_points, &pool_points, 1, true).nearest();
    let most_isolated = |range: std::ops::Range<usize>, n: usize| {
        let mut order: Vec<usize> = range.collect();
        order.sort_by(|&a, &b| isolation[b].total_cmp(&isolation[a]).then(a.cmp(&b)));
        order.truncate(n);
        order
    };
    let n_train_pool = train_candidates.len();
    let mut targets: Vec<(TargetSource, usize, usize)> = Vec::new(); // (source, row, pool index)
    for p in most_isolated(0..n_train_pool, from_train) {
        targets.push((TargetSource::Train, train_candidates[p], p));
    }
    for p in most_isolated(n_train_pool..pool.n_rows(), from_holdout) {
        targets.push((TargetSource::Holdout, holdout_candidates[p - n_train_pool], p));
    }

    // The attacker's reference: the holdout without the holdout targets.
    let reference: Vec<usize> = (0..holdout.n_rows())
        .filter(|r| !targets.iter().any(|t| t.0 == TargetSource::Holdout && t.1 == *r))
        .collect();
    let shadow_rows = aligned.real.n_rows().min(reference.len()).min(options.max_shadow_rows);
    if shadow_rows < 2 {
        return Err(Error::Input(format!(
            "shadow training sets would have {shadow_rows} rows, at least 2 are needed"
        )));
    }
    let folds = options.folds.min(options.shadows_per_label);
    // Half a record's weight in a share: the smallest feature scale the classifier amplifies.
    let min_scale = 0.5 / shadow_rows as f64;
    let release = space.encode(&aligned.synthetic)?;
    let numeric: Vec<usize> = (0..space.n_columns())
        .filter(|&j| space.is_numeric(j))
        .take(MAX_CORRELATED_COLUMNS)
        .collect();
    let features = |points: &Points, target: &[f64]| features(&space, &numeric, points, target);

    let mut results = Vec::with_capacity(targets.len());
    let mut synthesizer_calls = 0;
    let mut n_features = 0;
    for &(source, row, p) in &targets {
        let target_values = pool.row(p);
        let target_point = pool_points.row(p);
        let mut x = Vec::with_capacity(2 * options.shadows_per_label);
        let mut y = Vec::with_capacity(2 * options.shadows_per_label);
        for _ in 0..options.shadows_per_label {
            let drawn = rand::seq::index::sample(&mut rng, reference.len(), shadow_rows).into_vec();
            let rows: Vec<usize> = drawn.iter().map(|&i| reference[i]).collect();
            let (base, extra) = rows.split_at(shadow_rows - 1);
            let mut with_target = subset(holdout, base)?;
            with_target
                .push_row(target_values.clone())
                .map_err(|e| Error::Input(format!("adding the target to a shadow set: {e}")))?;
            let without_target = subset(holdout, &[base, extra].concat())?;
            for (training, label) in [(with_target, 1), (without_target, 0)] {
                let output = synthesizer(&training, rng.random::<u64>());
                synthesizer_calls += 1;
                let output = output
                    .project(aligned.dictionary.clone())
                    .map_err(|e| Error::Input(format!("the shadow synthesizer's output does not fit: {e}")))?;
                require_rows(&output, 1, "shadow synthesizer's output")?;
                x.push(features(&space.encode(&output)?, target_point));
                y.push(label);
            }
        }
        n_features = x[0].len();
        // Cross-validation: pair s (its "in" and "out" outputs) goes to fold s % folds.
        let mut oof = vec![0.0; x.len()];
        for fold in 0..folds {
            let held = |i: usize| (i / 2) % folds == fold;
            let train_idx: Vec<usize> = (0..x.len()).filter(|&i| !held(i)).collect();
            let test_idx: Vec<usize> = (0..x.len()).filter(|&i| held(i)).collect();
            let rows: Vec<&Vec<f64>> = train_idx.iter().map(|&i| &x[i]).collect();
            let model = Classifier::fit(&rows, &pick(&y, &train_idx), min_scale)?;
            for &i in &test_idx {
                oof[i] = model.logit(&x[i]);
            }
        }
        let positives: Vec<f64> = (0..x.len()).filter(|&i| y[i] == 1).map(|i| oof[i]).collect();
        let negatives: Vec<f64> = (0..x.len()).filter(|&i| y[i] == 0).map(|i| oof[i]).collect();
        let model = Classifier::fit(&x.iter().collect::<Vec<_>>(), &y, min_scale)?;
        results.push(ShadowTarget {
            source,
            row,
            isolation: isolation[p],
            auc: auc(&positives, &negatives)?,
            accuracy: share((0..x.len()).map(|i| f64::from(u8::from((oof[i] > 0.0) == (y[i] == 1))))),
            release_score: 1.0 / (1.0 + (-model.logit(&features(&release, target_point))).exp()),
        });
    }
    Ok(ShadowAttack {
        mean_auc: share(results.iter().map(|t| t.auc)),
        mean_accuracy: share(results.iter().map(|t| t.accuracy)),
        release_accuracy: share(results.iter().map(|t| f64::from(u8::from(t.release_correct())))),
        targets: results,
        shadow_rows,
        shadows_per_label: options.shadows_per_label,
        folds,
        features: n_features,
        synthesizer_calls,
        seed: options.seed,
        seconds: None,
    })
}

fn pick(y: &[i32], idx: &[usize]) -> Vec<i32> {
    idx.iter().map(|&i| y[i]).collect()
}

/// Features of one synthetic output for one target (see the module documentation).
fn features(space: &GowerSpace, numeric: &[usize], points: &Points, target: &[f64]) -> Vec<f64> {
    let n = points.n_rows() as f64;
    let mut out = Vec::new();
    for j in 0..space.n_columns() {
        let column = (0..points.n_rows()).map(|i| points.row(i)[j]);
        let missing = column.clone().filter(|v| v.is_nan()).count() as f64;
        if space.is_numeric(j) {
            let present: Vec<f64> = column.filter(|v| !v.is_nan()).collect();
            let (mean, sd) = mean_sd(&present);
            // Scaled by the public range so every column weighs alike.
            let scale = if space.range(j) > 0.0 { space.range(j) } else { 1.0 };
            out.extend([mean / scale, sd / scale, missing / n]);
        } else {
            let mut counts = vec![0.0; space.levels(j)];
            for v in column.filter(|v| !v.is_nan()) {
                if let Some(c) = counts.get_mut(v as usize) {
                    *c += 1.0;
                }
            }
            out.extend(counts.iter().map(|c| c / n));
            out.push(missing / n);
        }
    }
    for (a, &ja) in numeric.iter().enumerate() {
        for &jb in &numeric[a + 1..] {
            out.push(correlation(points, ja, jb));
        }
    }
    let mut distances: Vec<f64> = (0..points.n_rows())
        .map(|i| space.distance(target, points.row(i)))
        .collect();
    let near = share(distances.iter().map(|&d| f64::from(u8::from(d <= NEAR_RADIUS))));
    let k = distances.len().min(5);
    distances.select_nth_unstable_by(k - 1, f64::total_cmp);
    distances[..k].sort_by(f64::total_cmp);
    out.extend([distances[0], distances[..k].iter().sum::<f64>() / k as f64, near]);
    out
}

/// Mean and standard deviation (0, 0 when empty).
fn mean_sd(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Pearson correlation of two columns over rows where both are present (0 when undefined).
fn correlation(points: &Points, a: usize, b: usize) -> f64 {
    let pairs: Vec<(f64, f64)> = (0..points.n_rows())
        .map(|i| (points.row(i)[a], points.row(i)[b]))
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .collect();
    if pairs.len() < 2 {
        return 0.0;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Standardisation plus logistic regression; scores are P("in").
struct Classifier {
    mean: Vec<f64>,
    scale: Vec<f64>,
    coefficients: Vec<f64>,
    intercept: f64,
}

impl Classifier {
    /// Fits on feature rows `x` with labels `y` (1 = "in"). A feature's scale is its standard
    /// deviation but at least `min_scale`, so that variation below what one record can cause
    /// is not blown up into large standardised values.
    fn fit(x: &[&Vec<f64>], y: &[i32], min_scale: f64) -> Result<Classifier> {
        let p = x.first().map_or(0, |r| r.len());
        let n = x.len() as f64;
        let mean: Vec<f64> = (0..p).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let scale: Vec<f64> = (0..p)
            .map(|j| {
                let sd = (x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt();
                if sd.is_finite() { sd.max(min_scale) } else { 1.0 }
            })
            .collect();
        let rows: Vec<Vec<f64>> = x.iter().map(|r| standardise(r, &mean, &scale)).collect();
        let failed = |e: smartcore::error::Failed| Error::Input(format!("the attack classifier failed: {e}"));
        let matrix = DenseMatrix::from_2d_vec(&rows).map_err(failed)?;
        let labels = y.to_vec();
        let model: LogisticRegression<f64, i32, DenseMatrix<f64>, Vec<i32>> = LogisticRegression::fit(
            &matrix,
            &labels,
            LogisticRegressionParameters::default().with_alpha(CLASSIFIER_ALPHA),
        )
        .map_err(failed)?;
        if model.classes() != &[0, 1] {
            return Err(Error::Input(
                "the attack classifier needs both labels in its training data".into(),
            ));
        }
        Ok(Classifier {
            coefficients: (0..p).map(|j| *model.coefficients().get((0, j))).collect(),
            intercept: *model.intercept().get((0, 0)),
            mean,
            scale,
        })
    }

    /// Log-odds of "in" (used for ROC: probabilities saturate to exact 0 and 1 and tie).
    fn logit(&self, x: &[f64]) -> f64 {
        let z = standardise(x, &self.mean, &self.scale);
        self.intercept + z.iter().zip(&self.coefficients).map(|(a, b)| a * b).sum::<f64>()
    }
}

fn standardise(x: &[f64], mean: &[f64], scale: &[f64]) -> Vec<f64> {
    x.iter().zip(mean).zip(scale).map(|((v, m), s)| (v - m) / s).collect()
}
