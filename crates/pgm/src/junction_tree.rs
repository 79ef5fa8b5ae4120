//! Junction trees: triangulation by greedy min-fill, maximal cliques, and a maximum-weight
//! spanning tree over the clique graph (Koller & Friedman 2009, §9.4 and §10.4; Jensen & Jensen
//! 1994 for the spanning-tree construction).

use crate::domain::{Clique, Domain};
use crate::error::Result;

/// A junction tree (a forest when the interaction graph is disconnected) over the maximal cliques
/// of a triangulation of the interaction graph of some cliques. It covers every attribute of the
/// domain: an attribute in no input clique becomes a singleton clique of its own.
///
/// Running intersection holds: for any two cliques, their intersection lies in every clique on
/// the path between them. Each tree is rooted at its largest clique; [`order`] lists the
/// cliques so that each comes after its parent (roots first), which is the distribute order of
/// message passing and, reversed, the collect order.
///
/// [`order`]: JunctionTree::order
#[derive(Debug, Clone, PartialEq)]
pub struct JunctionTree {
    cliques: Vec<Clique>,
    parent: Vec<Option<usize>>,
    separators: Vec<Clique>,
    order: Vec<usize>,
    elimination_order: Vec<usize>,
    elimination_cliques: Vec<Clique>,
    model_size: u128,
}

/// Number of cells of all tables of the junction tree built from `cliques` (saturating at
/// `u128::MAX`). Memory in MiB is `cells · 8 / 2²⁰`; AIM caps this for candidate models.
pub fn model_size(domain: &Domain, cliques: &[Clique]) -> Result<u128> {
    Ok(JunctionTree::new(domain, cliques)?.model_size())
}

