//! A vector indexed by cliques: one factor per clique, with vector arithmetic.

use std::collections::BTreeMap;

use crate::domain::{Clique, Domain};
use crate::error::{PgmError, Result};
use crate::factor::Factor;
use crate::kernel::broadcast_add;

/// A map from cliques to factors, treated as one long vector (the concatenation of the factors'
/// log-values in clique order) for arithmetic. Potentials of a model are a clique vector.
///
/// Arithmetic on `-∞` entries follows IEEE rules: adding keeps `-∞`, scaling by 0 gives NaN, and
/// `dot`/`norm` of a vector holding `-∞` are not finite.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CliqueVector {
    factors: BTreeMap<Clique, Factor>,
}

impl CliqueVector {
    /// The empty clique vector.
    pub fn new() -> CliqueVector {
        CliqueVector::default()
    }

    /// Zero factors over the given cliques (repeated cliques appear once).
    pub fn zeros(domain: &Domain, cliques: &[Clique]) -> Result<CliqueVector> {
        let mut out = CliqueVector::new();
        for clique in cliques {
            out.factors
                .insert(clique.clone(), Factor::zeros(domain, clique.clone())?);
        }
        Ok(out)
    }

    /// A clique vector from factors; factors over the same clique are added (multiplied as
    /// potentials).
    pub fn from_factors(factors: impl IntoIterator<Item = Factor>) -> CliqueVector {
        let mut out = CliqueVector::new();
        for factor in factors {
            out.accumulate(factor);
        }
        out
    }

    fn accumulate(&mut self, factor: Factor) {
        match self.factors.get_mut(factor.clique()) {
            Some(existing) => {
                existing
                    .log_values_mut()
                    .iter_mut()
                    .zip(factor.log_values())
                    .for_each(|(a, b)| *a += b);
            }
            None => {
                self.factors.insert(factor.clique().clone(), factor);
            }
        }
    }

    /// Inserts a factor, returning the one it replaces.
    pub fn insert(&mut self, factor: Factor) -> Option<Factor> {
        self.factors.insert(factor.clique().clone(), factor)
    }

    /// The factor over `clique`, if any.
    pub fn get(&self, clique: &Clique) -> Option<&Factor> {
        self.factors.get(clique)
    }

    /// The cliques, in order.
    pub fn cliques(&self) -> impl Iterator<Item = &Clique> {
        self.factors.keys()
    }

    /// The factors, in clique order.
    pub fn factors(&self) -> impl Iterator<Item = &Factor> {
        self.factors.values()
    }

    /// Number of cliques.
    pub fn len(&self) -> usize {
        self.factors.len()
    }

    /// True when there is no clique.
    pub fn is_empty(&self) -> bool {
        self.factors.is_empty()
    }

    fn check_same_cliques(&self, other: &CliqueVector) -> Result<()> {
        for clique in self.factors.keys() {
            if !other.factors.contains_key(clique) {
                return Err(PgmError::CliqueMismatch {
                    clique: clique.attrs().to_vec(),
                });
            }
        }
        for clique in other.factors.keys() {
            if !self.factors.contains_key(clique) {
                return Err(PgmError::CliqueMismatch {
                    clique: clique.attrs().to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Element-wise sum; both vectors must have the same cliques.
    pub fn add(&self, other: &CliqueVector) -> Result<CliqueVector> {
        self.check_same_cliques(other)?;
        let mut out = self.clone();
        for (clique, factor) in out.factors.iter_mut() {
            if let Some(o) = other.factors.get(clique) {
                factor
                    .log_values_mut()
                    .iter_mut()
                    .zip(o.log_values())
                    .for_each(|(a, b)| *a += b);
            }
        }
        Ok(out)
    }

    /// Every value multiplied by `c`.
    pub fn scale(&self, c: f64) -> CliqueVector {
        let mut out = self.clone();
        for factor in out.factors.values_mut() {
            factor.log_values_mut().iter_mut().for_each(|v| *v *= c);
        }
        out
    }

    /// Inner product; both vectors must have the same cliques.
    pub fn dot(&self, other: &CliqueVector) -> Result<f64> {
        self.check_same_cliques(other)?;
        let mut sum = 0.0;
        for (clique, factor) in &self.factors {
            if let Some(o) = other.factors.get(clique) {
                sum += factor
                    .log_values()
                    .iter()
                    .zip(o.log_values())
                    .map(|(a, b)| a * b)
                    .sum::<f64>();
            }
        }
        Ok(sum)
    }

    /// Euclidean norm of the concatenated values.
    pub fn norm(&self) -> f64 {
        self.factors
            .values()
            .flat_map(|f| f.log_values())
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt()
    }

    /// Re-expresses the vector over `cliques`: each factor is broadcast into (added to) the
    /// smallest target clique that contains it, so that the product of potentials — the model —
    /// is unchanged. Used to warm-start a larger model from a smaller one.
    pub fn expand(&self, domain: &Domain, cliques: &[Clique]) -> Result<CliqueVector> {
        let mut out = CliqueVector::zeros(domain, cliques)?;
        for factor in self.factors.values() {
            let target = cliques
                .iter()
                .filter(|c| factor.clique().is_subset(c))
                .min_by_key(|c| domain.table_size(c).unwrap_or(usize::MAX))
                .ok_or_else(|| PgmError::NotInModel {
                    clique: factor.clique().attrs().to_vec(),
                })?;
            let dst = out.factors.get_mut(target).ok_or_else(|| PgmError::NotInModel {
                clique: target.attrs().to_vec(),
            })?;
            let map = crate::factor::subset_map(target, dst.shape(), factor.clique());
            broadcast_add(dst.log_values_mut(), &map, factor.log_values(), 1.0);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_over_matching_cliques() {
        let d = Domain::new(vec![2, 2]).unwrap();
        let a = CliqueVector::from_factors([
            Factor::new(&d, Clique::from([0]), vec![1.0, 2.0]).unwrap(),
            Factor::new(&d, Clique::from([1]), vec![3.0, 4.0]).unwrap(),
        ]);
        let b = a.scale(2.0);
        assert_eq!(a.dot(&b).unwrap(), 2.0 * (1.0 + 4.0 + 9.0 + 16.0));
        assert!((a.norm() - 30f64.sqrt()).abs() < 1e-12);
        let c = a.add(&b).unwrap();
        assert_eq!(c.get(&Clique::from([1])).unwrap().log_values(), &[9.0, 12.0]);
        let other = CliqueVector::zeros(&d, &[Clique::from([0])]).unwrap();
        assert!(matches!(a.add(&other), Err(PgmError::CliqueMismatch { .. })));
    }

    #[test]
    fn expand_keeps_the_product_of_potentials() {
        let d = Domain::new(vec![2, 3]).unwrap();
        let a = CliqueVector::from_factors([
            Factor::new(&d, Clique::from([0]), vec![1.0, 2.0]).unwrap(),
            Factor::new(&d, Clique::from([1]), vec![3.0, 4.0, 5.0]).unwrap(),
        ]);
        let e = a.expand(&d, &[Clique::from([0, 1])]).unwrap();
        let f = e.get(&Clique::from([0, 1])).unwrap();
        assert_eq!(f.log_values(), &[4.0, 5.0, 6.0, 5.0, 6.0, 7.0]);
        assert!(matches!(
            a.expand(&d, &[Clique::from([0])]),
            Err(PgmError::NotInModel { .. })
        ));
    }
}
