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
//! marginal `x`, which secure aggregation must not reveal. Four sound variants ([`Selection`]),
//! each charging ρ_sel = ε²/8 (what the central exponential mechanism costs) at every site,
//! where the site recomputes it from the request:
//!
//! - [`Selection::NoisyMarginals`]: one round measures the k candidates' marginals together
//!   (L2 sensitivity √k, σ² ≥ k/(2ρ_sel) per aggregator); the choice is the arg-max of
//!   `weight·(‖y − x̂‖₁ − penalty − √(2/π)·σ_tot·cells)`, post-processing of that release.
//! - [`Selection::SummedLocalScores`]: each site's quantised local error
//!   `⌊q·‖x_s − (n_s/N)·x̂‖₁⌋` is secure-summed (per-candidate sensitivity 2q + 1, σ² ≥
//!   k(2q+1)²/(2ρ_sel) per aggregator); the choice is the arg-max of
//!   `weight·(S/q − sampling floor − penalty)`, post-processing.
//! - [`Selection::FloorCorrectedScores`] (default): the same round as summed local scores
//!   (same request, same σ², same charge at every site); the oracle then subtracts from each
//!   candidate an estimate of its *heterogeneity floor* made from released scores (see below).
//! - [`Selection::LocalVotes`]: each site runs the exponential mechanism with ε on its local
//!   scores and casts one vote; votes are secure-summed without aggregator noise (each vote is
//!   ε²/8-zCDP for its site's records; parallel composition); the most-voted candidate wins.
//!
//! **Heterogeneity floor.** The summed local score of candidate r is, for an exact model,
//! H_r = Σ_s ‖x_{s,r} − (n_s/N)·x_r‖₁ — the sites' difference from the union, which no model
//! removes. On label-skewed sites it is large for every clique that contains (or correlates
//! with) the skewed attribute, and summed local scores re-select those cliques over and over.
//! Once a clique m has been measured the model matches the union on m (up to the measurement
//! noise), so m's released score in every later selection round is ≈ H_m plus noise (plus
//! whatever error the model has since regained on m): those releases estimate H_m. A clique's
//! floor is at least that of each of its sub-cliques (marginalisation is an L1 contraction,
//! site by site), so [`Selection::FloorCorrectedScores`] subtracts from candidate c the largest
//! of: c's own estimate from *earlier* rounds (if c was measured; never the current round's
//! value, whose noise would cancel c's own) and the estimates of c's measured proper
//! sub-cliques (their current value included: its noise is independent of c's). Each estimate
//! is the inverse-variance weighted mean of the releases minus one standard error (the noise
//! variance 2σ²/q² is public), clamped at 0: where the selection noise swamps the floor nothing
//! is subtracted and the variant selects as summed local scores do. What it cannot undo: where
//! a site holds much more or much less than its share of a level a, its local error over the
//! cells (a, ·) is ≈ |x_s(a) − (n_s/N)·x(a)| whatever the model's conditional x̂(·|a), so local
//! scores stay blind to part of the union's error on cliques containing a skewed attribute.
//!
//! *Privacy of the correction.* The estimates are functions of released noisy score sums
//! (each already ρ_sel-zCDP and charged), of which cliques the synthesizer asked to measure
//! (public), and of public models and sizes: post-processing, no new charge. The request is
//! built exactly as for [`Selection::SummedLocalScores`] (purpose `Scores`, the same
//! `ScoreQuery` and σ²; no wire change), so each site recomputes and charges the same ρ_sel.
//!
//! The selection's releases are never fed to the model, so the synthesizers' accounting is
//! unchanged. The utility gap of each variant is measured in `docs/federation.md`.

use std::collections::{BTreeMap, BTreeSet};

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

/// How [`FederatedOracle`] answers `select` (all charge ε²/8 at every site).
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
    /// [`Selection::SummedLocalScores`] (the same round, request and charge), with each
    /// candidate's heterogeneity floor, estimated from earlier released scores of measured
    /// cliques, subtracted before the arg-max (post-processing; see the module documentation).
    FloorCorrectedScores {
        /// Score units per count (1..=64).
        resolution: u32,
    },
}

/// Released selection scores of measured cliques, in counts (L1 units, sampling floor already
/// subtracted): the heterogeneity-floor estimates of [`Selection::FloorCorrectedScores`].
/// Everything here is derived from released values, their public noise variance and public
/// requests.
#[derive(Debug, Default, Clone)]
struct Floors {
    /// Cliques measured since the last compression (codes change with compression).
    measured: BTreeSet<Vec<usize>>,
    /// Per measured clique, over its released scores in selection rounds after its first
    /// measurement: Σ v/var and Σ 1/var (an inverse-variance weighted mean: the noise variance
    /// falls as AIM anneals).
    released: BTreeMap<Vec<usize>, Evidence>,
}

/// Σ v/var and Σ 1/var of a clique's released scores.
#[derive(Debug, Default, Clone, Copy)]
struct Evidence {
    weighted: f64,
    precision: f64,
}