/// Greedy min-fill elimination of the interaction graph. Returns the elimination order and, for
/// each step, the eliminated attribute with its neighbours at that time (the elimination clique).
fn triangulate(domain: &Domain, cliques: &[Clique]) -> (Vec<usize>, Vec<Clique>) {
    let d = domain.len();
    let mut adj = vec![vec![false; d]; d];
    for clique in cliques {
        for &a in clique.attrs() {
            for &b in clique.attrs() {
                if a != b {
                    adj[a][b] = true;
                }
            }
        }
    }
    let log_size: Vec<f64> = domain.sizes().iter().map(|&s| (s as f64).ln()).collect();
    let mut alive = vec![true; d];
    let mut order = Vec::with_capacity(d);
    let mut elimination_cliques = Vec::with_capacity(d);
    let mut neighbours: Vec<usize> = Vec::with_capacity(d);
    for _ in 0..d {
        // (fill edges, log table size of the elimination clique, attribute)
        let mut best: Option<(usize, f64, usize)> = None;
        for v in (0..d).filter(|&v| alive[v]) {
            neighbours.clear();
            neighbours.extend((0..d).filter(|&u| alive[u] && adj[v][u]));
            let mut fill = 0;
            for (i, &a) in neighbours.iter().enumerate() {
                fill += neighbours[i + 1..].iter().filter(|&&b| !adj[a][b]).count();
            }
            let size = log_size[v] + neighbours.iter().map(|&u| log_size[u]).sum::<f64>();
            let better = match best {
                None => true,
                Some((bf, bs, _)) => fill < bf || (fill == bf && size < bs - 1e-12),
            };
            if better {
                best = Some((fill, size, v));
            }
        }
        let Some((_, _, v)) = best else { break };
        neighbours.clear();
        neighbours.extend((0..d).filter(|&u| alive[u] && adj[v][u]));
        for &a in &neighbours {
            for &b in &neighbours {
                if a != b {
                    adj[a][b] = true;
                }
            }
        }
        alive[v] = false;
        order.push(v);
        elimination_cliques.push(Clique::new(neighbours.iter().copied().chain([v])));
    }
    (order, elimination_cliques)
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

impl JunctionTree {
    /// The junction tree of the interaction graph of `cliques` over `domain`. Empty cliques are
    /// ignored; attributes in no clique become singleton cliques. Never fails for large tables:
    /// check [`model_size`](JunctionTree::model_size) before building tables.
    pub fn new(domain: &Domain, cliques: &[Clique]) -> Result<JunctionTree> {
        for clique in cliques {
            domain.check(clique)?;
        }
        let (elimination_order, elimination_cliques) = triangulate(domain, cliques);

        // Maximal cliques among the elimination cliques (every maximal clique of a chordal graph
        // is the elimination clique of some vertex under a perfect elimination order).
        let mut by_size: Vec<usize> = (0..elimination_cliques.len()).collect();
        by_size.sort_by_key(|&i| std::cmp::Reverse(elimination_cliques[i].len()));
        let mut keep = vec![false; elimination_cliques.len()];
        let mut kept: Vec<usize> = Vec::new();
        for &i in &by_size {
            if !kept
                .iter()
                .any(|&k| elimination_cliques[i].is_subset(&elimination_cliques[k]))
            {
                kept.push(i);
                keep[i] = true;
            }
        }
        let tree_cliques: Vec<Clique> = elimination_cliques
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c.clone())
            .collect();

        // Maximum-weight spanning forest of the clique graph, weight = separator size (Kruskal).
        let k = tree_cliques.len();
        let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
        for i in 0..k {
            for j in i + 1..k {
                let w = tree_cliques[i].intersection(&tree_cliques[j]).len();
                if w > 0 {
                    pairs.push((w, i, j));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut uf: Vec<usize> = (0..k).collect();
        let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (_, i, j) in pairs {
            let (ri, rj) = (find(&mut uf, i), find(&mut uf, j));
            if ri != rj {
                uf[ri] = rj;
                neighbours[i].push(j);
                neighbours[j].push(i);
            }
        }
        for n in &mut neighbours {
            n.sort_unstable();
        }

        // Root each tree at its largest clique (ties: lowest index): collect then never has to
        // log-sum-exp the largest table. Trees are listed by their lowest-numbered clique;
        // breadth-first order within each.
        let mut cells = Vec::with_capacity(k);
        for clique in &tree_cliques {
            cells.push(domain.cells(clique)?.unwrap_or(u128::MAX));
        }
        let mut largest: Vec<Option<usize>> = vec![None; k];
        for i in 0..k {
            let r = find(&mut uf, i);
            if largest[r].is_none_or(|l| cells[i] > cells[l]) {
                largest[r] = Some(i);
            }
        }
        let mut parent = vec![None; k];
        let mut seen = vec![false; k];
        let mut order = Vec::with_capacity(k);
        for first in 0..k {
            if seen[first] {
                continue;
            }
            let root = largest[find(&mut uf, first)].unwrap_or(first);
            seen[root] = true;
            let start = order.len();
            order.push(root);
            let mut head = start;
            while head < order.len() {
                let c = order[head];
                head += 1;
                for &n in &neighbours[c] {
                    if !seen[n] {
                        seen[n] = true;
                        parent[n] = Some(c);
                        order.push(n);
                    }
                }
            }
        }
        let separators = (0..k)
            .map(|i| parent[i].map_or_else(Clique::empty, |p| tree_cliques[i].intersection(&tree_cliques[p])))
            .collect();
        let model_size = cells.iter().fold(0u128, |acc, &c| acc.saturating_add(c));
        Ok(JunctionTree {
            cliques: tree_cliques,
            parent,
            separators,
            order,
            elimination_order,
            elimination_cliques,
            model_size,
        })
    }

    /// The maximal cliques (nodes of the tree).
    pub fn cliques(&self) -> &[Clique] {
        &self.cliques
    }

    /// The parent of clique `i`, `None` for a root.
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parent.get(i).copied().flatten()
    }

    /// The separator between clique `i` and its parent (empty for a root).
    pub fn separator(&self, i: usize) -> &Clique {
        &self.separators[i]
    }

    /// The edges as `(child, parent)` pairs, in the order of [`order`](JunctionTree::order).
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.order.iter().filter_map(|&c| self.parent[c].map(|p| (c, p)))
    }

    /// Cliques ordered so that each comes after its parent (roots first in each tree).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The roots, one per connected component.
    pub fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().copied().filter(|&c| self.parent[c].is_none())
    }

    /// The attributes in the greedy min-fill elimination order used to triangulate.
    pub fn elimination_order(&self) -> &[usize] {
        &self.elimination_order
    }

    /// For each step of [`elimination_order`](JunctionTree::elimination_order), the eliminated
    /// attribute together with its neighbours then (all eliminated later). Each is contained in a
    /// clique of the tree, and an attribute is independent of all later-eliminated ones given
    /// the rest of its elimination clique.
    pub fn elimination_cliques(&self) -> &[Clique] {
        &self.elimination_cliques
    }

    /// Total cells of the clique tables (saturating).
    pub fn model_size(&self) -> u128 {
        self.model_size
    }

    /// The index of the smallest tree clique containing `clique`.
    pub fn containing_clique(&self, domain: &Domain, clique: &Clique) -> Option<usize> {
        (0..self.cliques.len())
            .filter(|&i| clique.is_subset(&self.cliques[i]))
            .min_by_key(|&i| domain.cells(&self.cliques[i]).ok().flatten().unwrap_or(u128::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running_intersection_holds(tree: &JunctionTree) -> bool {
        // For every attribute, the cliques containing it form a connected subtree: exactly one of
        // them has its parent outside the set (or no parent).
        let d = tree.cliques.iter().flat_map(|c| c.attrs()).max().map_or(0, |m| m + 1);
        (0..d).all(|a| {
            let holding: Vec<usize> = (0..tree.cliques.len())
                .filter(|&i| tree.cliques[i].contains(a))
                .collect();
            holding
                .iter()
                .filter(|&&i| tree.parent(i).is_none_or(|p| !tree.cliques[p].contains(a)))
                .count()
                == 1
        })
    }

    #[test]
    fn cycle_is_triangulated() {
        let d = Domain::new(vec![2; 4]).unwrap();
        let cycle = [
            Clique::from([0, 1]),
            Clique::from([1, 2]),
            Clique::from([2, 3]),
            Clique::from([0, 3]),
        ];
        let tree = JunctionTree::new(&d, &cycle).unwrap();
        assert_eq!(tree.cliques().len(), 2);
        assert!(tree.cliques().iter().all(|c| c.len() == 3));
        assert_eq!(tree.model_size(), 16);
        assert!(running_intersection_holds(&tree));
        assert_eq!(tree.edges().count(), 1);
    }

    #[test]
    fn disconnected_attributes_make_a_forest() {
        let d = Domain::new(vec![2, 3, 4, 5]).unwrap();
        let tree = JunctionTree::new(&d, &[Clique::from([0, 1])]).unwrap();
        assert_eq!(tree.cliques().len(), 3);
        assert_eq!(tree.roots().count(), 3);
        assert_eq!(tree.model_size(), 6 + 4 + 5);
        assert_eq!(
            tree.containing_clique(&d, &Clique::from([1])),
            Some(tree.cliques().iter().position(|c| c.len() == 2).unwrap())
        );
        assert_eq!(tree.containing_clique(&d, &Clique::from([1, 2])), None);
    }

    #[test]
    fn chain_stays_a_chain() {
        let d = Domain::new(vec![3; 6]).unwrap();
        let chain: Vec<Clique> = (0..5).map(|i| Clique::from([i, i + 1])).collect();
        let tree = JunctionTree::new(&d, &chain).unwrap();
        assert_eq!(tree.cliques().len(), 5);
        assert!(tree.cliques().iter().all(|c| c.len() == 2));
        assert!(running_intersection_holds(&tree));
        assert_eq!(tree.elimination_order().len(), 6);
    }

    #[test]
    fn model_size_saturates_instead_of_failing() {
        let d = Domain::new(vec![1 << 30; 8]).unwrap();
        let all = d.full_clique();
        assert_eq!(model_size(&d, &[all]).unwrap(), u128::MAX);
    }
}
