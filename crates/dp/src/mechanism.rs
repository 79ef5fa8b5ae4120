//! Mechanisms: the discrete Gaussian mechanism for integer vectors and the exponential mechanism
//! for selection. Each states its privacy claim next to the code; `docs/privacy.md` collects them.
//!
//! Neighbouring relation throughout: datasets x, x' are neighbours when one is obtained from the
//! other by adding or removing one record. Sensitivities are stated for that relation.

use rand::CryptoRng;

use crate::error::{Error, Result};
use crate::float::{decompose, floor_scaled, next_up};
use crate::params::{Epsilon, Rational, Rho};
use crate::sample::{DiscreteGaussian, bernoulli_exp, uniform_below};

/// The discrete Gaussian mechanism: adds independent 𝒩_ℤ(0, σ²) noise to each coordinate of an
/// integer vector query.
///
/// **Privacy claim.** Let q map datasets to ℤᵈ with L2 sensitivity Δ₂ under add/remove-one
/// neighbours: ‖q(x) − q(x')‖₂ ≤ Δ₂. Then x ↦ q(x) + Y, Y ~ 𝒩_ℤ(0, σ²)ᵈ i.i.d., satisfies
/// (Δ₂²/(2σ²))-zCDP (Canonne, Kamath & Steinke 2020, Theorem 4 for d = 1; for d > 1 the Rényi
/// divergences of the independent coordinates add up to α‖q(x) − q(x')‖₂²/(2σ²), CKS20's
/// multivariate discrete Gaussian theorem). [`GaussianMechanism::new`] picks the smallest σ² on
/// a dyadic grid (exact rational, denominator a power of two ≤ 2⁴⁸) with Δ₂²/(2σ²) ≤ ρ, checked
/// in exact integer arithmetic against the exact binary value of ρ: the noise is never below
/// what the claim needs.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMechanism {
    rho: Rho,
    l2_sensitivity: u64,
    noise: DiscreteGaussian,
}

impl GaussianMechanism {
    /// The largest supported L2 sensitivity, 2²⁴ (Δ₂² then fits the exact check).
    pub const MAX_SENSITIVITY: u64 = 1 << 24;

    /// The mechanism for a query of L2 sensitivity `l2_sensitivity` meeting ρ-zCDP.
    ///
    /// Errors: [`Error::InvalidSensitivity`] for Δ₂ = 0 or Δ₂ > 2²⁴;
    /// [`Error::VarianceOutOfRange`] when Δ₂²/(2ρ) > 2⁴⁸ (ρ too small for the exact sampler).
    pub fn new(rho: Rho, l2_sensitivity: u64) -> Result<Self> {
        if l2_sensitivity == 0 || l2_sensitivity > Self::MAX_SENSITIVITY {
            return Err(Error::InvalidSensitivity {
                value: l2_sensitivity,
                max: Self::MAX_SENSITIVITY,
            });
        }
        let sigma2 = smallest_sigma2(rho, l2_sensitivity)?;
        Ok(Self {
            rho,
            l2_sensitivity,
            noise: DiscreteGaussian::new(sigma2)?,
        })
    }

    /// Adds fresh noise to every value. Errors with [`Error::NoisyValueOverflow`] if a noisy value
    /// leaves the `i64` range (no value is clamped).
    pub fn apply<R: CryptoRng + ?Sized>(&self, values: &[i64], rng: &mut R) -> Result<Vec<i64>> {
        values
            .iter()
            .enumerate()
            .map(|(index, &value)| {
                let noise = self.noise.sample(rng);
                value
                    .checked_add(noise)
                    .ok_or(Error::NoisyValueOverflow { index, value, noise })
            })
            .collect()
    }

    /// The budget this mechanism was built for; charge this to the [`crate::Accountant`]. The
    /// mechanism's actual loss Δ₂²/(2σ²) is at most this.
    pub fn rho(&self) -> Rho {
        self.rho
    }

    /// The L2 sensitivity Δ₂ the claim assumes.
    pub fn l2_sensitivity(&self) -> u64 {
        self.l2_sensitivity
    }

    /// The exact noise variance parameter σ².
    pub fn sigma2(&self) -> Rational {
        self.noise.sigma2()
    }

