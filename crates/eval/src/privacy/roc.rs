//! ROC summaries of an attack: the attacker scores each target (higher = "member") and we
//! measure how well the scores separate members (positives) from non-members (negatives).

use crate::{Error, Result};

/// Area under the ROC curve, computed as the Mann–Whitney statistic: the probability that a
/// random positive scores higher than a random negative, ties counted one half. Equals
/// scikit-learn's `roc_auc_score` (checked against it in `golden/privacy/`).
///
/// Errors when either class is empty or a score is NaN.
pub fn auc(positive: &[f64], negative: &[f64]) -> Result<f64> {
    check(positive, negative)?;
    // Mid-ranks over the pooled scores (ties share the mean of their ranks).
    let mut pooled: Vec<(f64, bool)> = positive
        .iter()
        .map(|&s| (s, true))
        .chain(negative.iter().map(|&s| (s, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum_positive = 0.0;
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j + 1 < pooled.len() && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j+1 (1-based) share their mean.
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        let positives_here = pooled[i..=j].iter().filter(|p| p.1).count();
        rank_sum_positive += mid_rank * positives_here as f64;
        i = j + 1;
    }
    let n1 = positive.len() as f64;
    let n0 = negative.len() as f64;
    let u = rank_sum_positive - n1 * (n1 + 1.0) / 2.0;
    Ok(u / (n1 * n0))
}

/// True-positive rate of the attack at false-positive rate `fpr`, read from the empirical ROC
/// curve with linear interpolation.
///
/// The curve has one point per distinct score threshold (all targets tied at a threshold are
/// classified together), from (0, 0) to (1, 1). The value at `fpr` is interpolated between the
/// last point whose FPR is ≤ `fpr` (the highest such point when several share that FPR) and the
/// next point: the TPR an attacker reaches at that FPR by randomising between two thresholds.
pub fn tpr_at_fpr(positive: &[f64], negative: &[f64], fpr: f64) -> Result<f64> {
    check(positive, negative)?;
    if !(0.0..=1.0).contains(&fpr) {
        return Err(Error::Input(format!(
            "a false-positive rate must be in [0, 1], got {fpr}"
        )));
    }
    let curve = roc_curve(positive, negative);
    let last = curve.iter().rposition(|p| p.0 <= fpr).unwrap_or(0);
    let (f0, t0) = curve[last];
    match curve.get(last + 1) {
        None => Ok(t0),
        Some(&(f1, t1)) => Ok(t0 + (t1 - t0) * (fpr - f0) / (f1 - f0)),
    }
}

/// The ROC points (FPR, TPR), one per distinct threshold from the highest score down,
/// starting at (0, 0) and ending at (1, 1).
fn roc_curve(positive: &[f64], negative: &[f64]) -> Vec<(f64, f64)> {
    let mut pooled: Vec<(f64, bool)> = positive
        .iter()
        .map(|&s| (s, true))
        .chain(negative.iter().map(|&s| (s, false)))
        .collect();
    pooled.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (n1, n0) = (positive.len() as f64, negative.len() as f64);
    let mut curve = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < pooled.len() {
        let score = pooled[i].0;
        while i < pooled.len() && pooled[i].0 == score {
            if pooled[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        curve.push((fp as f64 / n0, tp as f64 / n1));
    }
    curve
}

fn check(positive: &[f64], negative: &[f64]) -> Result<()> {
    if positive.is_empty() || negative.is_empty() {
        return Err(Error::Input(format!(
            "a ROC needs both classes: {} positive and {} negative scores",
            positive.len(),
            negative.len()
        )));
    }
    if let Some(s) = positive.iter().chain(negative).find(|s| s.is_nan()) {
        return Err(Error::Input(format!("an attack score is {s}, not a number")));
    }
    Ok(())
}
