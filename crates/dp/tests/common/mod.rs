//! Helpers shared by the statistical tests: goodness-of-fit statistics with fixed critical values.

/// The upper-0.001 quantile of χ² with `df` degrees of freedom (Wilson–Hilferty; accurate to a
/// few percent for df ≥ 3, which is all a p = 0.001 threshold needs).
pub fn chi2_critical_001(df: usize) -> f64 {
    let k = df as f64;
    let z = 3.090_232; // Φ⁻¹(0.999)
    let c = 2.0 / (9.0 * k);
    k * (1.0 - c + z * c.sqrt()).powi(3)
}

/// Pearson's χ² statistic and its degrees of freedom, for observed counts against expected
/// probabilities. Cells with expected count below 5 are pooled into one cell.
pub fn chi2(observed: &[u64], probabilities: &[f64]) -> (f64, usize) {
    let n: u64 = observed.iter().sum();
    let n = n as f64;
    let (mut stat, mut cells) = (0.0, 0);
    let (mut pooled_obs, mut pooled_exp) = (0.0, 0.0);
    for (&o, &p) in observed.iter().zip(probabilities) {
        let e = p * n;
        if e < 5.0 {
            pooled_obs += o as f64;
            pooled_exp += e;
        } else {
            stat += (o as f64 - e).powi(2) / e;
            cells += 1;
        }
    }
    if pooled_exp > 0.0 {
        stat += (pooled_obs - pooled_exp).powi(2) / pooled_exp.max(1e-300);
        cells += 1;
    }
    (stat, cells - 1)
}