impl Evidence {
    /// Adds one release; one without a positive finite variance (none is built so) adds nothing.
    fn with(self, value: f64, variance: f64) -> Evidence {
        if !(variance.is_finite() && variance > 0.0 && value.is_finite()) {
            return self;
        }
        Evidence {
            weighted: self.weighted + value / variance,
            precision: self.precision + 1.0 / variance,
        }
    }

    /// A lower confidence bound on the floor: weighted mean minus [`FLOOR_Z`] standard errors,
    /// clamped at 0 (H ≥ 0). Where the score noise swamps the floor this is 0 and the variant
    /// selects as summed local scores do, instead of subtracting noise.
    fn lower_bound(self) -> f64 {
        if self.precision <= 0.0 {
            return 0.0;
        }
        (self.weighted / self.precision - FLOOR_Z / self.precision.sqrt()).max(0.0)
    }
}

/// Standard errors between a floor estimate and what is subtracted.
const FLOOR_Z: f64 = 1.0;

impl Floors {
    /// The floor of every candidate given this round's released `scores` (in counts, each with
    /// noise variance `variance`): the largest lower bound among its own earlier releases
    /// (measured cliques only) and its measured proper sub-cliques' releases including this
    /// round's.
    fn estimate(&self, cliques: &[&[usize]], scores: &[f64], variance: f64) -> Vec<f64> {
        let current: BTreeMap<&[usize], f64> = cliques.iter().copied().zip(scores.iter().copied()).collect();
        cliques
            .iter()
            .map(|&c| {
                let own = self.released.get(c).map(|e| e.lower_bound());
                let subs = self
                    .measured
                    .iter()
                    .filter(|m| m.len() < c.len() && m.iter().all(|a| c.contains(a)))
                    .map(|m| {
                        let evidence = self.released.get(m).copied().unwrap_or_default();
                        match current.get(m.as_slice()) {
                            Some(&v) => evidence.with(v, variance).lower_bound(),
                            None => evidence.lower_bound(),
                        }
                    });
                own.into_iter().chain(subs).fold(0.0, f64::max)
            })
            .collect()
    }

