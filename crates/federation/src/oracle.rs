//! The federated measurement oracle: `synth`'s seam answered by the federation, so that
//! `synth::mst::mst` and `synth::aim::aim` run unchanged.
//!
//! **measure(attrs, ρ)** — one round: every site secret-shares its local marginal, the
//! aggregators sum the valid reports and each adds 𝒩_ℤ(0, σ²) with σ² ≥ 1/(2ρ) (one record moves
//! one count by one). Central semantics: the result is the union's marginal plus noise, ρ-zCDP
//! against the hub, the helper, the requester and any coalition of sites (see [`crate::noise`]),
//! with per-cell variance 2σ² (reported as `sigma = √(2σ²)` so the estimator weights it right).
//!
//! **select(candidates, ε)** — the score `weight·(‖x − x̂‖₁ − penalty)` needs the union's exact
//! marginal `x`, which secure aggregation must not reveal. Three sound variants ([`Selection`]),
//! each charging ρ_sel = ε²/8 (what the central exponential mechanism costs) at every site,
//! where the site recomputes it from the request:
//!
//! - [`Selection::NoisyMarginals`]: one round measures the k candidates' marginals together
//!   (L2 sensitivity √k, σ² ≥ k/(2ρ_sel) per aggregator); the choice is the arg-max of
//!   `weight·(‖y − x̂‖₁ − penalty − √(2/π)·σ_tot·cells)`, post-processing of that release.
//! - [`Selection::SummedLocalScores`] (default): each site's quantised local error
//!   `⌊q·‖x_s − (n_s/N)·x̂‖₁⌋` is secure-summed (per-candidate sensitivity 2q + 1, σ² ≥
//!   k(2q+1)²/(2ρ_sel) per aggregator); the choice is the arg-max of
//!   `weight·(S/q − sampling floor − penalty)`, post-processing.
//! - [`Selection::LocalVotes`]: each site runs the exponential mechanism with ε on its local
//!   scores and casts one vote; votes are secure-summed without aggregator noise (each vote is
//!   ε²/8-zCDP for its site's records; parallel composition); the most-voted candidate wins.
//!
//! The selection's releases are never fed to the model, so the synthesizers' accounting is
//! unchanged. The utility gap of each variant is measured in `docs/federation.md`.

use dp::{Accountant, Epsilon, ExponentialMechanism, GaussianMechanism, Rho};
use synth::oracle::{Candidate, MeasurementOracle, NoisyMarginal, RESOLUTION};

use crate::driver::RoundDriver;
use crate::hub::{RoundRelease, RoundSpec};
use crate::msg::{MODEL_SCALE, Purpose, ScoreQuery, VoteQuery, WireRational};
use crate::noise::{Noise, aggregator_sigma2};
use crate::query::sampling_floor;
use crate::simulation::Simulation;
use crate::{FederationError, input};
use rand::RngExt;
use rand_chacha::ChaCha20Rng;

/// How [`FederatedOracle`] answers `select` (both charge ε²/8 at every site).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Measure the candidates' marginals together (L2 sensitivity √k) and select on the noisy
    /// L1 errors: unbiased scores, but the noise of every cell adds up in each score.
    NoisyMarginals,
    /// Secure-sum each site's quantised local score `‖x_s − (n_s/N)·x̂‖₁` (per-candidate
    /// sensitivity 2q + 1 at resolution q) and select on the noisy sums: one noise draw per
    /// candidate, but the sum of local errors over-states the union's error where sites differ.
    SummedLocalScores {
        /// Score units per count (1..=64).
        resolution: u32,
    },
    /// Every site runs the exponential mechanism with the central ε on its own local scores
    /// and casts one vote; the one-hot votes are secure-summed (Prio3 proves each site casts
    /// at most one) and the most-voted candidate wins. Each vote is ε²/8-zCDP for the site's
    /// records, so the vote count is too (parallel composition): no aggregator noise is added.
    LocalVotes {
        /// Score units per largest weight (1..=1024).
        resolution: u32,
    },
}

/// A model's expected counts in fixed point (units of 1/`MODEL_SCALE`), with one unit in the
/// first cell if all round to zero (the local score needs a positive total).
fn fixed_model(model: &[f64]) -> Vec<u64> {
    let mut m: Vec<u64> = model
        .iter()
        .map(|&v| (v.max(0.0) * MODEL_SCALE as f64).round() as u64)
        .collect();
    if m.iter().all(|&v| v == 0)
        && let Some(first) = m.first_mut()
    {
        *first = 1;
    }
    m
}

/// The federated oracle over a [`RoundDriver`]: the in-process [`Simulation`] by default, the
/// `server` crate's networked driver in deployment.
pub struct FederatedOracle<D: RoundDriver = Simulation> {
    driver: D,
    accountant: Accountant,
    original: Vec<usize>,
    sizes: Vec<usize>,
    maps: Vec<Option<Vec<u32>>>,
    rounds: usize,
    selection: Selection,
    rng: ChaCha20Rng,
}

