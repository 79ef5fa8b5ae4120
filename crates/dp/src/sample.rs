//! Exact samplers for the discrete Laplace and discrete Gaussian distributions.
//!
//! The algorithms are those of Canonne, Kamath & Steinke, "The Discrete Gaussian for Differential
//! Privacy" (NeurIPS 2020, arXiv:2004.00010, "CKS20"): Algorithm 1 for Bernoulli(exp(−γ)),
//! Algorithm 2 for the discrete Laplace, Algorithm 3 for the discrete Gaussian. Only integer
//! arithmetic on `u128` and uniform random bits are used: no floating point touches the noise
//! (Mironov 2012, "On Significance of the Least Significant Bits for Differential Privacy").
//!
//! **Window.** The samplers return `i64`, so some truncation is unavoidable. Each sampler draws
//! from its target distribution *conditioned on* `|Y| ≤ WINDOW` (an out-of-window proposal
//! restarts the whole algorithm, which is exactly conditioning). At the largest supported scales
//! the mass outside the window is at most 2·e^(−2¹⁴) for the discrete Laplace and below
//! e^(−2²⁰) for the discrete Gaussian (see the constants), far below anything observable.

use rand::CryptoRng;

use crate::error::{Error, Result};
use crate::params::Rational;

/// A uniform integer in `[0, bound)` (`bound ≥ 1`), by rejection of masked random bits: exactly
/// uniform, unlike multiply-shift range reduction.
pub(crate) fn uniform_below<R: CryptoRng + ?Sized>(bound: u128, rng: &mut R) -> u128 {
    if bound <= 1 {
        return 0;
    }
    let bits = 128 - (bound - 1).leading_zeros();
    let mask = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
    loop {
        let word = if bits <= 64 {
            u128::from(rng.next_u64())
        } else {
            (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())
        };
        let candidate = word & mask;
        if candidate < bound {
            return candidate;
        }
    }
}

/// Bernoulli(num/den) for `num ≤ den`, `den ≥ 1`.
fn bernoulli<R: CryptoRng + ?Sized>(num: u128, den: u128, rng: &mut R) -> bool {
    uniform_below(den, rng) < num
}

/// Bernoulli(exp(−num/den)) for `num ≤ den` (CKS20 Algorithm 1, the γ ∈ [0, 1] branch).
///
/// Step "A ← Bernoulli(γ/K)" is drawn as Bernoulli(γ) ∧ Bernoulli(1/K), which has the same law
/// and never forms the product `den·K`.
fn bernoulli_exp_unit<R: CryptoRng + ?Sized>(num: u128, den: u128, rng: &mut R) -> bool {
    let mut k: u128 = 1;
    // Reaching k = 2^128 would take more iterations than can run; P(k ≥ n) ≤ 1/(n−1)!.
    while bernoulli(num, den, rng) && bernoulli(1, k, rng) {
        k += 1;
    }
    k % 2 == 1
}

/// Bernoulli(exp(−(whole + frac/den))) for `frac < den` (CKS20 Algorithm 1, γ > 1 branch:
/// `whole` independent Bernoulli(e⁻¹) trials, then the fractional part).
fn bernoulli_exp_parts<R: CryptoRng + ?Sized>(whole: u128, frac: u128, den: u128, rng: &mut R) -> bool {
    let mut done = 0u128;
    while done < whole {
        if !bernoulli_exp_unit(1, 1, rng) {
            return false;
        }
        done += 1;
    }
    bernoulli_exp_unit(frac, den, rng)
}

/// Bernoulli(exp(−num/den)) for any `num`, `den ≥ 1`.
pub(crate) fn bernoulli_exp<R: CryptoRng + ?Sized>(num: u128, den: u128, rng: &mut R) -> bool {
    bernoulli_exp_parts(num / den, num % den, den, rng)
}