    /// σ as `f64`, for reporting only.
    pub fn sigma(&self) -> f64 {
        self.noise.sigma2().to_f64().sqrt()
    }
}

/// The smallest σ² = a/2ᵏ (a, 2ᵏ ≤ 2⁴⁸, k as large as the bound on a allows) with
/// Δ²/(2σ²) ≤ ρ, decided exactly.
fn smallest_sigma2(rho: Rho, sensitivity: u64) -> Result<Rational> {
    let delta = sensitivity as f64;
    let target = delta * delta / (2.0 * rho.get());
    let max_term = Rational::MAX_TERM as f64;
    if target.is_nan() || target > max_term - 32.0 {
        return Err(Error::VarianceOutOfRange {
            sigma2: target,
            max: max_term,
        });
    }
    let (mantissa, exponent) = decompose(rho.get()).ok_or(Error::InvalidRho { value: rho.get() })?;
    let delta_sq = u128::from(sensitivity) * u128::from(sensitivity);
    // a/2^k ≥ Δ²/(2ρ)  ⇔  a·m·2^(e+1−k) ≥ Δ²  where ρ = m·2^e exactly.
    let satisfies = |a: u128, k: i32| dyadic_at_least(a * u128::from(mantissa), exponent + 1 - k, delta_sq);
    let mut k: i32 = 48;
    while k > 0 && (target * f64::from(k).exp2()).ceil() > max_term - 16.0 {
        k -= 1;
    }
    let mut a = ((target * f64::from(k).exp2()).ceil() as u128).max(1);
    while !satisfies(a, k) {
        a += 1;
    }
    while a > 1 && satisfies(a - 1, k) {
        a -= 1;
    }
    let num = u64::try_from(a).map_err(|_| Error::VarianceOutOfRange {
        sigma2: target,
        max: max_term,
    })?;
    Rational::new(num, 1u64 << k)
}

/// Whether x·2^p ≥ y, exactly.
fn dyadic_at_least(x: u128, p: i32, y: u128) -> bool {
    if p >= 0 {
        let p = p.unsigned_abs();
        x != 0 && (p >= 128 || x.leading_zeros() < p || (x << p) >= y)
    } else {
        let q = p.unsigned_abs();
        y == 0 || (q < 128 && y.leading_zeros() >= q && x >= (y << q))
    }
}

/// The exponential mechanism (McSherry & Talwar 2007) over integer-quantised scores, sampled
/// exactly: P[select i] ∝ exp(ε·sᵢ/(2Δ)).
///
/// **Privacy claim.** Let every score sᵢ(x) have sensitivity Δ under add/remove-one neighbours:
/// |sᵢ(x) − sᵢ(x')| ≤ Δ for all i. Then the mechanism is ε-DP (McSherry & Talwar 2007) and
/// ε-bounded-range (Durfee & Rogers 2019), hence (ε²/8)-zCDP (Cesar & Rogers 2021, "Bounding,
/// Concentrating, and Truncating", ALT 2021: ε-BR implies ε²/8-zCDP).
/// [`ExponentialMechanism::rho`] returns ε²/8 rounded up.
///
/// **Sampling.** No Gumbel or floating-point weights: the mechanism draws a candidate i
/// uniformly and accepts it with probability exp(−ε'(s_max − sᵢ)/(2Δ)) (exact Bernoulli of an
/// exponential, CKS20 Algorithm 1), repeating until acceptance. The accepted index has exactly
/// the exponential-mechanism law with parameter ε'. ε' = ⌊min(ε, 2²⁰)·2ᵏ⌋/2ᵏ ≤ ε is ε rounded
/// down to about 40 significant bits; a smaller ε' only strengthens the claim. The expected
/// number of draws is n/Σᵢexp(−γᵢ) ≤ n.
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialMechanism {
    epsilon: Epsilon,
    sensitivity: u64,
    /// ε' = eps_num / 2^eps_shift.
    eps_num: u128,
    eps_shift: u32,
}

impl ExponentialMechanism {
    /// The largest supported score sensitivity, 2⁴⁸.
    pub const MAX_SENSITIVITY: u64 = 1 << 48;

