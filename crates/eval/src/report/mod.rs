//! The validation report: every section computed over real, synthetic and optional holdout
//! tables, gathered into one JSON document with stable keys ([`Report::json`], documented in
//! `docs/evaluation.md`), and rendered as one self-contained HTML page (inline SVG, no network)
//! that opens with a one-screen summary of traffic lights with their thresholds stated.
//!
//! A section that cannot be computed (no holdout for the privacy attacks, a target not in the
//! dictionary, too few events…) is listed under `skipped` with the reason, and the rest of the
//! report is still produced.

mod html;
mod summary;
pub mod svg;

pub use summary::{Light, SummaryItem, summarise};

use crate::align::align;
use crate::fidelity::{FidelityOptions, fidelity};
use crate::privacy::{PrivacyOptions, ShadowOptions, Synthesizer, assess};
use crate::survival::{self, ClinicalOptions, Stratum};
use crate::utility::utility;
use crate::{Error, Result};
use serde_json::{Value, json};
use std::sync::Arc;
use table::{Table, TimeToEvent};

/// What to evaluate besides the defaults.
pub struct EvaluateOptions<'a> {
    /// A column to predict (classification or regression), or the name of a time-to-event
    /// pair (Cox model, C-index), for the utility section.
    pub target: Option<String>,
    /// Time-to-event pairs (time column, status column) to add to the dictionary's.
    pub time_to_event: Vec<(String, String)>,
    /// Strata as (name, rule expression); `None` uses the defaults for the dictionary.
    pub strata: Option<Vec<(String, String)>>,
    /// Sensitive columns for the attribute-inference attack.
    pub sensitive: Vec<String>,
    /// A synthesizer for the shadow-model membership attack (`None`: not run).
    pub shadow: Option<&'a Synthesizer>,
    pub seed: u64,
}

/// The finished report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The whole report (see `docs/evaluation.md` for the keys).
    pub json: Value,
    /// Sections skipped and other warnings, for stderr.
    pub warnings: Vec<String>,
}

/// Adds `pairs` to the tables' dictionary as time-to-event pairs named `TIME:STATUS`.
fn with_pairs(real: &Table, synthetic: &Table, pairs: &[(String, String)]) -> Result<(Table, Table)> {
    if pairs.is_empty() {
        return Ok((real.clone(), synthetic.clone()));
    }
    let mut dict = (**real.dictionary()).clone();
    for (time, status) in pairs {
        if dict.column(time).is_none() || dict.column(status).is_none() {
            return Err(Error::Input(format!(
                "time-to-event pair {time}:{status}: column not among the compared ones"
            )));
        }
        if !dict
            .time_to_event
            .iter()
            .any(|t| &t.time == time && &t.status == status)
        {
            dict.time_to_event.push(TimeToEvent {
                name: format!("{time}:{status}"),
                time: time.clone(),
                status: status.clone(),
                description: "added on the command line".into(),
            });
        }
    }
    let dict = Arc::new(dict);
    let project = |t: &Table| t.project(dict.clone()).map_err(|e| Error::Input(e.to_string()));
    Ok((project(real)?, project(synthetic)?))
}

