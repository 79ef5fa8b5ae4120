//! Per-column fidelity: KS complement, TV complement and binned distributions.

use super::{Skip, numeric_values, total_variation};
use crate::Result;
use crate::align::Aligned;
use table::ColumnData;
use table::encode::{Attribute, Encoded, Mapping};

/// The per-column metric used for a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnMetric {
    /// 1 − the two-sample Kolmogorov–Smirnov statistic on the non-missing values of an
    /// integer, real or date column (dates as day numbers). Range [0, 1], higher is better.
    KsComplement,
    /// 1 − the total variation distance between the category shares of a categorical or
    /// boolean column, missing counted as its own category. Range [0, 1], higher is better.
    TvComplement,
}

impl ColumnScore {
    /// |synthetic_missing − real_missing|, in [0, 1], lower is better.
    pub fn missing_difference(&self) -> f64 {
        (self.synthetic_missing - self.real_missing).abs()
    }
}

impl ColumnMetric {
    /// The metric's stable name in JSON: `"ks_complement"` or `"tv_complement"`.
    pub fn name(self) -> &'static str {
        match self {
            ColumnMetric::KsComplement => "ks_complement",
            ColumnMetric::TvComplement => "tv_complement",
        }
    }
}

/// The score of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnScore {
    pub column: String,
    pub metric: ColumnMetric,
    /// The metric's value, in [0, 1], higher is better.
    pub score: f64,
    /// Share of missing values in the real column, in [0, 1].
    pub real_missing: f64,
    /// Share of missing values in the synthetic column, in [0, 1]. For KS-scored columns the
    /// difference from `real_missing` is not part of the score, so look at both.
    pub synthetic_missing: f64,
}

/// One bin of a column's distribution: its label and the share of rows in it.
#[derive(Debug, Clone, PartialEq)]
pub struct BinShare {
    /// The level, `"false"`/`"true"`, the bin (`"18"`, `"18–24"`, `"[0, 12.5)"`, dates as
    /// `YYYY-MM-DD`), or `"missing"`.
    pub label: String,
    /// Share of real rows in the bin, in [0, 1].
    pub real: f64,
    /// Share of synthetic rows in the bin, in [0, 1].
    pub synthetic: f64,
}

/// Real and synthetic shares of one column on the public encoding's bins, in code order (the
/// missing bin last), for overlaid bar charts.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDistribution {
    pub column: String,
    pub bins: Vec<BinShare>,
}

/// Scores and distributions of every column of `aligned` (all are encoded attributes: align
/// keeps modelled columns only).
pub(super) fn scores(
    aligned: &Aligned,
    real: &Encoded,
    synthetic: &Encoded,
    skipped: &mut Vec<Skip>,
) -> Result<(Vec<ColumnScore>, Vec<ColumnDistribution>)> {
    let mut scores = Vec::new();
    let mut distributions = Vec::new();
    for (index, attribute) in real.domain().attributes().iter().enumerate() {
        let name = attribute.name().to_string();
        let r = real.marginal(&[index])?.counts;
        let s = synthetic.marginal(&[index])?.counts;
        distributions.push(ColumnDistribution {
            column: name.clone(),
            bins: bin_shares(attribute, &r, &s),
        });
        let column = attribute.column_index();
        let (rc, sc) = (aligned.real.column(column), aligned.synthetic.column(column));
        let (real_missing, synthetic_missing) = (missing_share(rc), missing_share(sc));
        let scored = match (numeric_values(rc), numeric_values(sc)) {
            (Some(rv), Some(sv)) => {
                let rv: Vec<f64> = rv.into_iter().flatten().collect();
                let sv: Vec<f64> = sv.into_iter().flatten().collect();
                if rv.is_empty() || sv.is_empty() {
                    let which = if rv.is_empty() { "real" } else { "synthetic" };
                    Err(format!("ks_complement: every {which} value is missing"))
                } else {
                    Ok((ColumnMetric::KsComplement, 1.0 - ks_statistic(rv, sv)))
                }
            }
            _ => total_variation(&r, &s)
                .map(|tv| (ColumnMetric::TvComplement, 1.0 - tv))
                .ok_or_else(|| "tv_complement: a table has no rows".to_string()),
        };
        match scored {
            Ok((metric, score)) => scores.push(ColumnScore {
                column: name,
                metric,
                score,
                real_missing,
                synthetic_missing,
            }),
            Err(reason) => skipped.push(Skip { what: name, reason }),
        }
    }
    Ok((scores, distributions))
}

