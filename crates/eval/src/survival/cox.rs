//! The Cox proportional-hazards model with Efron's handling of tied event times (lifelines'
//! `CoxPHFitter` default), fitted by Newton–Raphson with step halving; Harrell's concordance
//! index; real-vs-synthetic comparison of the fitted hazard ratios; and the Cox
//! train-on-synthetic, test-on-real C-index.

use super::math::{self, Z95};
use super::{Exclusions, Observations, json_num, observations};
use crate::{Error, Result};
use serde_json::{Value as Json, json};
use table::{ColumnData, Kind, Table, TimeToEvent};

/// Fewest events for which a Cox model is fitted.
pub const MIN_COX_EVENTS: usize = 5;
/// Events per covariate below which the fit carries a warning (Peduzzi et al. 1995).
pub const EVENTS_PER_VARIABLE: usize = 10;
/// A coefficient larger than this, per standard deviation of its covariate (a hazard ratio
/// above e^15 ≈ 3·10⁶ per SD) on two iterations in a row is taken as diverging: monotone
/// likelihood (separation).
pub const DIVERGENCE_LIMIT: f64 = 15.0;
/// Newton–Raphson iterations before giving up.
pub const MAX_ITERATIONS: usize = 100;

/// A numeric design matrix: one row per subject, one column per model term.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Term names: the column name, or `column=level` for a categorical indicator.
    pub names: Vec<String>,
    /// Row-major values, `rows × names.len()`.
    pub x: Vec<f64>,
    pub rows: usize,
}

impl Design {
    /// The value of term `j` for subject `i`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.x[i * self.names.len() + j]
    }
}

/// One fitted coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxCoefficient {
    pub name: String,
    /// log hazard ratio β.
    pub coef: f64,
    /// Standard error of β (inverse observed information).
    pub se: f64,
    /// exp(β).
    pub hazard_ratio: f64,
    /// exp(β − 1.96 se).
    pub hr_lower: f64,
    /// exp(β + 1.96 se).
    pub hr_upper: f64,
    /// Wald z = β / se.
    pub z: f64,
    /// Two-sided Wald p-value.
    pub p_value: f64,
}

/// A Cox fit, or the reason there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxFit {
    /// Subjects used.
    pub n: usize,
    /// Events among them.
    pub events: usize,
    /// Rows left out (missing time, status or covariate).
    pub excluded: Exclusions,
    /// Coefficients of the terms kept; empty when the model could not be fitted.
    pub coefficients: Vec<CoxCoefficient>,
    /// Terms left out of the model, with the reason (constant in the data).
    pub dropped_terms: Vec<(String, String)>,
    /// Partial log-likelihood at the estimate.
    pub log_likelihood: Option<f64>,
    /// Harrell's C of the fitted model on its own data.
    pub concordance: Option<f64>,
    pub iterations: usize,
    pub converged: bool,
    /// Terms whose coefficient diverges (separation / monotone likelihood).
    pub diverging: Vec<String>,
    /// Why there are no coefficients (too few events, singular information, separation…).
    pub problem: Option<String>,
    /// Caveats that do not prevent the fit (few events per variable).
    pub warnings: Vec<String>,
}

