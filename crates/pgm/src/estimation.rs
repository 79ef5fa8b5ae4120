//! Estimation of a graphical model from noisy marginal measurements by entropic mirror descent
//! over the marginal polytope (McKenna, Sheldon & Miklau 2019, "Graphical-model based estimation
//! and inference for differential privacy", ICML, Algorithm 1).
//!
//! The loss is Private-PGM's L2 loss `L(μ) = Σ_m ‖μ_m − y_m‖² / (2σ_m)` over the measurements
//! `m`, where `μ_m` is the model's marginal (expected counts) over the measurement's clique. An
//! iteration maps the potentials `θ ← θ − η ∇L(μ)` and recomputes `μ` by belief propagation;
//! the step is kept only when it satisfies the Armijo condition
//! `L(μ) − L(μ') ≥ ½ η ⟨∇L(μ), μ − μ'⟩` (then `η ← 1.01 η`), otherwise it is dropped and
//! `η ← η / 2`. The loss therefore never increases (we also require `L(μ') ≤ L(μ)` outright).
//! `η` starts at `2 / (L n)` as in Private-PGM 2.0, with `L` the Lipschitz constant of `∇L` in
//! the coordinates of the measured cliques: the largest sum of `1/σ_m` over the measurements of
//! one clique.

use crate::clique_vector::CliqueVector;
use crate::domain::{Clique, Domain};
use crate::error::{PgmError, Result};
use crate::factor::{Factor, subset_projection};
use crate::inference::MessagePassing;
use crate::junction_tree::JunctionTree;
use crate::kernel::Projection;
use crate::model::GraphicalModel;

/// A noisy measurement of the marginal counts over a clique: `values[i] = count_i + noise`, with
/// noise of standard deviation `stddev`, row-major over the clique's attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The attributes measured.
    pub clique: Clique,
    /// Noisy counts, one per cell of the clique's table.
    pub values: Vec<f64>,
    /// Standard deviation of the noise on each value (finite, > 0); weights the loss by `1/σ`.
    pub stddev: f64,
}

/// Cells that must have probability zero (structural zeros, e.g. clinically impossible value
/// combinations), as a mask over a clique's table. Applied as `-∞` log-potentials, so no
/// estimate puts mass there and no sample lands there.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuralZeros {
    /// The attributes the mask is over.
    pub clique: Clique,
    /// `true` for a forbidden cell, row-major over the clique's table.
    pub forbidden: Vec<bool>,
}

/// Settings of [`estimate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EstimationOptions {
    /// Number of mirror-descent iterations (Private-PGM's default is 1000).
    pub iters: usize,
    /// Known number of records; `None` estimates it from the measurements
    /// ([`minimum_variance_total`]).
    pub total: Option<f64>,
    /// A fixed step size with no line search; `None` uses the Armijo line search from
    /// `2 / (L n)` (see the module documentation).
    pub stepsize: Option<f64>,
}

impl Default for EstimationOptions {
    fn default() -> EstimationOptions {
        EstimationOptions {
            iters: 1000,
            total: None,
            stepsize: None,
        }
    }
}

/// The minimum-variance unbiased estimate of the number of records from the measurements: each
/// measurement's sum estimates it with variance `σ² · cells`; estimates are combined by inverse
/// variance. At least 1; 1 when there is no measurement.
pub fn minimum_variance_total(domain: &Domain, measurements: &[Measurement]) -> Result<f64> {
    let (mut weighted, mut precision) = (0.0, 0.0);
    for (index, m) in measurements.iter().enumerate() {
        check_measurement(domain, index, m)?;
        let variance = m.stddev * m.stddev * m.values.len() as f64;
        weighted += m.values.iter().sum::<f64>() / variance;
        precision += 1.0 / variance;
    }
    if precision == 0.0 {
        return Ok(1.0);
    }
    Ok((weighted / precision).max(1.0))
}

