//! Exact marginal inference: sum-product belief propagation in log space on a junction tree
//! (Hugin-style two-pass schedule: collect towards the roots, then distribute back; Lauritzen &
//! Spiegelhalter 1988, Jensen, Lauritzen & Olesen 1990; Koller & Friedman 2009, §10.3).

use crate::domain::Domain;
use crate::error::{PgmError, Result};
use crate::factor::subset_projection;
use crate::junction_tree::JunctionTree;
use crate::kernel::{Projection, block_sum, exp_shifted, log_sub};

/// Index maps of one tree edge (child → parent) onto their separator.
#[derive(Debug, Clone)]
struct Edge {
    child: usize,
    parent: usize,
    child_map: Projection,
    parent_map: Projection,
}

/// A calibration plan for one junction tree: the index maps of every edge, computed once, and
/// scratch buffers, so that calibrating allocates nothing.
#[derive(Debug, Clone)]
pub(crate) struct MessagePassing {
    /// Cells of each clique's table.
    sizes: Vec<usize>,
    /// Edges in collect order (every child before its parent).
    edges: Vec<Edge>,
    roots: Vec<usize>,
    /// Attributes of each root clique (for error messages).
    root_cliques: Vec<Vec<usize>>,
    /// Upward message of each edge (same index as `edges`).
    up: Vec<Vec<f64>>,
    /// Scratch: a separator-sized message and the per-cell maxima of log-sum-exp.
    down: Vec<f64>,
    max: Vec<f64>,
    /// Scratch of the largest clique's size for log-sum-exp.
    shifted: Vec<f64>,
}

impl MessagePassing {
    /// Builds the index maps of `tree`. Fails if a clique table exceeds the cell limit.
    pub(crate) fn new(domain: &Domain, tree: &JunctionTree) -> Result<MessagePassing> {
        let cliques = tree.cliques();
        let mut sizes = Vec::with_capacity(cliques.len());
        let mut shapes = Vec::with_capacity(cliques.len());
        for clique in cliques {
            sizes.push(domain.table_size(clique)?);
            shapes.push(domain.shape(clique)?);
        }
        let mut edges = Vec::new();
        let mut up = Vec::new();
        let mut largest_separator = 1;
        for &child in tree.order().iter().rev() {
            let Some(parent) = tree.parent(child) else { continue };
            let separator = tree.separator(child);
            let cells = domain.table_size(separator)?;
            largest_separator = largest_separator.max(cells);
            edges.push(Edge {
                child,
                parent,
                child_map: subset_projection(&cliques[child], &shapes[child], separator),
                parent_map: subset_projection(&cliques[parent], &shapes[parent], separator),
            });
            up.push(vec![0.0; cells]);
        }
        let largest_clique = sizes.iter().copied().max().unwrap_or(0);
        Ok(MessagePassing {
            sizes,
            edges,
            roots: tree.roots().collect(),
            root_cliques: tree.roots().map(|r| cliques[r].attrs().to_vec()).collect(),
            up,
            down: vec![0.0; largest_separator],
            max: vec![0.0; largest_separator],
            shifted: vec![0.0; largest_clique],
        })
    }

    /// Cells of each clique's table.
    pub(crate) fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Calibrates: from log-potentials `theta` (one table per tree clique) computes every clique's
    /// normalised log-marginal into `log_beliefs` and its marginal probabilities into
    /// `probabilities`. Returns `ln Z`, the log partition function of the whole model (the sum
    /// over the trees of the forest).
    ///
    /// Collect runs in log space with a per-separator-cell maximum, because partial products
    /// can be far from calibrated. Distribute starts from calibrated marginals: each clique's
    /// probabilities are exponentiated once, as soon as its belief is final, and projected onto
    /// each child's separator by plain sums. A separator cell whose probability underflows
    /// (below ~1e-308) is then treated as zero; nothing that is returned in probability space can
    /// tell the difference.
    pub(crate) fn calibrate(
        &mut self,
        theta: &[Vec<f64>],
        log_beliefs: &mut [Vec<f64>],
        probabilities: &mut [Vec<f64>],
    ) -> Result<f64> {
        debug_assert_eq!(theta.len(), log_beliefs.len());
        debug_assert_eq!(theta.len(), probabilities.len());
        for (b, t) in log_beliefs.iter_mut().zip(theta) {
            b.copy_from_slice(t);
        }
        // Collect: children send to parents.
        for (edge, up) in self.edges.iter().zip(self.up.iter_mut()) {
            let max = &mut self.max[..up.len()];
            let shifted = &mut self.shifted[..edge.child_map.len()];
            edge.child_map.logsumexp(&log_beliefs[edge.child], up, max, shifted);
            edge.parent_map.broadcast_add(&mut log_beliefs[edge.parent], up, 1.0);
        }
        // Roots: normalise by the tree's partition function.
        let mut log_z_total = 0.0;
        for (&root, clique) in self.roots.iter().zip(&self.root_cliques) {
            let (beliefs, probabilities) = (&mut log_beliefs[root], &mut probabilities[root]);
            let max = beliefs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if max == f64::NEG_INFINITY {
                return Err(PgmError::EmptySupport { clique: clique.clone() });
            }
            exp_shifted(beliefs, max, probabilities);
            let sum = block_sum(probabilities);
            let z = max + sum.ln();
            log_z_total += z;
            probabilities.iter_mut().for_each(|p| *p /= sum);
            beliefs.iter_mut().for_each(|b| *b -= z);
        }
        // Distribute: parents (final) send back their separator marginal divided by what the
        // child sent; the child is then final too.
        for (edge, up) in self.edges.iter().zip(self.up.iter()).rev() {
            let down = &mut self.down[..up.len()];
            edge.parent_map.sum(&probabilities[edge.parent], down);
            for (d, &u) in down.iter_mut().zip(up.iter()) {
                *d = log_sub(d.ln(), u);
            }
            let child = &mut log_beliefs[edge.child];
            edge.child_map.broadcast_add(child, down, 1.0);
            exp_shifted(child, 0.0, &mut probabilities[edge.child]);
        }
        Ok(log_z_total)
    }
}
