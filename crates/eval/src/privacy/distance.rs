//! The Gower distance between records and the distance-based disclosure measures: distance to
//! the closest record (DCR), nearest-neighbour distance ratio (NNDR) and exact matches.
//!
//! Gower distance (Gower 1971) between two records over `p` compared columns is the mean of
//! per-column dissimilarities in [0, 1]:
//!
//! | column | dissimilarity |
//! |---|---|
//! | integer, real, date | `min(1, |x − y| / (max − min))` with the dictionary's public `min`/`max` (never data ranges) |
//! | categorical, boolean | 0 if equal, 1 otherwise |
//! | any, one value missing | 1 |
//! | any, both missing | 0 |
//!
//! A numeric or date column without both public bounds has no public scale and is left out of
//! the comparison (reported in `skipped_columns`).

use super::{PrivacyOptions, holdout, require_rows, rng_for, sample_indices, subset};
use crate::align::Aligned;
use crate::{Error, Result};
use table::{ColumnData, Dictionary, Kind, Table};

/// How one compared column contributes to the distance.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Metric {
    /// `|x − y|` times the inverse public range, capped at 1.
    Range { inverse_range: f64 },
    /// 0/1 mismatch on level codes.
    Match,
}

/// The compared columns of a dictionary with their Gower metric.
#[derive(Debug, Clone)]
pub struct GowerSpace {
    names: Vec<String>,
    table_columns: Vec<usize>,
    metrics: Vec<Metric>,
    /// Number of levels of a categorical/boolean column, 0 for numeric/date columns.
    levels: Vec<usize>,
    /// Public range (max − min) of numeric/date columns, 0 for the others.
    ranges: Vec<f64>,
    skipped: Vec<(String, String)>,
}

/// Records encoded for distance computations: row-major cells over the compared columns,
/// numbers as `f64`, level codes and booleans as small integers, dates as day numbers, missing
/// as NaN.
#[derive(Debug, Clone)]
pub struct Points {
    n_rows: usize,
    n_columns: usize,
    cells: Vec<f64>,
}

impl Points {
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The cells of row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.cells[i * self.n_columns..(i + 1) * self.n_columns]
    }
}

/// The `k` nearest reference rows of every query row, nearest first (ties: lower index first).
/// Missing neighbours (fewer than `k` reference rows) have distance `+∞`.
#[derive(Debug, Clone)]
pub struct Neighbours {
    k: usize,
    distances: Vec<f64>,
    indices: Vec<usize>,
}

impl Neighbours {
    /// Distances (Gower, in [0, 1]) of query `q`'s neighbours, nearest first.
    pub fn distances(&self, q: usize) -> &[f64] {
        &self.distances[q * self.k..(q + 1) * self.k]
    }

    /// Reference row indices of query `q`'s neighbours, nearest first.
    pub fn indices(&self, q: usize) -> &[usize] {
        &self.indices[q * self.k..(q + 1) * self.k]
    }

    /// Distance of each query to its nearest reference row (the DCR).
    pub fn nearest(&self) -> Vec<f64> {
        self.distances.chunks(self.k).map(|d| d[0]).collect()
    }
}

