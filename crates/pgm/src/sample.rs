//! Synthetic records from a calibrated model, attribute by attribute in reverse elimination
//! order. With a perfect elimination order of the triangulated graph, an attribute is independent
//! of every attribute eliminated after it given the rest of its elimination clique (its later
//! neighbours), so `p(x) = Π_v p(x_v | x_{later neighbours of v})` and drawing each attribute from
//! that conditional, in reverse order, is exact forward sampling of the junction-tree model.

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

use crate::domain::{Clique, Domain};
use crate::error::{PgmError, Result};
use crate::factor::subset_map;
use crate::junction_tree::JunctionTree;
use crate::kernel::{logsumexp, logsumexp_projection, strides};

/// How synthetic records are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplingMethod {
    /// Independent draws: every record is an exact, independent sample from the model.
    Independent,
    /// Private-PGM's `synthetic_data` method: each attribute's values within a group of records
    /// sharing the same conditioning values are allocated by rounding the expected counts down and
    /// handing the remaining records to cells drawn without replacement with probability
    /// proportional to the fractional parts; values are then shuffled within the group. Marginals
    /// of the output match the model closely with less sampling noise than independent draws.
    Rounded,
}

/// One attribute's conditional distribution given its later neighbours.
struct Step {
    attr: usize,
    size: usize,
    elimination_clique: Clique,
    /// `(attribute, stride)` of the conditioning attributes: the context index of a record is
    /// `Σ code · stride`.
    context: Vec<(usize, usize)>,
    /// Row-major `[context][value]` probabilities; a row of zeros is an impossible context.
    table: Vec<f64>,
}

fn plan(domain: &Domain, tree: &JunctionTree, log_beliefs: &[Vec<f64>]) -> Result<Vec<Step>> {
    let mut steps = Vec::with_capacity(domain.len());
    for (&attr, elimination_clique) in tree.elimination_order().iter().zip(tree.elimination_cliques()).rev() {
        let t = tree
            .containing_clique(domain, elimination_clique)
            .ok_or_else(|| PgmError::NotInModel {
                clique: elimination_clique.attrs().to_vec(),
            })?;
        let tree_clique = &tree.cliques()[t];
        let cells = domain.table_size(elimination_clique)?;
        let map = subset_map(tree_clique, &domain.shape(tree_clique)?, elimination_clique);
        let log_marginal = logsumexp_projection(&log_beliefs[t], &map, cells);

        let shape = domain.shape(elimination_clique)?;
        let context_clique = elimination_clique.difference(&Clique::from([attr]));
        let context_shape = domain.shape(&context_clique)?;
        let context_strides = strides(&context_shape);
        let to_context = subset_map(elimination_clique, &shape, &context_clique);
        let to_value = subset_map(elimination_clique, &shape, &Clique::from([attr]));
        let size = domain.size(attr)?;
        let mut table = vec![f64::NEG_INFINITY; cells];
        for ((&l, &c), &x) in log_marginal.iter().zip(&to_context).zip(&to_value) {
            table[c as usize * size + x as usize] = l;
        }
        for row in table.chunks_mut(size) {
            let z = logsumexp(row);
            if z == f64::NEG_INFINITY {
                row.fill(0.0);
            } else {
                row.iter_mut().for_each(|v| *v = (*v - z).exp());
            }
        }
        let context = context_clique.attrs().iter().copied().zip(context_strides).collect();
        steps.push(Step {
            attr,
            size,
            elimination_clique: elimination_clique.clone(),
            context,
            table,
        });
    }
    Ok(steps)
}

fn context_index(columns: &[Vec<u32>], context: &[(usize, usize)], row: usize) -> usize {
    context.iter().map(|&(a, s)| columns[a][row] as usize * s).sum()
}

/// Draws `rows` records; returns columns: `columns[attr][row]` is a code of attribute `attr`.
pub(crate) fn sample<R: Rng + ?Sized>(
    domain: &Domain,
    tree: &JunctionTree,
    log_beliefs: &[Vec<f64>],
    rows: usize,
    method: SamplingMethod,
    rng: &mut R,
) -> Result<Vec<Vec<u32>>> {
    let steps = plan(domain, tree, log_beliefs)?;
    let mut columns = vec![vec![0u32; rows]; domain.len()];
    for mut step in steps {
        match method {
            SamplingMethod::Independent => draw_independent(&mut columns, &mut step, rng)?,
            SamplingMethod::Rounded => draw_rounded(&mut columns, &step, rng)?,
        }
    }
    Ok(columns)
}

fn impossible(step: &Step) -> PgmError {
    PgmError::EmptySupport {
        clique: step.elimination_clique.attrs().to_vec(),
    }
}

