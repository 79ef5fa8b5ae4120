//! Real-vs-synthetic survival per endpoint, overall and per clinical stratum: Kaplan–Meier
//! curves with bands, medians, landmark survival and the log-rank test of real against
//! synthetic; plus the Cox comparison and the rule checks, gathered in [`Clinical`].

use super::cox::{CoxComparison, compare_cox};
use super::km::{KaplanMeier, Median, kaplan_meier};
use super::logrank::{LogRank, PrognosticLogRank, logrank, prognostic_logrank};
use super::rules::{RuleCheck, check_rules};
use super::{Exclusions, Observations, TimeUnit, json_num, observations};
use crate::{Error, Result};
use serde_json::{Value as Json, json};
use table::{Dictionary, Rule, Table, TimeToEvent, Truth};

/// Fewest events, in the real and in the synthetic part each, for a stratum to be compared.
pub const MIN_EVENTS: usize = 5;

/// A clinical subgroup: the rows on which `predicate` is True.
#[derive(Debug, Clone)]
pub struct Stratum {
    pub name: String,
    /// A rule expression of the dictionary language (`docs/rules.md`).
    pub predicate: Rule,
}

impl Stratum {
    /// Parses `expr` against `dictionary` (`Rule::parse(name, expr, "", dictionary)`).
    pub fn parse(name: &str, expr: &str, dictionary: &Dictionary) -> Result<Stratum> {
        let predicate = Rule::parse(name, expr, "", dictionary)
            .map_err(|e| Error::Input(format!("stratum {name:?} ({expr}): {e}")))?;
        Ok(Stratum {
            name: name.into(),
            predicate,
        })
    }

    /// Which rows of `table` belong to the stratum (the predicate recompiled against the
    /// table's own dictionary).
    pub fn members(&self, table: &Table) -> Result<Vec<bool>> {
        let rule = Rule::parse(&self.name, &self.predicate.source, "", table.dictionary())
            .map_err(|e| Error::Input(format!("stratum {:?} does not apply to this table: {e}", self.name)))?;
        Ok((0..table.n_rows())
            .map(|r| rule.eval(&table.row(r)) == Truth::True)
            .collect())
    }
}

/// The AML strata (ELN 2022 risk groups, age at 60, NPM1-mutated without FLT3-ITD, TP53
/// mutated), those whose columns exist in `dictionary`; none for other dictionaries.
pub fn default_strata(dictionary: &Dictionary) -> Vec<Stratum> {
    [
        ("ELN 2022 favorable", "`ELN 2022` == 'favorable'"),
        ("ELN 2022 intermediate", "`ELN 2022` == 'intermediate'"),
        ("ELN 2022 adverse", "`ELN 2022` == 'adverse'"),
        ("age >= 60", "AGE >= 60"),
        ("age < 60", "AGE < 60"),
        ("NPM1 mutated, no FLT3-ITD", "NPM1 == 1 and FLT3_ITD == 0"),
        ("TP53 mutated", "TP53 == 1"),
    ]
    .into_iter()
    .filter_map(|(name, expr)| Stratum::parse(name, expr, dictionary).ok())
    .collect()
}

/// Ŝ at a landmark time.
#[derive(Debug, Clone, PartialEq)]
pub struct Landmark {
    pub years: f64,
    /// The landmark in the time column's unit; `None` when the unit is unknown.
    pub time: Option<f64>,
    pub survival: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    /// Why there is no estimate (unknown unit, beyond the last follow-up time).
    pub problem: Option<String>,
}

/// The Kaplan–Meier summary of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct KmSummary {
    pub curve: KaplanMeier,
    pub median: Median,
    pub landmarks: Vec<Landmark>,
}

