//! The noise each aggregator adds, and the ρ a request costs.
//!
//! **Mechanism.** A round releases `S + Z_L + Z_H`, where `S ∈ ℤ^m` is the secure sum over the
//! contributing sites of the concatenation of k marginals' count vectors, and `Z_L`, `Z_H` are
//! independent vectors of i.i.d. discrete Gaussians 𝒩_ℤ(0, σ²) drawn by the leader (hub) and the
//! helper respectively (exact CKS20 sampler, `dp::DiscreteGaussian`).
//!
//! **Neighbouring relation.** Add or remove one patient record at one site. That changes one
//! cell of each of the k marginals by 1, so `‖S(x) − S(x')‖₂ = √k` (k = 1 for a measurement).
//!
//! **Privacy map.** `S + Z` with `Z ~ 𝒩_ℤ(0, σ²)^m` is `k/(2σ²)`-zCDP (Canonne, Kamath & Steinke
//! 2020, Thm 4 and its multivariate form; see `dp::GaussianMechanism`). σ² is chosen so that
//! **one aggregator's noise alone** meets the request's ρ: `σ² ≥ k/(2ρ)` ([`aggregator_sigma2`]).
//! The hub, which knows `Z_L`, sees a post-processing of `S + Z_H`; the helper one of `S + Z_L`;
//! a coalition of sites one of either. Each view is ρ-zCDP for every record of a site outside
//! the coalition (non-collusion of the two aggregators assumed, `docs/threat-model.md`). The
//! released value carries variance 2σ² per cell: that factor 2 is the cost of this placement.
//!
//! **What a site charges.** [`rho_of_request`] recomputes `k/(2σ²)` from the request's exact σ²,
//! rounded up; the site charges that, never the hub's number.

use rand_chacha::ChaCha20Rng;
use secagg::NoiseSource;

use crate::msg::{MeasurementRequest, Purpose};
use crate::{Result, input};
use dp::{DiscreteGaussian, GaussianMechanism, Rational, Rho};

/// Whether the aggregators add noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    /// Discrete Gaussian noise of the request's σ² at each aggregator (the only private mode).
    DiscreteGaussian,
    /// **Tests only**: no noise, so the released sum is exact and not differentially private.
    /// The [`crate::FederatedOracle`] refuses a simulation in this mode.
    DisabledForTests,
}

/// The squared L2 sensitivity Δ² of a request's vector under add/remove-one-record:
/// k for k concatenated marginals ([`Purpose::Measurement`], [`Purpose::Selection`]), and
/// k·(2q + 1)² for k quantised local scores of resolution q ([`Purpose::Scores`]: one record moves
/// its site's score `‖x_s − (n_s/N)·m‖₁` by at most 2 — one count, plus the model scaled by one
/// more record, of L1 norm 1 — so the quantised score by at most 2q + 1).
pub fn squared_sensitivity(request: &MeasurementRequest) -> Result<u64> {
    let k = request.marginals.len() as u64;
    if k == 0 {
        return Err(input("a request needs at least one marginal"));
    }
    match (request.purpose, &request.scores) {
        (Purpose::Measurement | Purpose::Selection, None) => Ok(k),
        (Purpose::Scores, Some(scores)) if (1..=64).contains(&scores.resolution) => {
            let per = 2 * u64::from(scores.resolution) + 1;
            Ok(k * per * per)
        }
        _ => Err(input(
            "score requests, and only they, carry a score query of resolution 1..=64",
        )),
    }
}

/// The σ² each aggregator uses so that its noise alone makes the release of a vector of squared
/// L2 sensitivity Δ² ρ-zCDP: the smallest dyadic `σ² ≥ Δ²/(2ρ)`.
///
/// Computed as `dp::GaussianMechanism::new(ρ/Δ², 1)`, with ρ/Δ² rounded **down** so that the
/// noise is never below what the claim needs.
pub fn aggregator_sigma2(rho: Rho, squared_sensitivity: u64) -> Result<Rational> {
    if squared_sensitivity == 0 {
        return Err(input("a sensitivity must be positive"));
    }
    let k = squared_sensitivity as f64;
    let mut per = rho.get() / k;
    // Round ρ/Δ² down: if per·Δ² came out above ρ, step down until it does not.
    while per * k > rho.get() {
        per = per.next_down();
    }
    Ok(GaussianMechanism::new(Rho::new(per)?, 1)?.sigma2())
}

/// The zCDP cost `Δ²/(2σ²)` of a request (σ² the exact rational `num/den` per aggregator, Δ² from
/// [`squared_sensitivity`]), rounded up to the next `f64`. This is what a site charges.
///
/// A [`Purpose::Votes`] request costs what its sites' exponential mechanism costs: ε²/8 for the
/// ε of the request (rounded up; [`vote_mechanism`]).
pub fn rho_of_request(request: &MeasurementRequest) -> Result<Rho> {
    if request.purpose == Purpose::Votes {
        return Ok(vote_mechanism(request)?.rho()?);
    }
    let sigma2 = request.sigma2.to_rational()?;
    let delta2 = squared_sensitivity(request)?;
    let num = 2.0 * sigma2.num() as f64;
    let den = delta2 as f64 * sigma2.den() as f64;
    Ok(Rho::new((den / num).next_up())?)
}

