//! AIM (McKenna, Mullins, Sheldon, Miklau 2022, "AIM: An Adaptive and Iterative Mechanism for
//! Differentially Private Synthetic Data", PVLDB 15(11)), as published:
//!
//! - candidates: the downward closure of the workload, each weighted by its overlap with the
//!   workload (Σ_w |c ∩ w|);
//! - T = 16·d rounds by default; initial σ = √(T / (2·0.9·ρ)) and ε = √(8·0.1·ρ / T)
//!   (a 90/10 measurement/selection split);
//! - every one-way marginal is measured first;
//! - each round selects, by the exponential mechanism, the candidate with the largest
//!   weight·(‖x − x̂‖₁ − √(2/π)·σ·cells) among those that keep the model under the size cap
//!   scaled by the share of budget used, measures it, and re-estimates the model (warm start);
//! - **annealing**: when the new estimate moved that marginal by less than the expected noise,
//!   σ halves and ε doubles;
//! - when less than two rounds' worth of budget remains, the last round spends exactly what is
//!   left.

use crate::model::estimate;
use crate::oracle::{Candidate, MeasurementOracle, NoisyMarginal};
use crate::{Error, Result};
use dp::{Epsilon, Rho};
use pgm::{Clique, GraphicalModel};
use std::collections::BTreeMap;

/// Settings of [`aim`]. None is a privacy parameter (the budget is the oracle's).
#[derive(Debug, Clone, PartialEq)]
pub struct AimOptions {
    /// The workload: attribute sets whose marginals the synthetic data should preserve.
    pub workload: Vec<Vec<usize>>,
    /// Rounds T; `None` is the paper's 16·d.
    pub rounds: Option<usize>,
    /// Model-size cap in megabytes of f64 tables (the paper's default is 80).
    pub max_model_mb: f64,
    /// Mirror-descent iterations after each measurement (warm started).
    pub round_iters: usize,
    /// Mirror-descent iterations of the final estimate.
    pub final_iters: usize,
}

impl AimOptions {
    /// All `k`-way marginals of `d` attributes as the workload, with the paper's defaults.
    pub fn all_k_way(d: usize, k: usize) -> AimOptions {
        let mut workload = Vec::new();
        combinations(d, k.min(d), &mut Vec::new(), 0, &mut workload);
        AimOptions {
            workload,
            rounds: None,
            max_model_mb: 80.0,
            round_iters: 100,
            final_iters: 1000,
        }
    }
}

fn combinations(d: usize, k: usize, current: &mut Vec<usize>, start: usize, out: &mut Vec<Vec<usize>>) {
    if current.len() == k {
        out.push(current.clone());
        return;
    }
    for a in start..d {
        current.push(a);
        combinations(d, k, current, a + 1, out);
        current.pop();
    }
}

/// What AIM selected and fitted.
#[derive(Debug, Clone)]
pub struct AimFit {
    pub model: GraphicalModel,
    /// The cliques measured after the one-way marginals, in order.
    pub selected: Vec<Vec<usize>>,
    pub rounds: usize,
}

/// The workload's downward closure with AIM's weights.
fn candidates(workload: &[Vec<usize>]) -> BTreeMap<Vec<usize>, f64> {
    let mut out = BTreeMap::new();
    for w in workload {
        let k = w.len();
        for mask in 1u32..(1 << k) {
            let subset: Vec<usize> = (0..k).filter(|i| mask & (1 << i) != 0).map(|i| w[i]).collect();
            out.entry(subset).or_insert(0.0);
        }
    }
    for (c, weight) in out.iter_mut() {
        *weight = workload
            .iter()
            .map(|w| c.iter().filter(|a| w.contains(a)).count() as f64)
            .sum();
    }
    out
}

fn cells(sizes: &[usize], attrs: &[usize]) -> f64 {
    attrs.iter().map(|&a| sizes[a] as f64).product()
}

fn model_mb(domain: &pgm::Domain, cliques: &[Clique]) -> Result<f64> {
    Ok(pgm::model_size(domain, cliques)? as f64 * 8.0 / (1u64 << 20) as f64)
}

