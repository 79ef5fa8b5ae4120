//! Gaussian copula baseline. **Not differentially private**: it stores empirical marginals
//! (actual values of the real data) and their correlation. It exists to compare DP synthesizers
//! against a simple non-private generator; its output must be labelled as such.
//!
//! Model: each modelled column is mapped to a uniform score by its empirical distribution
//! (mid-ranks for numbers and dates; one interval per level for categorical and boolean columns;
//! missing values as the lowest interval), then to a normal score Φ⁻¹(u). The correlation of
//! the normal scores defines a Gaussian copula; sampling draws correlated normals and maps them
//! back through the empirical quantiles. Identifier and free-text columns are not modelled.

use crate::normal;
use crate::{Error, Result};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use std::sync::Arc;
use table::{ColumnData, Date, Dictionary, Table, Value};

/// The empirical marginal of one column.
#[derive(Debug, Clone)]
enum Marginal {
    /// Sorted non-missing values (day numbers for dates); `integer` rounds sampled values.
    Numeric {
        sorted: Vec<f64>,
        integer: bool,
        date: bool,
    },
    /// Probability of each level in dictionary order; `labels` is `None` for a boolean column
    /// (levels false, true).
    Levels {
        probs: Vec<f64>,
        labels: Option<Vec<String>>,
    },
}

#[derive(Debug, Clone)]
struct ColumnModel {
    index: usize,
    /// Share of missing values.
    missing: f64,
    /// Whether the column has a latent dimension for its missingness (right after its value's).
    indicator: bool,
    marginal: Marginal,
}

/// A fitted Gaussian copula (non-DP).
#[derive(Debug, Clone)]
pub struct Copula {
    dictionary: Arc<Dictionary>,
    columns: Vec<ColumnModel>,
    /// Lower-triangular Cholesky factor of the normal-score correlation matrix.
    chol: Vec<Vec<f64>>,
}

impl Copula {
    /// Fits the copula to `table`. Needs at least two rows.
    pub fn fit(table: &Table) -> Result<Copula> {
        let n = table.n_rows();
        if n < 2 {
            return Err(Error::Input(format!(
                "the Gaussian copula needs at least 2 rows, got {n}"
            )));
        }
        let dict = table.dictionary().clone();
        let mut columns = Vec::new();
        // Latent normal scores, `None` where the column is missing: one dimension per modelled
        // column for its value, plus one for its missingness indicator when it has missing values.
        let mut scores: Vec<Vec<Option<f64>>> = Vec::new();
        for (index, col) in dict.columns.iter().enumerate() {
            if !col.kind.is_modelled() {
                continue;
            }
            let labels = match &col.kind {
                table::Kind::Categorical { levels, .. } => Some(levels.clone()),
                _ => None,
            };
            let (mut model, z) = fit_column(index, table.column(index), labels);
            if model.missing > 0.0 {
                let m = model.missing;
                let indicator = z
                    .iter()
                    .map(|v| Some(normal::quantile(if v.is_none() { m / 2.0 } else { (1.0 + m) / 2.0 })))
                    .collect();
                scores.push(z);
                scores.push(indicator);
                model.indicator = true;
            } else {
                scores.push(z);
            }
            columns.push(model);
        }
        let d = scores.len();
        let mut corr = vec![vec![0.0; d]; d];
        for i in 0..d {
            for j in 0..=i {
                let c = if i == j {
                    1.0
                } else {
                    correlation(&scores[i], &scores[j])
                };
                corr[i][j] = c;
                corr[j][i] = c;
            }
        }
        let chol = cholesky_with_ridge(&corr);
        Ok(Copula {
            dictionary: dict,
            columns,
            chol,
        })
    }

    /// Draws `rows` synthetic rows (identifier and text columns are missing).
    pub fn sample(&self, rows: usize, rng: &mut impl Rng) -> Table {
        let mut out = Table::new(self.dictionary.clone());
        let d = self.chol.len();
        let mut e = vec![0.0; d];
        let mut z = vec![0.0; d];
        for _ in 0..rows {
            for x in e.iter_mut() {
                *x = StandardNormal.sample(rng);
            }
            for (i, zi) in z.iter_mut().enumerate() {
                *zi = (0..=i).map(|k| self.chol[i][k] * e[k]).sum();
            }
            let mut row = vec![Value::Missing; self.dictionary.columns.len()];
            let mut dim = 0;
            for c in &self.columns {
                let missing = c.indicator && normal::cdf(z[dim + 1]) < c.missing;
                if !missing {
                    row[c.index] = c.value_at(normal::cdf(z[dim]));
                }
                dim += 1 + usize::from(c.indicator);
            }
            out.push_row(row)
                .expect("sampled values come from the column's own levels and observed values");
        }
        out
    }
}

