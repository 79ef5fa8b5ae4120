//! Dense factors: log-space tables over a clique.

use crate::domain::{Clique, Domain, MAX_TABLE_CELLS};
use crate::error::{PgmError, Result};
use crate::kernel::{Projection, index_map, logsumexp, logsumexp_projection, strides};

/// A dense table of natural-log values over a [`Clique`], row-major in the clique's attribute order
/// (the last attribute varies fastest). A potential is a factor; so is a log-probability table.
/// `-∞` is allowed (a cell of probability zero, e.g. a structural zero); NaN and `+∞` are not.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    clique: Clique,
    shape: Vec<usize>,
    values: Vec<f64>,
}

/// The index map from the cells of a table over `big` (shape `big_shape`) to the cells of the
/// table over `small`, which must be a subset of `big`.
pub(crate) fn subset_map(big: &Clique, big_shape: &[usize], small: &Clique) -> Vec<u32> {
    let small_shape: Vec<usize> = small
        .attrs()
        .iter()
        .filter_map(|&a| big.position(a).map(|p| big_shape[p]))
        .collect();
    let small_strides = strides(&small_shape);
    let per_axis: Vec<usize> = big
        .attrs()
        .iter()
        .map(|&a| small.position(a).map_or(0, |p| small_strides[p]))
        .collect();
    index_map(big_shape, &per_axis)
}

/// The blocked projection (see [`crate::kernel::Projection`]) from a table over `big` onto one
/// over `small ⊆ big`.
pub(crate) fn subset_projection(big: &Clique, big_shape: &[usize], small: &Clique) -> Projection {
    let small_shape: Vec<usize> = small
        .attrs()
        .iter()
        .filter_map(|&a| big.position(a).map(|p| big_shape[p]))
        .collect();
    let small_strides = strides(&small_shape);
    let per_axis: Vec<usize> = big
        .attrs()
        .iter()
        .map(|&a| small.position(a).map_or(0, |p| small_strides[p]))
        .collect();
    Projection::new(big_shape, &per_axis)
}

fn check_cells(clique: &Clique, shape: &[usize]) -> Result<usize> {
    let cells = shape.iter().try_fold(1u128, |acc, &s| acc.checked_mul(s as u128));
    match cells {
        Some(c) if c <= MAX_TABLE_CELLS => Ok(c as usize),
        c => Err(PgmError::TableTooLarge {
            clique: clique.attrs().to_vec(),
            cells: c.unwrap_or(u128::MAX),
            limit: MAX_TABLE_CELLS,
        }),
    }
}

impl Factor {
    /// The factor with every log-value 0 (a uniform potential).
    pub fn zeros(domain: &Domain, clique: Clique) -> Result<Factor> {
        let cells = domain.table_size(&clique)?;
        let shape = domain.shape(&clique)?;
        Ok(Factor {
            clique,
            shape,
            values: vec![0.0; cells],
        })
    }

    /// A factor from its log-values, row-major over `clique`. `-∞` is allowed; NaN and `+∞` are not.
    pub fn new(domain: &Domain, clique: Clique, log_values: Vec<f64>) -> Result<Factor> {
        let cells = domain.table_size(&clique)?;
        if log_values.len() != cells {
            return Err(PgmError::ValueCount {
                clique: clique.attrs().to_vec(),
                expected: cells,
                found: log_values.len(),
            });
        }
        if let Some((cell, &value)) = log_values
            .iter()
            .enumerate()
            .find(|(_, v)| v.is_nan() || **v == f64::INFINITY)
        {
            return Err(PgmError::InvalidValue {
                clique: clique.attrs().to_vec(),
                cell,
                value,
                rule: "log-values must be finite or -inf",
            });
        }
        let shape = domain.shape(&clique)?;
        Ok(Factor {
            clique,
            shape,
            values: log_values,
        })
    }

