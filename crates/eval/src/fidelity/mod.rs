//! Fidelity of synthetic data: how close its distributions are to the real data's.
//!
//! Every metric is a pure function of two aligned tables (see [`crate::align`]) and states its
//! range and direction:
//!
//! | metric | what | range | better |
//! |---|---|---|---|
//! | [`ColumnMetric::KsComplement`] | 1 − Kolmogorov–Smirnov statistic, numeric and date columns, non-missing values | [0, 1] | higher |
//! | [`ColumnMetric::TvComplement`] | 1 − total variation distance, categorical and boolean columns, missing as its own category | [0, 1] | higher |
//! | [`PairMetric::CorrelationSimilarity`] | 1 − \|ρ_real − ρ_synthetic\| / 2, Pearson, numeric/date pairs, rows where both are present | [0, 1] | higher |
//! | [`PairMetric::ContingencySimilarity`] | 1 − total variation of the 2-way table on the public encoding, other pairs | [0, 1] | higher |
//! | [`KWayMarginals::mean_tvd`] | mean total variation distance over k-way marginals on the public encoding | [0, 1] | lower |
//! | [`KWayMarginals::k_marginal_score`] | 1000 · (1 − mean TVD) (SDNist's k-marginal score) | [0, 1000] | higher |
//! | [`Detection::pmse`] | mean squared error of out-of-fold propensities against ½ | [0, 0.25] | lower |
//! | [`Detection::detection_score`] | mean over folds of 1 − (2·max(AUC, ½) − 1) (SDMetrics' LogisticDetection) | [0, 1] | higher |
//!
//! The column and pair metrics follow SDMetrics' KSComplement, TVComplement,
//! CorrelationSimilarity and ContingencySimilarity (checked against SDMetrics on committed
//! fixtures, see `crates/eval/golden/fidelity/`). Definitions, JSON keys and the known
//! differences from SDMetrics are in `docs/evaluation-fidelity.md`.

mod column;
mod detection;
mod json;
mod marginals;
mod pair;

pub use column::{BinShare, ColumnDistribution, ColumnMetric, ColumnScore};
pub use detection::Detection;
pub use marginals::KWayMarginals;
pub use pair::{PairMetric, PairScore, PairScores};

use crate::align::Aligned;
use crate::{Error, Result};
use table::encode::{Domain, EncodeOptions, Encoded};
use table::{ColumnData, Table};

/// What [`fidelity`] computes and how. Not a privacy parameter: evaluation runs on the real
/// data in the clear, inside the hospital.
#[derive(Debug, Clone, PartialEq)]
pub struct FidelityOptions {
    /// How numeric and date columns are binned for the distributions, the contingency tables
    /// and the k-way marginals (the public encoding).
    pub encode: EncodeOptions,
    /// The largest k for k-way marginals (1 to `max_k`).
    pub max_k: usize,
    /// At most this many k-column subsets per k; when there are more, this many distinct
    /// subsets are drawn with `seed`.
    pub max_subsets_per_k: usize,
    /// Seed of every random choice (marginal subsets, detection sample and folds).
    pub seed: u64,
    /// Whether to train the real-versus-synthetic classifier ([`Detection`]).
    pub detection: bool,
    /// At most this many rows of each table enter the detection classifier (drawn with `seed`;
    /// both tables contribute the same number of rows).
    pub detection_rows: usize,
    /// Number of cross-validation folds of the detection classifier (at least 2).
    pub detection_folds: usize,
}

impl Default for FidelityOptions {
    /// Default encoding, k up to 3, at most 1000 subsets per k, seed 0, detection on 5000 rows
    /// per table with 3 folds (as SDMetrics' LogisticDetection).
    fn default() -> Self {
        FidelityOptions {
            encode: EncodeOptions::default(),
            max_k: 3,
            max_subsets_per_k: 1000,
            seed: 0,
            detection: true,
            detection_rows: 5000,
            detection_folds: 3,
        }
    }
}

/// Something that was not computed, and why (never a NaN in a result).
#[derive(Debug, Clone, PartialEq)]
pub struct Skip {
    /// What was skipped: a column name, `"a|b"` for a pair, or a metric name.
    pub what: String,
    /// Why, in words.
    pub reason: String,
}