fn missing_share(column: &ColumnData) -> f64 {
    let n = column.len();
    if n == 0 {
        return 0.0;
    }
    let missing = match column {
        ColumnData::Bool(v) => v.iter().filter(|x| x.is_none()).count(),
        ColumnData::Int(v) => v.iter().filter(|x| x.is_none()).count(),
        ColumnData::Real(v) => v.iter().filter(|x| x.is_none()).count(),
        ColumnData::Date(v) => v.iter().filter(|x| x.is_none()).count(),
        ColumnData::Category(v) => v.iter().filter(|x| x.is_none()).count(),
        ColumnData::Text(v) => v.iter().filter(|x| x.is_none()).count(),
    };
    missing as f64 / n as f64
}

/// The two-sample Kolmogorov–Smirnov statistic sup |F_a − F_b| of the empirical distribution
/// functions (as scipy's `ks_2samp` statistic). Both samples must be non-empty.
pub(crate) fn ks_statistic(mut a: Vec<f64>, mut b: Vec<f64>) -> f64 {
    a.sort_unstable_by(f64::total_cmp);
    b.sort_unstable_by(f64::total_cmp);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

fn bin_shares(attribute: &Attribute, real: &[u64], synthetic: &[u64]) -> Vec<BinShare> {
    let (tr, ts) = (
        real.iter().sum::<u64>().max(1) as f64,
        synthetic.iter().sum::<u64>().max(1) as f64,
    );
    (0..attribute.size())
        .map(|code| BinShare {
            label: bin_label(attribute, code),
            real: real.get(code).map_or(0.0, |&c| c as f64 / tr),
            synthetic: synthetic.get(code).map_or(0.0, |&c| c as f64 / ts),
        })
        .collect()
}

/// A human-readable label of one code of `attribute`.
pub(crate) fn bin_label(attribute: &Attribute, code: usize) -> String {
    if attribute.missing_code() == Some(code) {
        return "missing".into();
    }
    let range = |lo: String, hi: String| if lo == hi { lo } else { format!("{lo}–{hi}") };
    let label = match attribute.mapping() {
        Mapping::Categorical { levels } => levels.get(code).cloned(),
        Mapping::Boolean => Some(if code == 0 { "false" } else { "true" }.to_string()),
        Mapping::Integer(bins) => bins
            .bin(code)
            .map(|b| range(b.start().to_string(), b.end().to_string())),
        Mapping::Date(bins) => bins.bin(code).map(|b| {
            let day = |d: i64| {
                i32::try_from(d).map_or_else(|_| d.to_string(), |d| table::Date::from_days(d).format("%Y-%m-%d"))
            };
            range(day(*b.start()), day(*b.end()))
        }),
        Mapping::Real(bins) => bins.bin(code).map(|(lo, hi)| {
            let close = if code + 1 == bins.len() { ']' } else { ')' };
            format!("[{lo}, {hi}{close}")
        }),
    };
    label.unwrap_or_else(|| format!("code {code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sup |F_a − F_b| evaluated at every sample point.
    fn brute_force(a: &[f64], b: &[f64]) -> f64 {
        let cdf = |s: &[f64], x: f64| s.iter().filter(|&&v| v <= x).count() as f64 / s.len() as f64;
        a.iter()
            .chain(b)
            .map(|&x| (cdf(a, x) - cdf(b, x)).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn ks_statistic_is_the_largest_cdf_gap() {
        assert_eq!(ks_statistic(vec![1.0, 2.0], vec![1.0, 2.0]), 0.0);
        assert_eq!(ks_statistic(vec![1.0, 2.0], vec![3.0, 4.0]), 1.0);
        let a = vec![3.0, 1.0, 1.0, 2.0, 5.0, 5.0, 5.0, 0.5];
        let b = vec![1.0, 5.0, 4.0, 4.0, 2.0];
        assert!((ks_statistic(a.clone(), b.clone()) - brute_force(&a, &b)).abs() < 1e-15);
        // Deterministic pseudo-random samples with ties.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut x: u64 = 12345;
        for i in 0..200 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let v = ((x >> 33) % 17) as f64;
            if i % 3 == 0 { b.push(v + 1.0) } else { a.push(v) }
        }
        assert!((ks_statistic(a.clone(), b.clone()) - brute_force(&a, &b)).abs() < 1e-15);
    }
}
