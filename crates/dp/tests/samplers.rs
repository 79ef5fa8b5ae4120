//! Statistical tests of the exact samplers against their exact distributions (fixed seeds).

mod common;

use dp::{DiscreteGaussian, DiscreteLaplace, Rational};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// P[Y = z] of 𝒩_ℤ(0, σ²) for |z| ≤ `reach`, normalised by summation.
fn gaussian_pmf(sigma2: f64, reach: i64) -> Vec<(i64, f64)> {
    let weights: Vec<(i64, f64)> = (-reach..=reach)
        .map(|z| (z, (-((z * z) as f64) / (2.0 * sigma2)).exp()))
        .collect();
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    weights.into_iter().map(|(z, w)| (z, w / total)).collect()
}

/// P[Y = z] of 𝓛_ℤ(0, b) for |z| ≤ `reach`.
fn laplace_pmf(scale: f64, reach: i64) -> Vec<(i64, f64)> {
    let q = (-1.0 / scale).exp();
    let norm = (1.0 - q) / (1.0 + q);
    (-reach..=reach)
        .map(|z| (z, norm * q.powi(z.unsigned_abs() as i32)))
        .collect()
}

/// The Kolmogorov–Smirnov distance between the empirical CDF of `samples` and `pmf`, evaluated
/// at every support point.
fn ks_distance(samples: &mut [i64], pmf: &[(i64, f64)]) -> f64 {
    samples.sort_unstable();
    let n = samples.len() as f64;
    let (mut cdf, mut below, mut worst) = (0.0, 0usize, 0.0f64);
    for &(z, p) in pmf {
        cdf += p;
        while below < samples.len() && samples[below] <= z {
            below += 1;
        }
        worst = worst.max((below as f64 / n - cdf).abs());
    }
    worst
}

fn mean_var(samples: &[i64]) -> (f64, f64) {
    let n = samples.len() as f64;
    let mean = samples.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = samples.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

#[test]
fn discrete_gaussian_passes_ks_against_its_exact_cdf() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let n = 3000;
    for (num, den) in [(1u64, 4u64), (3, 2), (10, 1), (200, 3)] {
        let sigma2 = Rational::new(num, den).unwrap();
        let sampler = DiscreteGaussian::new(sigma2).unwrap();
        let mut samples: Vec<i64> = (0..n).map(|_| sampler.sample(&mut rng)).collect();
        let reach = (40.0 * sigma2.to_f64().sqrt()) as i64 + 10;
        let d = ks_distance(&mut samples, &gaussian_pmf(sigma2.to_f64(), reach));
        // Critical value of the KS test at p = 0.001 (conservative for discrete laws).
        let critical = 1.95 / (n as f64).sqrt();
        assert!(d < critical, "σ² = {sigma2}: KS distance {d} ≥ {critical}");
    }
}

#[test]
fn ks_check_rejects_a_wrong_variance() {
    // The test has power: samples with σ² = 3/2 are rejected against σ² = 5/2.
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let sampler = DiscreteGaussian::new(Rational::new(3, 2).unwrap()).unwrap();
    let mut samples: Vec<i64> = (0..3000).map(|_| sampler.sample(&mut rng)).collect();
    let d = ks_distance(&mut samples, &gaussian_pmf(2.5, 60));
    assert!(
        d > 1.95 / 3000f64.sqrt(),
        "KS distance {d} did not detect the wrong variance"
    );
}

#[test]
fn discrete_gaussian_moments_match() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let n = 4000;
    for (num, den) in [(1u64, 3u64), (25, 1), (1 << 40, 1)] {
        let sigma2 = Rational::new(num, den).unwrap();
        let sampler = DiscreteGaussian::new(sigma2).unwrap();
        let samples: Vec<i64> = (0..n).map(|_| sampler.sample(&mut rng)).collect();
        let (mean, var) = mean_var(&samples);
        // Exact variance by summation (it is below σ² for small σ², CKS20 Cor. 9).
        let s2 = sigma2.to_f64();
        let exact_var = if s2 < 1e6 {
            gaussian_pmf(s2, (40.0 * s2.sqrt()) as i64 + 10)
                .iter()
                .map(|(z, p)| (z * z) as f64 * p)
                .sum()
        } else {
            s2
        };
        let se_mean = (exact_var / n as f64).sqrt();
        assert!(mean.abs() < 5.0 * se_mean, "σ² = {sigma2}: mean {mean}");
        // Var of the sample variance ≈ 2σ⁴/(n−1) for a near-Gaussian law; 5 standard errors,
        // plus excess-kurtosis room for the tiny-σ case.
        let se_var = exact_var * (3.0 / n as f64).sqrt();
        assert!(
            (var - exact_var).abs() < 5.0 * se_var,
            "σ² = {sigma2}: var {var}, exact {exact_var}"
        );
    }
}

#[test]
fn discrete_gaussian_with_tiny_variance_is_almost_surely_zero() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let sampler = DiscreteGaussian::new(Rational::new(1, Rational::MAX_TERM).unwrap()).unwrap();
    // P[Y ≠ 0] ≈ 2·exp(−2⁴⁷).
    assert!((0..200).all(|_| sampler.sample(&mut rng) == 0));
}

#[test]
fn discrete_laplace_passes_chi_square() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let n = 6000;
    for (num, den) in [(3u64, 2u64), (1, 3), (7, 1)] {
        let scale = Rational::new(num, den).unwrap();
        let sampler = DiscreteLaplace::new(scale);
        let reach = (30.0 * scale.to_f64()) as i64 + 5;
        let pmf = laplace_pmf(scale.to_f64(), reach);
        let mut counts = vec![0u64; pmf.len()];
        for _ in 0..n {
            let y = sampler.sample(&mut rng);
            assert!(y.abs() <= reach, "sample {y} beyond {reach} (probability < e^-30)");
            counts[(y + reach) as usize] += 1;
        }
        let probabilities: Vec<f64> = pmf.iter().map(|(_, p)| *p).collect();
        let (stat, df) = common::chi2(&counts, &probabilities);
        let critical = common::chi2_critical_001(df);
        assert!(stat < critical, "scale {scale}: χ² = {stat} ≥ {critical} (df {df})");
    }
}

#[test]
fn discrete_laplace_moments_match() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let n = 6000;
    for (num, den) in [(5u64, 2u64), (1000, 1)] {
        let scale = Rational::new(num, den).unwrap();
        let sampler = DiscreteLaplace::new(scale);
        let samples: Vec<i64> = (0..n).map(|_| sampler.sample(&mut rng)).collect();
        let (mean, var) = mean_var(&samples);
        let q = (-1.0 / scale.to_f64()).exp();
        let exact_var = 2.0 * q / (1.0 - q).powi(2);
        assert!(
            mean.abs() < 5.0 * (exact_var / n as f64).sqrt(),
            "scale {scale}: mean {mean}"
        );
        // The Laplace law has excess kurtosis 3: Var(s²) ≈ 5σ⁴/n.
        let se_var = exact_var * (5.0 / n as f64).sqrt();
        assert!(
            (var - exact_var).abs() < 5.0 * se_var,
            "scale {scale}: var {var}, exact {exact_var}"
        );
    }
}

#[test]
fn samplers_are_deterministic_given_the_seed() {
    let gaussian = DiscreteGaussian::new(Rational::new(9, 2).unwrap()).unwrap();
    let draw = |seed| {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        (0..50).map(|_| gaussian.sample(&mut rng)).collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
}
