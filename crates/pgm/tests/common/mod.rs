//! Brute-force reference: the full joint distribution by enumeration, for small domains.
#![allow(dead_code)]

use pgm::{Clique, CliqueVector, Domain, Factor};
use rand::{Rng, RngExt};

/// Every record of the domain, in row-major order (the last attribute varies fastest).
pub fn records(domain: &Domain) -> Vec<Vec<u32>> {
    let mut out = vec![vec![]];
    for &size in domain.sizes() {
        out = out
            .into_iter()
            .flat_map(|prefix: Vec<u32>| {
                (0..size as u32).map(move |x| {
                    let mut r = prefix.clone();
                    r.push(x);
                    r
                })
            })
            .collect();
    }
    out
}

/// Index of a record's projection onto `clique` in the clique's row-major table.
pub fn cell(domain: &Domain, clique: &Clique, record: &[u32]) -> usize {
    clique
        .attrs()
        .iter()
        .fold(0, |acc, &a| acc * domain.sizes()[a] + record[a] as usize)
}

/// The normalised log-probability of every record under `Π exp θ_c`.
pub fn log_joint(domain: &Domain, potentials: &CliqueVector) -> Vec<f64> {
    let all = records(domain);
    let logs: Vec<f64> = all
        .iter()
        .map(|r| {
            potentials
                .factors()
                .map(|f| f.log_values()[cell(domain, f.clique(), r)])
                .sum()
        })
        .collect();
    let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = logs.iter().map(|l| (l - max).exp()).sum();
    logs.iter().map(|l| l - max - z.ln()).collect()
}

/// The normalised joint probability of every record under `Π exp θ_c`.
pub fn joint(domain: &Domain, potentials: &CliqueVector) -> Vec<f64> {
    log_joint(domain, potentials).iter().map(|l| l.exp()).collect()
}

/// The marginal probabilities over `clique` of a joint table.
pub fn marginal(domain: &Domain, joint: &[f64], clique: &Clique) -> Vec<f64> {
    let cells: usize = clique.attrs().iter().map(|&a| domain.sizes()[a]).product();
    let mut out = vec![0.0; cells];
    for (r, p) in records(domain).iter().zip(joint) {
        out[cell(domain, clique, r)] += p;
    }
    out
}

/// Random potentials over `cliques`, values in [-2, 2]; with `zero_rate > 0`, that fraction of
/// cells is set to -inf (structural zeros).
pub fn random_potentials<R: Rng>(domain: &Domain, cliques: &[Clique], zero_rate: f64, rng: &mut R) -> CliqueVector {
    CliqueVector::from_factors(cliques.iter().map(|c| {
        let cells: usize = c.attrs().iter().map(|&a| domain.sizes()[a]).product();
        let values = (0..cells)
            .map(|_| {
                if rng.random::<f64>() < zero_rate {
                    f64::NEG_INFINITY
                } else {
                    rng.random_range(-2.0..2.0)
                }
            })
            .collect();
        Factor::new(domain, c.clone(), values).expect("test factor")
    }))
}

/// Every subset of `0..d` (as cliques), including the empty one.
pub fn all_subsets(d: usize) -> Vec<Clique> {
    (0..1usize << d)
        .map(|mask| Clique::new((0..d).filter(|i| mask >> i & 1 == 1)))
        .collect()
}

/// Total variation distance between two probability vectors.
pub fn total_variation(p: &[f64], q: &[f64]) -> f64 {
    0.5 * p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum::<f64>()
}
