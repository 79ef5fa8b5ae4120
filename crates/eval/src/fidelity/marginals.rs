//! k-way marginal distances on the public encoding, and SDNist's k-marginal score.

use super::{FidelityOptions, Skip, total_variation};
use crate::Result;
use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use table::encode::Encoded;

/// Marginals with more cells than this are not counted (reported in `skipped_subsets`).
pub const MAX_MARGINAL_CELLS: u64 = 1 << 24;

/// Distances between real and synthetic k-way marginals for one k.
#[derive(Debug, Clone, PartialEq)]
pub struct KWayMarginals {
    /// The number of columns per marginal.
    pub k: usize,
    /// The number of k-column subsets, C(columns, k) (saturating at `u64::MAX`).
    pub subsets_total: u64,
    /// The number of subsets whose distance is averaged here.
    pub subsets_evaluated: usize,
    /// Whether the subsets were drawn at random (with the options' seed) because there were
    /// more than `max_subsets_per_k`.
    pub sampled: bool,
    /// Subsets drawn but not counted because their marginal has more than
    /// [`MAX_MARGINAL_CELLS`] cells.
    pub skipped_subsets: usize,
    /// Mean total variation distance ½ Σ |p − q| over the evaluated subsets. Range [0, 1],
    /// lower is better.
    pub mean_tvd: f64,
    /// The largest distance among the evaluated subsets. Range [0, 1], lower is better.
    pub max_tvd: f64,
    /// The columns of the subset with the largest distance.
    pub worst_subset: Vec<String>,
    /// SDNist's k-marginal score, 1000 · (1 − mean_tvd) = 1000 · (1 − mean ½ Σ |p − q|).
    /// Range [0, 1000], higher is better.
    pub k_marginal_score: f64,
}

pub(super) fn all(
    real: &Encoded,
    synthetic: &Encoded,
    options: &FidelityOptions,
    skipped: &mut Vec<Skip>,
) -> Result<Vec<KWayMarginals>> {
    let d = real.domain().len();
    let sizes = real.domain().sizes();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut out = Vec::new();
    for k in 1..=options.max_k.min(d) {
        let total = binomial(d as u64, k as u64);
        let sampled = total > options.max_subsets_per_k as u64;
        let subsets = if sampled {
            sample_subsets(d, k, options.max_subsets_per_k, &mut rng)
        } else {
            all_subsets(d, k)
        };
        let (mut sum, mut evaluated, mut skipped_subsets) = (0.0, 0usize, 0usize);
        let (mut max_tvd, mut worst) = (0.0f64, Vec::new());
        for subset in &subsets {
            let cells = subset.iter().fold(1u64, |c, &a| c.saturating_mul(sizes[a] as u64));
            if cells > MAX_MARGINAL_CELLS {
                skipped_subsets += 1;
                continue;
            }
            let r = real.marginal(subset)?.counts;
            let s = synthetic.marginal(subset)?.counts;
            let Some(tvd) = total_variation(&r, &s) else {
                skipped_subsets += 1;
                continue;
            };
            sum += tvd;
            evaluated += 1;
            if tvd > max_tvd || worst.is_empty() {
                max_tvd = tvd;
                worst = subset.clone();
            }
        }
        if skipped_subsets > 0 {
            skipped.push(Skip {
                what: format!("{k}-way marginals"),
                reason: format!(
                    "{skipped_subsets} subsets not counted: more than {MAX_MARGINAL_CELLS} cells or no rows"
                ),
            });
        }
        if evaluated == 0 {
            continue;
        }
        let mean_tvd = sum / evaluated as f64;
        let names = real.domain().attributes();
        out.push(KWayMarginals {
            k,
            subsets_total: total,
            subsets_evaluated: evaluated,
            sampled,
            skipped_subsets,
            mean_tvd,
            max_tvd,
            worst_subset: worst.iter().map(|&a| names[a].name().to_string()).collect(),
            k_marginal_score: 1000.0 * (1.0 - mean_tvd),
        });
    }
    Ok(out)
}

fn binomial(n: u64, k: u64) -> u64 {
    let mut c: u128 = 1;
    for i in 0..k.min(n) {
        c = c * u128::from(n - i) / u128::from(i + 1);
        if c > u128::from(u64::MAX) {
            return u64::MAX;
        }
    }
    if k > n { 0 } else { c as u64 }
}

/// Every k-subset of `0..d`, in lexicographic order.
fn all_subsets(d: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current: Vec<usize> = (0..k).collect();
    if k > d {
        return out;
    }
    loop {
        out.push(current.clone());
        // The rightmost position that can still move right.
        let Some(i) = (0..k).rev().find(|&i| current[i] < d - k + i) else {
            return out;
        };
        current[i] += 1;
        for j in i + 1..k {
            current[j] = current[j - 1] + 1;
        }
    }
}

/// `count` distinct k-subsets of `0..d` (each sorted), drawn uniformly; the caller ensures
/// that C(d, k) > count.
fn sample_subsets(d: usize, k: usize, count: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    let mut pool: Vec<usize> = (0..d).collect();
    while out.len() < count {
        // Partial Fisher–Yates: the first k entries of `pool` become a uniform k-subset.
        for i in 0..k {
            let j = rng.random_range(i..d);
            pool.swap(i, j);
        }
        let mut subset = pool[..k].to_vec();
        subset.sort_unstable();
        if seen.insert(subset.clone()) {
            out.push(subset);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_are_all_distinct_and_counted() {
        let all = all_subsets(6, 3);
        assert_eq!(all.len() as u64, binomial(6, 3));
        assert_eq!(all.first(), Some(&vec![0, 1, 2]));
        assert_eq!(all.last(), Some(&vec![3, 4, 5]));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let drawn = sample_subsets(30, 3, 100, &mut rng);
        let unique: HashSet<_> = drawn.iter().cloned().collect();
        assert_eq!(unique.len(), 100);
        assert!(drawn.iter().all(|s| s.windows(2).all(|w| w[0] < w[1]) && s[2] < 30));
        assert_eq!(binomial(50, 3), 19_600);
        assert_eq!(binomial(3, 4), 0);
    }
}