/// Runs AIM on `oracle`, spending its whole remaining budget.
pub fn aim(oracle: &mut impl MeasurementOracle, options: &AimOptions) -> Result<AimFit> {
    let sizes = oracle.sizes();
    let d = sizes.len();
    if d == 0 {
        return Err(Error::Input("no attribute to synthesise".into()));
    }
    for w in &options.workload {
        let mut sorted = w.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != w.len() || w.is_empty() || sorted.iter().any(|&a| a >= d) {
            return Err(Error::Input(format!(
                "workload entry {w:?} is not a set of attributes below {d}"
            )));
        }
    }
    let domain = pgm::Domain::new(sizes.clone())?;
    let mut candidates = candidates(&options.workload);
    for a in 0..d {
        candidates.entry(vec![a]).or_insert(1.0);
    }
    let rho = oracle.accountant().remaining();
    let rounds = options.rounds.unwrap_or(16 * d);
    if rounds < d {
        // The one-way marginals cost d·0.9ρ/T: fewer rounds than attributes cannot pay for them.
        return Err(Error::Input(format!(
            "AIM needs at least as many rounds as modelled columns ({d}); {rounds} were asked (the default is 16 × {d} = {})",
            16 * d
        )));
    }
    let mut sigma = (rounds as f64 / (2.0 * 0.9 * rho)).sqrt();
    let mut epsilon = (8.0 * 0.1 * rho / rounds as f64).sqrt();
    let slack = 1.0 - 1e-9;

    let mut released: Vec<NoisyMarginal> = Vec::new();
    let rho_oneway = Rho::new(0.5 / (sigma * sigma))?;
    if rho_oneway.get() * d as f64 > rho {
        return Err(Error::Input(format!(
            "the budget ρ = {rho:.3e} cannot pay for {rounds} rounds: the one-way marginals alone would cost {:.3e}",
            rho_oneway.get() * d as f64
        )));
    }
    let oneway: Vec<Vec<usize>> = (0..d).map(|a| vec![a]).collect();
    released.extend(oracle.measure_many(&oneway, rho_oneway, "AIM one-way marginal")?);
    let mut model = estimate(&sizes, &released, None, options.round_iters)?;
    let mut selected = Vec::new();
    let mut t = 0;
    let mut terminate = false;
    while !terminate {
        t += 1;
        let remaining = oracle.accountant().remaining();
        let round_cost = 0.5 / (sigma * sigma) + epsilon * epsilon / 8.0;
        if remaining < 2.0 * round_cost {
            sigma = (1.0 / (2.0 * 0.9 * remaining * slack)).sqrt();
            epsilon = (8.0 * 0.1 * remaining * slack).sqrt();
            terminate = true;
        }
        let used = rho - remaining + 0.5 / (sigma * sigma) + epsilon * epsilon / 8.0;
        let size_limit = options.max_model_mb * used / rho;

        // Candidates within the size cap (or already inside a model clique: free).
        let cliques: Vec<Clique> = model.tree().cliques().to_vec();
        let mut pool: Vec<(Vec<usize>, f64, Vec<f64>)> = Vec::new();
        for (c, &weight) in &candidates {
            let clique = Clique::new(c.iter().copied());
            let free = cliques.iter().any(|m| clique.is_subset(m));
            if !free {
                let mut with = cliques.clone();
                with.push(clique.clone());
                if model_mb(&domain, &with)? > size_limit {
                    continue;
                }
            }
            let estimate = model.marginal(&clique)?.counts;
            pool.push((c.clone(), weight, estimate));
        }
        if pool.is_empty() {
            return Err(Error::Input(format!(
                "no candidate marginal fits the model-size cap of {:.1} MB",
                options.max_model_mb
            )));
        }
        let bias = (2.0 / std::f64::consts::PI).sqrt() * sigma;
        let cands: Vec<Candidate<'_>> = pool
            .iter()
            .map(|(c, w, m)| Candidate {
                attrs: c,
                model: m,
                weight: *w,
                penalty: bias * cells(&sizes, c),
            })
            .collect();
        let eps = Epsilon::new(epsilon)?;
        let pick = oracle.select(&cands, eps, &format!("AIM round {t} selection"))?;
        let chosen = pool[pick].0.clone();
        let before = pool[pick].2.clone();
        let rho_measure = Rho::new(0.5 / (sigma * sigma))?;
        let rho_measure = if terminate {
            Rho::new(oracle.accountant().remaining() * slack).unwrap_or(rho_measure)
        } else {
            rho_measure
        };
        released.push(oracle.measure(&chosen, rho_measure, &format!("AIM round {t} measurement {chosen:?}"))?);
        model = estimate(&sizes, &released, Some(model.potentials()), options.round_iters)?;
        let after = model.marginal(&Clique::new(chosen.iter().copied()))?.counts;
        let moved: f64 = after.iter().zip(&before).map(|(a, b)| (a - b).abs()).sum();
        if moved <= bias * cells(&sizes, &chosen) {
            sigma /= 2.0;
            epsilon *= 2.0;
        }
        selected.push(chosen);
    }
    let model = estimate(&sizes, &released, Some(model.potentials()), options.final_iters)?;
    Ok(AimFit {
        model,
        selected,
        rounds: t,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_the_weighted_downward_closure() {
        let c = candidates(&[vec![0, 1], vec![1, 2]]);
        let keys: Vec<&Vec<usize>> = c.keys().collect();
        assert_eq!(keys, [&vec![0], &vec![0, 1], &vec![1], &vec![1, 2], &vec![2]]);
        assert_eq!(c[&vec![1]], 2.0);
        assert_eq!(c[&vec![0, 1]], 3.0);
        assert_eq!(c[&vec![0]], 1.0);
    }

    #[test]
    fn all_k_way_workload() {
        assert_eq!(AimOptions::all_k_way(4, 2).workload.len(), 6);
        assert_eq!(AimOptions::all_k_way(5, 3).workload.len(), 10);
        assert_eq!(AimOptions::all_k_way(2, 3).workload, vec![vec![0, 1]]);
    }
}
