//! JSON of the fidelity results, with the stable keys documented in
//! `docs/evaluation-fidelity.md`.

use super::{ColumnDistribution, ColumnScore, Detection, Fidelity, KWayMarginals, PairScore, PairScores, Skip};
use serde_json::{Value, json};

impl Fidelity {
    /// The results as JSON with stable keys (see `docs/evaluation-fidelity.md`). Scores that
    /// are not computable are `null`; nothing is NaN.
    pub fn to_json(&self) -> Value {
        json!({
            "real_rows": self.real_rows,
            "synthetic_rows": self.synthetic_rows,
            "column_shapes": self.column_shapes(),
            "column_pair_trends": self.column_pair_trends(),
            "columns": self.columns.iter().map(ColumnScore::to_json).collect::<Vec<_>>(),
            "distributions": self.distributions.iter().map(ColumnDistribution::to_json).collect::<Vec<_>>(),
            "pairs": self.pairs.to_json(),
            "marginals": self.marginals.iter().map(KWayMarginals::to_json).collect::<Vec<_>>(),
            "detection": self.detection.as_ref().map(Detection::to_json),
            "skipped": self.skipped.iter().map(Skip::to_json).collect::<Vec<_>>(),
        })
    }
}

impl ColumnScore {
    /// `{"column", "metric", "score", "real_missing", "synthetic_missing",
    /// "missing_difference"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "column": self.column,
            "metric": self.metric.name(),
            "score": self.score,
            "real_missing": self.real_missing,
            "synthetic_missing": self.synthetic_missing,
            "missing_difference": self.missing_difference(),
        })
    }
}

impl ColumnDistribution {
    /// `{"column", "bins": [{"label", "real", "synthetic"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "column": self.column,
            "bins": self.bins.iter().map(|b| json!({"label": b.label, "real": b.real, "synthetic": b.synthetic})).collect::<Vec<_>>(),
        })
    }
}

impl PairScore {
    /// `{"a", "b", "metric", "score", "real_correlation", "synthetic_correlation", "skipped"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "a": self.a,
            "b": self.b,
            "metric": self.metric.name(),
            "score": self.score,
            "real_correlation": self.real_correlation,
            "synthetic_correlation": self.synthetic_correlation,
            "skipped": self.skipped,
        })
    }
}

impl PairScores {
    /// `{"columns", "matrix", "pairs"}`; `matrix` is [`PairScores::matrix`] with `null` on the
    /// diagonal and for pairs without a score.
    pub fn to_json(&self) -> Value {
        json!({
            "columns": self.columns,
            "matrix": self.matrix(),
            "pairs": self.pairs.iter().map(PairScore::to_json).collect::<Vec<_>>(),
        })
    }
}

impl KWayMarginals {
    /// `{"k", "subsets_total", "subsets_evaluated", "sampled", "skipped_subsets", "mean_tvd",
    /// "max_tvd", "worst_subset", "k_marginal_score"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "k": self.k,
            "subsets_total": self.subsets_total,
            "subsets_evaluated": self.subsets_evaluated,
            "sampled": self.sampled,
            "skipped_subsets": self.skipped_subsets,
            "mean_tvd": self.mean_tvd,
            "max_tvd": self.max_tvd,
            "worst_subset": self.worst_subset,
            "k_marginal_score": self.k_marginal_score,
        })
    }
}

impl Detection {
    /// `{"rows_per_table", "folds", "pmse", "auc", "detection_score"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "rows_per_table": self.rows_per_table,
            "folds": self.folds,
            "pmse": self.pmse,
            "auc": self.auc,
            "detection_score": self.detection_score,
        })
    }
}

impl Skip {
    /// `{"what", "reason"}`.
    pub fn to_json(&self) -> Value {
        json!({"what": self.what, "reason": self.reason})
    }
}