fn to_synth(e: FederationError) -> synth::Error {
    match e {
        FederationError::Privacy(p) => synth::Error::Privacy(p),
        other => synth::Error::Input(format!("federation: {other}")),
    }
}

impl<D: RoundDriver> FederatedOracle<D> {
    /// An oracle spending at most `budget` (at most the job's ρ per site) over the federation
    /// run by `driver`. Refuses a federation without noise: its releases would not be
    /// differentially private.
    /// `rng` breaks ties between equally scored candidates.
    pub fn new(driver: D, budget: Rho, rng: ChaCha20Rng) -> crate::Result<Self> {
        let sizes = driver.sizes().to_vec();
        if driver.noise() != Noise::DiscreteGaussian {
            return Err(input("the federated oracle needs noise at the aggregators"));
        }
        if budget.get() > driver.announcement().rho_per_site {
            return Err(input(format!(
                "budget rho {} exceeds the job's {} per site",
                budget.get(),
                driver.announcement().rho_per_site
            )));
        }
        Ok(FederatedOracle {
            driver,
            accountant: Accountant::new(budget),
            maps: vec![None; sizes.len()],
            original: sizes.clone(),
            sizes,
            rounds: 0,
            selection: Selection::SummedLocalScores { resolution: 4 },
            rng,
        })
    }

    /// Chooses how `select` is answered (the default is summed local scores at resolution 4).
    pub fn with_selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }

    /// The driver running the federation.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// Rounds run so far.
    pub fn rounds(&self) -> usize {
        self.rounds
    }

    /// Gives the driver back (to inspect ledgers and events).
    pub fn into_driver(self) -> D {
        self.driver
    }

    /// One round of counts (a measurement or a noisy-marginal selection).
    fn count_round(
        &mut self,
        purpose: Purpose,
        marginals: Vec<Vec<usize>>,
        sigma2: dp::Rational,
        what: &str,
    ) -> crate::Result<RoundRelease> {
        self.driver.run(RoundSpec {
            purpose,
            marginals,
            maps: self.maps.clone(),
            scores: None,
            votes: None,
            sigma2,
            what: what.to_owned(),
        })
    }

    fn check(&self, attrs: &[usize]) -> synth::Result<()> {
        if attrs.is_empty() || attrs.windows(2).any(|w| w[0] >= w[1]) || attrs.iter().any(|&a| a >= self.sizes.len()) {
            return Err(synth::Error::Input(format!(
                "attributes {attrs:?} are not increasing attributes of the domain"
            )));
        }
        Ok(())
    }
}

impl FederatedOracle<Simulation> {
    /// The simulated federation (the same as [`FederatedOracle::driver`]).
    pub fn simulation(&self) -> &Simulation {
        &self.driver
    }

    /// Gives the simulated federation back (the same as [`FederatedOracle::into_driver`]).
    pub fn into_simulation(self) -> Simulation {
        self.driver
    }
}

impl<D: RoundDriver> MeasurementOracle for FederatedOracle<D> {
    fn sizes(&self) -> Vec<usize> {
        self.sizes.clone()
    }

    fn compress(&mut self, maps: &[Option<Vec<u32>>]) -> synth::Result<()> {
        if maps.len() != self.original.len() {
            return Err(synth::Error::Input(format!(
                "{} compression maps for {} attributes",
                maps.len(),
                self.original.len()
            )));
        }
        let mut sizes = self.original.clone();
        for (a, map) in maps.iter().enumerate() {
            if let Some(m) = map {
                let size = m.iter().max().map_or(0, |x| *x as usize + 1);
                if m.len() != self.original[a] || size == 0 {
                    return Err(synth::Error::Input(format!(
                        "compression map of attribute {a} does not cover its codes"
                    )));
                }
                sizes[a] = size;
            }
        }
        self.sizes = sizes;
        self.maps = maps.to_vec();
        Ok(())
    }

    fn measure(&mut self, attrs: &[usize], rho: Rho, what: &str) -> synth::Result<NoisyMarginal> {
        self.check(attrs)?;
        let sigma2 = GaussianMechanism::new(rho, 1)?.sigma2();
        // Charge first: a refused charge releases nothing.
        self.accountant.spend(rho, what)?;
        self.rounds += 1;
        let release = self
            .count_round(Purpose::Measurement, vec![attrs.to_vec()], sigma2, what)
            .map_err(to_synth)?;
        Ok(NoisyMarginal {
            attrs: attrs.to_vec(),
            values: release.values,
            sigma: (2.0 * sigma2.to_f64()).sqrt(),
            rho,
        })
    }