impl GowerSpace {
    /// The space of the dictionary's columns `columns` (indices into `dictionary.columns`).
    /// Identifier and text columns, and numeric/date columns without both public bounds, are
    /// skipped with a reason. Errors when nothing is left to compare.
    pub fn new(dictionary: &Dictionary, columns: &[usize]) -> Result<GowerSpace> {
        let mut space = GowerSpace {
            names: Vec::new(),
            table_columns: Vec::new(),
            metrics: Vec::new(),
            levels: Vec::new(),
            ranges: Vec::new(),
            skipped: Vec::new(),
        };
        for &i in columns {
            let Some(col) = dictionary.columns.get(i) else {
                return Err(Error::Input(format!("column index {i} is not in the dictionary")));
            };
            let range = match &col.kind {
                Kind::Integer {
                    min: Some(lo),
                    max: Some(hi),
                    ..
                } => Some(*hi as f64 - *lo as f64),
                Kind::Real {
                    min: Some(lo),
                    max: Some(hi),
                    ..
                } => Some(hi - lo),
                Kind::Date {
                    min: Some(lo),
                    max: Some(hi),
                    ..
                } => Some(f64::from(hi.days()) - f64::from(lo.days())),
                _ => None,
            };
            let (metric, levels, range) = match (&col.kind, range) {
                (Kind::Categorical { levels, .. }, _) => (Metric::Match, levels.len(), 0.0),
                (Kind::Boolean { .. }, _) => (Metric::Match, 2, 0.0),
                (Kind::Integer { .. } | Kind::Real { .. } | Kind::Date { .. }, Some(r)) => {
                    let inverse_range = if r > 0.0 { 1.0 / r } else { 0.0 };
                    (Metric::Range { inverse_range }, 0, r)
                }
                (Kind::Integer { .. } | Kind::Real { .. } | Kind::Date { .. }, None) => {
                    space.skipped.push((
                        col.name.clone(),
                        "no public min and max in the dictionary: no scale for the distance".into(),
                    ));
                    continue;
                }
                (Kind::Identifier | Kind::Text, _) => {
                    space
                        .skipped
                        .push((col.name.clone(), format!("{} column: not compared", col.kind.name())));
                    continue;
                }
            };
            space.names.push(col.name.clone());
            space.table_columns.push(i);
            space.metrics.push(metric);
            space.levels.push(levels);
            space.ranges.push(range);
        }
        if space.names.is_empty() {
            return Err(Error::Input("no column can be compared by distance".into()));
        }
        Ok(space)
    }

    /// The space of every column of the dictionary (see [`GowerSpace::new`]).
    pub fn all(dictionary: &Dictionary) -> Result<GowerSpace> {
        GowerSpace::new(dictionary, &(0..dictionary.columns.len()).collect::<Vec<_>>())
    }

    /// Names of the compared columns, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Columns left out, with the reason.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    /// Number of compared columns.
    pub fn n_columns(&self) -> usize {
        self.names.len()
    }

    /// Position of the compared column named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Whether compared column `j` is numeric or a date.
    pub fn is_numeric(&self, j: usize) -> bool {
        matches!(self.metrics[j], Metric::Range { .. })
    }

    /// Public range of compared column `j` (0 for categorical and boolean columns).
    pub fn range(&self, j: usize) -> f64 {
        self.ranges[j]
    }

    /// Number of levels of compared column `j` (0 for numeric and date columns).
    pub fn levels(&self, j: usize) -> usize {
        self.levels[j]
    }

    /// The sub-space of the compared columns at `positions` (e.g. the quasi-identifiers).
    pub fn select(&self, positions: &[usize]) -> GowerSpace {
        GowerSpace {
            names: positions.iter().map(|&j| self.names[j].clone()).collect(),
            table_columns: positions.iter().map(|&j| self.table_columns[j]).collect(),
            metrics: positions.iter().map(|&j| self.metrics[j]).collect(),
            levels: positions.iter().map(|&j| self.levels[j]).collect(),
            ranges: positions.iter().map(|&j| self.ranges[j]).collect(),
            skipped: Vec::new(),
        }
    }