/// The Lipschitz constant of the loss gradient in the coordinates of the measured cliques: the
/// largest sum of `1/σ` over the measurements sharing a clique (1 without measurements).
fn lipschitz(measurements: &[Measurement]) -> f64 {
    let mut by_clique: Vec<(&Clique, f64)> = measurements.iter().map(|m| (&m.clique, 1.0 / m.stddev)).collect();
    by_clique.sort_by(|a, b| a.0.cmp(b.0));
    let mut best: f64 = 0.0;
    let mut i = 0;
    while i < by_clique.len() {
        let mut sum = 0.0;
        let mut j = i;
        while j < by_clique.len() && by_clique[j].0 == by_clique[i].0 {
            sum += by_clique[j].1;
            j += 1;
        }
        best = best.max(sum);
        i = j;
    }
    if best > 0.0 { best } else { 1.0 }
}

fn check_measurement(domain: &Domain, index: usize, m: &Measurement) -> Result<()> {
    let cells = domain.table_size(&m.clique)?;
    if m.values.len() != cells {
        return Err(PgmError::ValueCount {
            clique: m.clique.attrs().to_vec(),
            expected: cells,
            found: m.values.len(),
        });
    }
    if let Some((cell, &value)) = m.values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(PgmError::InvalidValue {
            clique: m.clique.attrs().to_vec(),
            cell,
            value,
            rule: "measured values must be finite",
        });
    }
    if !(m.stddev.is_finite() && m.stddev > 0.0) {
        return Err(PgmError::InvalidStddev {
            index,
            clique: m.clique.attrs().to_vec(),
            stddev: m.stddev,
        });
    }
    Ok(())
}

/// One measurement, ready for the loop.
#[derive(Debug, Clone)]
struct Term {
    /// Tree clique the measurement is projected from.
    tree_clique: usize,
    /// Index of the measurement's clique among the fitted parameter cliques.
    parameter: usize,
    /// Map from the tree clique's cells to the measurement's cells.
    map: Projection,
    values: Vec<f64>,
    inverse_stddev: f64,
}

/// Loss, marginals and gradient at one point.
#[derive(Debug, Clone)]
struct Evaluation {
    log_beliefs: Vec<Vec<f64>>,
    probabilities: Vec<Vec<f64>>,
    log_partition: f64,
    /// Measured marginals μ_m, one per term.
    marginals: Vec<Vec<f64>>,
    /// ∇L with respect to μ_m, one per term.
    gradient: Vec<Vec<f64>>,
    loss: f64,
}

/// The mirror-descent solver, one iteration at a time (see [`estimate`] to run it all).
#[derive(Debug, Clone)]
pub struct MirrorDescent {
    domain: Domain,
    tree: JunctionTree,
    engine: MessagePassing,
    total: f64,
    terms: Vec<Term>,
    /// Fixed factors: warm start and structural-zero masks (not updated).
    fixed: CliqueVector,
    /// Fitted parameter cliques and their current values.
    parameter_cliques: Vec<Clique>,
    parameters: Vec<Vec<f64>>,
    candidate_parameters: Vec<Vec<f64>>,
    /// Current potentials in tree space, and the candidate of the next step.
    theta: Vec<Vec<f64>>,
    candidate_theta: Vec<Vec<f64>>,
    current: Evaluation,
    candidate: Evaluation,
    stepsize: f64,
    line_search: bool,
    iterations: usize,
}