    fn select(&mut self, candidates: &[Candidate<'_>], epsilon: Epsilon, what: &str) -> synth::Result<usize> {
        if candidates.is_empty() {
            return Err(synth::Error::Input("no candidate to select from".into()));
        }
        for c in candidates {
            self.check(c.attrs)?;
            let cells: usize = c.attrs.iter().map(|&a| self.sizes[a]).product();
            if c.model.len() != cells || !(c.weight.is_finite() && c.weight >= 0.0) {
                return Err(synth::Error::Input(format!(
                    "candidate {:?}: model of {} cells (expected {cells}) or bad weight {}",
                    c.attrs,
                    c.model.len(),
                    c.weight
                )));
            }
        }
        // The charge of the central selection with the same ε (ε²/8, rounded up).
        let rho = ExponentialMechanism::new(epsilon, RESOLUTION as u64 + 2)?.rho()?;
        let marginals: Vec<Vec<usize>> = candidates.iter().map(|c| c.attrs.to_vec()).collect();
        let k = candidates.len() as u64;
        let scores: Vec<f64> = match self.selection {
            Selection::NoisyMarginals => {
                let sigma2 = aggregator_sigma2(rho, k).map_err(to_synth)?;
                self.accountant.spend(rho, what)?;
                self.rounds += 1;
                let release = self
                    .count_round(Purpose::Selection, marginals, sigma2, what)
                    .map_err(to_synth)?;
                let sigma_total = (2.0 * sigma2.to_f64()).sqrt();
                let bias_per_cell = (2.0 / std::f64::consts::PI).sqrt() * sigma_total;
                let mut offset = 0;
                let mut scores = Vec::with_capacity(candidates.len());
                for c in candidates {
                    let cells = c.model.len();
                    let noisy = release
                        .values
                        .get(offset..offset + cells)
                        .ok_or_else(|| synth::Error::Input("the selection release is too short".into()))?;
                    offset += cells;
                    let l1: f64 = noisy.iter().zip(c.model).map(|(&y, &m)| (y as f64 - m).abs()).sum();
                    scores.push(c.weight * (l1 - c.penalty - bias_per_cell * cells as f64));
                }
                scores
            }
            Selection::SummedLocalScores { resolution } => {
                let per = 2 * u64::from(resolution) + 1;
                let sigma2 = aggregator_sigma2(rho, k * per * per).map_err(to_synth)?;
                self.accountant.spend(rho, what)?;
                self.rounds += 1;
                let query = ScoreQuery {
                    models: candidates.iter().map(|c| fixed_model(c.model)).collect(),
                    resolution,
                };
                // The sites' sampling floors (public), summed over the sites.
                let sites = self.driver.announcement().sites.len() as u32;
                let floors: Vec<f64> = query
                    .models
                    .iter()
                    .map(|m| f64::from(sites) * sampling_floor(m, sites))
                    .collect();
                let release = self
                    .driver
                    .run(RoundSpec {
                        purpose: Purpose::Scores,
                        marginals,
                        maps: self.maps.clone(),
                        scores: Some(query),
                        votes: None,
                        sigma2,
                        what: what.to_owned(),
                    })
                    .map_err(to_synth)?;
                if release.values.len() != candidates.len() {
                    return Err(synth::Error::Input("the score release has the wrong length".into()));
                }
                let q = f64::from(resolution);
                candidates
                    .iter()
                    .zip(&release.values)
                    .zip(&floors)
                    .map(|((c, &v), floor)| c.weight * (v as f64 / q - floor - c.penalty))
                    .collect()
            }
            Selection::LocalVotes { resolution } => {
                // Each site's ε is the central selection's ε: the site charges ε²/8 (= rho).
                let epsilon = WireRational {
                    num: ((epsilon.get() * 2f64.powi(32)).floor() as u64).max(1),
                    den: 1 << 32,
                };
                let max_weight = candidates.iter().map(|c| c.weight).fold(0.0, f64::max);
                let fixed = |v: f64| (v.max(0.0) * MODEL_SCALE as f64).round() as u64;
                let votes = VoteQuery {
                    models: candidates.iter().map(|c| fixed_model(c.model)).collect(),
                    weights: candidates.iter().map(|c| fixed(c.weight / max_weight)).collect(),
                    penalties: candidates.iter().map(|c| fixed(c.penalty)).collect(),
                    epsilon,
                    resolution,
                    sites: self.driver.announcement().sites.len() as u32,
                };
                self.accountant.spend(rho, what)?;
                self.rounds += 1;
                let release = self
                    .driver
                    .run(RoundSpec {
                        purpose: Purpose::Votes,
                        marginals,
                        maps: self.maps.clone(),
                        scores: None,
                        votes: Some(votes),
                        sigma2: dp::Rational::integer(1)?,
                        what: what.to_owned(),
                    })
                    .map_err(to_synth)?;
                if release.values.len() != candidates.len() {
                    return Err(synth::Error::Input("the vote release has the wrong length".into()));
                }
                release.values.iter().map(|&v| v as f64).collect()
            }
        };
        // Arg-max, ties broken uniformly at random (votes tie often).
        let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let tied: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] == best).collect();
        if tied.is_empty() {
            return Err(synth::Error::Input("no candidate has a finite score".into()));
        }
        Ok(tied[self.rng.random_range(0..tied.len())])
    }

    fn accountant(&self) -> &Accountant {
        &self.accountant
    }
}
