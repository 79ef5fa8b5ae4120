//! Column summaries of a table (counts, quantiles, level frequencies), for human output.
//! These describe the data they are given: computed on private data they are private too.

use crate::schema::Kind;
use crate::table::{ColumnData, Table};
use std::fmt;

/// The summary of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSummary {
    pub name: String,
    pub rows: usize,
    pub missing: usize,
    pub stats: Stats,
}

/// Kind-specific statistics.
#[derive(Debug, Clone, PartialEq)]
pub enum Stats {
    /// Numbers (integer, real) and dates (as days): min, quartiles, max, mean of non-missing.
    Numeric {
        min: f64,
        q1: f64,
        median: f64,
        q3: f64,
        max: f64,
        mean: f64,
    },
    /// Level (or boolean token) counts in dictionary order.
    Levels(Vec<(String, usize)>),
    /// Identifiers and free text: number of distinct values.
    Distinct(usize),
    /// No non-missing value.
    Empty,
}

/// Summarises every column of `table`.
pub fn describe(table: &Table) -> Vec<ColumnSummary> {
    let dict = table.dictionary();
    dict.columns
        .iter()
        .zip(table.columns())
        .map(|(col, data)| {
            let rows = data.len();
            let (missing, stats) = match (data, &col.kind) {
                (ColumnData::Int(v), _) => numeric(v.iter().map(|x| x.map(|x| x as f64))),
                (ColumnData::Real(v), _) => numeric(v.iter().copied()),
                (ColumnData::Date(v), _) => numeric(v.iter().map(|x| x.map(|d| f64::from(d.days())))),
                (
                    ColumnData::Bool(v),
                    Kind::Boolean {
                        true_token,
                        false_token,
                    },
                ) => {
                    let t = v.iter().filter(|x| **x == Some(true)).count();
                    let f = v.iter().filter(|x| **x == Some(false)).count();
                    (
                        rows - t - f,
                        Stats::Levels(vec![(false_token.clone(), f), (true_token.clone(), t)]),
                    )
                }
                (ColumnData::Category(v), Kind::Categorical { levels, .. }) => {
                    let mut counts = vec![0usize; levels.len()];
                    let mut missing = 0;
                    for x in v {
                        match x {
                            Some(k) => counts[*k as usize] += 1,
                            None => missing += 1,
                        }
                    }
                    (missing, Stats::Levels(levels.iter().cloned().zip(counts).collect()))
                }
                (ColumnData::Text(v), _) => {
                    let mut present: Vec<&str> = v.iter().flatten().map(String::as_str).collect();
                    let missing = rows - present.len();
                    present.sort_unstable();
                    present.dedup();
                    (
                        missing,
                        if present.is_empty() {
                            Stats::Empty
                        } else {
                            Stats::Distinct(present.len())
                        },
                    )
                }
                _ => (0, Stats::Empty),
            };
            ColumnSummary {
                name: col.name.clone(),
                rows,
                missing,
                stats,
            }
        })
        .collect()
}

fn numeric(values: impl Iterator<Item = Option<f64>>) -> (usize, Stats) {
    let mut missing = 0;
    let mut v: Vec<f64> = Vec::new();
    for x in values {
        match x {
            Some(x) => v.push(x),
            None => missing += 1,
        }
    }
    if v.is_empty() {
        return (missing, Stats::Empty);
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        // Linear interpolation between order statistics (type 7, the R and NumPy default).
        let h = p * (v.len() - 1) as f64;
        let lo = h.floor() as usize;
        let hi = h.ceil() as usize;
        v[lo] + (h - lo as f64) * (v[hi] - v[lo])
    };
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (
        missing,
        Stats::Numeric {
            min: v[0],
            q1: q(0.25),
            median: q(0.5),
            q3: q(0.75),
            max: v[v.len() - 1],
            mean,
        },
    )
}

impl fmt::Display for ColumnSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<28}", self.name)?;
        if self.missing > 0 {
            write!(
                f,
                " missing {:>5.1}% ",
                100.0 * self.missing as f64 / self.rows.max(1) as f64
            )?;
        } else {
            write!(f, "{:16}", "")?;
        }
        match &self.stats {
            Stats::Numeric {
                min,
                q1,
                median,
                q3,
                max,
                ..
            } => {
                write!(f, "median {median:.1} (IQR {q1:.1}–{q3:.1}), range {min:.1}–{max:.1}")
            }
            Stats::Levels(levels) => {
                let present = (self.rows - self.missing).max(1) as f64;
                let parts: Vec<String> = levels
                    .iter()
                    .map(|(l, n)| format!("{l} {:.1}%", 100.0 * *n as f64 / present))
                    .collect();
                f.write_str(&parts.join(", "))
            }
            Stats::Distinct(n) => write!(f, "{n} distinct values"),
            Stats::Empty => f.write_str("no values"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dictionary, Value};
    use std::sync::Arc;

    #[test]
    fn summaries() {
        let d = Dictionary::from_toml(
            "format_version = 1\nname = \"t\"\n[[column]]\nname = \"x\"\ntype = \"integer\"\nmissing = \"allowed\"\n\
             [[column]]\nname = \"c\"\ntype = \"categorical\"\nlevels = [\"a\", \"b\"]\n\
             [[column]]\nname = \"id\"\ntype = \"identifier\"\n",
            "t",
        )
        .unwrap();
        let mut t = Table::new(Arc::new(d));
        for (x, c, id) in [
            (Some(1), "a", "p1"),
            (Some(2), "b", "p2"),
            (None, "a", "p2"),
            (Some(4), "a", "p3"),
        ] {
            let x = x.map_or(Value::Missing, Value::Int);
            t.push_row(vec![x, Value::Text(c.into()), Value::Text(id.into())])
                .unwrap();
        }
        let s = describe(&t);
        assert_eq!(s[0].missing, 1);
        assert_eq!(
            s[0].stats,
            Stats::Numeric {
                min: 1.0,
                q1: 1.5,
                median: 2.0,
                q3: 3.0,
                max: 4.0,
                mean: 7.0 / 3.0
            }
        );
        assert_eq!(s[1].stats, Stats::Levels(vec![("a".into(), 3), ("b".into(), 1)]));
        assert_eq!(s[2].stats, Stats::Distinct(3));
        assert!(s[1].to_string().contains("a 75.0%, b 25.0%"));
    }
}