/// Efron partial log-likelihood, gradient and Hessian at `beta` on standardised `x`
/// (`order` sorts subjects by descending time).
fn efron(
    x: &[f64],
    p: usize,
    times: &[f64],
    events: &[bool],
    order: &[usize],
    beta: &[f64],
) -> (f64, Vec<f64>, Vec<f64>) {
    let eta: Vec<f64> = (0..times.len())
        .map(|i| (0..p).map(|j| x[i * p + j] * beta[j]).sum())
        .collect();
    let shift = eta.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
    let shift = if shift.is_finite() { shift } else { 0.0 };
    let (mut ll, mut grad, mut hess) = (0.0, vec![0.0; p], vec![0.0; p * p]);
    let (mut s0, mut s1, mut s2) = (0.0, vec![0.0; p], vec![0.0; p * p]);
    let mut k = 0;
    while k < order.len() {
        let t = times[order[k]];
        let (mut d0, mut d1, mut d2, mut xsum, mut d) = (0.0, vec![0.0; p], vec![0.0; p * p], vec![0.0; p], 0usize);
        while k < order.len() && times[order[k]] == t {
            let i = order[k];
            let w = (eta[i] - shift).exp();
            let xi = &x[i * p..(i + 1) * p];
            s0 += w;
            for a in 0..p {
                s1[a] += w * xi[a];
                for b in 0..p {
                    s2[a * p + b] += w * xi[a] * xi[b];
                }
            }
            if events[i] {
                d += 1;
                d0 += w;
                ll += eta[i] - shift;
                for a in 0..p {
                    d1[a] += w * xi[a];
                    xsum[a] += xi[a];
                    for b in 0..p {
                        d2[a * p + b] += w * xi[a] * xi[b];
                    }
                }
            }
            k += 1;
        }
        for a in 0..p {
            grad[a] += xsum[a];
        }
        for l in 0..d {
            let f = l as f64 / d as f64;
            let phi0 = s0 - f * d0;
            ll -= phi0.ln();
            for a in 0..p {
                let m_a = (s1[a] - f * d1[a]) / phi0;
                grad[a] -= m_a;
                for b in 0..p {
                    let m_b = (s1[b] - f * d1[b]) / phi0;
                    hess[a * p + b] -= (s2[a * p + b] - f * d2[a * p + b]) / phi0 - m_a * m_b;
                }
            }
        }
    }
    (ll, grad, hess)
}

