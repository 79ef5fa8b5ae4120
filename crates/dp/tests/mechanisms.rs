//! The mechanisms' noise calibration and selection law.

mod common;

use dp::{Epsilon, Error, ExponentialMechanism, GaussianMechanism, Rho};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Whether Δ²/(2σ²) ≤ ρ holds exactly for σ² = a/b, with ρ's exact binary value, computed here
/// independently of the crate: Δ²·b·2^(−e) ≤ 2·a·m where ρ = m·2^e.
fn claim_holds(rho: f64, sensitivity: u64, a: u64, b: u64) -> bool {
    let bits = rho.to_bits();
    let (m, e) = (
        ((bits & ((1 << 52) - 1)) | (1 << 52)) as u128,
        ((bits >> 52) & 0x7ff) as i32 - 1075,
    );
    let lhs = u128::from(sensitivity).pow(2) * u128::from(b); // < 2^112 in these tests
    let rhs = 2 * u128::from(a) * m; // < 2^103
    if e >= 0 {
        lhs <= rhs << e
    } else {
        (lhs << (-e) as u32) <= rhs
    }
}

#[test]
fn gaussian_sigma_meets_the_claim_and_is_minimal() {
    for rho in [0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 1.0 / 3.0] {
        for sensitivity in [1u64, 2, 3, 7] {
            let mech = GaussianMechanism::new(Rho::new(rho).unwrap(), sensitivity).unwrap();
            let sigma2 = mech.sigma2();
            let (a, b) = (sigma2.num(), sigma2.den());
            assert!(
                claim_holds(rho, sensitivity, a, b),
                "ρ={rho} Δ={sensitivity}: σ² = {sigma2} too small"
            );
            // The next point down on σ²'s grid breaks the claim, and the slack is below 1e-9.
            let target = (sensitivity * sensitivity) as f64 / (2.0 * rho);
            assert!(
                (sigma2.to_f64() - target) / target <= 1e-9,
                "ρ={rho} Δ={sensitivity}: σ² = {sigma2} vs {target}"
            );
            assert!(
                a == 1 || !claim_holds(rho, sensitivity, a - 1, b),
                "ρ={rho} Δ={sensitivity}: {sigma2} not minimal"
            );
            assert!((mech.sigma() - target.sqrt()).abs() <= 1e-9 * target.sqrt());
            assert_eq!(mech.rho(), Rho::new(rho).unwrap());
        }
    }
}

#[test]
fn gaussian_exact_case_is_hit_exactly() {
    // ρ = 1/2, Δ = 1 needs σ² = 1 exactly.
    let mech = GaussianMechanism::new(Rho::new(0.5).unwrap(), 1).unwrap();
    assert_eq!((mech.sigma2().num(), mech.sigma2().den()), (1, 1));
    // ρ = 1/8, Δ = 3 needs σ² = 36.
    let mech = GaussianMechanism::new(Rho::new(0.125).unwrap(), 3).unwrap();
    assert_eq!((mech.sigma2().num(), mech.sigma2().den()), (36, 1));
}

#[test]
fn gaussian_rejects_unsupported_parameters() {
    let rho = Rho::new(0.1).unwrap();
    assert!(matches!(
        GaussianMechanism::new(rho, 0),
        Err(Error::InvalidSensitivity { .. })
    ));
    assert!(matches!(
        GaussianMechanism::new(rho, (1 << 24) + 1),
        Err(Error::InvalidSensitivity { .. })
    ));
    let tiny = Rho::new(1e-300).unwrap();
    assert!(matches!(
        GaussianMechanism::new(tiny, 1),
        Err(Error::VarianceOutOfRange { .. })
    ));
}

#[test]
fn gaussian_apply_adds_noise_of_the_right_size() {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let mech = GaussianMechanism::new(Rho::new(0.02).unwrap(), 1).unwrap(); // σ² = 25
    let values = vec![1000i64; 4000];
    let noisy = mech.apply(&values, &mut rng).unwrap();
    assert_eq!(noisy.len(), values.len());
    let noise: Vec<f64> = noisy.iter().map(|&v| (v - 1000) as f64).collect();
    let n = noise.len() as f64;
    let mean = noise.iter().sum::<f64>() / n;
    let var = noise.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(mean.abs() < 5.0 * (25.0 / n).sqrt(), "mean {mean}");
    assert!((var - 25.0).abs() < 5.0 * 25.0 * (2.0 / n).sqrt(), "var {var}");
}

#[test]
fn gaussian_apply_reports_overflow_instead_of_clamping() {
    let mut rng = ChaCha20Rng::seed_from_u64(22);
    let mech = GaussianMechanism::new(Rho::new(0.001).unwrap(), 1).unwrap();
    let values = vec![i64::MAX; 64];
    match mech.apply(&values, &mut rng) {
        Err(Error::NoisyValueOverflow { value, noise, .. }) => assert!(value == i64::MAX && noise > 0),
        other => panic!("expected an overflow error, got {other:?}"),
    }
}

#[test]
fn exponential_selection_frequencies_match_the_theory() {
    let mut rng = ChaCha20Rng::seed_from_u64(23);
    let scores = [0i64, 3, 5, 10, 10, -20, 8];
    let mech = ExponentialMechanism::new(Epsilon::new(1.0).unwrap(), 2).unwrap();
    let n = 20_000;
    let mut counts = vec![0u64; scores.len()];
    for _ in 0..n {
        counts[mech.select(&scores, &mut rng).unwrap()] += 1;
    }
    // Theoretical law computed here from ε directly (the mechanism's ε' differs by < 1e-11).
    let weights: Vec<f64> = scores.iter().map(|&s| (1.0 * s as f64 / (2.0 * 2.0)).exp()).collect();
    let total: f64 = weights.iter().sum();
    let probabilities: Vec<f64> = weights.iter().map(|w| w / total).collect();
    for (ours, theirs) in mech.probabilities(&scores).unwrap().iter().zip(&probabilities) {
        assert!((ours - theirs).abs() < 1e-9);
    }
    let (stat, df) = common::chi2(&counts, &probabilities);
    assert!(
        stat < common::chi2_critical_001(df),
        "χ² = {stat} (df {df}), counts {counts:?}"
    );
    // And the test has power: a uniform law is rejected.
    let uniform = vec![1.0 / scores.len() as f64; scores.len()];
    let (stat, df) = common::chi2(&counts, &uniform);
    assert!(stat > common::chi2_critical_001(df));
}

#[test]
fn exponential_mechanism_edge_cases() {
    let mut rng = ChaCha20Rng::seed_from_u64(24);
    let mech = ExponentialMechanism::new(Epsilon::new(0.5).unwrap(), 1).unwrap();
    assert_eq!(mech.select(&[], &mut rng), Err(Error::NoCandidates));
    assert_eq!(mech.select(&[42], &mut rng), Ok(0));
    // Extreme score gaps do not overflow; the far-behind candidate is never chosen.
    let scores = [i64::MIN, i64::MAX];
    assert!((0..100).all(|_| mech.select(&scores, &mut rng) == Ok(1)));
    assert!(matches!(
        ExponentialMechanism::new(Epsilon::new(1.0).unwrap(), 0),
        Err(Error::InvalidSensitivity { .. })
    ));
    let rho = mech.rho().unwrap().get();
    let exact = 0.5 * 0.5 / 8.0;
    assert!((exact..=exact * (1.0 + 1e-15)).contains(&rho));
}