    /// The mechanism for scores of sensitivity `sensitivity` meeting ε-DP and ε²/8-zCDP.
    pub fn new(epsilon: Epsilon, sensitivity: u64) -> Result<Self> {
        if sensitivity == 0 || sensitivity > Self::MAX_SENSITIVITY {
            return Err(Error::InvalidSensitivity {
                value: sensitivity,
                max: Self::MAX_SENSITIVITY,
            });
        }
        let capped = epsilon.get().min(1_048_576.0);
        let mut eps_shift = 77u32;
        let mut eps_num = 0;
        while eps_shift > 0 {
            eps_num = floor_scaled(capped, eps_shift as i32).unwrap_or(u128::MAX);
            if eps_num < 1 << 40 {
                break;
            }
            eps_shift -= 1;
        }
        Ok(Self {
            epsilon,
            sensitivity,
            eps_num,
            eps_shift,
        })
    }

    /// Selects one index of `scores`; [`Error::NoCandidates`] if `scores` is empty.
    pub fn select<R: CryptoRng + ?Sized>(&self, scores: &[i64], rng: &mut R) -> Result<usize> {
        let best = *scores.iter().max().ok_or(Error::NoCandidates)?;
        // γᵢ = ε'·(best − sᵢ)/(2Δ) = eps_num·gap / (2Δ·2^eps_shift); eps_num < 2^40, gap < 2^64,
        // 2Δ·2^eps_shift ≤ 2^126.
        let den = (2 * u128::from(self.sensitivity)) << self.eps_shift;
        let n = scores.len() as u128;
        loop {
            let i = uniform_below(n, rng) as usize;
            let gap = u128::from(best.abs_diff(scores[i]));
            if bernoulli_exp(self.eps_num * gap, den, rng) {
                return Ok(i);
            }
        }
    }

    /// The selection probabilities exp(ε'sᵢ/(2Δ))/Σⱼexp(ε'sⱼ/(2Δ)) in `f64`, for reporting and
    /// tests only.
    pub fn probabilities(&self, scores: &[i64]) -> Result<Vec<f64>> {
        let best = *scores.iter().max().ok_or(Error::NoCandidates)?;
        let eps = self.eps_num as f64 / f64::from(self.eps_shift).exp2();
        let weights: Vec<f64> = scores
            .iter()
            .map(|&s| (-eps * best.abs_diff(s) as f64 / (2.0 * self.sensitivity as f64)).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        Ok(weights.into_iter().map(|w| w / total).collect())
    }

    /// ε as given; the mechanism is ε-DP.
    pub fn epsilon(&self) -> Epsilon {
        self.epsilon
    }

    /// The score sensitivity Δ the claim assumes.
    pub fn sensitivity(&self) -> u64 {
        self.sensitivity
    }

    /// The zCDP cost ρ = ε²/8 (bounded range, Cesar & Rogers 2021), rounded up.
    pub fn rho(&self) -> Result<Rho> {
        let e = self.epsilon.get();
        Rho::new(next_up(e * e / 8.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dyadic_comparison_is_exact() {
        assert!(dyadic_at_least(3, 1, 6));
        assert!(!dyadic_at_least(3, 1, 7));
        assert!(dyadic_at_least(3, -1, 1)); // 1.5 ≥ 1
        assert!(!dyadic_at_least(3, -2, 1)); // 0.75 < 1
        assert!(dyadic_at_least(1, 200, u128::MAX));
        assert!(!dyadic_at_least(u128::MAX, -200, 1));
        assert!(dyadic_at_least(0, -200, 0));
    }

    #[test]
    fn epsilon_is_rounded_down_to_a_dyadic_rational() {
        for eps in [1e-9, 0.1, 1.0, 3.7, 1e6, 1e12] {
            let m = ExponentialMechanism::new(Epsilon::new(eps).unwrap(), 1).unwrap();
            let used = m.eps_num as f64 / f64::from(m.eps_shift).exp2();
            assert!(used <= eps, "{eps}: {used}");
            assert!(used >= eps.min(1_048_576.0) * (1.0 - 1e-11), "{eps}: {used}");
        }
    }
}