impl KmSummary {
    /// Summarises the observations at the landmark years.
    pub fn new(obs: &Observations, landmark_years: &[f64]) -> KmSummary {
        let curve = kaplan_meier(&obs.times, &obs.events);
        let landmarks = landmark_years
            .iter()
            .map(|&years| {
                let mut l = Landmark {
                    years,
                    time: None,
                    survival: None,
                    lower: None,
                    upper: None,
                    problem: None,
                };
                match obs.unit {
                    None => l.problem = Some("the time column has no known unit (days, weeks, months, years)".into()),
                    Some(u) => {
                        let t = years * u.per_year();
                        l.time = Some(t);
                        if curve.is_estimable_at(t) {
                            let (lo, hi) = curve.band_at(t);
                            (l.survival, l.lower, l.upper) = (Some(curve.survival_at(t)), Some(lo), Some(hi));
                        } else {
                            l.problem = Some("beyond the last follow-up time".into());
                        }
                    }
                }
                l
            })
            .collect();
        KmSummary {
            median: curve.median(),
            curve,
            landmarks,
        }
    }

    /// JSON: `{"n", "events", "median": {"median","lower","upper"}, "landmarks": [{"years",
    /// "time","survival","lower","upper","problem"}], "curve": [[time, survival, lower, upper]]}`.
    pub fn to_json(&self) -> Json {
        let opt = |v: Option<f64>| v.map_or(Json::Null, json_num);
        json!({
            "n": self.curve.n,
            "events": self.curve.events,
            "median": self.median.to_json(),
            "landmarks": self.landmarks.iter().map(|l| json!({
                "years": json_num(l.years),
                "time": opt(l.time),
                "survival": opt(l.survival),
                "lower": opt(l.lower),
                "upper": opt(l.upper),
                "problem": l.problem,
            })).collect::<Vec<_>>(),
            "curve": self.curve.plot_points().iter()
                .map(|(t, s, lo, hi)| json!([json_num(*t), json_num(*s), json_num(*lo), json_num(*hi)]))
                .collect::<Vec<_>>(),
        })
    }
}

/// Real against synthetic in one stratum (or overall).
#[derive(Debug, Clone, PartialEq)]
pub struct StratumComparison {
    /// `"all"` for the whole table, else the stratum's name.
    pub stratum: String,
    /// The stratum's expression; `None` for `"all"`.
    pub expr: Option<String>,
    pub n_real: usize,
    pub events_real: usize,
    pub n_synthetic: usize,
    pub events_synthetic: usize,
    /// Why the stratum was not compared (empty, fewer than [`MIN_EVENTS`] events).
    pub skipped: Option<String>,
    pub real: Option<KmSummary>,
    pub synthetic: Option<KmSummary>,
    /// Log-rank test of real against synthetic (groups `real`, `synthetic`).
    pub logrank: Option<LogRank>,
    /// Synthetic minus real median (when both are reached).
    pub median_difference: Option<f64>,
    /// Synthetic minus real survival at each landmark, in landmark order.
    pub landmark_differences: Vec<Option<f64>>,
}

impl StratumComparison {
    fn new(stratum: &str, expr: Option<String>, real: &Observations, synthetic: &Observations, years: &[f64]) -> Self {
        let (er, es) = (real.n_events(), synthetic.n_events());
        let mut c = StratumComparison {
            stratum: stratum.into(),
            expr,
            n_real: real.times.len(),
            events_real: er,
            n_synthetic: synthetic.times.len(),
            events_synthetic: es,
            skipped: None,
            real: None,
            synthetic: None,
            logrank: None,
            median_difference: None,
            landmark_differences: Vec::new(),
        };
        if c.n_real == 0 || c.n_synthetic == 0 {
            let side = if c.n_real == 0 { "real" } else { "synthetic" };
            c.skipped = Some(format!("empty in the {side} data"));
            return c;
        }
        if er < MIN_EVENTS || es < MIN_EVENTS {
            c.skipped = Some(format!(
                "too few events: {er} real, {es} synthetic (at least {MIN_EVENTS} needed in each)"
            ));
            return c;
        }
        let (r, s) = (KmSummary::new(real, years), KmSummary::new(synthetic, years));
        c.median_difference = match (r.median.median, s.median.median) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        c.landmark_differences = r
            .landmarks
            .iter()
            .zip(&s.landmarks)
            .map(|(a, b)| Some(b.survival? - a.survival?))
            .collect();
        let times: Vec<f64> = real.times.iter().chain(&synthetic.times).copied().collect();
        let events: Vec<bool> = real.events.iter().chain(&synthetic.events).copied().collect();
        let groups: Vec<usize> = std::iter::repeat_n(0, real.times.len())
            .chain(std::iter::repeat_n(1, synthetic.times.len()))
            .collect();
        c.logrank = Some(logrank(&times, &events, &groups, &["real".into(), "synthetic".into()]));
        (c.real, c.synthetic) = (Some(r), Some(s));
        c
    }

