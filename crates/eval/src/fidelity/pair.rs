//! Per-pair fidelity: correlation similarity for numeric pairs, contingency similarity for the
//! others (SDMetrics' ColumnPairTrends).

use super::{Skip, numeric_values, total_variation};
use crate::Result;
use crate::align::Aligned;
use table::encode::Encoded;

/// The metric used for a pair of columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairMetric {
    /// 1 − |ρ_real − ρ_synthetic| / 2 with Pearson's ρ on the rows where both columns are
    /// present; both columns integer, real or date. Range [0, 1], higher is better.
    CorrelationSimilarity,
    /// 1 − the total variation distance between the real and synthetic 2-way contingency
    /// tables on the public encoding (numeric columns binned, missing its own code); every
    /// pair with a categorical or boolean column. Range [0, 1], higher is better.
    ContingencySimilarity,
}

impl PairMetric {
    /// The metric's stable name in JSON: `"correlation_similarity"` or
    /// `"contingency_similarity"`.
    pub fn name(self) -> &'static str {
        match self {
            PairMetric::CorrelationSimilarity => "correlation_similarity",
            PairMetric::ContingencySimilarity => "contingency_similarity",
        }
    }
}

/// The score of one pair of columns (`a` before `b` in column order).
#[derive(Debug, Clone, PartialEq)]
pub struct PairScore {
    pub a: String,
    pub b: String,
    pub metric: PairMetric,
    /// The similarity in [0, 1], higher is better; `None` when not computable (see `skipped`).
    pub score: Option<f64>,
    /// Pearson's ρ in the real data (correlation pairs whose real ρ is defined).
    pub real_correlation: Option<f64>,
    /// Pearson's ρ in the synthetic data (correlation pairs whose synthetic ρ is defined).
    pub synthetic_correlation: Option<f64>,
    /// Why `score` is `None`.
    pub skipped: Option<String>,
}

/// Every pair of columns, for a heat map.
#[derive(Debug, Clone, PartialEq)]
pub struct PairScores {
    /// The columns, in order (the rows and columns of [`PairScores::matrix`]).
    pub columns: Vec<String>,
    /// One entry per unordered pair `i < j`, in row-major order of the upper triangle.
    pub pairs: Vec<PairScore>,
}

impl PairScores {
    /// The symmetric matrix of scores (`columns.len()` × `columns.len()`), `None` on the
    /// diagonal and where a score is not computable.
    pub fn matrix(&self) -> Vec<Vec<Option<f64>>> {
        let n = self.columns.len();
        let mut m = vec![vec![None; n]; n];
        for p in &self.pairs {
            let i = self.columns.iter().position(|c| *c == p.a);
            let j = self.columns.iter().position(|c| *c == p.b);
            if let (Some(i), Some(j)) = (i, j) {
                m[i][j] = p.score;
                m[j][i] = p.score;
            }
        }
        m
    }
}

pub(super) fn scores(
    aligned: &Aligned,
    real: &Encoded,
    synthetic: &Encoded,
    skipped: &mut Vec<Skip>,
) -> Result<PairScores> {
    let attributes = real.domain().attributes();
    let numeric: Vec<Option<RealAndSynthetic>> = attributes
        .iter()
        .map(|a| {
            let c = a.column_index();
            numeric_values(aligned.real.column(c)).zip(numeric_values(aligned.synthetic.column(c)))
        })
        .collect();
    let mut pairs = Vec::new();
    for i in 0..attributes.len() {
        for j in i + 1..attributes.len() {
            let (a, b) = (attributes[i].name().to_string(), attributes[j].name().to_string());
            let pair = match (&numeric[i], &numeric[j]) {
                (Some((ra, sa)), Some((rb, sb))) => correlation_pair(a, b, (ra, rb), (sa, sb)),
                _ => {
                    let r = real.marginal(&[i, j])?.counts;
                    let s = synthetic.marginal(&[i, j])?.counts;
                    let tv = total_variation(&r, &s);
                    PairScore {
                        a,
                        b,
                        metric: PairMetric::ContingencySimilarity,
                        score: tv.map(|tv| 1.0 - tv),
                        real_correlation: None,
                        synthetic_correlation: None,
                        skipped: tv.is_none().then(|| "a table has no rows".to_string()),
                    }
                }
            };
            if let Some(reason) = &pair.skipped {
                skipped.push(Skip {
                    what: format!("{}|{}", pair.a, pair.b),
                    reason: format!("{}: {reason}", pair.metric.name()),
                });
            }
            pairs.push(pair);
        }
    }
    Ok(PairScores {
        columns: attributes.iter().map(|a| a.name().to_string()).collect(),
        pairs,
    })
}

/// The numeric values of one column in the real and in the synthetic table.
type RealAndSynthetic = (Vec<Option<f64>>, Vec<Option<f64>>);

type Columns<'a> = (&'a [Option<f64>], &'a [Option<f64>]);

fn correlation_pair(a: String, b: String, real: Columns<'_>, synthetic: Columns<'_>) -> PairScore {
    let r = pearson(real.0, real.1);
    let s = pearson(synthetic.0, synthetic.1);
    let (score, skipped) = match (&r, &s) {
        (Ok(r), Ok(s)) => (Some(1.0 - (r - s).abs() / 2.0), None),
        (Err(e), _) => (None, Some(format!("real data: {e}"))),
        (_, Err(e)) => (None, Some(format!("synthetic data: {e}"))),
    };
    PairScore {
        a,
        b,
        metric: PairMetric::CorrelationSimilarity,
        score,
        real_correlation: r.ok(),
        synthetic_correlation: s.ok(),
        skipped,
    }
}

/// Pearson's correlation on the rows where both values are present, or why it is undefined.
pub(crate) fn pearson(x: &[Option<f64>], y: &[Option<f64>]) -> Result<f64, String> {
    let both = || x.iter().zip(y).filter_map(|(a, b)| a.zip(*b));
    let (mut n, mut sx, mut sy) = (0usize, 0.0, 0.0);
    for (a, b) in both() {
        n += 1;
        sx += a;
        sy += b;
    }
    if n < 2 {
        return Err(format!("{n} rows with both values present, at least 2 needed"));
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in both() {
        let (dx, dy) = (a - mx, b - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err("a column is constant, so the correlation is undefined".into());
    }
    Ok((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}