fn fit_column(index: usize, data: &ColumnData, labels: Option<Vec<String>>) -> (ColumnModel, Vec<Option<f64>>) {
    // Observed values as f64 (numbers, day numbers) or level indices.
    let (values, levels): (Vec<Option<f64>>, Option<usize>) = match data {
        ColumnData::Int(v) => (v.iter().map(|x| x.map(|x| x as f64)).collect(), None),
        ColumnData::Real(v) => (v.clone(), None),
        ColumnData::Date(v) => (v.iter().map(|x| x.map(|d| f64::from(d.days()))).collect(), None),
        ColumnData::Bool(v) => (v.iter().map(|x| x.map(|b| f64::from(u8::from(b)))).collect(), Some(2)),
        ColumnData::Category(v) => {
            let k = labels.as_ref().map_or(0, Vec::len);
            (v.iter().map(|x| x.map(f64::from)).collect(), Some(k))
        }
        ColumnData::Text(_) => unreachable!("text columns are not modelled"),
    };
    let n = values.len();
    let n_missing = values.iter().filter(|v| v.is_none()).count();
    let missing = n_missing as f64 / n as f64;
    let present = (n - n_missing).max(1) as f64;
    // Uniform scores of the present values, conditional on presence.
    let mut u = vec![None; n];
    let marginal = match levels {
        Some(k) => {
            let mut counts = vec![0usize; k];
            for x in values.iter().flatten() {
                counts[*x as usize] += 1;
            }
            let probs: Vec<f64> = counts.iter().map(|c| *c as f64 / present).collect();
            let mut start = vec![0.0; probs.len()];
            let mut acc = 0.0;
            for (s, p) in start.iter_mut().zip(&probs) {
                *s = acc;
                acc += p;
            }
            for (ui, x) in u.iter_mut().zip(&values) {
                *ui = x.map(|l| start[l as usize] + probs[l as usize] / 2.0);
            }
            Marginal::Levels { probs, labels }
        }
        None => {
            let mut sorted: Vec<f64> = values.iter().flatten().copied().collect();
            sorted.sort_by(f64::total_cmp);
            for (ui, x) in u.iter_mut().zip(&values) {
                *ui = x.map(|v| {
                    // Mid-rank of v among the sorted values (ties share their mean rank).
                    let lo = sorted.partition_point(|s| *s < v) as f64;
                    let hi = sorted.partition_point(|s| *s <= v) as f64;
                    ((lo + hi) / 2.0) / present
                });
            }
            let integer = matches!(data, ColumnData::Int(_));
            let date = matches!(data, ColumnData::Date(_));
            Marginal::Numeric { sorted, integer, date }
        }
    };
    let z = u.iter().map(|p| p.map(normal::quantile)).collect();
    (
        ColumnModel {
            index,
            missing,
            indicator: false,
            marginal,
        },
        z,
    )
}

impl ColumnModel {
    /// The value at uniform score `q` of the column's distribution given presence.
    fn value_at(&self, q: f64) -> Value {
        match &self.marginal {
            Marginal::Levels { probs, labels } => {
                let mut acc = 0.0;
                let mut level = probs.len() - 1;
                for (i, p) in probs.iter().enumerate() {
                    acc += p;
                    if q < acc && *p > 0.0 {
                        level = i;
                        break;
                    }
                }
                match labels {
                    None => Value::Bool(level == 1),
                    Some(l) => Value::Text(l[level].clone()),
                }
            }
            Marginal::Numeric { sorted, integer, date } => {
                if sorted.is_empty() {
                    return Value::Missing;
                }
                let h = q * (sorted.len() - 1) as f64;
                let lo = h.floor() as usize;
                let hi = h.ceil() as usize;
                let x = sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]);
                if *date {
                    Value::Date(Date::from_days(x.round() as i32))
                } else if *integer {
                    Value::Int(x.round() as i64)
                } else {
                    Value::Real(x)
                }
            }
        }
    }
}