    /// JSON: `{"stratum", "expr", "n_real", "events_real", "n_synthetic", "events_synthetic",
    /// "skipped", "real": KmSummary|null, "synthetic": KmSummary|null, "logrank": LogRank|null,
    /// "median_difference", "landmark_differences"}`.
    pub fn to_json(&self) -> Json {
        let opt = |v: Option<f64>| v.map_or(Json::Null, json_num);
        json!({
            "stratum": self.stratum,
            "expr": self.expr,
            "n_real": self.n_real,
            "events_real": self.events_real,
            "n_synthetic": self.n_synthetic,
            "events_synthetic": self.events_synthetic,
            "skipped": self.skipped,
            "real": self.real.as_ref().map_or(Json::Null, KmSummary::to_json),
            "synthetic": self.synthetic.as_ref().map_or(Json::Null, KmSummary::to_json),
            "logrank": self.logrank.as_ref().map_or(Json::Null, LogRank::to_json),
            "median_difference": opt(self.median_difference),
            "landmark_differences": self.landmark_differences.iter().map(|d| opt(*d)).collect::<Vec<_>>(),
        })
    }
}

/// One time-to-event pair compared overall and per stratum.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointComparison {
    pub endpoint: String,
    pub time: String,
    pub status: String,
    pub unit: Option<TimeUnit>,
    pub excluded_real: Exclusions,
    pub excluded_synthetic: Exclusions,
    /// `"all"` first, then each stratum in the order given.
    pub strata: Vec<StratumComparison>,
}