/// Fits a Cox model with Efron ties to `times`, `events` and the `design` (one row per
/// subject). Never panics and never loops: too few events, a singular information matrix
/// (collinear terms), separation or non-convergence are reported in the result.
pub fn cox_fit(times: &[f64], events: &[bool], design: &Design) -> CoxFit {
    let n = times.len().min(events.len()).min(design.rows);
    let n_events = events[..n].iter().filter(|e| **e).count();
    let p_all = design.names.len();
    let mut fit = CoxFit {
        n,
        events: n_events,
        excluded: Exclusions::default(),
        coefficients: Vec::new(),
        dropped_terms: Vec::new(),
        log_likelihood: None,
        concordance: None,
        iterations: 0,
        converged: false,
        diverging: Vec::new(),
        problem: None,
        warnings: Vec::new(),
    };
    if times.len() != events.len() || times.len() != design.rows {
        fit.problem = Some(format!(
            "{} times, {} statuses and {} design rows: one per subject needed",
            times.len(),
            events.len(),
            design.rows
        ));
        return fit;
    }
    if design.x.len() != design.rows * p_all {
        fit.problem = Some(format!(
            "the design matrix holds {} values, not {} rows × {p_all} terms",
            design.x.len(),
            design.rows
        ));
        return fit;
    }
    // Standardise (mean, sample SD) as lifelines does; drop constant terms.
    let mut keep = Vec::new();
    let mut centre = Vec::new();
    let mut scale = Vec::new();
    for j in 0..p_all {
        let col: Vec<f64> = (0..n).map(|i| design.get(i, j)).collect();
        let mean = col.iter().sum::<f64>() / n.max(1) as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
        if var.is_nan() || var <= 0.0 || !var.is_finite() {
            let why = if n == 0 {
                "no rows".to_string()
            } else {
                format!("constant: every row has {}", col[0])
            };
            fit.dropped_terms.push((design.names[j].clone(), why));
        } else {
            keep.push(j);
            centre.push(mean);
            scale.push(var.sqrt());
        }
    }
    let p = keep.len();
    if n_events < MIN_COX_EVENTS {
        fit.problem = Some(format!(
            "{n_events} event(s): a Cox fit needs at least {MIN_COX_EVENTS}"
        ));
        return fit;
    }
    if p == 0 {
        fit.problem = Some("no covariate varies in the data".into());
        return fit;
    }
    if n <= p {
        fit.problem = Some(format!("{n} subjects for {p} terms: too few to fit"));
        return fit;
    }
    if n_events < EVENTS_PER_VARIABLE * p {
        fit.warnings.push(format!(
            "{n_events} events for {p} terms: fewer than {EVENTS_PER_VARIABLE} events per term, estimates may be unstable"
        ));
    }
    let mut x = vec![0.0; n * p];
    for i in 0..n {
        for (a, j) in keep.iter().enumerate() {
            x[i * p + a] = (design.get(i, *j) - centre[a]) / scale[a];
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| times[*b].total_cmp(&times[*a]));
    let names: Vec<String> = keep.iter().map(|j| design.names[*j].clone()).collect();

    let mut beta = vec![0.0; p];
    let (mut ll, mut grad, mut hess) = efron(&x, p, times, events, &order, &beta);
    let mut was_beyond = vec![false; p];
    loop {
        if fit.iterations >= MAX_ITERATIONS {
            fit.problem = Some(format!(
                "did not converge in {MAX_ITERATIONS} Newton–Raphson iterations"
            ));
            return fit;
        }
        fit.iterations += 1;
        let info: Vec<f64> = hess.iter().map(|h| -h).collect();
        let Some(inv) = math::invert(&info, p) else {
            fit.problem = Some("singular information matrix: collinear or degenerate covariates".into());
            return fit;
        };
        let step = math::mat_vec(&inv, &grad);
        let mut t = 1.0;
        let (cand, new) = loop {
            let cand: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
            let new = efron(&x, p, times, events, &order, &cand);
            if new.0.is_finite() && new.0 >= ll - 1e-12 * (1.0 + ll.abs()) {
                break (cand, new);
            }
            t /= 2.0;
            if t < 1e-10 {
                fit.problem = Some("step halving failed to increase the likelihood".into());
                return fit;
            }
        };
        let moved = step.iter().fold(0.0_f64, |m, s| m.max((t * s).abs()));
        let gained = new.0 - ll;
        beta = cand;
        (ll, grad, hess) = new;
        // Beyond the limit on two iterations in a row: one overshooting Newton step that the
        // next step brings back is not separation.
        let beyond: Vec<bool> = beta.iter().map(|b| b.abs() > DIVERGENCE_LIMIT).collect();
        fit.diverging = names
            .iter()
            .zip(beyond.iter().zip(&was_beyond))
            .filter(|(_, (now, before))| **now && **before)
            .map(|(n, _)| n.clone())
            .collect();
        was_beyond = beyond;
        if !fit.diverging.is_empty() {
            fit.problem = Some(format!(
                "separation (monotone likelihood): the coefficient of {} diverges, its hazard ratio is not estimable",
                fit.diverging.join(", ")
            ));
            return fit;
        }
        // Converged when the step is negligible, or the likelihood no longer moves and the
        // step is small. A likelihood that flattens while the steps stay large is separation,
        // caught above once a coefficient passes the divergence limit.
        if moved < 1e-9 || (gained.abs() < 1e-12 * (1.0 + ll.abs()) && moved < 1e-5) {
            break;
        }
    }
    let info: Vec<f64> = hess.iter().map(|h| -h).collect();
    let Some(cov) = math::invert(&info, p) else {
        fit.problem = Some("singular information matrix at the estimate".into());
        return fit;
    };
    fit.converged = true;
    fit.log_likelihood = Some(ll);
    for a in 0..p {
        let coef = beta[a] / scale[a];
        let se = cov[a * p + a].max(0.0).sqrt() / scale[a];
        let z = coef / se;
        fit.coefficients.push(CoxCoefficient {
            name: names[a].clone(),
            coef,
            se,
            hazard_ratio: coef.exp(),
            hr_lower: (coef - Z95 * se).exp(),
            hr_upper: (coef + Z95 * se).exp(),
            z,
            p_value: math::chi2_sf(z * z, 1.0),
        });
    }
    let risk: Vec<f64> = fit.linear_predictor(design).into_iter().map(|r| -r).collect();
    fit.concordance = concordance_index(&times[..n], &risk, &events[..n]);
    fit
}

impl CoxFit {
    /// β'x for every row of `design`, matching terms by name (a term the fit dropped or does
    /// not know counts as 0). Empty coefficients give all zeros.
    pub fn linear_predictor(&self, design: &Design) -> Vec<f64> {
        let beta: Vec<f64> = design
            .names
            .iter()
            .map(|n| self.coefficients.iter().find(|c| &c.name == n).map_or(0.0, |c| c.coef))
            .collect();
        (0..design.rows)
            .map(|i| (0..beta.len()).map(|j| design.get(i, j) * beta[j]).sum())
            .collect()
    }

    /// JSON: `{"n", "events", "excluded", "converged", "iterations", "log_likelihood",
    /// "concordance", "coefficients": [{"name","coef","se","hazard_ratio","hr_lower","hr_upper",
    /// "z","p_value"}], "dropped_terms": [{"name","reason"}], "diverging", "problem", "warnings"}`.
    pub fn to_json(&self) -> Json {
        let opt = |v: Option<f64>| v.map_or(Json::Null, json_num);
        json!({
            "n": self.n,
            "events": self.events,
            "excluded": self.excluded.to_json(),
            "converged": self.converged,
            "iterations": self.iterations,
            "log_likelihood": opt(self.log_likelihood),
            "concordance": opt(self.concordance),
            "coefficients": self.coefficients.iter().map(|c| json!({
                "name": c.name,
                "coef": json_num(c.coef),
                "se": json_num(c.se),
                "hazard_ratio": json_num(c.hazard_ratio),
                "hr_lower": json_num(c.hr_lower),
                "hr_upper": json_num(c.hr_upper),
                "z": json_num(c.z),
                "p_value": json_num(c.p_value),
            })).collect::<Vec<_>>(),
            "dropped_terms": self.dropped_terms.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect::<Vec<_>>(),
            "diverging": self.diverging,
            "problem": self.problem,
            "warnings": self.warnings,
        })
    }
}

/// Harrell's concordance index, as lifelines' `concordance_index(event_times, predicted_scores,
/// event_observed)`: a higher score predicts a *longer* survival (pass −risk for a hazard).
///
/// A pair is comparable when the subject with the shorter time had the event, or when both
/// times are equal and only one of the two had the event (the censored one survived longer);
/// it counts 1 when the scores agree, ½ when they tie. `None` when no pair is comparable or a
/// score is not finite. O(n log n) with a Fenwick tree over score ranks.
pub fn concordance_index(times: &[f64], predicted: &[f64], events: &[bool]) -> Option<f64> {
    let n = times.len().min(predicted.len()).min(events.len());
    if predicted[..n].iter().any(|p| !p.is_finite()) {
        return None;
    }
    let mut levels: Vec<f64> = predicted[..n].to_vec();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let rank = |v: f64| levels.partition_point(|l| *l < v);
    let mut tree = vec![0u64; levels.len() + 1];
    let below = |tree: &[u64], r: usize| -> u64 {
        // Number of pooled scores with rank < r.
        let (mut i, mut s) = (r, 0);
        while i > 0 {
            s += tree[i];
            i &= i - 1;
        }
        s
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| times[*a].total_cmp(&times[*b]));
    let (mut pool, mut pairs, mut correct, mut tied) = (0u64, 0u64, 0u64, 0u64);
    let mut k = 0;
    while k < n {
        let t = times[order[k]];
        let mut end = k;
        while end < n && times[order[end]] == t {
            end += 1;
        }
        let batch = &order[k..end];
        let deaths: Vec<usize> = batch.iter().copied().filter(|i| events[*i]).collect();
        let mut score = |tree: &[u64], pool: u64, i: usize| {
            let r = rank(predicted[i]);
            let lt = below(tree, r);
            pairs += pool;
            correct += lt;
            tied += below(tree, r + 1) - lt;
        };
        for &i in &deaths {
            score(&tree, pool, i);
        }
        for &i in &deaths {
            let mut j = rank(predicted[i]) + 1;
            while j < tree.len() {
                tree[j] += 1;
                j += j & j.wrapping_neg();
            }
            pool += 1;
        }
        for &i in batch.iter().filter(|i| !events[**i]) {
            score(&tree, pool, i);
        }
        k = end;
    }
    (pairs > 0).then(|| (correct as f64 + tied as f64 / 2.0) / pairs as f64)
}

/// The observations of `time`/`status` and the design of `covariates` for the rows where all
/// are present: numeric columns as they are, booleans as 0/1, categorical columns as one
/// indicator per level after the first (the reference), named `column=level`.
///
/// Errors when a column is absent or of a kind that cannot be a covariate (date, text).
pub fn cox_data(table: &Table, time: &str, status: &str, covariates: &[String]) -> Result<(Observations, Design)> {
    let tte = TimeToEvent {
        name: time.into(),
        time: time.into(),
        status: status.into(),
        description: String::new(),
    };
    let obs = observations(table, &tte)?;
    let dict = table.dictionary();
    // Per covariate: term names and a row → values extractor.
    let mut names = Vec::new();
    let mut columns: Vec<(&ColumnData, usize)> = Vec::new(); // data, number of levels (0 = scalar)
    for name in covariates {
        let col = dict
            .column(name)
            .ok_or_else(|| Error::Input(format!("covariate {name:?} is not in the table")))?;
        let data = table
            .column_by_name(name)
            .ok_or_else(|| Error::Input(format!("covariate {name:?} has no data")))?;
        match &col.kind {
            Kind::Integer { .. } | Kind::Real { .. } | Kind::Boolean { .. } => {
                names.push(name.clone());
                columns.push((data, 0));
            }
            Kind::Categorical { levels, .. } => {
                names.extend(levels.iter().skip(1).map(|l| format!("{name}={l}")));
                columns.push((data, levels.len()));
            }
            other => {
                return Err(Error::Input(format!(
                    "covariate {name:?} is {}: not usable in a Cox model",
                    other.name()
                )));
            }
        }
    }
    let mut kept = obs.subset(|_| false);
    kept.excluded = obs.excluded;
    let mut x = Vec::new();
    'rows: for k in 0..obs.rows.len() {
        let row = obs.rows[k];
        let mut values = Vec::with_capacity(names.len());
        for (data, levels) in &columns {
            let cell = match data {
                ColumnData::Int(v) => v[row].map(|i| i as f64),
                ColumnData::Real(v) => v[row].filter(|r| r.is_finite()),
                ColumnData::Bool(v) => v[row].map(|b| f64::from(u8::from(b))),
                ColumnData::Category(v) => v[row].map(f64::from),
                _ => None,
            };
            let Some(cell) = cell else {
                kept.excluded.missing_covariate += 1;
                continue 'rows;
            };
            if *levels == 0 {
                values.push(cell);
            } else {
                values.extend((1..*levels).map(|l| if cell == l as f64 { 1.0 } else { 0.0 }));
            }
        }
        x.extend(values);
        kept.times.push(obs.times[k]);
        kept.events.push(obs.events[k]);
        kept.rows.push(row);
    }
    let rows = kept.rows.len();
    Ok((kept, Design { names, x, rows }))
}