impl MirrorDescent {
    /// Sets up the problem: validates the measurements, builds the junction tree of the measured,
    /// masked and warm-start cliques, and evaluates the starting point (the warm-start
    /// potentials, or uniform ones).
    pub fn new(
        domain: &Domain,
        measurements: &[Measurement],
        zeros: &[StructuralZeros],
        warm_start: Option<&CliqueVector>,
        options: &EstimationOptions,
    ) -> Result<MirrorDescent> {
        for (index, m) in measurements.iter().enumerate() {
            check_measurement(domain, index, m)?;
        }
        let total = match options.total {
            Some(total) if total.is_finite() && total > 0.0 => total,
            Some(total) => return Err(PgmError::InvalidTotal { total }),
            None => minimum_variance_total(domain, measurements)?,
        };
        let stepsize = match options.stepsize {
            Some(s) if s.is_finite() && s > 0.0 => s,
            Some(stepsize) => return Err(PgmError::InvalidStepsize { stepsize }),
            None => 2.0 / (lipschitz(measurements) * total),
        };

        // Fixed factors: warm start plus masks (0 where allowed, -inf where forbidden).
        let mut fixed: Vec<Factor> = warm_start.map(|w| w.factors().cloned().collect()).unwrap_or_default();
        for mask in zeros {
            let cells = domain.table_size(&mask.clique)?;
            if mask.forbidden.len() != cells {
                return Err(PgmError::ValueCount {
                    clique: mask.clique.attrs().to_vec(),
                    expected: cells,
                    found: mask.forbidden.len(),
                });
            }
            let values = mask
                .forbidden
                .iter()
                .map(|&f| if f { f64::NEG_INFINITY } else { 0.0 })
                .collect();
            fixed.push(Factor::new(domain, mask.clique.clone(), values)?);
        }
        for f in &fixed {
            if f.shape() != domain.shape(f.clique())? {
                return Err(PgmError::ValueCount {
                    clique: f.clique().attrs().to_vec(),
                    expected: domain.table_size(f.clique())?,
                    found: f.log_values().len(),
                });
            }
        }
        let fixed = CliqueVector::from_factors(fixed);

        let mut parameter_cliques: Vec<Clique> = measurements.iter().map(|m| m.clique.clone()).collect();
        parameter_cliques.sort();
        parameter_cliques.dedup();
        let mut all_cliques = parameter_cliques.clone();
        all_cliques.extend(fixed.cliques().cloned());
        let tree = JunctionTree::new(domain, &all_cliques)?;
        let engine = MessagePassing::new(domain, &tree)?;

        let mut terms = Vec::with_capacity(measurements.len());
        for m in measurements {
            let tree_clique = tree
                .containing_clique(domain, &m.clique)
                .ok_or_else(|| PgmError::NotInModel {
                    clique: m.clique.attrs().to_vec(),
                })?;
            let parameter = parameter_cliques
                .binary_search(&m.clique)
                .map_err(|_| PgmError::NotInModel {
                    clique: m.clique.attrs().to_vec(),
                })?;
            let big = &tree.cliques()[tree_clique];
            terms.push(Term {
                tree_clique,
                parameter,
                map: subset_projection(big, &domain.shape(big)?, &m.clique),
                values: m.values.clone(),
                inverse_stddev: 1.0 / m.stddev,
            });
        }
        let expanded = fixed.expand(domain, tree.cliques())?;
        let theta: Vec<Vec<f64>> = tree
            .cliques()
            .iter()
            .map(|c| expanded.get(c).map(|f| f.log_values().to_vec()).unwrap_or_default())
            .collect();
        let mut parameters = Vec::with_capacity(parameter_cliques.len());
        for c in &parameter_cliques {
            parameters.push(vec![0.0; domain.table_size(c)?]);
        }
        let sizes = engine.sizes().to_vec();
        let empty = Evaluation {
            log_beliefs: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            probabilities: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            log_partition: 0.0,
            marginals: terms.iter().map(|t| vec![0.0; t.values.len()]).collect(),
            gradient: terms.iter().map(|t| vec![0.0; t.values.len()]).collect(),
            loss: 0.0,
        };
        let mut solver = MirrorDescent {
            domain: domain.clone(),
            tree,
            engine,
            total,
            terms,
            fixed,
            parameter_cliques,
            candidate_parameters: parameters.clone(),
            parameters,
            candidate_theta: theta.clone(),
            theta,
            current: empty.clone(),
            candidate: empty,
            stepsize,
            line_search: options.stepsize.is_none(),
            iterations: 0,
        };
        let MirrorDescent {
            engine,
            theta,
            current,
            terms,
            total,
            ..
        } = &mut solver;
        evaluate(engine, theta, current, terms, *total)?;
        Ok(solver)
    }

