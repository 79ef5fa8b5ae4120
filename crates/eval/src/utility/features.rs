//! The design matrix the models see: one-hot categorical and boolean columns (missing as its
//! own category), standardised numeric and date columns with missing values imputed by the
//! training mean plus a missing indicator. Identifier and text columns are never used.

use table::{ColumnData, Kind, Table};

/// How one column becomes features.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// `slots` indicator columns: one per level (or false/true), the last for missing.
    OneHot { column: usize, slots: usize },
    /// `(x − mean) / sd` (0 when missing) and a 0/1 missing indicator.
    Numeric { column: usize, mean: f64, sd: f64 },
}

/// A feature encoding fitted on training rows, applied to any table of the same dictionary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Features {
    parts: Vec<Part>,
}

/// A dense row-major design matrix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Design {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f64>,
}

impl Design {
    /// Row `r` as a slice.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.values[r * self.cols..(r + 1) * self.cols]
    }
}

fn number(column: &ColumnData, row: usize) -> Option<f64> {
    match column {
        ColumnData::Int(v) => v[row].map(|x| x as f64),
        ColumnData::Real(v) => v[row],
        ColumnData::Date(v) => v[row].map(|d| f64::from(d.days())),
        ColumnData::Bool(_) | ColumnData::Category(_) | ColumnData::Text(_) => None,
    }
}

impl Features {
    /// Fits the encoding of every modelled column except `exclude` on the given rows of the
    /// given tables (all of the same dictionary): means and standard deviations of numeric
    /// columns (a standard deviation of 0 becomes 1).
    pub fn fit(sources: &[(&Table, &[usize])], exclude: Option<usize>) -> Features {
        let mut parts = Vec::new();
        let Some((first, _)) = sources.first() else {
            return Features { parts };
        };
        for (column, spec) in first.dictionary().columns.iter().enumerate() {
            if Some(column) == exclude || !spec.kind.is_modelled() {
                continue;
            }
            match &spec.kind {
                Kind::Categorical { levels, .. } => parts.push(Part::OneHot {
                    column,
                    slots: levels.len() + 1,
                }),
                Kind::Boolean { .. } => parts.push(Part::OneHot { column, slots: 3 }),
                Kind::Integer { .. } | Kind::Real { .. } | Kind::Date { .. } => {
                    let (mut n, mut sum, mut sum_sq) = (0usize, 0.0, 0.0);
                    for (table, rows) in sources {
                        let data = table.column(column);
                        for &r in *rows {
                            if let Some(x) = number(data, r) {
                                n += 1;
                                sum += x;
                                sum_sq += x * x;
                            }
                        }
                    }
                    let mean = if n > 0 { sum / n as f64 } else { 0.0 };
                    let var = if n > 0 {
                        (sum_sq / n as f64 - mean * mean).max(0.0)
                    } else {
                        0.0
                    };
                    let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
                    parts.push(Part::Numeric { column, mean, sd });
                }
                Kind::Identifier | Kind::Text => {}
            }
        }
        Features { parts }
    }

    /// Number of features.
    pub fn width(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::OneHot { slots, .. } => *slots,
                Part::Numeric { .. } => 2,
            })
            .sum()
    }

    /// Appends the features of `rows` of `table` to `out`, row-major.
    pub fn extend(&self, table: &Table, rows: &[usize], out: &mut Vec<f64>) {
        out.reserve(rows.len() * self.width());
        for &r in rows {
            for part in &self.parts {
                match part {
                    Part::OneHot { column, slots } => {
                        let slot = match table.column(*column) {
                            ColumnData::Category(v) => v[r].map(|c| c as usize),
                            ColumnData::Bool(v) => v[r].map(usize::from),
                            _ => None,
                        }
                        .filter(|s| s + 1 < *slots)
                        .unwrap_or(slots - 1);
                        out.extend((0..*slots).map(|s| if s == slot { 1.0 } else { 0.0 }));
                    }
                    Part::Numeric { column, mean, sd } => match number(table.column(*column), r) {
                        Some(x) => out.extend([(x - mean) / sd, 0.0]),
                        None => out.extend([0.0, 1.0]),
                    },
                }
            }
        }
    }

    /// The design matrix of `rows` of `table`.
    pub fn design(&self, table: &Table, rows: &[usize]) -> Design {
        let mut values = Vec::new();
        self.extend(table, rows, &mut values);
        Design {
            rows: rows.len(),
            cols: self.width(),
            values,
        }
    }
}