/// All fidelity results of one real/synthetic comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Fidelity {
    /// Rows of the real table.
    pub real_rows: usize,
    /// Rows of the synthetic table.
    pub synthetic_rows: usize,
    /// One score per column that has one (see [`Fidelity::skipped`] for the others).
    pub columns: Vec<ColumnScore>,
    /// Real and synthetic shares of every column on the encoding's bins (for overlaid plots).
    pub distributions: Vec<ColumnDistribution>,
    /// Column-pair scores, usable as a heat map.
    pub pairs: PairScores,
    /// Mean TVD over k-way marginals, for k = 1..=max_k (fewer when there are fewer columns).
    pub marginals: Vec<KWayMarginals>,
    /// The real-versus-synthetic classifier, when asked for and computable.
    pub detection: Option<Detection>,
    /// Columns, pairs and metrics not computed, with the reason.
    pub skipped: Vec<Skip>,
}

impl Fidelity {
    /// The mean column score (KS and TV complements together), SDMetrics' "Column Shapes"
    /// score; `None` when no column has a score. Range [0, 1], higher is better.
    pub fn column_shapes(&self) -> Option<f64> {
        mean(self.columns.iter().map(|c| c.score))
    }

    /// The mean pair score (correlation and contingency similarities together), SDMetrics'
    /// "Column Pair Trends" score; `None` when no pair has a score. Range [0, 1], higher is
    /// better.
    pub fn column_pair_trends(&self) -> Option<f64> {
        mean(self.pairs.pairs.iter().filter_map(|p| p.score))
    }
}

/// Compares the synthetic table of `aligned` with its real table.
///
/// Errors when either table has no row, or when a table does not fit the public encoding (a
/// value outside the dictionary's bounds, or an encoding option that cannot be used).
pub fn fidelity(aligned: &Aligned, options: &FidelityOptions) -> Result<Fidelity> {
    check_not_empty(aligned)?;
    if options.max_subsets_per_k == 0 {
        return Err(Error::Input(
            "FidelityOptions::max_subsets_per_k must be at least 1".into(),
        ));
    }
    let domain = Domain::from_dictionary(&aligned.dictionary, &options.encode)?;
    let real = encode(&domain, &aligned.real, "real")?;
    let synthetic = encode(&domain, &aligned.synthetic, "synthetic")?;
    let mut skipped = Vec::new();
    let (columns, distributions) = column::scores(aligned, &real, &synthetic, &mut skipped)?;
    let pairs = pair::scores(aligned, &real, &synthetic, &mut skipped)?;
    let marginals = marginals::all(&real, &synthetic, options, &mut skipped)?;
    let detection = if options.detection {
        match detection::detect(aligned, options) {
            Ok(d) => Some(d),
            Err(reason) => {
                skipped.push(Skip {
                    what: "detection".into(),
                    reason,
                });
                None
            }
        }
    } else {
        None
    };
    Ok(Fidelity {
        real_rows: aligned.real.n_rows(),
        synthetic_rows: aligned.synthetic.n_rows(),
        columns,
        distributions,
        pairs,
        marginals,
        detection,
        skipped,
    })
}

pub(crate) fn check_not_empty(aligned: &Aligned) -> Result<()> {
    if aligned.real.n_rows() == 0 {
        return Err(Error::Input("the real table has no rows".into()));
    }
    if aligned.synthetic.n_rows() == 0 {
        return Err(Error::Input("the synthetic table has no rows".into()));
    }
    Ok(())
}

fn encode(domain: &Domain, table: &Table, what: &str) -> Result<Encoded> {
    domain
        .encode(table)
        .map_err(|e| Error::Input(format!("the {what} table does not fit the public encoding: {e}")))
}

/// The values of an integer, real or date column as numbers (dates as day numbers), `None`
/// for a categorical, boolean or text column.
pub(crate) fn numeric_values(column: &ColumnData) -> Option<Vec<Option<f64>>> {
    match column {
        ColumnData::Int(v) => Some(v.iter().map(|x| x.map(|x| x as f64)).collect()),
        ColumnData::Real(v) => Some(v.clone()),
        ColumnData::Date(v) => Some(v.iter().map(|d| d.map(|d| f64::from(d.days()))).collect()),
        ColumnData::Bool(_) | ColumnData::Category(_) | ColumnData::Text(_) => None,
    }
}

/// Total variation distance ½ Σ |p − q| between two count vectors of the same cells, each
/// normalised by its own total; `None` when a total is zero.
pub(crate) fn total_variation(p: &[u64], q: &[u64]) -> Option<f64> {
    let (tp, tq) = (p.iter().sum::<u64>() as f64, q.iter().sum::<u64>() as f64);
    if tp == 0.0 || tq == 0.0 {
        return None;
    }
    let l1: f64 = p
        .iter()
        .zip(q)
        .map(|(&a, &b)| (a as f64 / tp - b as f64 / tq).abs())
        .sum();
    Some(0.5 * l1)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}
