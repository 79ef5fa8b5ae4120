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

use crate::msg::MeasurementRequest;
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

/// The σ² each aggregator uses so that its noise alone makes the release of `marginals`
/// concatenated marginals (L2 sensitivity √k) ρ-zCDP: the smallest dyadic `σ² ≥ k/(2ρ)`.
///
/// Computed as `dp::GaussianMechanism::new(ρ/k, 1)`, with ρ/k rounded **down** so that the
/// noise is never below what the claim needs.
pub fn aggregator_sigma2(rho: Rho, marginals: usize) -> Result<Rational> {
    if marginals == 0 {
        return Err(input("a request needs at least one marginal"));
    }
    let k = marginals as f64;
    let mut per = rho.get() / k;
    // Round ρ/k down: if per·k came out above ρ, step down until it does not.
    while per * k > rho.get() {
        per = per.next_down();
    }
    Ok(GaussianMechanism::new(Rho::new(per)?, 1)?.sigma2())
}

/// The zCDP cost `k/(2σ²)` of a request with k marginals and per-aggregator variance σ² (exact
/// rational `num/den`), rounded up to the next `f64`. This is what a site charges.
pub fn rho_of_request(request: &MeasurementRequest) -> Result<Rho> {
    let sigma2 = request.sigma2.to_rational()?;
    let k = request.marginals.len() as u64;
    if k == 0 {
        return Err(input("a request needs at least one marginal"));
    }
    // ρ = k·den / (2·num), each factor below 2^49·2^32, computed in f64 then rounded up.
    let num = 2.0 * sigma2.num() as f64;
    let den = k as f64 * sigma2.den() as f64;
    Ok(Rho::new((den / num).next_up())?)
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
    use crate::msg::{JobId, Purpose, Round, WireRational};

    fn request(marginals: usize, sigma2: Rational) -> MeasurementRequest {
        MeasurementRequest {
            job_id: JobId("j".into()),
            round: Round(1),
            purpose: Purpose::Selection,
            marginals: vec![vec![0]; marginals],
            maps: vec![None],
            sigma2: WireRational::from(sigma2),
            what: String::new(),
        }
    }

    #[test]
    fn the_site_recomputes_at_most_the_requested_rho() {
        for (rho, k) in [(0.5, 1), (0.01, 7), (1e-4, 45), (2.0, 3)] {
            let rho = Rho::new(rho).unwrap();
            let sigma2 = aggregator_sigma2(rho, k).unwrap();
            assert!(sigma2.to_f64() >= k as f64 / (2.0 * rho.get()));
            let charged = rho_of_request(&request(k, sigma2)).unwrap().get();
            assert!(charged <= rho.get() * (1.0 + 1e-9), "{charged} vs {}", rho.get());
            assert!(charged >= rho.get() * 0.999, "{charged} vs {}", rho.get());
        }
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
