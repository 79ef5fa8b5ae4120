//! The models of the utility and detection evaluations, each returning class probabilities
//! (or predictions) for test rows: smartcore's logistic regression and random forest, and a
//! ridge regression for numeric targets.

use super::features::Design;
use smartcore::ensemble::random_forest_classifier::{RandomForestClassifier, RandomForestClassifierParameters};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

/// L2 penalty of the logistic regression (½·α·‖w‖² added to the summed log-loss, as
/// scikit-learn's default C = 1).
pub const LOGISTIC_ALPHA: f64 = 1.0;
/// Trees of the random forest.
pub const FOREST_TREES: u64 = 50;
/// Maximum depth of each tree.
pub const FOREST_MAX_DEPTH: u16 = 8;
/// Minimum rows in a leaf.
pub const FOREST_MIN_LEAF: usize = 3;
/// L2 penalty of the ridge regression on standardised features.
pub const RIDGE_ALPHA: f64 = 1.0;

fn matrix(design: &Design) -> Result<DenseMatrix<f64>, String> {
    DenseMatrix::new(design.rows, design.cols, design.values.clone(), false).map_err(|e| e.to_string())
}

fn check_training(train: &Design, labels: &[u32]) -> Result<(), String> {
    if train.rows != labels.len() {
        return Err(format!("{} training rows but {} labels", train.rows, labels.len()));
    }
    if train.cols == 0 {
        return Err("no feature column".into());
    }
    let first = labels.first().copied();
    if labels.iter().all(|&l| Some(l) == first) {
        return Err("the training target has fewer than 2 classes".into());
    }
    Ok(())
}

/// Class probabilities (`classes` per test row) of a logistic regression trained on
/// (`train`, `labels`); classes absent from training get probability 0.
pub(crate) fn logistic(train: &Design, labels: &[u32], test: &Design, classes: usize) -> Result<Vec<Vec<f64>>, String> {
    check_training(train, labels)?;
    let parameters = LogisticRegressionParameters::default().with_alpha(LOGISTIC_ALPHA);
    let model: LogisticRegression<f64, u32, DenseMatrix<f64>, Vec<u32>> =
        LogisticRegression::fit(&matrix(train)?, &labels.to_vec(), parameters)
            .map_err(|e| format!("logistic regression: {e}"))?;
    let trained: Vec<usize> = model.classes().iter().map(|&c| c as usize).collect();
    if trained.iter().any(|&c| c >= classes) {
        return Err("a training label is outside the classes".into());
    }
    let (coefficients, intercept) = (model.coefficients(), model.intercept());
    let linear = |k: usize, x: &[f64]| -> f64 {
        let dot: f64 = x.iter().enumerate().map(|(j, v)| v * *coefficients.get((k, j))).sum();
        dot + *intercept.get((k, 0))
    };
    let mut out = Vec::with_capacity(test.rows);
    for r in 0..test.rows {
        let x = test.row(r);
        let mut p = vec![0.0; classes];
        if trained.len() == 2 {
            let p1 = 1.0 / (1.0 + (-linear(0, x)).exp());
            p[trained[0]] = 1.0 - p1;
            p[trained[1]] = p1;
        } else {
            let z: Vec<f64> = (0..trained.len()).map(|k| linear(k, x)).collect();
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = z.iter().map(|v| (v - max).exp()).sum();
            for (k, &c) in trained.iter().enumerate() {
                p[c] = (z[k] - max).exp() / total;
            }
        }
        out.push(p);
    }
    Ok(out)
}

/// Class probabilities of a random forest of [`FOREST_TREES`] trees (bootstrap samples,
/// √features split candidates, depth ≤ [`FOREST_MAX_DEPTH`], seeded): the share of trees
/// voting for each class. Each tree is grown as smartcore's one-tree forest with seed
/// `seed + t`, since smartcore's forest exposes only the majority vote.
pub(crate) fn forest(
    train: &Design,
    labels: &[u32],
    test: &Design,
    classes: usize,
    seed: u64,
) -> Result<Vec<Vec<f64>>, String> {
    check_training(train, labels)?;
    if labels.iter().any(|&l| l as usize >= classes) {
        return Err("a training label is outside the classes".into());
    }
    let (x, y, x_test) = (matrix(train)?, labels.to_vec(), matrix(test)?);
    let mut votes = vec![vec![0.0; classes]; test.rows];
    for t in 0..FOREST_TREES {
        let parameters = RandomForestClassifierParameters::default()
            .with_n_trees(1)
            .with_max_depth(FOREST_MAX_DEPTH)
            .with_min_samples_leaf(FOREST_MIN_LEAF)
            .with_seed(seed.wrapping_add(t));
        let tree: RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>> =
            RandomForestClassifier::fit(&x, &y, parameters).map_err(|e| format!("random forest: {e}"))?;
        let predicted = tree.predict(&x_test).map_err(|e| format!("random forest: {e}"))?;
        for (row, &c) in votes.iter_mut().zip(&predicted) {
            if let Some(v) = row.get_mut(c as usize) {
                *v += 1.0;
            }
        }
    }
    for row in &mut votes {
        row.iter_mut().for_each(|v| *v /= FOREST_TREES as f64);
    }
    Ok(votes)
}

/// Predictions of a ridge regression (penalty [`RIDGE_ALPHA`] on the weights, not on the
/// intercept) trained on (`train`, `targets`), solved by Cholesky on the normal equations.
pub(crate) fn ridge(train: &Design, targets: &[f64], test: &Design) -> Result<Vec<f64>, String> {
    if train.rows != targets.len() || train.rows < 2 {
        return Err(format!(
            "{} training rows for {} targets, at least 2 needed",
            train.rows,
            targets.len()
        ));
    }
    let p = train.cols + 1;
    // Gram matrix of [x, 1] and right-hand side.
    let mut a = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    let mut xi = vec![0.0; p];
    for (r, target) in targets.iter().enumerate() {
        xi[..train.cols].copy_from_slice(train.row(r));
        xi[train.cols] = 1.0;
        for i in 0..p {
            b[i] += xi[i] * target;
            for j in 0..=i {
                a[i * p + j] += xi[i] * xi[j];
            }
        }
    }
    for i in 0..train.cols {
        a[i * p + i] += RIDGE_ALPHA;
    }
    // Cholesky a = L·Lᵀ in the lower triangle.
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if d <= 1e-12 {
            return Err("the ridge normal equations are singular".into());
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    // Solve L·z = b, then Lᵀ·w = z.
    let mut w = b;
    for i in 0..p {
        for k in 0..i {
            w[i] -= a[i * p + k] * w[k];
        }
        w[i] /= a[i * p + i];
    }
    for i in (0..p).rev() {
        for k in i + 1..p {
            w[i] -= a[k * p + i] * w[k];
        }
        w[i] /= a[i * p + i];
    }
    Ok((0..test.rows)
        .map(|r| test.row(r).iter().zip(&w).map(|(x, w)| x * w).sum::<f64>() + w[train.cols])
        .collect())
}
