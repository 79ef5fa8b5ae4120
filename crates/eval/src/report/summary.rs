//! The one-screen summary: traffic lights computed from the report's JSON, each with its
//! thresholds stated (they are judgement calls, documented in `docs/evaluation.md`).

use serde_json::{Value, json};

/// A traffic light.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Light {
    Green,
    Amber,
    Red,
    /// Not computed (the reason is in `value`).
    Grey,
}

impl Light {
    pub fn name(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Amber => "amber",
            Light::Red => "red",
            Light::Grey => "grey",
        }
    }
}

/// One summary line.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryItem {
    pub section: &'static str,
    pub measure: String,
    pub value: String,
    pub thresholds: &'static str,
    pub light: Light,
}

impl SummaryItem {
    pub fn to_json(&self) -> Value {
        json!({"section": self.section, "measure": self.measure, "value": self.value,
               "thresholds": self.thresholds, "light": self.light.name()})
    }
}

/// An attack's or classifier's AUC read both ways: an AUC of 0.3 is as informative as 0.7
/// (flip the guess), so lights use max(AUC, 1 − AUC) (review finding E1).
fn two_sided(auc: f64) -> f64 {
    auc.max(1.0 - auc)
}

/// Higher is better: green at `g` or above, amber at `a` or above.
fn higher(v: f64, g: f64, a: f64) -> Light {
    if v >= g {
        Light::Green
    } else if v >= a {
        Light::Amber
    } else {
        Light::Red
    }
}

/// Lower is better: green at `g` or below, amber at `a` or below.
fn lower(v: f64, g: f64, a: f64) -> Light {
    if v <= g {
        Light::Green
    } else if v <= a {
        Light::Amber
    } else {
        Light::Red
    }
}

struct Items(Vec<SummaryItem>);

impl Items {
    fn push(
        &mut self,
        section: &'static str,
        measure: impl Into<String>,
        value: Option<f64>,
        thresholds: &'static str,
        rule: impl Fn(f64) -> Light,
    ) {
        let (value, light) = match value {
            Some(v) if v.is_finite() => (format!("{v:.3}"), rule(v)),
            _ => ("not computed".to_string(), Light::Grey),
        };
        self.0.push(SummaryItem {
            section,
            measure: measure.into(),
            value,
            thresholds,
            light,
        });
    }
}

