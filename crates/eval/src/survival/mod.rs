//! Clinical agreement of synthetic with real data: Kaplan–Meier curves, medians and landmark
//! survival, log-rank tests, Cox proportional-hazards models fitted on both tables side by
//! side, the same per clinical stratum, and violations of the dictionary's clinical rules.
//!
//! Everything is a pure function over tables (or plain slices) returning typed results with
//! public fields and a `to_json` with stable keys (documented in `docs/evaluation-clinical.md`).
//! Numbers that cannot be computed are `None` in Rust and `null` in JSON, always with a reason;
//! bad data (too few events, separation, a constant covariate, an empty stratum) is reported in
//! the result, never by panicking. The estimators match lifelines 0.30 (golden values in
//! `crates/eval/golden/survival/`).

pub mod cox;
pub mod km;
pub mod logrank;
mod math;
pub mod rules;
pub mod strata;

pub use cox::{
    CiOverlap, CoxCoefficient, CoxComparison, CoxFit, Design, compare_cox, concordance_index, cox_data, cox_fit,
    cox_tstr_cindex,
};
pub use km::{KaplanMeier, KmStep, Median, kaplan_meier};
pub use logrank::{LogRank, PrognosticLogRank, chi2_sf, logrank, prognostic_logrank};
pub use rules::{RuleCheck, Violations, check_rules};
pub use strata::{
    Clinical, ClinicalOptions, EndpointComparison, KmSummary, Landmark, MIN_EVENTS, Stratum, StratumComparison,
    compare_endpoint, default_strata, evaluate,
};

use crate::{Error, Result};
use serde_json::{Value as Json, json};
use table::{ColumnData, Kind, Table, TimeToEvent};

/// A finite number as JSON; `null` for NaN and ±∞ (JSON has neither).
pub(crate) fn json_num(x: f64) -> Json {
    serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
}

/// The unit of a time column, read from the dictionary column's `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Days,
    Weeks,
    Months,
    Years,
}

impl TimeUnit {
    /// Parses a dictionary unit: `day(s)`, `d`, `week(s)`, `month(s)`, `year(s)`, `y`
    /// (case-insensitive); `None` for anything else.
    pub fn parse(unit: &str) -> Option<TimeUnit> {
        match unit.trim().to_ascii_lowercase().as_str() {
            "day" | "days" | "d" => Some(TimeUnit::Days),
            "week" | "weeks" | "wk" => Some(TimeUnit::Weeks),
            "month" | "months" | "mo" => Some(TimeUnit::Months),
            "year" | "years" | "y" | "yr" => Some(TimeUnit::Years),
            _ => None,
        }
    }

    /// How many of this unit make a year (365.25 days, 52.1775 weeks, 12 months).
    pub fn per_year(self) -> f64 {
        match self {
            TimeUnit::Days => 365.25,
            TimeUnit::Weeks => 365.25 / 7.0,
            TimeUnit::Months => 12.0,
            TimeUnit::Years => 1.0,
        }
    }

    /// The unit's name as written in JSON.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
            TimeUnit::Months => "months",
            TimeUnit::Years => "years",
        }
    }
}

/// Rows left out of a survival analysis, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exclusions {
    /// The time is missing.
    pub missing_time: usize,
    /// The status is missing (and the time is not).
    pub missing_status: usize,
    /// A negative or non-finite time, or an integer status other than 0 or 1.
    pub invalid: usize,
    /// A covariate the model needs is missing (Cox only).
    pub missing_covariate: usize,
}

impl Exclusions {
    /// All rows left out.
    pub fn total(&self) -> usize {
        self.missing_time + self.missing_status + self.invalid + self.missing_covariate
    }

    /// JSON: `{"missing_time", "missing_status", "invalid", "missing_covariate", "total"}`.
    pub fn to_json(&self) -> Json {
        json!({
            "missing_time": self.missing_time,
            "missing_status": self.missing_status,
            "invalid": self.invalid,
            "missing_covariate": self.missing_covariate,
            "total": self.total(),
        })
    }
}