/// `(⌊x·y/d⌋, x·y mod d)` without forming `x·y`; `None` if `d` is 0 or ≥ 2¹²⁷ or the quotient
/// overflows `u128`.
pub(crate) fn mul_div_rem(x: u128, y: u128, d: u128) -> Option<(u128, u128)> {
    if d == 0 || d >= 1u128 << 127 {
        return None;
    }
    let (x_quot, x_rem) = (x / d, x % d);
    let high = x_quot.checked_mul(y)?;
    // x_rem·y by shift-and-add modulo d; acc < d < 2^127 keeps 2·acc and acc + x_rem in range.
    let (mut acc, mut quot) = (0u128, 0u128);
    for bit in (0..128).rev() {
        acc <<= 1;
        quot = quot.checked_mul(2)?;
        if acc >= d {
            acc -= d;
            quot += 1;
        }
        if (y >> bit) & 1 == 1 {
            acc += x_rem;
            if acc >= d {
                acc -= d;
                quot += 1;
            }
        }
    }
    Some((high.checked_add(quot)?, acc))
}

/// One draw of CKS20 Algorithm 2 with inputs t = `num`, s = `den`: the discrete Laplace with
/// scale `num/den`, P[Y = y] ∝ exp(−|y|·den/num), conditioned on `|Y| ≤ window`.
/// Requires `num, den ≤ 2⁴⁸`, so `U + t·V < 2¹¹³` for any `u64` count `V`.
fn sample_laplace<R: CryptoRng + ?Sized>(num: u128, den: u128, window: u64, rng: &mut R) -> i64 {
    'attempt: loop {
        let u = uniform_below(num, rng);
        if !bernoulli_exp(u, num, rng) {
            continue;
        }
        let mut v: u64 = 0;
        while bernoulli_exp_unit(1, 1, rng) {
            match v.checked_add(1) {
                Some(next) => v = next,
                None => continue 'attempt,
            }
        }
        let magnitude = (u + num * u128::from(v)) / den;
        let negative = bernoulli(1, 2, rng);
        if negative && magnitude == 0 {
            continue;
        }
        if magnitude > u128::from(window) {
            continue;
        }
        let Ok(magnitude) = i64::try_from(magnitude) else {
            continue;
        };
        return if negative { -magnitude } else { magnitude };
    }
}

/// An exact sampler of the discrete Laplace distribution 𝓛_ℤ(0, b):
/// P[Y = y] = (e^{1/b} − 1)/(e^{1/b} + 1) · e^{−|y|/b} for integer y, with scale b a positive
/// [`Rational`] (CKS20 Algorithm 2; variance 2e^{−1/b}/(1 − e^{−1/b})²).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscreteLaplace {
    scale: Rational,
}

impl DiscreteLaplace {
    /// Samples are conditioned on `|Y| ≤ 2⁶²`; with scale ≤ 2⁴⁸ the excluded mass is below
    /// 2·e^{−2¹⁴}.
    pub const WINDOW: u64 = 1 << 62;

    /// A sampler with scale `scale` (any [`Rational`] is supported).
    pub fn new(scale: Rational) -> Self {
        Self { scale }
    }

    /// The scale b.
    pub fn scale(&self) -> Rational {
        self.scale
    }

    /// One sample.
    pub fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> i64 {
        sample_laplace(
            u128::from(self.scale.num()),
            u128::from(self.scale.den()),
            Self::WINDOW,
            rng,
        )
    }
}

/// An exact sampler of the discrete Gaussian distribution 𝒩_ℤ(0, σ²):
/// P[Y = y] ∝ exp(−y²/(2σ²)) for integer y, with σ² a positive [`Rational`] (CKS20 Algorithm 3:
/// rejection sampling from the discrete Laplace with scale t = ⌊σ⌋ + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscreteGaussian {
    sigma2: Rational,
    /// t = ⌊σ⌋ + 1, the integer scale of the discrete Laplace proposal.
    t: u128,
    /// 2·a·b·t² where σ² = a/b: the acceptance exponent is (|y|·t·b − a)² / (2·a·b·t²).
    acceptance_den: u128,
}

impl DiscreteGaussian {
    /// Samples are conditioned on `|Y| ≤ 2³⁵`. A [`Rational`] σ² is at most 2⁴⁸, so σ ≤ 2²⁴ and
    /// the excluded mass is at most 2(1 + σ²/2³⁵)·e^{−2⁷⁰/(2σ²)} < e^{−2²⁰}.
    pub const WINDOW: u64 = 1 << 35;