    /// Records this round's released scores of the measured cliques among `cliques`.
    fn record(&mut self, cliques: &[&[usize]], scores: &[f64], variance: f64) {
        for (&c, &v) in cliques.iter().zip(scores) {
            if self.measured.contains(c) {
                let entry = self.released.entry(c.to_vec()).or_default();
                *entry = entry.with(v, variance);
            }
        }
    }
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
    floors: Floors,
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
            selection: Selection::FloorCorrectedScores { resolution: 4 },
            floors: Floors::default(),
            rng,
        })
    }

    /// Chooses how `select` is answered (the default is floor-corrected summed local scores at
    /// resolution 4: on Adult split non-IID over 5 sites it took federated AIM from 2.54× to
    /// 1.53× the central workload error; docs/benchmarks.md).
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

    /// One summed-local-scores round (charged here): per candidate, the released noisy sum of
    /// the sites' quantised local errors in counts (÷ q), minus the sites' public sampling
    /// floors; and the variance of each of those values' noise (2σ²/q², public). Per-candidate
    /// sensitivity 2q + 1, σ² ≥ k(2q+1)²/(2ρ) per aggregator.
    fn summed_scores(
        &mut self,
        candidates: &[Candidate<'_>],
        marginals: Vec<Vec<usize>>,
        rho: Rho,
        resolution: u32,
        what: &str,
    ) -> synth::Result<(Vec<f64>, f64)> {
        let per = 2 * u64::from(resolution) + 1;
        let k = candidates.len() as u64;
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
        let values = release
            .values
            .iter()
            .zip(&floors)
            .map(|(&v, floor)| v as f64 / q - floor)
            .collect();
        Ok((values, 2.0 * sigma2.to_f64() / (q * q)))
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
        // Scores over merged codes are not comparable with earlier ones.
        self.floors = Floors::default();
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
        self.floors.measured.insert(attrs.to_vec());
        Ok(NoisyMarginal {
            attrs: attrs.to_vec(),
            values: release.values,
            sigma: (2.0 * sigma2.to_f64()).sqrt(),
            rho,
        })
    }

    /// All k marginals in one round (purpose `Measurement`, one request listing the k cliques),
    /// each cell with exactly the noise a separate [`MeasurementOracle::measure`] at `rho_each`
    /// would give it, for k·`rho_each` in all — what k separate rounds cost.
    ///
    /// **Privacy claim.** Neighbouring datasets differ by one record (at one site). The request
    /// releases the concatenation of the k marginals: one record moves one count of each by
    /// one, so the concatenated vector by L2 norm at most √k (squared sensitivity k, what
    /// [`crate::noise::squared_sensitivity`] returns for k measurement marginals). Each
    /// aggregator adds 𝒩_ℤ(0, σ²) to every cell with σ² the dyadic `σ² ≥ 1/(2·rho_each)` of
    /// `GaussianMechanism::new(rho_each, 1)` (the σ² of a single measurement); the discrete
    /// Gaussian mechanism of sensitivity Δ is Δ²/(2σ²)-zCDP (Canonne–Kamath–Steinke 2020,
    /// Thm. 14), so each aggregator's noise alone makes the release k/(2σ²) ≤ k·rho_each-zCDP
    /// — the same bound as the composition of k Gaussian mechanisms of sensitivity 1 each at
    /// rho_each (Bun–Steinke 2016, Lemma 2.3), and the same noise per cell. Each site
    /// recomputes k/(2σ²) from the request (`noise::rho_of_request`) and charges that; the
    /// oracle charges k·rho_each (at least the site's charge, rounded up).
    fn measure_many(&mut self, cliques: &[Vec<usize>], rho_each: Rho, what: &str) -> synth::Result<Vec<NoisyMarginal>> {
        if cliques.is_empty() {
            return Ok(Vec::new());
        }
        let mut cells = Vec::with_capacity(cliques.len());
        for c in cliques {
            self.check(c)?;
            cells.push(c.iter().map(|&a| self.sizes[a]).product::<usize>());
        }
        let sigma2 = GaussianMechanism::new(rho_each, 1)?.sigma2();
        let k = cliques.len() as f64;
        // k·rho_each, never below what a site recomputes, k/(2σ²), rounded up.
        let site = (k * sigma2.den() as f64 / (2.0 * sigma2.num() as f64)).next_up();
        let rho = Rho::new((k * rho_each.get()).max(site))?;
        // Charge first: a refused charge releases nothing.
        self.accountant.spend(rho, what)?;
        self.rounds += 1;
        let release = self
            .count_round(Purpose::Measurement, cliques.to_vec(), sigma2, what)
            .map_err(to_synth)?;
        if release.values.len() != cells.iter().sum::<usize>() {
            return Err(synth::Error::Input(
                "the measurement release has the wrong length".into(),
            ));
        }
        let sigma = (2.0 * sigma2.to_f64()).sqrt();
        let mut offset = 0;
        let mut out = Vec::with_capacity(cliques.len());
        for (c, n) in cliques.iter().zip(cells) {
            self.floors.measured.insert(c.clone());
            out.push(NoisyMarginal {
                attrs: c.clone(),
                values: release.values[offset..offset + n].to_vec(),
                sigma,
                rho: rho_each,
            });
            offset += n;
        }
        Ok(out)
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
                let (released, _) = self.summed_scores(candidates, marginals, rho, resolution, what)?;
                candidates
                    .iter()
                    .zip(&released)
                    .map(|(c, v)| c.weight * (v - c.penalty))
                    .collect()
            }
            Selection::FloorCorrectedScores { resolution } => {
                let (released, variance) = self.summed_scores(candidates, marginals, rho, resolution, what)?;
                let cliques: Vec<&[usize]> = candidates.iter().map(|c| c.attrs).collect();
                let floors = self.floors.estimate(&cliques, &released, variance);
                self.floors.record(&cliques, &released, variance);
                candidates
                    .iter()
                    .zip(released.iter().zip(&floors))
                    .map(|(c, (v, floor))| c.weight * (v - floor - c.penalty))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_use_earlier_own_releases_and_current_sub_clique_releases() {
        let mut floors = Floors::default();
        floors.measured.insert(vec![0]);
        floors.measured.insert(vec![0, 1]);
        let cliques: [&[usize]; 3] = [&[0], &[1], &[0, 1]];
        // Round 1: no release after measurement yet; [0, 1] may use [0]'s current release.
        let first = floors.estimate(&cliques, &[100.0, 7.0, 50.0], 1.0);
        assert_eq!(first, vec![0.0, 0.0, 99.0]);
        floors.record(&cliques, &[100.0, 7.0, 50.0], 1.0);
        // Round 2: own earlier release (100 ± 1, 50 ± 1), the sub-clique's two releases
        // ((100 + 200)/2 ± 1/√2); [1] was never measured and has no measured sub-clique.
        let second = floors.estimate(&cliques, &[200.0, 7.0, 300.0], 1.0);
        assert_eq!(second[0], 99.0);
        assert_eq!(second[1], 0.0);
        assert!((second[2] - (150.0 - 1.0 / 2f64.sqrt())).abs() < 1e-9, "{second:?}");
    }

    #[test]
    fn floors_swamped_by_noise_subtract_nothing() {
        let mut floors = Floors::default();
        floors.measured.insert(vec![0]);
        let cliques: [&[usize]; 2] = [&[0], &[0, 1]];
        floors.record(&cliques, &[3000.0, 9000.0], 1e8);
        assert_eq!(floors.estimate(&cliques, &[3000.0, 9000.0], 1e8), vec![0.0, 0.0]);
    }
}