/// Fits the Cox model of `covariates` on `train` (e.g. synthetic data) and returns Harrell's C
/// of its risk score on `test` (e.g. the real data): train on synthetic, test on real.
///
/// Errors when a column is missing or unusable, when the fit on `train` fails (the reason is
/// in the message) or when `test` has no comparable pair.
pub fn cox_tstr_cindex(train: &Table, test: &Table, time: &str, status: &str, covariates: &[String]) -> Result<f64> {
    let (obs, design) = cox_data(train, time, status, covariates)?;
    let fit = cox_fit(&obs.times, &obs.events, &design);
    if let Some(problem) = &fit.problem {
        return Err(Error::Input(format!(
            "the Cox model cannot be fitted on the training table: {problem}"
        )));
    }
    let (test_obs, test_design) = cox_data(test, time, status, covariates)?;
    if test_design.names != design.names {
        return Err(Error::Input(
            "the training and test tables code the covariates differently".into(),
        ));
    }
    let score: Vec<f64> = fit.linear_predictor(&test_design).into_iter().map(|r| -r).collect();
    concordance_index(&test_obs.times, &score, &test_obs.events)
        .ok_or_else(|| Error::Input("the test table has no comparable pair (no events?)".into()))
}

/// Agreement of one coefficient fitted on real and on synthetic data.
#[derive(Debug, Clone, PartialEq)]
pub struct CiOverlap {
    pub name: String,
    pub real_hr: Option<f64>,
    pub synthetic_hr: Option<f64>,
    /// synthetic HR / real HR.
    pub hr_ratio: Option<f64>,
    /// Whether the two 95 % intervals of β intersect.
    pub intervals_overlap: Option<bool>,
    /// Karr et al. (2006) interval overlap on the β scale:
    /// J = ½ [(U − L) / (u_r − l_r) + (U − L) / (u_s − l_s)], with L = max(l_r, l_s) and
    /// U = min(u_r, u_s); 1 for identical intervals, ≤ 0 when they do not intersect.
    pub overlap: Option<f64>,
    /// Why the measure is missing (the term is absent from one of the fits).
    pub problem: Option<String>,
}