    /// A sampler with variance parameter `sigma2`.
    ///
    /// Every [`Rational`] is supported; the constructor still checks, with checked arithmetic,
    /// that all intermediate products of [`DiscreteGaussian::sample`] fit in `u128`, and
    /// returns [`Error::InvalidRational`] otherwise.
    pub fn new(sigma2: Rational) -> Result<Self> {
        let (a, b) = (u128::from(sigma2.num()), u128::from(sigma2.den()));
        // ⌊√(a/b)⌋ = ⌊√⌊a/b⌋⌋ because m² ≤ a/b ⇔ m² ≤ ⌊a/b⌋ for integer m.
        let t = (a / b).isqrt() + 1;
        let out_of_range = Error::InvalidRational {
            num: sigma2.num(),
            den: sigma2.den(),
            max: Rational::MAX_TERM,
        };
        let acceptance_den = (|| 2u128.checked_mul(a)?.checked_mul(b)?.checked_mul(t.checked_mul(t)?))()
            .ok_or_else(|| out_of_range.clone())?;
        // The largest |y|·t·b − a (or a − |y|·t·b) and its squared quotient must fit.
        let x_max = (|| u128::from(Self::WINDOW).checked_mul(t)?.checked_mul(b)?.checked_add(a))()
            .ok_or_else(|| out_of_range.clone())?;
        mul_div_rem(x_max, x_max, acceptance_den).ok_or(out_of_range)?;
        Ok(Self {
            sigma2,
            t,
            acceptance_den,
        })
    }

    /// σ².
    pub fn sigma2(&self) -> Rational {
        self.sigma2
    }

    /// One sample.
    pub fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> i64 {
        let (a, b) = (u128::from(self.sigma2.num()), u128::from(self.sigma2.den()));
        loop {
            let y = sample_laplace(self.t, 1, Self::WINDOW, rng);
            // γ = (|y| − σ²/t)² / (2σ²) = (|y|·t·b − a)² / (2·a·b·t²).
            let x = (u128::from(y.unsigned_abs()) * self.t * b).abs_diff(a);
            let (whole, frac) = mul_div_rem(x, x, self.acceptance_den)
                .expect("invariant: DiscreteGaussian::new checked that x_max² / acceptance_den fits in u128");
            if bernoulli_exp_parts(whole, frac, self.acceptance_den, rng) {
                return y;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn mul_div_rem_matches_direct_arithmetic() {
        let cases = [
            (7u128, 9u128, 5u128),
            (0, 5, 3),
            (u64::MAX.into(), u64::MAX.into(), 1_000_003),
            (12, 12, 1),
        ];
        for (x, y, d) in cases {
            assert_eq!(mul_div_rem(x, y, d), Some((x * y / d, x * y % d)), "{x}·{y}/{d}");
        }
        // 2^100 · 2^100 / 2^90 = 2^110, remainder 0: the product itself does not fit in u128.
        assert_eq!(mul_div_rem(1 << 100, 1 << 100, 1 << 90), Some((1 << 110, 0)));
        assert_eq!(mul_div_rem(1 << 100, 1 << 100, 3), None);
        assert_eq!(mul_div_rem(1, 1, 0), None);
    }

    #[test]
    fn uniform_below_is_in_range_and_covers_it() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            let k = uniform_below(5, &mut rng);
            seen[k as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (850..1150).contains(&c)), "{seen:?}");
        assert!(uniform_below(u128::MAX, &mut rng) < u128::MAX);
        assert_eq!(uniform_below(1, &mut rng), 0);
    }

    #[test]
    fn bernoulli_exp_frequency_matches_exp_minus_gamma() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let n = 20_000;
        for (num, den) in [(0u128, 1u128), (1, 3), (1, 1), (5, 2), (7, 1)] {
            let hits = (0..n).filter(|_| bernoulli_exp(num, den, &mut rng)).count() as f64;
            let p = (-(num as f64) / den as f64).exp();
            let sd = (p * (1.0 - p) / n as f64).sqrt().max(1e-4);
            assert!(
                (hits / n as f64 - p).abs() < 5.0 * sd,
                "γ = {num}/{den}: {} vs {p}",
                hits / n as f64
            );
        }
    }

    #[test]
    fn extreme_rationals_are_supported() {
        let max = Rational::MAX_TERM;
        for (num, den) in [(1, 1), (1, max), (max, 1), (max, max - 1), (max - 1, max)] {
            let sigma2 = Rational::new(num, den).unwrap();
            assert!(DiscreteGaussian::new(sigma2).is_ok(), "{sigma2}");
        }
    }
}