    /// Encodes `table`, whose columns must be those of the dictionary this space was built on.
    pub fn encode(&self, table: &Table) -> Result<Points> {
        let dictionary = table.dictionary();
        for (name, &i) in self.names.iter().zip(&self.table_columns) {
            if dictionary.columns.get(i).map(|c| &c.name) != Some(name) {
                return Err(Error::Input(format!(
                    "column {name:?} is not at position {i} of the table: align the tables first"
                )));
            }
        }
        let n_rows = table.n_rows();
        let n_columns = self.names.len();
        let mut cells = vec![f64::NAN; n_rows * n_columns];
        for (j, &i) in self.table_columns.iter().enumerate() {
            let mut put = |r: usize, v: Option<f64>| {
                if let Some(v) = v {
                    cells[r * n_columns + j] = v;
                }
            };
            match table.column(i) {
                ColumnData::Bool(c) => c.iter().enumerate().for_each(|(r, v)| put(r, v.map(f64::from))),
                ColumnData::Int(c) => c.iter().enumerate().for_each(|(r, v)| put(r, v.map(|x| x as f64))),
                ColumnData::Real(c) => c.iter().enumerate().for_each(|(r, v)| put(r, *v)),
                ColumnData::Date(c) => c
                    .iter()
                    .enumerate()
                    .for_each(|(r, v)| put(r, v.map(|d| f64::from(d.days())))),
                ColumnData::Category(c) => c.iter().enumerate().for_each(|(r, v)| put(r, v.map(f64::from))),
                ColumnData::Text(_) => {
                    return Err(Error::Input(format!("column {:?} holds text", self.names[j])));
                }
            }
        }
        Ok(Points {
            n_rows,
            n_columns,
            cells,
        })
    }

    /// Gower distance between two encoded rows of this space.
    pub fn distance(&self, a: &[f64], b: &[f64]) -> f64 {
        self.partial_sum(a, b, f64::INFINITY) / self.metrics.len() as f64
    }

    /// Sum of per-column dissimilarities, stopping as soon as it exceeds `bound`.
    #[inline]
    fn partial_sum(&self, a: &[f64], b: &[f64], bound: f64) -> f64 {
        let mut sum = 0.0;
        for ((&x, &y), metric) in a.iter().zip(b).zip(&self.metrics) {
            sum += match (x.is_nan(), y.is_nan()) {
                (true, true) => 0.0,
                (true, false) | (false, true) => 1.0,
                (false, false) => match *metric {
                    Metric::Range { inverse_range } => ((x - y).abs() * inverse_range).min(1.0),
                    Metric::Match => f64::from(u8::from(x != y)),
                },
            };
            if sum > bound {
                return sum;
            }
        }
        sum
    }

    /// The `k` nearest rows of `reference` for every row of `query`, by brute force with early
    /// exit (a candidate is abandoned once its partial sum exceeds the current k-th best).
    /// With `exclude_same_index`, query row `i` never matches reference row `i` (use when query
    /// and reference are the same table).
    pub fn neighbours(&self, query: &Points, reference: &Points, k: usize, exclude_same_index: bool) -> Neighbours {
        let k = k.max(1);
        let p = self.metrics.len() as f64;
        let mut distances = vec![f64::INFINITY; query.n_rows * k];
        let mut indices = vec![usize::MAX; query.n_rows * k];
        for q in 0..query.n_rows {
            let a = query.row(q);
            let best = &mut distances[q * k..(q + 1) * k];
            let best_index = &mut indices[q * k..(q + 1) * k];
            for r in 0..reference.n_rows {
                if exclude_same_index && r == q {
                    continue;
                }
                let bound = best[k - 1];
                if bound == 0.0 {
                    break; // k exact matches: nothing can be nearer.
                }
                let sum = self.partial_sum(a, reference.row(r), bound);
                if sum < bound {
                    // Insert keeping the list sorted; equal sums keep the earlier index first.
                    let mut pos = k - 1;
                    while pos > 0 && best[pos - 1] > sum {
                        best[pos] = best[pos - 1];
                        best_index[pos] = best_index[pos - 1];
                        pos -= 1;
                    }
                    best[pos] = sum;
                    best_index[pos] = r;
                }
            }
            for d in best.iter_mut() {
                *d /= p;
            }
        }
        Neighbours { k, distances, indices }
    }
}

/// Two quantiles of a distribution of distances or ratios (linear interpolation between order
/// statistics, as numpy's default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantiles {
    pub p5: f64,
    pub median: f64,
}