/// Pearson correlation over the rows where both scores are present (pairwise complete).
fn correlation(a: &[Option<f64>], b: &[Option<f64>]) -> f64 {
    let pairs: Vec<(f64, f64)> = a.iter().zip(b).filter_map(|(x, y)| Some(((*x)?, (*y)?))).collect();
    if pairs.len() < 2 {
        return 0.0;
    }
    let n = pairs.len() as f64;
    let ma = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let mb = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        (sab / (saa * sbb).sqrt()).clamp(-1.0, 1.0)
    }
}

/// Cholesky factor of `m`, adding a growing ridge to the diagonal until it is positive definite
/// (empirical correlation matrices of tied or constant scores can be singular).
fn cholesky_with_ridge(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = m.len();
    let mut ridge = 0.0;
    loop {
        let mut l = vec![vec![0.0; d]; d];
        let mut ok = true;
        'outer: for i in 0..d {
            for j in 0..=i {
                let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
                if i == j {
                    let v = (m[i][i] + ridge) / (1.0 + ridge) - s;
                    if v <= 1e-12 {
                        ok = false;
                        break 'outer;
                    }
                    l[i][i] = v.sqrt();
                } else {
                    l[i][j] = (m[i][j] / (1.0 + ridge) - s) / l[j][j];
                }
            }
        }
        if ok {
            return l;
        }
        ridge = if ridge == 0.0 { 1e-6 } else { ridge * 10.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn dict() -> Arc<Dictionary> {
        Arc::new(
            Dictionary::from_toml(
                "format_version = 1\nname = \"t\"\n\
                 [[column]]\nname = \"x\"\ntype = \"real\"\nmin = -10\nmax = 10\n\
                 [[column]]\nname = \"y\"\ntype = \"integer\"\nmin = -100\nmax = 100\nmissing = \"allowed\"\n\
                 [[column]]\nname = \"c\"\ntype = \"categorical\"\nlevels = [\"lo\", \"hi\"]\n\
                 [[column]]\nname = \"b\"\ntype = \"boolean\"\n\
                 [[column]]\nname = \"id\"\ntype = \"identifier\"\n",
                "t",
            )
            .unwrap(),
        )
    }

    #[test]
    fn keeps_marginals_and_dependence() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut t = Table::new(dict());
        for i in 0..2000 {
            let x: f64 = StandardNormal.sample(&mut rng);
            let noise: f64 = StandardNormal.sample(&mut rng);
            let y = if i % 10 == 0 {
                Value::Missing
            } else {
                Value::Int((10.0 * (x + 0.3 * noise)).round() as i64)
            };
            let c = if x > 0.5 { "hi" } else { "lo" };
            t.push_row(vec![
                Value::Real(x),
                y,
                Value::Text(c.into()),
                Value::Bool(x < -1.0),
                Value::Text(format!("p{i}")),
            ])
            .unwrap();
        }
        let model = Copula::fit(&t).unwrap();
        let s = model.sample(4000, &mut rng);
        assert_eq!(s.n_rows(), 4000);
        let xs: Vec<f64> = (0..4000).filter_map(|r| s.value(r, 0).as_f64()).collect();
        let ys: Vec<Option<f64>> = (0..4000).map(|r| s.value(r, 1).as_f64()).collect();
        let missing = ys.iter().filter(|y| y.is_none()).count() as f64 / 4000.0;
        assert!((missing - 0.1).abs() < 0.02, "missing share {missing}");
        let pairs: Vec<(f64, f64)> = xs.iter().zip(&ys).filter_map(|(x, y)| y.map(|y| (*x, y))).collect();
        let (a, b): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let (a, b): (Vec<Option<f64>>, Vec<Option<f64>>) =
            (a.into_iter().map(Some).collect(), b.into_iter().map(Some).collect());
        assert!(correlation(&a, &b) > 0.85, "correlation {}", correlation(&a, &b));
        let hi = (0..4000).filter(|r| s.value(*r, 2) == Value::Text("hi".into())).count() as f64 / 4000.0;
        assert!((hi - 0.31).abs() < 0.03, "share hi {hi}");
        assert!(
            (0..4000).all(|r| s.value(r, 4) == Value::Missing),
            "identifiers are never synthesised"
        );
        // Integers stay integers, within the observed range.
        assert!(ys.iter().flatten().all(|y| y.fract() == 0.0));
    }

    #[test]
    fn too_few_rows() {
        let t = Table::new(dict());
        assert!(Copula::fit(&t).is_err());
    }
}
