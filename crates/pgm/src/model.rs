//! The fitted model: potentials on a junction tree, calibrated marginals, sampling.

use rand::Rng;

use crate::clique_vector::CliqueVector;
use crate::domain::{Clique, Domain};
use crate::elimination::eliminate;
use crate::error::{PgmError, Result};
use crate::factor::{Factor, subset_map};
use crate::inference::MessagePassing;
use crate::junction_tree::JunctionTree;
use crate::kernel::logsumexp_projection;
use crate::sample::{SamplingMethod, sample};

/// A marginal table of a model: expected counts (probability × total) over a clique, row-major in
/// the clique's attribute order.
#[derive(Debug, Clone, PartialEq)]
pub struct Marginal {
    /// The attributes of the table.
    pub clique: Clique,
    /// Expected counts, one per cell.
    pub counts: Vec<f64>,
}

/// A discrete graphical model `p(x) ∝ Π_c exp θ_c(x_c)` with potentials `θ` on the cliques of a
/// junction tree, scaled to `total` records. Built calibrated: every clique marginal is computed
/// once, so marginals of sets inside a clique are a projection.
#[derive(Debug, Clone)]
pub struct GraphicalModel {
    domain: Domain,
    tree: JunctionTree,
    potentials: CliqueVector,
    /// The potentials summed into the tree cliques (same order as the tree's cliques).
    tree_potentials: Vec<Vec<f64>>,
    total: f64,
    log_beliefs: Vec<Vec<f64>>,
    log_partition: f64,
}

impl GraphicalModel {
    /// The model with the given potentials (over any cliques), on the junction tree of their
    /// cliques, scaled to `total` records.
    pub fn new(domain: Domain, potentials: &CliqueVector, total: f64) -> Result<GraphicalModel> {
        let cliques: Vec<Clique> = potentials.cliques().cloned().collect();
        let tree = JunctionTree::new(&domain, &cliques)?;
        GraphicalModel::with_tree(domain, tree, potentials, total)
    }

    /// The model with the given potentials on a given junction tree; every potential's clique must
    /// be inside a tree clique.
    pub fn with_tree(
        domain: Domain,
        tree: JunctionTree,
        potentials: &CliqueVector,
        total: f64,
    ) -> Result<GraphicalModel> {
        if !(total.is_finite() && total > 0.0) {
            return Err(PgmError::InvalidTotal { total });
        }
        for factor in potentials.factors() {
            if factor.shape() != domain.shape(factor.clique())? {
                return Err(PgmError::ValueCount {
                    clique: factor.clique().attrs().to_vec(),
                    expected: domain.table_size(factor.clique())?,
                    found: factor.log_values().len(),
                });
            }
        }
        let mut engine = MessagePassing::new(&domain, &tree)?;
        let expanded = potentials.expand(&domain, tree.cliques())?;
        let tree_potentials: Vec<Vec<f64>> = tree
            .cliques()
            .iter()
            .map(|c| expanded.get(c).map(|f| f.log_values().to_vec()).unwrap_or_default())
            .collect();
        let mut log_beliefs: Vec<Vec<f64>> = engine.sizes().iter().map(|&n| vec![0.0; n]).collect();
        let mut probabilities = log_beliefs.clone();
        let log_partition = engine.calibrate(&tree_potentials, &mut log_beliefs, &mut probabilities)?;
        Ok(GraphicalModel {
            domain,
            tree,
            potentials: potentials.clone(),
            tree_potentials,
            total,
            log_beliefs,
            log_partition,
        })
    }

    /// Assembles a model from an already calibrated state (used by estimation).
    pub(crate) fn from_calibrated(
        domain: Domain,
        tree: JunctionTree,
        potentials: CliqueVector,
        tree_potentials: Vec<Vec<f64>>,
        log_beliefs: Vec<Vec<f64>>,
        log_partition: f64,
        total: f64,
    ) -> GraphicalModel {
        GraphicalModel {
            domain,
            tree,
            potentials,
            tree_potentials,
            total,
            log_beliefs,
            log_partition,
        }
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The junction tree.
    pub fn tree(&self) -> &JunctionTree {
        &self.tree
    }

    /// The potentials the model was built from (for a fitted model: one factor per measured
    /// clique, plus structural-zero masks and warm-start factors). Pass them as the warm start of
    /// a larger model.
    pub fn potentials(&self) -> &CliqueVector {
        &self.potentials
    }

    /// The number of records the model is scaled to.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// `ln Z`, the log partition function of the potentials.
    pub fn log_partition(&self) -> f64 {
        self.log_partition
    }

    /// The marginal over `clique` as expected counts. A clique inside a tree clique is a
    /// projection of that clique's calibrated marginal; any other clique is computed exactly by
    /// variable elimination over the calibrated tree (cost grows with the tables elimination
    /// builds; a table past the cell limit is an error).
    pub fn marginal(&self, clique: &Clique) -> Result<Marginal> {
        Ok(Marginal {
            clique: clique.clone(),
            counts: self.scale(self.log_marginal(clique)?.log_values()),
        })
    }

    /// The normalised log-probability table over `clique` (see [`marginal`](Self::marginal)).
    pub fn log_marginal(&self, clique: &Clique) -> Result<Factor> {
        self.domain.check(clique)?;
        match self.tree.containing_clique(&self.domain, clique) {
            Some(t) => {
                let tree_clique = &self.tree.cliques()[t];
                let shape = self.domain.shape(tree_clique)?;
                let cells = self.domain.table_size(clique)?;
                let map = subset_map(tree_clique, &shape, clique);
                let values = logsumexp_projection(&self.log_beliefs[t], &map, cells);
                Ok(Factor::from_parts(clique.clone(), self.domain.shape(clique)?, values))
            }
            None => eliminate(&self.domain, &self.tree, &self.log_beliefs, clique),
        }
    }

    fn scale(&self, log_probabilities: &[f64]) -> Vec<f64> {
        log_probabilities.iter().map(|l| l.exp() * self.total).collect()
    }

    /// The calibrated marginal of tree clique `i`, as expected counts.
    pub fn clique_marginal(&self, i: usize) -> Option<Marginal> {
        let clique = self.tree.cliques().get(i)?;
        Some(Marginal {
            clique: clique.clone(),
            counts: self.scale(&self.log_beliefs[i]),
        })
    }

    /// `ln p(record)`; the record holds one code per attribute.
    pub fn log_probability(&self, record: &[u32]) -> Result<f64> {
        if record.len() != self.domain.len() {
            return Err(PgmError::RecordLength {
                expected: self.domain.len(),
                found: record.len(),
            });
        }
        for (attr, (&code, &size)) in record.iter().zip(self.domain.sizes()).enumerate() {
            if code as usize >= size {
                return Err(PgmError::CodeOutOfRange { attr, code, size });
            }
        }
        let mut sum = -self.log_partition;
        for (clique, values) in self.tree.cliques().iter().zip(&self.tree_potentials) {
            let mut index = 0usize;
            for &a in clique.attrs() {
                index = index * self.domain.sizes()[a] + record[a] as usize;
            }
            sum += values[index];
        }
        Ok(sum)
    }

    /// `rows` synthetic records drawn by `method`, as columns: `columns[attr][row]`. Every record
    /// has positive probability under the model (structural zeros are never produced).
    pub fn sample<R: Rng + ?Sized>(&self, rows: usize, method: SamplingMethod, rng: &mut R) -> Result<Vec<Vec<u32>>> {
        sample(&self.domain, &self.tree, &self.log_beliefs, rows, method, rng)
    }
}