impl Quantiles {
    pub fn of(values: &[f64]) -> Quantiles {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Quantiles {
            p5: quantile(&sorted, 0.05),
            median: quantile(&sorted, 0.5),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "p5": self.p5, "median": self.median })
    }
}

/// Quantile `q` of sorted values (NaN when empty).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Distance-based disclosure measures of a release, each next to the holdout's value (what
/// records that were never in training look like).
#[derive(Debug, Clone)]
pub struct DistanceReport {
    /// Compared columns.
    pub columns: Vec<String>,
    /// Columns left out of the distance, with the reason.
    pub skipped_columns: Vec<(String, String)>,
    /// Synthetic rows used as queries / available.
    pub synthetic_rows: usize,
    pub synthetic_total: usize,
    /// Train rows used as the reference / available.
    pub train_rows: usize,
    pub train_total: usize,
    /// Holdout rows used as reference queries / available.
    pub holdout_rows: usize,
    pub holdout_total: usize,
    /// Rows of train and of holdout (the same number) used for the closer-to-train share.
    pub closeness_rows: usize,
    pub seed: u64,
    /// DCR of synthetic rows to train.
    pub synthetic_dcr: Quantiles,
    /// DCR of holdout rows to train (the reference).
    pub holdout_dcr: Quantiles,
    /// Share of synthetic rows whose DCR is below the holdout's median DCR (≈ 0.5 without
    /// leakage).
    pub share_below_holdout_median: f64,
    /// Share of synthetic rows nearer to the train sample than to the equally large holdout
    /// sample (ties count one half); ≈ 0.5 without leakage.
    pub closer_to_train_share: f64,
    /// NNDR (nearest / second-nearest train distance; 0/0 counts as 1) of synthetic rows.
    pub synthetic_nndr: Quantiles,
    /// NNDR of holdout rows to train.
    pub holdout_nndr: Quantiles,
    /// Share of synthetic rows identical to some train row on every compared column.
    pub synthetic_exact_match_rate: f64,
    /// Share of holdout rows identical to some train row (the base rate of look-alikes).
    pub holdout_exact_match_rate: f64,
}

impl DistanceReport {
    /// JSON with the field names of this struct as keys; quantiles as `{"p5", "median"}`,
    /// `skipped_columns` as `[{"column", "reason"}]`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "columns": self.columns,
            "skipped_columns": self.skipped_columns.iter()
                .map(|(c, r)| serde_json::json!({"column": c, "reason": r})).collect::<Vec<_>>(),
            "synthetic_rows": self.synthetic_rows,
            "synthetic_total": self.synthetic_total,
            "train_rows": self.train_rows,
            "train_total": self.train_total,
            "holdout_rows": self.holdout_rows,
            "holdout_total": self.holdout_total,
            "closeness_rows": self.closeness_rows,
            "seed": self.seed,
            "synthetic_dcr": self.synthetic_dcr.to_json(),
            "holdout_dcr": self.holdout_dcr.to_json(),
            "share_below_holdout_median": self.share_below_holdout_median,
            "closer_to_train_share": self.closer_to_train_share,
            "synthetic_nndr": self.synthetic_nndr.to_json(),
            "holdout_nndr": self.holdout_nndr.to_json(),
            "synthetic_exact_match_rate": self.synthetic_exact_match_rate,
            "holdout_exact_match_rate": self.holdout_exact_match_rate,
        })
    }
}