/// A Cox model fitted on real and on synthetic data, side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxComparison {
    /// The time-to-event pair's name.
    pub endpoint: String,
    pub covariates: Vec<String>,
    pub real: CoxFit,
    pub synthetic: CoxFit,
    /// One entry per model term (the union of both fits' terms, real first).
    pub agreement: Vec<CiOverlap>,
}

/// Fits the Cox model of `covariates` for `tte` on `real` and on `synthetic` and compares the
/// coefficients (interval overlap of Karr et al. 2006, and the hazard-ratio ratio).
pub fn compare_cox(real: &Table, synthetic: &Table, tte: &TimeToEvent, covariates: &[String]) -> Result<CoxComparison> {
    let fit = |t: &Table| -> Result<CoxFit> {
        let (obs, design) = cox_data(t, &tte.time, &tte.status, covariates)?;
        let mut fit = cox_fit(&obs.times, &obs.events, &design);
        fit.excluded = obs.excluded;
        Ok(fit)
    };
    let (r, s) = (fit(real)?, fit(synthetic)?);
    let mut terms: Vec<String> = r.coefficients.iter().map(|c| c.name.clone()).collect();
    for c in &s.coefficients {
        if !terms.contains(&c.name) {
            terms.push(c.name.clone());
        }
    }
    let agreement = terms
        .into_iter()
        .map(|name| {
            let a = r.coefficients.iter().find(|c| c.name == name);
            let b = s.coefficients.iter().find(|c| c.name == name);
            let mut o = CiOverlap {
                name,
                real_hr: a.map(|c| c.hazard_ratio),
                synthetic_hr: b.map(|c| c.hazard_ratio),
                hr_ratio: None,
                intervals_overlap: None,
                overlap: None,
                problem: None,
            };
            match (a, b) {
                (Some(a), Some(b)) => {
                    let (lr, ur) = (a.coef - Z95 * a.se, a.coef + Z95 * a.se);
                    let (ls, us) = (b.coef - Z95 * b.se, b.coef + Z95 * b.se);
                    let (lo, hi) = (lr.max(ls), ur.min(us));
                    o.hr_ratio = Some((b.coef - a.coef).exp()).filter(|v| v.is_finite());
                    o.intervals_overlap = Some(lo <= hi);
                    let j = 0.5 * ((hi - lo) / (ur - lr) + (hi - lo) / (us - ls));
                    o.overlap = j.is_finite().then_some(j);
                }
                (None, _) => o.problem = Some("not estimated on the real data".into()),
                (_, None) => o.problem = Some("not estimated on the synthetic data".into()),
            }
            o
        })
        .collect();
    Ok(CoxComparison {
        endpoint: tte.name.clone(),
        covariates: covariates.to_vec(),
        real: r,
        synthetic: s,
        agreement,
    })
}

impl CoxComparison {
    /// JSON: `{"endpoint", "covariates", "real": CoxFit, "synthetic": CoxFit, "agreement":
    /// [{"name","real_hr","synthetic_hr","hr_ratio","intervals_overlap","overlap","problem"}]}`.
    pub fn to_json(&self) -> Json {
        let opt = |v: Option<f64>| v.map_or(Json::Null, json_num);
        json!({
            "endpoint": self.endpoint,
            "covariates": self.covariates,
            "real": self.real.to_json(),
            "synthetic": self.synthetic.to_json(),
            "agreement": self.agreement.iter().map(|o| json!({
                "name": o.name,
                "real_hr": opt(o.real_hr),
                "synthetic_hr": opt(o.synthetic_hr),
                "hr_ratio": opt(o.hr_ratio),
                "intervals_overlap": o.intervals_overlap,
                "overlap": opt(o.overlap),
                "problem": o.problem,
            })).collect::<Vec<_>>(),
        })
    }
}
