//! Detection: how well a classifier tells real rows from synthetic rows (pMSE, AUC and
//! SDMetrics' detection score).

use super::FidelityOptions;
use crate::align::Aligned;
use crate::utility::auc::auc;
use crate::utility::features::{Design, Features};
use crate::utility::models;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// A logistic regression (one-hot/standardised features, see `docs/evaluation-fidelity.md`)
/// trained to tell real from synthetic rows, by stratified k-fold cross-validation on equal
/// numbers of real and synthetic rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Rows drawn from each table (the same number from both).
    pub rows_per_table: usize,
    /// Cross-validation folds.
    pub folds: usize,
    /// Propensity mean squared error: mean over all rows of (p̂ − ½)², p̂ the out-of-fold
    /// probability of "synthetic". Range [0, 0.25]; 0 (the classifier cannot tell) is best.
    pub pmse: f64,
    /// Mean over folds of the out-of-fold ROC AUC of "synthetic". Range [0, 1]; 0.5 is best.
    pub auc: f64,
    /// Mean over folds of 1 − (2·max(AUC, ½) − 1), SDMetrics' LogisticDetection score.
    /// Range [0, 1]; 1 is best.
    pub detection_score: f64,
}

/// Offset of the detection seed from the options' seed, so that detection does not draw the
/// same stream as the marginal subsets.
const SEED_OFFSET: u64 = 0x6465_7465_6374;

pub(super) fn detect(aligned: &Aligned, options: &FidelityOptions) -> Result<Detection, String> {
    let folds = options.detection_folds;
    if folds < 2 {
        return Err(format!("{folds} folds: at least 2 are needed"));
    }
    let n = aligned
        .real
        .n_rows()
        .min(aligned.synthetic.n_rows())
        .min(options.detection_rows);
    if n < 2 * folds {
        return Err(format!(
            "{n} rows per table: at least {} are needed for {folds} folds",
            2 * folds
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed.wrapping_add(SEED_OFFSET));
    let mut draw = |rows: usize| {
        let mut all: Vec<usize> = (0..rows).collect();
        all.shuffle(&mut rng);
        all.truncate(n);
        all
    };
    let real_rows = draw(aligned.real.n_rows());
    let synthetic_rows = draw(aligned.synthetic.n_rows());
    let features = Features::fit(
        &[(&aligned.real, &real_rows), (&aligned.synthetic, &synthetic_rows)],
        None,
    );
    if features.width() == 0 {
        return Err("no column can be used as a feature".into());
    }
    // Row i of each shuffled sample is in fold i % folds (stratified by construction).
    let split = |rows: &[usize], f: usize| -> (Vec<usize>, Vec<usize>) {
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for (i, &r) in rows.iter().enumerate() {
            if i % folds == f { test.push(r) } else { train.push(r) }
        }
        (train, test)
    };
    let (mut squared_error, mut scored, mut auc_sum, mut score_sum) = (0.0, 0usize, 0.0, 0.0);
    for f in 0..folds {
        let (real_train, real_test) = split(&real_rows, f);
        let (synthetic_train, synthetic_test) = split(&synthetic_rows, f);
        let design = |real: &[usize], synthetic: &[usize]| {
            let mut values = Vec::new();
            features.extend(&aligned.real, real, &mut values);
            features.extend(&aligned.synthetic, synthetic, &mut values);
            Design {
                rows: real.len() + synthetic.len(),
                cols: features.width(),
                values,
            }
        };
        let labels = |real: usize, synthetic: usize| -> Vec<u32> {
            std::iter::repeat_n(0, real)
                .chain(std::iter::repeat_n(1, synthetic))
                .collect()
        };
        let train = design(&real_train, &synthetic_train);
        let test = design(&real_test, &synthetic_test);
        let train_labels = labels(real_train.len(), synthetic_train.len());
        let probabilities = models::logistic(&train, &train_labels, &test, 2)?;
        let propensity: Vec<f64> = probabilities.iter().map(|p| p[1]).collect();
        let is_synthetic: Vec<bool> = labels(real_test.len(), synthetic_test.len())
            .iter()
            .map(|&l| l == 1)
            .collect();
        let fold_auc = auc(&is_synthetic, &propensity).ok_or("a fold has no real or no synthetic row")?;
        auc_sum += fold_auc;
        score_sum += 1.0 - (2.0 * fold_auc.max(0.5) - 1.0);
        squared_error += propensity.iter().map(|p| (p - 0.5) * (p - 0.5)).sum::<f64>();
        scored += propensity.len();
    }
    Ok(Detection {
        rows_per_table: n,
        folds,
        pmse: squared_error / scored as f64,
        auc: auc_sum / folds as f64,
        detection_score: score_sum / folds as f64,
    })
}