/// DCR, NNDR and exact matches of `aligned.synthetic` against `aligned.real` (the training
/// data), with `aligned.holdout` (required) as the reference.
pub fn distance_report(aligned: &Aligned, options: &PrivacyOptions) -> Result<DistanceReport> {
    options.check()?;
    let holdout = holdout(aligned, "the distance report")?;
    require_rows(&aligned.synthetic, 1, "synthetic table")?;
    require_rows(&aligned.real, 2, "training table")?;
    require_rows(holdout, 1, "holdout")?;
    let space = GowerSpace::all(&aligned.dictionary)?;
    let mut rng = rng_for(options.seed, 1);
    let syn_rows = sample_indices(aligned.synthetic.n_rows(), options.max_synthetic_rows, &mut rng);
    let train_rows = sample_indices(aligned.real.n_rows(), options.max_reference_rows, &mut rng);
    let holdout_rows = sample_indices(holdout.n_rows(), options.max_targets, &mut rng);
    let equal = aligned
        .real
        .n_rows()
        .min(holdout.n_rows())
        .min(options.max_reference_rows);
    let close_train_rows = sample_indices(aligned.real.n_rows(), equal, &mut rng);
    let close_holdout_rows = sample_indices(holdout.n_rows(), equal, &mut rng);

    let syn = space.encode(&subset(&aligned.synthetic, &syn_rows)?)?;
    let train = space.encode(&subset(&aligned.real, &train_rows)?)?;
    let hold = space.encode(&subset(holdout, &holdout_rows)?)?;
    let syn_nn = space.neighbours(&syn, &train, 2, false);
    let hold_nn = space.neighbours(&hold, &train, 2, false);
    let syn_dcr = syn_nn.nearest();
    let hold_dcr = hold_nn.nearest();
    let holdout_dcr = Quantiles::of(&hold_dcr);
    let share_below = share(syn_dcr.iter().map(|&d| if d < holdout_dcr.median { 1.0 } else { 0.0 }));

    let close_train = space.encode(&subset(&aligned.real, &close_train_rows)?)?;
    let close_holdout = space.encode(&subset(holdout, &close_holdout_rows)?)?;
    let to_train = space.neighbours(&syn, &close_train, 1, false).nearest();
    let to_holdout = space.neighbours(&syn, &close_holdout, 1, false).nearest();
    let closer = share(to_train.iter().zip(&to_holdout).map(|(t, h)| match t.total_cmp(h) {
        std::cmp::Ordering::Less => 1.0,
        std::cmp::Ordering::Equal => 0.5,
        std::cmp::Ordering::Greater => 0.0,
    }));

    Ok(DistanceReport {
        columns: space.names().to_vec(),
        skipped_columns: space.skipped().to_vec(),
        synthetic_rows: syn_rows.len(),
        synthetic_total: aligned.synthetic.n_rows(),
        train_rows: train_rows.len(),
        train_total: aligned.real.n_rows(),
        holdout_rows: holdout_rows.len(),
        holdout_total: holdout.n_rows(),
        closeness_rows: equal,
        seed: options.seed,
        synthetic_dcr: Quantiles::of(&syn_dcr),
        holdout_dcr,
        share_below_holdout_median: share_below,
        closer_to_train_share: closer,
        synthetic_nndr: Quantiles::of(&nndr(&syn_nn)),
        holdout_nndr: Quantiles::of(&nndr(&hold_nn)),
        synthetic_exact_match_rate: share(syn_dcr.iter().map(|&d| f64::from(u8::from(d == 0.0)))),
        holdout_exact_match_rate: share(hold_dcr.iter().map(|&d| f64::from(u8::from(d == 0.0)))),
    })
}

/// Nearest / second-nearest distance of every query; 0/0 (two identical nearest rows) is 1.
fn nndr(nn: &Neighbours) -> Vec<f64> {
    (0..nn.distances.len() / nn.k)
        .map(|q| {
            let d = nn.distances(q);
            match (d[0], d.get(1).copied().unwrap_or(f64::INFINITY)) {
                (_, second) if second.is_infinite() => 0.0,
                (first, second) if second == 0.0 && first == 0.0 => 1.0,
                (first, second) => first / second,
            }
        })
        .collect()
}

/// Mean of the values (of 0/1 or ½ indicators: a share); NaN when empty.
pub(crate) fn share(indicators: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = indicators.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}
