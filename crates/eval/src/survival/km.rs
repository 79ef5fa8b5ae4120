//! The Kaplan–Meier estimator with Greenwood's variance, log(−log) ("exponential Greenwood")
//! pointwise 95 % bands and the median survival time with its interval, as lifelines'
//! `KaplanMeierFitter` computes them.

use super::json_num;
use super::math::Z95;
use serde_json::{Value as Json, json};

/// One step of a Kaplan–Meier curve: the estimate just after `time`.
#[derive(Debug, Clone, PartialEq)]
pub struct KmStep {
    /// A distinct observed time (event or censoring), or 0, where every curve starts.
    pub time: f64,
    /// Subjects still at risk just before `time` (time ≥ `time`).
    pub at_risk: usize,
    /// Events observed at `time`.
    pub events: usize,
    /// Subjects censored at `time`.
    pub censored: usize,
    /// Ŝ(time) = ∏_{tᵢ ≤ time} (1 − dᵢ / nᵢ).
    pub survival: f64,
    /// Greenwood's variance Ŝ² Σ dᵢ / (nᵢ (nᵢ − dᵢ)); `None` once Ŝ reaches 0.
    pub variance: Option<f64>,
    /// Lower end of the pointwise 95 % band (log(−log) transform).
    pub lower: f64,
    /// Upper end of the pointwise 95 % band.
    pub upper: f64,
}

/// A Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// Subjects in the estimate.
    pub n: usize,
    /// Events among them.
    pub events: usize,
    /// Steps at 0 and at every distinct observed time, ascending.
    pub steps: Vec<KmStep>,
}

/// A median survival time with its 95 % interval; `None` where the curve (or the band's
/// curve) never falls to 0.5 ("not reached").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Median {
    pub median: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// Estimates the Kaplan–Meier curve of `times` (≥ 0, finite) with `events` (true = event).
///
/// The caller has already excluded rows with a missing or invalid time or status; the slices
/// must have the same length (extra entries of the longer one are ignored).
pub fn kaplan_meier(times: &[f64], events: &[bool]) -> KaplanMeier {
    let mut obs: Vec<(f64, bool)> = times.iter().copied().zip(events.iter().copied()).collect();
    obs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = obs.len();
    let mut steps = Vec::new();
    let mut survival = 1.0;
    let mut greenwood_sum = 0.0;
    if obs.first().is_none_or(|o| o.0 > 0.0) {
        steps.push(KmStep {
            time: 0.0,
            at_risk: n,
            events: 0,
            censored: 0,
            survival,
            variance: Some(0.0),
            lower: 1.0,
            upper: 1.0,
        });
    }
    let mut i = 0;
    while i < n {
        let time = obs[i].0;
        let at_risk = n - i;
        let mut d = 0;
        let mut c = 0;
        while i < n && obs[i].0 == time {
            if obs[i].1 {
                d += 1
            } else {
                c += 1
            }
            i += 1;
        }
        if d > 0 {
            survival *= 1.0 - d as f64 / at_risk as f64;
            greenwood_sum += if d < at_risk {
                d as f64 / (at_risk as f64 * (at_risk - d) as f64)
            } else {
                f64::INFINITY
            };
        }
        let (lower, upper) = log_log_band(survival, greenwood_sum);
        let variance = (survival > 0.0).then_some(survival * survival * greenwood_sum);
        steps.push(KmStep {
            time,
            at_risk,
            events: d,
            censored: c,
            survival,
            variance,
            lower,
            upper,
        });
    }
    KaplanMeier {
        n,
        events: obs.iter().filter(|o| o.1).count(),
        steps,
    }
}

/// The log(−log) band: exp(−exp(log(−log Ŝ) ± z √Σ / log Ŝ)) (lifelines' default,
/// "exponential Greenwood"); (1, 1) while Ŝ = 1 and (0, 0) once Ŝ = 0, as lifelines reports.
fn log_log_band(survival: f64, greenwood_sum: f64) -> (f64, f64) {
    if survival >= 1.0 {
        return (1.0, 1.0);
    }
    if survival <= 0.0 {
        return (0.0, 0.0);
    }
    let v = survival.ln();
    let half = Z95 * greenwood_sum.sqrt() / v;
    let lower = (-((-v).ln() - half).exp()).exp();
    let upper = (-((-v).ln() + half).exp()).exp();
    (lower, upper)
}

/// The step in force at `t`: the last step at or before `t` (the first one before 0).
fn step_at(steps: &[KmStep], t: f64) -> Option<&KmStep> {
    let k = steps.partition_point(|s| s.time <= t);
    steps.get(k.saturating_sub(1))
}

