//! Marginals of attribute sets that no junction-tree clique contains, by variable elimination
//! over the calibrated tree (Koller & Friedman 2009, §9.3 and §10.3.3).
//!
//! A calibrated tree rooted at clique `r` factorises the distribution as
//! `p(x) = p(x_r) · Π_{c ≠ r} p(x_c | x_{sep(c)})`. Leaves whose private attributes (those not in
//! their separator) are all outside the target sum out to 1 and are pruned first, repeatedly; the
//! remaining conditionals are multiplied and summed out one attribute at a time, choosing each
//! time the attribute whose elimination builds the smallest table (greedy min-size).

use crate::domain::{Clique, Domain};
use crate::error::Result;
use crate::factor::{Factor, subset_map};
use crate::junction_tree::JunctionTree;
use crate::kernel::{log_sub, logsumexp_projection};

/// The normalised log-marginal over `target` of the model whose calibrated log-beliefs (one
/// normalised table per tree clique) are `log_beliefs`.
pub(crate) fn eliminate(
    domain: &Domain,
    tree: &JunctionTree,
    log_beliefs: &[Vec<f64>],
    target: &Clique,
) -> Result<Factor> {
    domain.check(target)?;
    let cliques = tree.cliques();
    let k = cliques.len();
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (child, parent) in tree.edges() {
        neighbours[child].push(parent);
        neighbours[parent].push(child);
    }
    // Prune leaves (and isolated cliques) whose private attributes miss the target.
    let mut alive = vec![true; k];
    let mut degree: Vec<usize> = neighbours.iter().map(Vec::len).collect();
    let mut stack: Vec<usize> = (0..k).collect();
    while let Some(c) = stack.pop() {
        if !alive[c] || degree[c] > 1 {
            continue;
        }
        let neighbour = neighbours[c].iter().copied().find(|&n| alive[n]);
        let private = match neighbour {
            Some(n) => cliques[c].difference(&cliques[n]),
            None => cliques[c].clone(),
        };
        if private.attrs().iter().any(|&a| target.contains(a)) {
            continue;
        }
        alive[c] = false;
        if let Some(n) = neighbour {
            degree[n] -= 1;
            stack.push(n);
        }
    }
    // Re-root what is left and turn beliefs into conditionals.
    let mut factors: Vec<Factor> = Vec::new();
    let mut seen = vec![false; k];
    for root in 0..k {
        if !alive[root] || seen[root] {
            continue;
        }
        seen[root] = true;
        let shape = domain.shape(&cliques[root])?;
        factors.push(Factor::from_parts(
            cliques[root].clone(),
            shape,
            log_beliefs[root].clone(),
        ));
        let mut queue = vec![root];
        while let Some(p) = queue.pop() {
            for &c in &neighbours[p] {
                if !alive[c] || seen[c] {
                    continue;
                }
                seen[c] = true;
                queue.push(c);
                factors.push(conditional(domain, &cliques[c], &cliques[p], &log_beliefs[c])?);
            }
        }
    }
    // Sum out every non-target attribute.
    loop {
        let mut candidates: Vec<usize> = factors
            .iter()
            .flat_map(|f| f.clique().attrs().iter().copied())
            .filter(|&a| !target.contains(a))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(u128, usize)> = None;
        for &v in &candidates {
            let mut scope = Clique::empty();
            for f in factors.iter().filter(|f| f.clique().contains(v)) {
                scope = scope.union(f.clique());
            }
            let cells = domain.cells(&scope)?.unwrap_or(u128::MAX);
            if best.is_none_or(|(b, _)| cells < b) {
                best = Some((cells, v));
            }
        }
        let Some((_, v)) = best else { break };
        let (with, without): (Vec<Factor>, Vec<Factor>) = factors.into_iter().partition(|f| f.clique().contains(v));
        factors = without;
        let mut product = Factor::from_parts(Clique::empty(), Vec::new(), vec![0.0]);
        for f in &with {
            product = product.product(f)?;
        }
        factors.push(product.marginalise(&Clique::from([v])));
    }
    let mut result = Factor::from_parts(Clique::empty(), Vec::new(), vec![0.0]);
    for f in &factors {
        result = result.product(f)?;
    }
    if result.clique() != target {
        result = result.broadcast(domain, target)?;
    }
    Ok(result.normalise())
}

/// `ln p(x_c | x_sep)` from the log-marginal of clique `c`, where `sep = c ∩ parent`. Cells whose
/// separator value is impossible stay `-∞`.
fn conditional(domain: &Domain, clique: &Clique, parent: &Clique, log_belief: &[f64]) -> Result<Factor> {
    let shape = domain.shape(clique)?;
    let separator = clique.intersection(parent);
    let cells = domain.table_size(&separator)?;
    let map = subset_map(clique, &shape, &separator);
    let sep = logsumexp_projection(log_belief, &map, cells);
    let values = log_belief
        .iter()
        .zip(&map)
        .map(|(&b, &s)| log_sub(b, sep[s as usize]))
        .collect();
    Ok(Factor::from_parts(clique.clone(), shape, values))
}