/// The usable observations of one time-to-event pair of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Observations {
    /// Times (≥ 0), one per kept row.
    pub times: Vec<f64>,
    /// Status, true = event.
    pub events: Vec<bool>,
    /// The table row index of each kept observation.
    pub rows: Vec<usize>,
    /// Rows left out, by reason.
    pub excluded: Exclusions,
    /// The time column's unit, when the dictionary names a known one.
    pub unit: Option<TimeUnit>,
}

impl Observations {
    /// The observations of the given table rows only (a stratum), in the same order.
    pub fn subset(&self, keep: impl Fn(usize) -> bool) -> Observations {
        let mut out = Observations {
            times: Vec::new(),
            events: Vec::new(),
            rows: Vec::new(),
            excluded: Exclusions::default(),
            unit: self.unit,
        };
        for ((t, e), r) in self.times.iter().zip(&self.events).zip(&self.rows) {
            if keep(*r) {
                out.times.push(*t);
                out.events.push(*e);
                out.rows.push(*r);
            }
        }
        out
    }

    /// The number of events.
    pub fn n_events(&self) -> usize {
        self.events.iter().filter(|e| **e).count()
    }
}

/// The time column of `tte` as numbers (`None` = missing).
fn time_column(table: &Table, name: &str) -> Result<(Vec<Option<f64>>, Option<TimeUnit>)> {
    let dict = table.dictionary();
    let col = dict
        .column(name)
        .ok_or_else(|| Error::Input(format!("time column {name:?} is not in the table")))?;
    let unit = match &col.kind {
        Kind::Integer { unit, .. } | Kind::Real { unit, .. } => unit.as_deref().and_then(TimeUnit::parse),
        other => {
            return Err(Error::Input(format!(
                "time column {name:?} is {}, not integer or real",
                other.name()
            )));
        }
    };
    let values = match table.column_by_name(name) {
        Some(ColumnData::Int(v)) => v.iter().map(|x| x.map(|i| i as f64)).collect(),
        Some(ColumnData::Real(v)) => v.clone(),
        _ => return Err(Error::Input(format!("time column {name:?} does not hold numbers"))),
    };
    Ok((values, unit))
}

/// The status column as `Some(Ok(event))`, `Some(Err(()))` for an integer other than 0/1,
/// `None` for missing.
fn status_column(table: &Table, name: &str) -> Result<Vec<Option<Result<bool, ()>>>> {
    match table.column_by_name(name) {
        Some(ColumnData::Bool(v)) => Ok(v.iter().map(|x| x.map(Ok)).collect()),
        Some(ColumnData::Int(v)) => Ok(v
            .iter()
            .map(|x| {
                x.map(|i| match i {
                    0 => Ok(false),
                    1 => Ok(true),
                    _ => Err(()),
                })
            })
            .collect()),
        Some(_) => Err(Error::Input(format!(
            "status column {name:?} is neither boolean nor integer 0/1"
        ))),
        None => Err(Error::Input(format!("status column {name:?} is not in the table"))),
    }
}

/// Reads the time-to-event pair `tte` of `table`: rows with a missing time or status, a
/// negative or non-finite time or a status other than 0/1 are left out and counted.
///
/// Errors when a column is absent or of the wrong kind.
pub fn observations(table: &Table, tte: &TimeToEvent) -> Result<Observations> {
    let (times, unit) = time_column(table, &tte.time)?;
    let status = status_column(table, &tte.status)?;
    let mut out = Observations {
        times: Vec::new(),
        events: Vec::new(),
        rows: Vec::new(),
        excluded: Exclusions::default(),
        unit,
    };
    for (row, (t, s)) in times.iter().zip(&status).enumerate() {
        match (t, s) {
            (None, _) => out.excluded.missing_time += 1,
            (Some(_), None) => out.excluded.missing_status += 1,
            (Some(t), Some(Ok(e))) if t.is_finite() && *t >= 0.0 => {
                out.times.push(*t);
                out.events.push(*e);
                out.rows.push(row);
            }
            _ => out.excluded.invalid += 1,
        }
    }
    Ok(out)
}
