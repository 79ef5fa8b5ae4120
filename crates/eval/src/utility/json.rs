//! JSON of the utility results, with the stable keys documented in
//! `docs/evaluation-fidelity.md`.

use super::{ModelScore, Task, TestSet, Utility};
use serde_json::{Value, json};

impl Utility {
    /// The results as JSON with stable keys: `{"target", "task", "classes", "test_set",
    /// "test_rows", "missing_targets": {"real_train", "synthetic", "test"}, "scores": [...]}`
    /// (see `docs/evaluation-fidelity.md`). Undefined scores are `null`.
    pub fn to_json(&self) -> Value {
        let (task, classes) = match &self.task {
            Task::Classification { classes } => ("classification", Some(classes)),
            Task::Regression => ("regression", None),
        };
        json!({
            "target": self.target,
            "task": task,
            "classes": classes,
            "test_set": match self.test_set {
                TestSet::Holdout => "holdout",
                TestSet::RealSplit => "real_split",
            },
            "test_rows": self.test_rows,
            "missing_targets": {
                "real_train": self.missing_targets.real_train,
                "synthetic": self.missing_targets.synthetic,
                "test": self.missing_targets.test,
            },
            "scores": self.scores.iter().map(ModelScore::to_json).collect::<Vec<_>>(),
        })
    }
}

impl ModelScore {
    /// `{"model", "trained_on", "training_rows", "auc", "accuracy", "r_squared", "skipped"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "model": self.model.name(),
            "trained_on": self.trained_on.name(),
            "training_rows": self.training_rows,
            "auc": self.auc,
            "accuracy": self.accuracy,
            "r_squared": self.r_squared,
            "skipped": self.skipped,
        })
    }
}