/// The first time at which `curve` is at or below `q` (lifelines' `qth_survival_time`).
fn first_time_at_or_below(steps: &[KmStep], q: f64, curve: impl Fn(&KmStep) -> f64) -> Option<f64> {
    steps.iter().find(|s| curve(s) <= q).map(|s| s.time)
}

impl KaplanMeier {
    /// Ŝ(t) as a step function (lifelines' `predict`): 1 before the first step, the last
    /// value after the last observed time.
    pub fn survival_at(&self, t: f64) -> f64 {
        step_at(&self.steps, t).map_or(1.0, |s| s.survival)
    }

    /// The 95 % band (lower, upper) in force at `t`.
    pub fn band_at(&self, t: f64) -> (f64, f64) {
        step_at(&self.steps, t).map_or((1.0, 1.0), |s| (s.lower, s.upper))
    }

    /// Whether Ŝ(t) is estimable: `t` is within follow-up, or the curve has already reached 0.
    pub fn is_estimable_at(&self, t: f64) -> bool {
        self.steps.last().is_some_and(|s| t <= s.time || s.survival <= 0.0)
    }

    /// The median survival time and its 95 % interval: the first times at which the curve,
    /// its lower band and its upper band fall to 0.5 or below (lifelines'
    /// `median_survival_times` of the curve and of `confidence_interval_`).
    pub fn median(&self) -> Median {
        Median {
            median: first_time_at_or_below(&self.steps, 0.5, |s| s.survival),
            lower: first_time_at_or_below(&self.steps, 0.5, |s| s.lower),
            upper: first_time_at_or_below(&self.steps, 0.5, |s| s.upper),
        }
    }

    /// The curve for plotting: `(time, survival, lower, upper)` per step.
    pub fn plot_points(&self) -> Vec<(f64, f64, f64, f64)> {
        self.steps
            .iter()
            .map(|s| (s.time, s.survival, s.lower, s.upper))
            .collect()
    }

    /// JSON: `{"n", "events", "median": {"median","lower","upper"}, "steps": [{"time",
    /// "at_risk","events","censored","survival","variance","lower","upper"}]}`; numbers that
    /// do not exist (not reached, Ŝ = 0) are `null`.
    pub fn to_json(&self) -> Json {
        json!({
            "n": self.n,
            "events": self.events,
            "median": self.median().to_json(),
            "steps": self.steps.iter().map(|s| json!({
                "time": json_num(s.time),
                "at_risk": s.at_risk,
                "events": s.events,
                "censored": s.censored,
                "survival": json_num(s.survival),
                "variance": s.variance.map_or(Json::Null, json_num),
                "lower": json_num(s.lower),
                "upper": json_num(s.upper),
            })).collect::<Vec<_>>(),
        })
    }
}

impl Median {
    /// JSON: `{"median", "lower", "upper"}`, `null` for "not reached".
    pub fn to_json(&self) -> Json {
        let f = |v: Option<f64>| v.map_or(Json::Null, json_num);
        json!({"median": f(self.median), "lower": f(self.lower), "upper": f(self.upper)})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_lifelines_on_a_five_subject_curve() {
        // lifelines 0.30: KaplanMeierFitter().fit([1,2,2,3,4],[1,1,0,1,1]).
        let km = kaplan_meier(&[1.0, 2.0, 2.0, 3.0, 4.0], &[true, true, false, true, true]);
        let s: Vec<f64> = km.steps.iter().map(|s| s.survival).collect();
        let want = [1.0, 0.8, 0.6, 0.3, 0.0];
        assert!(s.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "{s:?}");
        let lower = [1.0, 0.203809, 0.125730, 0.012302, 0.0];
        let upper = [1.0, 0.969180, 0.881756, 0.719218, 0.0];
        for (k, st) in km.steps.iter().enumerate() {
            assert!(
                (st.lower - lower[k]).abs() < 1e-6 && (st.upper - upper[k]).abs() < 1e-6,
                "{k}: {st:?}"
            );
        }
        assert_eq!(
            km.median(),
            Median {
                median: Some(3.0),
                lower: Some(1.0),
                upper: Some(4.0)
            }
        );
        assert!((km.survival_at(2.5) - 0.6).abs() < 1e-12);
        assert_eq!(km.survival_at(-1.0), 1.0);
        assert_eq!(km.steps[4].variance, None);
    }

    #[test]
    fn a_curve_without_events_never_reaches_its_median() {
        let km = kaplan_meier(&[5.0, 6.0], &[false, false]);
        assert_eq!(km.median().median, None);
        assert!(!km.is_estimable_at(7.0));
        assert!(km.is_estimable_at(6.0));
    }
}
