//! Area under the ROC curve, computed exactly as the Mann–Whitney U statistic with average
//! ranks for tied scores (the same value as scikit-learn's `roc_auc_score`).

/// The AUC of `scores` for separating `labels == true` (positives) from the rest: the
/// probability that a random positive scores higher than a random negative, ties counting ½.
/// Range [0, 1]; 0.5 is chance.
///
/// `None` when the lengths differ, when there is no positive or no negative, or when a score
/// is NaN.
pub fn auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
    if labels.len() != scores.len() || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// The one-vs-rest macro AUC: the mean over classes of [`auc`] of class `c` against the rest,
/// scored by `scores[row][c]` (as scikit-learn's `roc_auc_score(multi_class="ovr",
/// average="macro")`). Classes absent from `labels`, or present in every row, are left out of
/// the mean. Range [0, 1]; 0.5 is chance.
///
/// `None` when the lengths differ, a row has fewer scores than a label needs, or no class can
/// be scored.
pub fn auc_one_vs_rest(labels: &[usize], scores: &[Vec<f64>]) -> Option<f64> {
    if labels.len() != scores.len() {
        return None;
    }
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    if scores.iter().any(|s| s.len() < classes) {
        return None;
    }
    let (mut sum, mut scored) = (0.0, 0usize);
    for class in 0..classes {
        let is_class: Vec<bool> = labels.iter().map(|&l| l == class).collect();
        let column: Vec<f64> = scores.iter().map(|s| s[class]).collect();
        if let Some(a) = auc(&is_class, &column) {
            sum += a;
            scored += 1;
        }
    }
    (scored > 0).then(|| sum / scored as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_reversed_tied_and_undefined() {
        assert_eq!(auc(&[false, false, true, true], &[0.1, 0.2, 0.3, 0.4]), Some(1.0));
        assert_eq!(auc(&[true, true, false, false], &[0.1, 0.2, 0.3, 0.4]), Some(0.0));
        assert_eq!(auc(&[true, false, true, false], &[0.5; 4]), Some(0.5));
        assert_eq!(auc(&[true, true], &[0.1, 0.2]), None);
        assert_eq!(auc(&[true, false], &[0.1]), None);
        assert_eq!(auc(&[true, false], &[f64::NAN, 0.1]), None);
    }
}