/// Computes every section. Only a failure to align the tables is an error.
pub fn evaluate(
    real: &Table,
    synthetic: &Table,
    holdout: Option<&Table>,
    options: &EvaluateOptions<'_>,
) -> Result<Report> {
    let aligned = align(real, synthetic, holdout)?;
    let mut skipped: Vec<Value> = aligned
        .skipped
        .iter()
        .map(|(c, why)| json!({"what": format!("column {c}"), "reason": why}))
        .collect();
    let mut skip = |what: &str, reason: String| skipped.push(json!({"what": what, "reason": reason}));

    let fidelity = match fidelity(
        &aligned,
        &FidelityOptions {
            seed: options.seed,
            ..FidelityOptions::default()
        },
    ) {
        Ok(f) => f.to_json(),
        Err(e) => {
            skip("fidelity", e.to_string());
            Value::Null
        }
    };

    let (real_c, synth_c) = match with_pairs(&aligned.real, &aligned.synthetic, &options.time_to_event) {
        Ok(t) => t,
        Err(e) => {
            skip("time-to-event pairs", e.to_string());
            (aligned.real.clone(), aligned.synthetic.clone())
        }
    };
    let dictionary = real_c.dictionary().clone();

    let utility = match &options.target {
        None => Value::Null,
        Some(target) => match dictionary.time_to_event.iter().find(|t| &t.name == target) {
            Some(tte) => survival_utility(&real_c, &synth_c, aligned.holdout.as_ref(), tte, &mut skip),
            None => match utility(&aligned, target, options.seed) {
                Ok(u) => u.to_json(),
                Err(e) => {
                    skip("utility", e.to_string());
                    Value::Null
                }
            },
        },
    };

    let mut clinical_options = ClinicalOptions::defaults(&dictionary);
    if let Some(strata) = &options.strata {
        clinical_options.strata.clear();
        for (name, expr) in strata {
            match Stratum::parse(name, expr, &dictionary) {
                Ok(s) => clinical_options.strata.push(s),
                Err(e) => skip(&format!("stratum {name}"), e.to_string()),
            }
        }
    }
    let clinical = survival::evaluate(&real_c, &synth_c, &clinical_options).to_json();

    let privacy = if aligned.holdout.is_none() {
        skip(
            "privacy",
            "no holdout table given (--holdout): every attack needs real records not used in training".into(),
        );
        Value::Null
    } else {
        let sensitive: Vec<&str> = options.sensitive.iter().map(String::as_str).collect();
        let shadow_options = ShadowOptions {
            seed: options.seed,
            ..ShadowOptions::default()
        };
        let shadow = options.shadow.map(|s| (s, &shadow_options));
        match assess(
            &aligned,
            &sensitive,
            shadow,
            &PrivacyOptions {
                seed: options.seed,
                ..PrivacyOptions::default()
            },
        ) {
            Ok(p) => p.to_json(),
            Err(e) => {
                skip("privacy", e.to_string());
                Value::Null
            }
        }
    };

    let mut json = json!({
        "format_version": 1,
        "dictionary": dictionary.name,
        "rows": {"real": real.n_rows(), "synthetic": synthetic.n_rows(), "holdout": holdout.map(Table::n_rows)},
        "compared_columns": dictionary.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "fidelity": fidelity,
        "utility": utility,
        "clinical": clinical,
        "privacy": privacy,
        "skipped": skipped,
    });
    let summary = summarise(&json);
    json["summary"] =
        serde_json::to_value(summary.iter().map(SummaryItem::to_json).collect::<Vec<_>>()).unwrap_or(Value::Null);
    let warnings = json["skipped"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    format!(
                        "skipped {}: {}",
                        s["what"].as_str().unwrap_or("?"),
                        s["reason"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Report { json, warnings })
}

/// Train-on-synthetic vs train-on-real C-index of a Cox model for a time-to-event target.
fn survival_utility(
    real: &Table,
    synthetic: &Table,
    holdout: Option<&Table>,
    tte: &TimeToEvent,
    skip: &mut impl FnMut(&str, String),
) -> Value {
    let covariates = ClinicalOptions::defaults(real.dictionary()).cox_covariates;
    if covariates.is_empty() {
        skip("utility", format!("no Cox covariates for {}", tte.name));
        return Value::Null;
    }
    let test = holdout.unwrap_or(real);
    let c = |train: &Table| survival::cox_tstr_cindex(train, test, &tte.time, &tte.status, &covariates);
    let (on_synthetic, on_real) = (c(synthetic), c(real));
    let show = |r: &Result<f64>| match r {
        Ok(v) => json!({"c_index": v, "problem": null}),
        Err(e) => json!({"c_index": null, "problem": e.to_string()}),
    };
    json!({
        "target": tte.name,
        "task": "survival",
        "covariates": covariates,
        "test_set": if holdout.is_some() { "holdout" } else { "real (no holdout: train-on-real is optimistic)" },
        "scores": [
            {"model": "cox_ph", "trained_on": "real", "c_index": show(&on_real)["c_index"], "problem": show(&on_real)["problem"]},
            {"model": "cox_ph", "trained_on": "synthetic", "c_index": show(&on_synthetic)["c_index"], "problem": show(&on_synthetic)["problem"]},
        ],
    })
}

impl Report {
    /// The self-contained HTML page.
    pub fn to_html(&self) -> String {
        html::render(&self.json)
    }
}