    /// A factor holding `ln p` of non-negative finite values `p` (0 becomes `-∞`).
    pub fn from_probabilities(domain: &Domain, clique: Clique, values: &[f64]) -> Result<Factor> {
        if let Some((cell, &value)) = values.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
            return Err(PgmError::InvalidValue {
                clique: clique.attrs().to_vec(),
                cell,
                value,
                rule: "probabilities and counts must be finite and >= 0",
            });
        }
        Factor::new(domain, clique, values.iter().map(|v| v.ln()).collect())
    }

    /// Built from parts already checked by the caller (crate-internal).
    pub(crate) fn from_parts(clique: Clique, shape: Vec<usize>, values: Vec<f64>) -> Factor {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Factor { clique, shape, values }
    }

    /// The clique the factor is defined over.
    pub fn clique(&self) -> &Clique {
        &self.clique
    }

    /// Domain sizes of the clique's attributes, in order.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The log-values, row-major.
    pub fn log_values(&self) -> &[f64] {
        &self.values
    }

    pub(crate) fn log_values_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }

    /// Factor product: the sum of log-values, each factor broadcast to the union of the cliques.
    pub fn product(&self, other: &Factor) -> Result<Factor> {
        self.combine(other, |a, b| a + b)
    }

    /// Sum in probability space: `ln(e^a + e^b)` cell by cell, each factor broadcast to the union
    /// of the cliques (a mixture of two unnormalised tables).
    pub fn sum(&self, other: &Factor) -> Result<Factor> {
        self.combine(other, |a, b| {
            let m = a.max(b);
            if m == f64::NEG_INFINITY {
                m
            } else {
                m + ((a - m).exp() + (b - m).exp()).ln()
            }
        })
    }

    /// Applies `f` cell by cell to both factors broadcast to the union of their cliques.
    fn combine(&self, other: &Factor, f: impl Fn(f64, f64) -> f64) -> Result<Factor> {
        let clique = self.clique.union(&other.clique);
        let shape: Vec<usize> = clique
            .attrs()
            .iter()
            .map(|&a| match self.clique.position(a) {
                Some(p) => self.shape[p],
                None => other.clique.position(a).map_or(1, |p| other.shape[p]),
            })
            .collect();
        check_cells(&clique, &shape)?;
        let left = subset_map(&clique, &shape, &self.clique);
        let right = subset_map(&clique, &shape, &other.clique);
        let values = left
            .iter()
            .zip(&right)
            .map(|(&l, &r)| f(self.values[l as usize], other.values[r as usize]))
            .collect();
        Ok(Factor { clique, shape, values })
    }

    /// Sums out (in probability space, by log-sum-exp) the given attributes; attributes not in
    /// the factor are ignored.
    pub fn marginalise(&self, out: &Clique) -> Factor {
        self.project_unchecked(&self.clique.difference(out))
    }

    /// The log-sum-exp projection onto `onto`, which must be a subset of the factor's clique.
    pub fn project(&self, onto: &Clique) -> Result<Factor> {
        if !onto.is_subset(&self.clique) {
            return Err(PgmError::NotSubset {
                sub: onto.attrs().to_vec(),
                sup: self.clique.attrs().to_vec(),
            });
        }
        Ok(self.project_unchecked(onto))
    }

    fn project_unchecked(&self, onto: &Clique) -> Factor {
        let shape: Vec<usize> = onto
            .attrs()
            .iter()
            .filter_map(|&a| self.clique.position(a).map(|p| self.shape[p]))
            .collect();
        let cells = shape.iter().product();
        let map = subset_map(&self.clique, &self.shape, onto);
        let values = logsumexp_projection(&self.values, &map, cells);
        Factor {
            clique: onto.clone(),
            shape,
            values,
        }
    }

    /// The same function of a superset clique (constant along the added attributes).
    pub fn broadcast(&self, domain: &Domain, superset: &Clique) -> Result<Factor> {
        if !self.clique.is_subset(superset) {
            return Err(PgmError::NotSubset {
                sub: self.clique.attrs().to_vec(),
                sup: superset.attrs().to_vec(),
            });
        }
        let shape = domain.shape(superset)?;
        check_cells(superset, &shape)?;
        let map = subset_map(superset, &shape, &self.clique);
        let values = map.iter().map(|&i| self.values[i as usize]).collect();
        Ok(Factor {
            clique: superset.clone(),
            shape,
            values,
        })
    }

    /// `ln Σ exp(values)`: the log of the total mass.
    pub fn log_partition(&self) -> f64 {
        logsumexp(&self.values)
    }

    /// The factor shifted so that its values are log-probabilities (total mass 1). A factor of
    /// zero mass (all `-∞`) is returned unchanged.
    pub fn normalise(&self) -> Factor {
        let log_z = self.log_partition();
        let mut out = self.clone();
        if log_z.is_finite() {
            out.values.iter_mut().for_each(|v| *v -= log_z);
        }
        out
    }

    /// `exp` of every value (probability space, unnormalised).
    pub fn exp(&self) -> Vec<f64> {
        self.values.iter().map(|v| v.exp()).collect()
    }

    /// Normalised probabilities (sum 1); all zeros when the factor has zero mass.
    pub fn probabilities(&self) -> Vec<f64> {
        let log_z = self.log_partition();
        if !log_z.is_finite() {
            return vec![0.0; self.values.len()];
        }
        self.values.iter().map(|v| (v - log_z).exp()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> Domain {
        Domain::new(vec![2, 3, 2]).unwrap()
    }

    #[test]
    fn product_then_project_matches_hand_computation() {
        let d = domain();
        let a = Factor::from_probabilities(&d, Clique::from([0, 1]), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let b = Factor::from_probabilities(&d, Clique::from([1, 2]), &[1.0, 0.0, 1.0, 1.0, 0.0, 2.0]).unwrap();
        let p = a.product(&b).unwrap();
        assert_eq!(p.clique().attrs(), &[0, 1, 2]);
        // Σ over attribute 1 of a(x0,x1) b(x1,x2).
        let m = p.project(&Clique::from([0, 2])).unwrap().exp();
        let expect = [1.0 + 2.0 + 0.0, 0.0 + 2.0 + 6.0, 4.0 + 5.0 + 0.0, 0.0 + 5.0 + 12.0];
        for (x, y) in m.iter().zip(expect) {
            assert!((x - y).abs() < 1e-12, "{m:?}");
        }
        assert_eq!(p.marginalise(&Clique::from([1])).clique().attrs(), &[0, 2]);
    }

    #[test]
    fn sum_adds_probabilities_with_broadcasting() {
        let d = domain();
        let a = Factor::from_probabilities(&d, Clique::from([0]), &[1.0, 0.0]).unwrap();
        let b = Factor::from_probabilities(&d, Clique::from([2]), &[2.0, 0.0]).unwrap();
        let s = a.sum(&b).unwrap();
        assert_eq!(s.clique().attrs(), &[0, 2]);
        let p = s.exp();
        let expect = [3.0, 1.0, 2.0, 0.0];
        assert!(p.iter().zip(expect).all(|(x, y)| (x - y).abs() < 1e-12), "{p:?}");
    }

    #[test]
    fn broadcast_is_constant_along_new_axes() {
        let d = domain();
        let a = Factor::new(&d, Clique::from([1]), vec![0.5, 1.5, -2.0]).unwrap();
        let b = a.broadcast(&d, &Clique::from([0, 1, 2])).unwrap();
        assert_eq!(b.log_values().len(), 12);
        assert_eq!(&b.log_values()[..6], &[0.5, 0.5, 1.5, 1.5, -2.0, -2.0]);
        assert!(a.broadcast(&d, &Clique::from([0])).is_err());
    }

    #[test]
    fn invalid_values_are_refused() {
        let d = domain();
        assert!(matches!(
            Factor::new(&d, Clique::from([0]), vec![0.0, f64::NAN]),
            Err(PgmError::InvalidValue { cell: 1, .. })
        ));
        assert!(matches!(
            Factor::new(&d, Clique::from([0]), vec![0.0]),
            Err(PgmError::ValueCount { .. })
        ));
        assert!(Factor::new(&d, Clique::from([0]), vec![0.0, f64::NEG_INFINITY]).is_ok());
        assert!(Factor::from_probabilities(&d, Clique::from([0]), &[-1.0, 1.0]).is_err());
    }

    #[test]
    fn normalise_gives_unit_mass() {
        let d = domain();
        let a = Factor::new(&d, Clique::from([1]), vec![700.0, 701.0, f64::NEG_INFINITY]).unwrap();
        let p = a.normalise().probabilities();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(p[2], 0.0);
    }
}
