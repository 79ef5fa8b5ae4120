//! Exact marginal inference: sum-product belief propagation in log space on a junction tree
//! (Hugin-style two-pass schedule: collect towards the roots, then distribute back; Lauritzen &
//! Spiegelhalter 1988, Jensen, Lauritzen & Olesen 1990; Koller & Friedman 2009, §10.3).

use crate::domain::Domain;
use crate::error::{PgmError, Result};
use crate::factor::subset_map;
use crate::junction_tree::JunctionTree;
use crate::kernel::{broadcast_add, log_sub, logsumexp, logsumexp_project};

/// Index maps of one tree edge (child → parent) onto their separator.
#[derive(Debug, Clone)]
struct Edge {
    child: usize,
    parent: usize,
    child_map: Vec<u32>,
    parent_map: Vec<u32>,
}

/// A calibration plan for one junction tree: the index maps of every edge, computed once, and
/// scratch buffers, so that calibrating allocates nothing.
#[derive(Debug, Clone)]
pub(crate) struct MessagePassing {
    /// Cells of each clique's table.
    sizes: Vec<usize>,
    /// Edges in collect order (every child before its parent).
    edges: Vec<Edge>,
    /// For each clique, the root of its tree.
    root_of: Vec<usize>,
    roots: Vec<usize>,
    /// Attributes of each root clique (for error messages).
    root_cliques: Vec<Vec<usize>>,
    /// Scratch: `ln Z` of each tree, by root.
    log_z: Vec<f64>,
    /// Upward message of each edge (same index as `edges`).
    up: Vec<Vec<f64>>,
    /// Scratch: a separator-sized message and the per-cell maxima of log-sum-exp.
    down: Vec<f64>,
    max: Vec<f64>,
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
                child_map: subset_map(&cliques[child], &shapes[child], separator),
                parent_map: subset_map(&cliques[parent], &shapes[parent], separator),
            });
            up.push(vec![0.0; cells]);
        }
        let mut root_of = vec![0; cliques.len()];
        for &c in tree.order() {
            root_of[c] = tree.parent(c).map_or(c, |p| root_of[p]);
        }
        Ok(MessagePassing {
            sizes,
            edges,
            root_of,
            roots: tree.roots().collect(),
            root_cliques: tree.roots().map(|r| cliques[r].attrs().to_vec()).collect(),
            log_z: vec![0.0; cliques.len()],
            up,
            down: vec![0.0; largest_separator],
            max: vec![0.0; largest_separator],
        })
    }

    /// Cells of each clique's table.
    pub(crate) fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Calibrates: from log-potentials `theta` (one table per tree clique) computes log-beliefs,
    /// normalised so that each clique's table is its log-marginal probability. Returns `ln Z`,
    /// the log partition function of the whole model (the sum over the trees of the forest).
    pub(crate) fn calibrate(&mut self, theta: &[Vec<f64>], beliefs: &mut [Vec<f64>]) -> Result<f64> {
        debug_assert_eq!(theta.len(), beliefs.len());
        for (b, t) in beliefs.iter_mut().zip(theta) {
            b.copy_from_slice(t);
        }
        // Collect: children send to parents.
        for (edge, up) in self.edges.iter().zip(self.up.iter_mut()) {
            let max = &mut self.max[..up.len()];
            logsumexp_project(&beliefs[edge.child], &edge.child_map, up, max);
            broadcast_add(&mut beliefs[edge.parent], &edge.parent_map, up, 1.0);
        }
        // Distribute: parents send back, dividing out what the child sent (in log space).
        for (edge, up) in self.edges.iter().zip(self.up.iter()).rev() {
            let down = &mut self.down[..up.len()];
            let max = &mut self.max[..up.len()];
            logsumexp_project(&beliefs[edge.parent], &edge.parent_map, down, max);
            for (d, &u) in down.iter_mut().zip(up.iter()) {
                *d = log_sub(*d, u);
            }
            broadcast_add(&mut beliefs[edge.child], &edge.child_map, down, 1.0);
        }
        // Normalise each tree by its partition function.
        let mut log_z_total = 0.0;
        for (&root, clique) in self.roots.iter().zip(&self.root_cliques) {
            let z = logsumexp(&beliefs[root]);
            if !z.is_finite() {
                return Err(PgmError::EmptySupport { clique: clique.clone() });
            }
            self.log_z[root] = z;
            log_z_total += z;
        }
        for (c, b) in beliefs.iter_mut().enumerate() {
            let z = self.log_z[self.root_of[c]];
            b.iter_mut().for_each(|v| *v -= z);
        }
        Ok(log_z_total)
    }
}