fn draw_independent<R: Rng + ?Sized>(columns: &mut [Vec<u32>], step: &mut Step, rng: &mut R) -> Result<()> {
    // Cumulative rows; the last possible cell is pinned to exactly 1 so that u ∈ [0, 1) always
    // lands on a cell of positive probability.
    for row in step.table.chunks_mut(step.size) {
        let Some(last) = row.iter().rposition(|&p| p > 0.0) else {
            continue;
        };
        let mut acc = 0.0;
        for p in row.iter_mut() {
            acc += *p;
            *p = acc;
        }
        row[last..].fill(1.0);
    }
    let rows = columns.first().map_or(0, Vec::len);
    for r in 0..rows {
        let c = context_index(columns, &step.context, r);
        let cumulative = &step.table[c * step.size..(c + 1) * step.size];
        if cumulative[step.size - 1] != 1.0 {
            return Err(impossible(step));
        }
        let u: f64 = rng.random();
        columns[step.attr][r] = cumulative.partition_point(|&q| q <= u) as u32;
    }
    Ok(())
}

fn draw_rounded<R: Rng + ?Sized>(columns: &mut [Vec<u32>], step: &Step, rng: &mut R) -> Result<()> {
    let rows = columns.first().map_or(0, Vec::len);
    let contexts = step.table.len() / step.size;
    // Group the records by context (counting sort).
    let mut start = vec![0usize; contexts + 1];
    let mut context_of = Vec::with_capacity(rows);
    for r in 0..rows {
        let c = context_index(columns, &step.context, r);
        context_of.push(c);
        start[c + 1] += 1;
    }
    for c in 0..contexts {
        start[c + 1] += start[c];
    }
    let mut next = start.clone();
    let mut grouped = vec![0usize; rows];
    for (r, &c) in context_of.iter().enumerate() {
        grouped[next[c]] = r;
        next[c] += 1;
    }
    let mut counts = vec![0usize; step.size];
    let mut weights = vec![0.0; step.size];
    let mut values: Vec<u32> = Vec::new();
    for c in 0..contexts {
        let group = &grouped[start[c]..start[c + 1]];
        if group.is_empty() {
            continue;
        }
        let probabilities = &step.table[c * step.size..(c + 1) * step.size];
        if probabilities.iter().all(|&p| p == 0.0) {
            return Err(impossible(step));
        }
        round_counts(probabilities, group.len(), &mut counts, &mut weights, rng);
        values.clear();
        for (x, &n) in counts.iter().enumerate() {
            values.extend(std::iter::repeat_n(x as u32, n));
        }
        values.shuffle(rng);
        for (&r, &v) in group.iter().zip(&values) {
            columns[step.attr][r] = v;
        }
    }
    Ok(())
}

/// Randomised rounding of `probabilities · n` to integers summing to `n`: floors, then the
/// remainder goes to distinct cells drawn with probability proportional to the fractional parts.
/// Cells of probability zero get nothing.
fn round_counts<R: Rng + ?Sized>(
    probabilities: &[f64],
    n: usize,
    counts: &mut [usize],
    weights: &mut [f64],
    rng: &mut R,
) {
    let mut assigned = 0usize;
    for ((p, count), w) in probabilities.iter().zip(counts.iter_mut()).zip(weights.iter_mut()) {
        let expected = p * n as f64;
        let floor = expected.floor();
        *count = floor as usize;
        *w = expected - floor;
        assigned += *count;
    }
    // Floating error can push the floors past n by a record; take back from the largest cells.
    while assigned > n {
        if let Some(i) = (0..counts.len()).max_by_key(|&i| counts[i]) {
            counts[i] -= 1;
            assigned -= 1;
        }
    }
    let mut extra = n - assigned;
    while extra > 0 {
        let total: f64 = weights.iter().sum();
        let chosen = if total > 0.0 {
            let mut u = rng.random::<f64>() * total;
            let mut pick = None;
            for (i, &w) in weights.iter().enumerate() {
                if w > 0.0 {
                    pick = Some(i);
                    if u < w {
                        break;
                    }
                    u -= w;
                }
            }
            pick
        } else {
            // Fractional parts exhausted by rounding error: give the record to the most likely cell.
            (0..probabilities.len())
                .filter(|&i| probabilities[i] > 0.0)
                .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
        };
        let Some(i) = chosen else { return };
        counts[i] += 1;
        weights[i] = 0.0;
        extra -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn rounding_sums_to_n_and_skips_zero_cells() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let p = [0.5, 0.0, 0.25, 0.25];
        let mut counts = [0; 4];
        let mut weights = [0.0; 4];
        for n in [0, 1, 2, 3, 7, 100] {
            round_counts(&p, n, &mut counts, &mut weights, &mut rng);
            assert_eq!(counts.iter().sum::<usize>(), n);
            assert_eq!(counts[1], 0);
            for (c, q) in counts.iter().zip(p) {
                assert!((*c as f64 - q * n as f64).abs() < 1.0, "{counts:?} for n={n}");
            }
        }
    }
}