/// The exponential mechanism a site runs on its quantised local scores for a vote request:
/// parameter ε from the request, sensitivity `2R + 2` at resolution R.
///
/// **Privacy claim.** One record added or removed at site s moves its local L1 error
/// `‖x_s − (n_s/N)·m‖₁` by at most 2 (one count, and the model scaled by one more record, of L1
/// norm 1), so the weighted score (weights ≤ the largest) by at most 2 units of `max_w`, the
/// quantised score by at most 2R + 1 (the floor), plus one unit for floating-point rounding.
/// The site's vote is ε-DP and (ε²/8)-zCDP for its records (McSherry–Talwar; Cesar–Rogers for
/// zCDP, see `dp::ExponentialMechanism`). Records live at one site and each site's vote depends
/// only on its own records, so the vector of votes — and its secure sum, the only thing
/// released — is (ε²/8)-zCDP for every record (parallel composition; post-processing).
pub fn vote_mechanism(request: &MeasurementRequest) -> Result<dp::ExponentialMechanism> {
    let votes = request
        .votes
        .as_ref()
        .filter(|_| request.purpose == Purpose::Votes)
        .ok_or_else(|| input("only a vote request carries a vote query"))?;
    if !(1..=1024).contains(&votes.resolution) {
        return Err(input(format!(
            "vote resolution {} is not in 1..=1024",
            votes.resolution
        )));
    }
    let epsilon = dp::Epsilon::new(votes.epsilon.to_rational()?.to_f64())?;
    Ok(dp::ExponentialMechanism::new(
        epsilon,
        2 * u64::from(votes.resolution) + 2,
    )?)
}

/// One aggregator's noise: i.i.d. 𝒩_ℤ(0, σ²) per cell from its own seeded CSPRNG.
pub(crate) struct AggregatorNoise<'a> {
    gaussian: DiscreteGaussian,
    rng: &'a mut ChaCha20Rng,
}

impl<'a> AggregatorNoise<'a> {
    pub(crate) fn new(sigma2: Rational, rng: &'a mut ChaCha20Rng) -> Result<Self> {
        Ok(AggregatorNoise {
            gaussian: DiscreteGaussian::new(sigma2)?,
            rng,
        })
    }
}

impl NoiseSource for AggregatorNoise<'_> {
    fn sample(&mut self, length: usize) -> Vec<i64> {
        (0..length).map(|_| self.gaussian.sample(&mut *self.rng)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{JobId, Round, ScoreQuery, WireRational};

    fn request(marginals: usize, sigma2: Rational) -> MeasurementRequest {
        MeasurementRequest {
            job_id: JobId("j".into()),
            round: Round(1),
            purpose: Purpose::Selection,
            marginals: vec![vec![0]; marginals],
            maps: vec![None],
            sigma2: WireRational::from(sigma2),
            what: String::new(),
            scores: None,
            votes: None,
        }
    }

    #[test]
    fn the_site_recomputes_at_most_the_requested_rho() {
        for (rho, k) in [(0.5, 1), (0.01, 7), (1e-4, 45), (2.0, 3)] {
            let rho = Rho::new(rho).unwrap();
            let sigma2 = aggregator_sigma2(rho, k as u64).unwrap();
            assert!(sigma2.to_f64() >= k as f64 / (2.0 * rho.get()));
            let charged = rho_of_request(&request(k, sigma2)).unwrap().get();
            assert!(charged <= rho.get() * (1.0 + 1e-9), "{charged} vs {}", rho.get());
            assert!(charged >= rho.get() * 0.999, "{charged} vs {}", rho.get());
        }
    }

    #[test]
    fn score_requests_cost_their_quantised_sensitivity() {
        let rho = Rho::new(0.01).unwrap();
        let mut r = request(3, Rational::integer(1).unwrap());
        r.purpose = Purpose::Scores;
        assert!(squared_sensitivity(&r).is_err(), "a score request needs its query");
        r.scores = Some(ScoreQuery {
            models: vec![vec![1]; 3],
            resolution: 4,
        });
        assert_eq!(squared_sensitivity(&r).unwrap(), 3 * 81);
        r.sigma2 = WireRational::from(aggregator_sigma2(rho, 3 * 81).unwrap());
        let charged = rho_of_request(&r).unwrap().get();
        assert!(charged <= 0.01 * (1.0 + 1e-9) && charged > 0.0099, "{charged}");
    }

    #[test]
    fn noise_has_the_right_variance() {
        let sigma2 = Rational::integer(16).unwrap();
        let mut rng = <ChaCha20Rng as rand::SeedableRng>::seed_from_u64(4);
        let mut noise = AggregatorNoise::new(sigma2, &mut rng).unwrap();
        let draws = noise.sample(20_000);
        let mean = draws.iter().sum::<i64>() as f64 / draws.len() as f64;
        let var = draws.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.15, "mean {mean}");
        assert!((var - 16.0).abs() < 1.0, "variance {var}");
    }
}