    /// One iteration: a mirror-descent step, kept if it passes the line search (always, with a
    /// fixed step size). Returns whether the step was kept.
    pub fn step(&mut self) -> Result<bool> {
        let eta = self.stepsize;
        for (candidate, current) in self.candidate_theta.iter_mut().zip(&self.theta) {
            candidate.copy_from_slice(current);
        }
        for (candidate, current) in self.candidate_parameters.iter_mut().zip(&self.parameters) {
            candidate.copy_from_slice(current);
        }
        for (term, gradient) in self.terms.iter().zip(&self.current.gradient) {
            term.map
                .broadcast_add(&mut self.candidate_theta[term.tree_clique], gradient, -eta);
            for (p, g) in self.candidate_parameters[term.parameter].iter_mut().zip(gradient) {
                *p -= eta * g;
            }
        }
        evaluate(
            &mut self.engine,
            &self.candidate_theta,
            &mut self.candidate,
            &self.terms,
            self.total,
        )?;
        let accept = if self.line_search {
            let mut directional = 0.0;
            for ((g, mu), mu2) in self
                .current
                .gradient
                .iter()
                .zip(&self.current.marginals)
                .zip(&self.candidate.marginals)
            {
                directional += g.iter().zip(mu).zip(mu2).map(|((g, a), b)| g * (a - b)).sum::<f64>();
            }
            let decrease = self.current.loss - self.candidate.loss;
            decrease >= 0.5 * eta * directional && self.candidate.loss <= self.current.loss
        } else {
            true
        };
        if accept {
            std::mem::swap(&mut self.theta, &mut self.candidate_theta);
            std::mem::swap(&mut self.parameters, &mut self.candidate_parameters);
            std::mem::swap(&mut self.current, &mut self.candidate);
            if self.line_search {
                self.stepsize *= 1.01;
            }
        } else {
            self.stepsize *= 0.5;
        }
        self.iterations += 1;
        Ok(accept)
    }

    /// The loss at the current potentials.
    pub fn loss(&self) -> f64 {
        self.current.loss
    }

    /// The current step size η.
    pub fn stepsize(&self) -> f64 {
        self.stepsize
    }

    /// The number of records the model is scaled to.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// Iterations run so far.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The junction tree the model lives on.
    pub fn tree(&self) -> &JunctionTree {
        &self.tree
    }

    /// The fitted model at the current potentials. Its potentials are the fitted factors over
    /// the measured cliques plus the fixed (warm-start and mask) factors.
    pub fn into_model(self) -> Result<GraphicalModel> {
        let mut factors: Vec<Factor> = self.fixed.factors().cloned().collect();
        for (clique, values) in self.parameter_cliques.iter().zip(self.parameters) {
            factors.push(Factor::new(&self.domain, clique.clone(), values)?);
        }
        Ok(GraphicalModel::from_calibrated(
            self.domain,
            self.tree,
            CliqueVector::from_factors(factors),
            self.theta,
            self.current.log_beliefs,
            self.current.log_partition,
            self.total,
        ))
    }
}

/// Calibrates `theta` and computes the measured marginals, the loss and its gradient.
fn evaluate(
    engine: &mut MessagePassing,
    theta: &[Vec<f64>],
    out: &mut Evaluation,
    terms: &[Term],
    total: f64,
) -> Result<()> {
    out.log_partition = engine.calibrate(theta, &mut out.log_beliefs, &mut out.probabilities)?;
    out.loss = 0.0;
    for ((term, mu), gradient) in terms.iter().zip(out.marginals.iter_mut()).zip(out.gradient.iter_mut()) {
        term.map.sum(&out.probabilities[term.tree_clique], mu);
        let mut squares = 0.0;
        for ((g, m), &y) in gradient.iter_mut().zip(mu.iter_mut()).zip(&term.values) {
            *m *= total;
            let diff = *m - y;
            squares += diff * diff;
            *g = diff * term.inverse_stddev;
        }
        out.loss += 0.5 * squares * term.inverse_stddev;
    }
    Ok(())
}

/// Fits a model to the measurements by mirror descent for `options.iters` iterations, optionally
/// starting from `warm_start` potentials (e.g. the previous model of an adaptive method) and with
/// structural zeros that the model must respect.
pub fn estimate(
    domain: &Domain,
    measurements: &[Measurement],
    zeros: &[StructuralZeros],
    warm_start: Option<&CliqueVector>,
    options: &EstimationOptions,
) -> Result<GraphicalModel> {
    let mut solver = MirrorDescent::new(domain, measurements, zeros, warm_start, options)?;
    for _ in 0..options.iters {
        solver.step()?;
    }
    solver.into_model()
}
