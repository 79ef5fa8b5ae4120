//! MST (McKenna, Miklau, Sheldon 2021, "Winning the NIST Contest: A scalable and general
//! approach to differentially private synthetic data", JPC 11(3)), as published:
//!
//! 1. a third of ρ measures every one-way marginal (Gaussian mechanism);
//! 2. **domain compression**: codes whose noisy count is below 3σ are merged into one code
//!    (public post-processing of step 1);
//! 3. a third of ρ selects d − 1 pairs forming a maximum spanning tree of the attributes, with
//!    weights ‖x_ij − x̂_ij‖₁ against the independent model, one exponential mechanism per edge
//!    (Kruskal over the edges that join two components);
//! 4. the last third measures the selected two-way marginals;
//! 5. Private-PGM estimates a graphical model from all measurements.
//!
//! Privacy: the steps compose in zCDP; every charge goes through the oracle's accountant, which
//! refuses to exceed the total (see `docs/synthesis.md`).

use crate::model::estimate;
use crate::oracle::{Candidate, MeasurementOracle, NoisyMarginal};
use crate::sample::Compression;
use crate::{Error, Result};
use dp::{Epsilon, Rho};
use pgm::GraphicalModel;

/// What MST chose and fitted.
#[derive(Debug, Clone)]
pub struct MstFit {
    pub model: GraphicalModel,
    pub compression: Compression,
    /// The selected pairs (attributes, increasing).
    pub edges: Vec<[usize; 2]>,
}

/// Runs MST on `oracle`, spending its whole remaining budget. `iters` mirror-descent iterations.
pub fn mst(oracle: &mut impl MeasurementOracle, iters: usize) -> Result<MstFit> {
    let sizes = oracle.sizes();
    let d = sizes.len();
    if d == 0 {
        return Err(Error::Input("no attribute to synthesise".into()));
    }
    let total = oracle.accountant().remaining();
    let thirds = if d == 1 { 1.0 } else { 1.0 / 3.0 };
    // Shares are taken a hair under their nominal value so that the accountant's upward
    // rounding never refuses the last charge.
    let slack = 1.0 - 1e-9;

    // 1. One-way marginals.
    let rho1 = Rho::new(total * thirds / d as f64 * slack)?;
    let attrs: Vec<Vec<usize>> = (0..d).map(|a| vec![a]).collect();
    let oneway = oracle.measure_many(&attrs, rho1, "MST one-way marginal")?;

    // 2. Domain compression (post-processing of the one-way answers).
    let compression = compress(&oneway);
    oracle.compress(&compression.maps())?;
    let oneway: Vec<NoisyMarginal> = oneway
        .into_iter()
        .zip(&compression.groups)
        .map(|(m, g)| compress_marginal(m, g.as_deref()))
        .collect();
    if d == 1 {
        let model = estimate(&oracle.sizes(), &oneway, None, iters)?;
        return Ok(MstFit {
            model,
            compression,
            edges: Vec::new(),
        });
    }
    let sizes = oracle.sizes();

    // 3. Maximum spanning tree by the exponential mechanism.
    let n_est = oneway
        .iter()
        .map(|m| m.values.iter().sum::<i64>().max(0) as f64)
        .sum::<f64>()
        / d as f64;
    let probs: Vec<Vec<f64>> = oneway.iter().map(|m| normalise(&m.values)).collect();
    let eps_edge = Epsilon::new((8.0 * total / 3.0 / (d - 1) as f64 * slack).sqrt())?;
    let mut component: Vec<usize> = (0..d).collect();
    let mut edges = Vec::with_capacity(d - 1);
    let mut pairs = Vec::new();
    for i in 0..d {
        for j in i + 1..d {
            pairs.push([i, j]);
        }
    }
    let model_of = |[i, j]: [usize; 2]| -> Vec<f64> {
        let mut m = Vec::with_capacity(sizes[i] * sizes[j]);
        for a in &probs[i] {
            for b in &probs[j] {
                m.push(a * b * n_est);
            }
        }
        m
    };
    let models: Vec<Vec<f64>> = pairs.iter().map(|&p| model_of(p)).collect();
    for step in 0..d - 1 {
        let open: Vec<usize> = (0..pairs.len())
            .filter(|&k| component[pairs[k][0]] != component[pairs[k][1]])
            .collect();
        let candidates: Vec<Candidate<'_>> = open
            .iter()
            .map(|&k| Candidate {
                attrs: &pairs[k],
                model: &models[k],
                weight: 1.0,
                penalty: 0.0,
            })
            .collect();
        let chosen = pairs[open[oracle.select(&candidates, eps_edge, &format!("MST edge {}", step + 1))?]];
        let (from, to) = (component[chosen[0]], component[chosen[1]]);
        for c in component.iter_mut() {
            if *c == from {
                *c = to;
            }
        }
        edges.push(chosen);
    }

    // 4. Two-way marginals of the tree, with what remains.
    let rho3 = Rho::new(oracle.accountant().remaining() / edges.len() as f64 * slack)?;
    let mut released = oneway;
    let tree: Vec<Vec<usize>> = edges.iter().map(|e| e.to_vec()).collect();
    released.extend(oracle.measure_many(&tree, rho3, "MST two-way marginal")?);

    // 5. Estimation.
    let model = estimate(&sizes, &released, None, iters)?;
    Ok(MstFit {
        model,
        compression,
        edges,
    })
}

/// Non-negative noisy counts normalised to probabilities (uniform if all are non-positive).
fn normalise(values: &[i64]) -> Vec<f64> {
    let clipped: Vec<f64> = values.iter().map(|&v| v.max(0) as f64).collect();
    let total: f64 = clipped.iter().sum();
    if total == 0.0 {
        vec![1.0 / values.len() as f64; values.len()]
    } else {
        clipped.iter().map(|v| v / total).collect()
    }
}

/// MST's compression: codes with a noisy count of at least 3σ stay; the others merge into one
/// extra code. An attribute whose codes all stay is not compressed.
fn compress(oneway: &[NoisyMarginal]) -> Compression {
    let groups = oneway
        .iter()
        .map(|m| {
            let threshold = 3.0 * m.sigma;
            let (kept, merged): (Vec<u32>, Vec<u32>) =
                (0..m.values.len() as u32).partition(|&c| m.values[c as usize] as f64 >= threshold);
            if merged.is_empty() {
                return None;
            }
            let mut groups: Vec<Vec<u32>> = kept.into_iter().map(|c| vec![c]).collect();
            groups.push(merged);
            Some(groups)
        })
        .collect();
    Compression { groups }
}

/// The one-way answer over compressed codes: kept codes as measured, the merged code the sum of
/// the merged noisy counts. (Its noise is larger, σ√k for k merged codes; the estimator weights
/// it like the others — an approximation that affects accuracy only, never privacy.)
fn compress_marginal(m: NoisyMarginal, groups: Option<&[Vec<u32>]>) -> NoisyMarginal {
    let Some(groups) = groups else { return m };
    let values = groups
        .iter()
        .map(|g| g.iter().map(|&c| m.values[c as usize]).sum())
        .collect();
    NoisyMarginal { values, ..m }
}