impl EndpointComparison {
    /// JSON: `{"endpoint", "time", "status", "unit", "excluded_real", "excluded_synthetic",
    /// "strata": [StratumComparison]}`.
    pub fn to_json(&self) -> Json {
        json!({
            "endpoint": self.endpoint,
            "time": self.time,
            "status": self.status,
            "unit": self.unit.map(TimeUnit::name),
            "excluded_real": self.excluded_real.to_json(),
            "excluded_synthetic": self.excluded_synthetic.to_json(),
            "strata": self.strata.iter().map(StratumComparison::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Compares `tte` on `real` and `synthetic`, overall and in each stratum.
pub fn compare_endpoint(
    real: &Table,
    synthetic: &Table,
    tte: &TimeToEvent,
    strata: &[Stratum],
    landmark_years: &[f64],
) -> Result<EndpointComparison> {
    let (r, s) = (observations(real, tte)?, observations(synthetic, tte)?);
    let mut out = EndpointComparison {
        endpoint: tte.name.clone(),
        time: tte.time.clone(),
        status: tte.status.clone(),
        unit: r.unit,
        excluded_real: r.excluded,
        excluded_synthetic: s.excluded,
        strata: vec![StratumComparison::new("all", None, &r, &s, landmark_years)],
    };
    for stratum in strata {
        let expr = Some(stratum.predicate.source.clone());
        match (stratum.members(real), stratum.members(synthetic)) {
            (Ok(mr), Ok(ms)) => {
                let (sr, ss) = (r.subset(|row| mr[row]), s.subset(|row| ms[row]));
                out.strata
                    .push(StratumComparison::new(&stratum.name, expr, &sr, &ss, landmark_years));
            }
            (Err(e), _) | (_, Err(e)) => {
                // A stratum whose columns one table lacks is skipped, not an error.
                let empty = r.subset(|_| false);
                let mut c = StratumComparison::new(&stratum.name, expr, &empty, &empty, landmark_years);
                c.skipped = Some(e.to_string());
                out.strata.push(c);
            }
        }
    }
    Ok(out)
}

/// What [`evaluate`] computes.
#[derive(Debug, Clone)]
pub struct ClinicalOptions {
    pub strata: Vec<Stratum>,
    /// Covariates of the Cox model (none: no Cox comparison).
    pub cox_covariates: Vec<String>,
    /// Landmark times in years (converted with the time column's unit).
    pub landmark_years: Vec<f64>,
    /// Categorical or boolean columns across whose levels a k-group log-rank test is run on
    /// each table (prognostic separation).
    pub logrank_by: Vec<String>,
}

impl ClinicalOptions {
    /// The defaults for `dictionary`: [`default_strata`], landmarks at 1, 2 and 5 years, and
    /// for AML the Cox covariates AGE, ELN 2022, NPM1, FLT3_ITD, TP53 (those present) and the
    /// prognostic log-rank across ELN 2022 risk groups.
    pub fn defaults(dictionary: &Dictionary) -> ClinicalOptions {
        ClinicalOptions {
            strata: default_strata(dictionary),
            cox_covariates: ["AGE", "ELN 2022", "NPM1", "FLT3_ITD", "TP53"]
                .into_iter()
                .filter(|c| dictionary.column(c).is_some())
                .map(String::from)
                .collect(),
            landmark_years: vec![1.0, 2.0, 5.0],
            logrank_by: ["ELN 2022"]
                .into_iter()
                .filter(|c| dictionary.column(c).is_some())
                .map(String::from)
                .collect(),
        }
    }
}

/// The clinical-agreement section of the report.
#[derive(Debug, Clone)]
pub struct Clinical {
    pub endpoints: Vec<EndpointComparison>,
    pub cox: Vec<CoxComparison>,
    /// One per endpoint × `logrank_by` column.
    pub prognostic: Vec<PrognosticLogRank>,
    pub rules: Vec<RuleCheck>,
    /// Endpoints or models that could not be evaluated at all, with the reason.
    pub problems: Vec<String>,
}

impl Clinical {
    /// JSON: `{"endpoints": [EndpointComparison], "cox": [CoxComparison], "prognostic":
    /// [PrognosticLogRank], "rules": [RuleCheck],
    /// "problems": [string], "min_events": 5}`.
    pub fn to_json(&self) -> Json {
        json!({
            "endpoints": self.endpoints.iter().map(EndpointComparison::to_json).collect::<Vec<_>>(),
            "cox": self.cox.iter().map(CoxComparison::to_json).collect::<Vec<_>>(),
            "prognostic": self.prognostic.iter().map(PrognosticLogRank::to_json).collect::<Vec<_>>(),
            "rules": self.rules.iter().map(RuleCheck::to_json).collect::<Vec<_>>(),
            "problems": self.problems,
            "min_events": MIN_EVENTS,
        })
    }
}

/// Evaluates every time-to-event pair of `real`'s dictionary (overall, per stratum, and with
/// the Cox model) and every rule. An endpoint that cannot be evaluated (a column missing from
/// the synthetic table…) is listed in `problems`, not returned as an error.
pub fn evaluate(real: &Table, synthetic: &Table, options: &ClinicalOptions) -> Clinical {
    let mut out = Clinical {
        endpoints: Vec::new(),
        cox: Vec::new(),
        prognostic: Vec::new(),
        rules: check_rules(real, synthetic),
        problems: Vec::new(),
    };
    for tte in &real.dictionary().time_to_event {
        match compare_endpoint(real, synthetic, tte, &options.strata, &options.landmark_years) {
            Ok(c) => out.endpoints.push(c),
            Err(e) => out.problems.push(format!("endpoint {}: {e}", tte.name)),
        }
        for column in &options.logrank_by {
            out.prognostic.push(prognostic_logrank(real, synthetic, tte, column));
        }
        if !options.cox_covariates.is_empty() {
            match compare_cox(real, synthetic, tte, &options.cox_covariates) {
                Ok(c) => out.cox.push(c),
                Err(e) => out.problems.push(format!("Cox model of {}: {e}", tte.name)),
            }
        }
    }
    out
}