/// The summary of a report's JSON.
pub fn summarise(report: &Value) -> Vec<SummaryItem> {
    let mut out = Items(Vec::new());
    let f = &report["fidelity"];
    out.push(
        "fidelity",
        "column shapes (mean KS/TV complement)",
        f["column_shapes"].as_f64(),
        "green ≥ 0.90, amber ≥ 0.80",
        |v| higher(v, 0.9, 0.8),
    );
    out.push(
        "fidelity",
        "column pair trends (mean correlation/contingency similarity)",
        f["column_pair_trends"].as_f64(),
        "green ≥ 0.90, amber ≥ 0.80",
        |v| higher(v, 0.9, 0.8),
    );
    if let Some(m) = f["marginals"].as_array().and_then(|m| m.last()) {
        out.push(
            "fidelity",
            format!("mean total variation of {}-way marginals", m["k"]),
            m["mean_tvd"].as_f64(),
            "green ≤ 0.10, amber ≤ 0.20",
            |v| lower(v, 0.1, 0.2),
        );
    }
    out.push(
        "fidelity",
        "detection AUC (real vs synthetic classifier)",
        f["detection"]["auc"].as_f64().map(two_sided),
        "green ≤ 0.60, amber ≤ 0.75",
        |v| lower(v, 0.6, 0.75),
    );

    let u = &report["utility"];
    if let Some(scores) = u["scores"].as_array() {
        let key = if u["task"] == "survival" {
            "c_index"
        } else if u["task"] == "regression" {
            "r_squared"
        } else {
            "auc"
        };
        let score = |trained: &str| {
            scores
                .iter()
                .filter(|s| s["trained_on"] == trained)
                .filter_map(|s| s[key].as_f64())
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        };
        let ratio = match (score("synthetic"), score("real")) {
            (Some(s), Some(r)) if r > 0.0 => Some(s / r),
            _ => None,
        };
        out.push(
            "utility",
            format!("train-on-synthetic / train-on-real {key}, target {}", u["target"]),
            ratio,
            "green ≥ 0.95, amber ≥ 0.85",
            |v| higher(v, 0.95, 0.85),
        );
    }

    let c = &report["clinical"];
    if let Some(rules) = c["rules"].as_array() {
        let broken: f64 = rules.iter().filter_map(|r| r["synthetic"]["violations"].as_f64()).sum();
        out.push(
            "clinical",
            format!("rule violations in the synthetic data ({} rules)", rules.len()),
            Some(broken),
            "green = 0, otherwise red",
            |v| if v == 0.0 { Light::Green } else { Light::Red },
        );
    }
    for e in c["endpoints"].as_array().into_iter().flatten() {
        let all = e["strata"].as_array().and_then(|s| s.first());
        let p = all.and_then(|s| s["logrank"]["p_value"].as_f64());
        out.push(
            "clinical",
            format!(
                "{}: log-rank p, real vs synthetic (all patients)",
                e["endpoint"].as_str().unwrap_or("?")
            ),
            p,
            "green ≥ 0.05, amber ≥ 0.01 (a small p: the curves differ)",
            |v| higher(v, 0.05, 0.01),
        );
        let strata = e["strata"].as_array().map(|s| &s[1.min(s.len())..]).unwrap_or(&[]);
        let tested: Vec<f64> = strata.iter().filter_map(|s| s["logrank"]["p_value"].as_f64()).collect();
        let share =
            (!tested.is_empty()).then(|| tested.iter().filter(|p| **p >= 0.05).count() as f64 / tested.len() as f64);
        out.push(
            "clinical",
            format!(
                "{}: share of strata whose curves agree (log-rank p ≥ 0.05)",
                e["endpoint"].as_str().unwrap_or("?")
            ),
            share,
            "green ≥ 0.80, amber ≥ 0.60",
            |v| higher(v, 0.8, 0.6),
        );
    }
    for cox in c["cox"].as_array().into_iter().flatten() {
        let agreement = cox["agreement"].as_array();
        let share = agreement
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().filter(|x| x["intervals_overlap"] == true).count() as f64 / a.len() as f64);
        out.push(
            "clinical",
            format!(
                "{}: Cox hazard ratios whose 95% CIs overlap",
                cox["endpoint"].as_str().unwrap_or("?")
            ),
            share,
            "green ≥ 0.80, amber ≥ 0.50",
            |v| higher(v, 0.8, 0.5),
        );
    }

    let p = &report["privacy"];
    if !p.is_null() {
        out.push(
            "privacy",
            "distance membership attack AUC",
            p["membership_distance"]["auc"].as_f64().map(two_sided),
            "green < 0.55, amber ≤ 0.60",
            |v| lower(v, 0.55 - 1e-12, 0.6),
        );
        out.push(
            "privacy",
            "share of synthetic rows closer to train than to holdout",
            p["distance"]["closer_to_train_share"].as_f64(),
            "green ≤ 0.55, amber ≤ 0.60",
            |v| lower(v, 0.55, 0.6),
        );
        let em = match (
            p["distance"]["synthetic_exact_match_rate"].as_f64(),
            p["distance"]["holdout_exact_match_rate"].as_f64(),
        ) {
            (Some(s), Some(h)) => Some(s - h),
            _ => None,
        };
        out.push(
            "privacy",
            "exact-match rate, synthetic − holdout",
            em,
            "green ≤ 0.01, amber ≤ 0.05",
            |v| lower(v, 0.01, 0.05),
        );
        out.push(
            "privacy",
            "distance attack AUC on the rarest records",
            p["membership_distance"]["rare"]["auc"].as_f64().map(two_sided),
            "green < 0.60, amber ≤ 0.70",
            |v| lower(v, 0.6 - 1e-12, 0.7),
        );
        if !p["membership_shadow"].is_null() {
            out.push(
                "privacy",
                "shadow-model attack mean AUC",
                p["membership_shadow"]["mean_auc"].as_f64().map(two_sided),
                "green < 0.60, amber ≤ 0.70",
                |v| lower(v, 0.6 - 1e-12, 0.7),
            );
        }
        for a in p["attribute_inference"].as_array().into_iter().flatten() {
            let n = &a["nearest"];
            let light = |_: f64| match (n["excess"].as_f64(), n["excess_low"].as_f64()) {
                (Some(x), Some(lo)) if lo <= 0.0 || x < 0.02 => Light::Green,
                (Some(x), Some(lo)) if lo > 0.0 && x <= 0.05 => Light::Amber,
                _ => Light::Red,
            };
            out.push(
                "privacy",
                format!(
                    "attribute inference excess success on {}",
                    a["column"].as_str().unwrap_or("?")
                ),
                n["excess"].as_f64(),
                "green: CI includes 0 or < 0.02; amber ≤ 0.05",
                light,
            );
        }
    }
    out.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lights_follow_thresholds() {
        let report = json!({
            "fidelity": {"column_shapes": 0.95, "column_pair_trends": 0.85, "marginals": [{"k": 3, "mean_tvd": 0.3}], "detection": {"auc": 0.5}},
            "utility": {"target": "x", "task": "classification", "scores": [
                {"trained_on": "real", "auc": 0.8}, {"trained_on": "synthetic", "auc": 0.78}]},
            "clinical": {"rules": [{"synthetic": {"violations": 0}}], "endpoints": [], "cox": []},
            "privacy": null,
        });
        let s = summarise(&report);
        let light = |m: &str| s.iter().find(|i| i.measure.starts_with(m)).unwrap().light;
        assert_eq!(light("column shapes"), Light::Green);
        assert_eq!(light("column pair trends"), Light::Amber);
        assert_eq!(light("mean total variation"), Light::Red);
        assert_eq!(light("detection"), Light::Green);
        assert_eq!(light("train-on-synthetic"), Light::Green);
        assert_eq!(light("rule violations"), Light::Green);
        assert!(s.iter().all(|i| i.section != "privacy"));
        // An attack AUC far below 0.5 is as alarming as one far above.
        let inverted = summarise(&json!({"privacy": {"membership_distance": {"auc": 0.3}, "distance": {}}}));
        assert_eq!(
            inverted
                .iter()
                .find(|i| i.measure.starts_with("distance membership"))
                .unwrap()
                .light,
            Light::Red
        );
        let missing = summarise(&json!({"fidelity": {}}));
        assert!(missing.iter().all(|i| i.light == Light::Grey));
    }
}
