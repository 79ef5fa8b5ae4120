//! The log-rank test of equal survival in k ≥ 2 groups (Mantel 1966; Peto & Peto 1972), as
//! lifelines' `logrank_test` (two groups) and `multivariate_logrank_test` compute it.
//!
//! At each distinct event time t with n at risk and d events, group g with n_g at risk and
//! d_g events contributes O_g − E_g = d_g − d n_g / n to U_g and the hypergeometric covariance
//! V_gh = d (n − d) / (n − 1) · n_g / n · (δ_gh − n_h / n). The statistic is
//! U' V⁻¹ U over the first k − 1 groups, χ² with k − 1 degrees of freedom under the null.

use super::math;
use super::{json_num, observations};
use serde_json::{Value as Json, json};
use table::{ColumnData, Kind, Table, TimeToEvent};

pub use super::math::chi2_sf;

/// The result of a log-rank test.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRank {
    /// Group labels (groups without subjects are left out).
    pub groups: Vec<String>,
    /// Subjects per group.
    pub n: Vec<usize>,
    /// Observed events per group.
    pub observed: Vec<f64>,
    /// Expected events per group under equal survival.
    pub expected: Vec<f64>,
    /// The χ² statistic; `None` when the test cannot be done (see `problem`).
    pub statistic: Option<f64>,
    /// Degrees of freedom (groups − 1).
    pub df: usize,
    /// P(χ²_df > statistic).
    pub p_value: Option<f64>,
    /// Why there is no statistic.
    pub problem: Option<String>,
}

/// Tests equal survival across groups: `groups[i]` is the index into `labels` of subject i.
///
/// Subjects whose group index is outside `labels` are ignored. Never panics: fewer than two
/// non-empty groups, no events, or a singular covariance give a result with `problem` set.
pub fn logrank(times: &[f64], events: &[bool], groups: &[usize], labels: &[String]) -> LogRank {
    let k_all = labels.len();
    let mut obs: Vec<(f64, bool, usize)> = times
        .iter()
        .zip(events)
        .zip(groups)
        .filter(|(_, g)| **g < k_all)
        .map(|((t, e), g)| (*t, *e, *g))
        .collect();
    obs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut n_all = vec![0usize; k_all];
    for o in &obs {
        n_all[o.2] += 1;
    }
    // Keep non-empty groups, renumbered.
    let present: Vec<usize> = (0..k_all).filter(|g| n_all[*g] > 0).collect();
    let mut index = vec![usize::MAX; k_all];
    for (new, old) in present.iter().enumerate() {
        index[*old] = new;
    }
    let k = present.len();
    let mut result = LogRank {
        groups: present.iter().map(|g| labels[*g].clone()).collect(),
        n: present.iter().map(|g| n_all[*g]).collect(),
        observed: vec![0.0; k],
        expected: vec![0.0; k],
        statistic: None,
        df: k.saturating_sub(1),
        p_value: None,
        problem: None,
    };
    if k < 2 {
        result.problem = Some(format!("{k} non-empty group(s): the log-rank test needs at least 2"));
        return result;
    }
    let mut at_risk: Vec<f64> = result.n.iter().map(|n| *n as f64).collect();
    let mut var = vec![0.0; k * k];
    let mut i = 0;
    while i < obs.len() {
        let t = obs[i].0;
        let mut d_g = vec![0.0; k];
        let mut leaving = vec![0.0; k];
        while i < obs.len() && obs[i].0 == t {
            let g = index[obs[i].2];
            leaving[g] += 1.0;
            if obs[i].1 {
                d_g[g] += 1.0;
            }
            i += 1;
        }
        let d: f64 = d_g.iter().sum();
        let n: f64 = at_risk.iter().sum();
        if d > 0.0 {
            for g in 0..k {
                result.observed[g] += d_g[g];
                result.expected[g] += d * at_risk[g] / n;
            }
            if n > 1.0 {
                let f = d * (n - d) / (n - 1.0);
                for g in 0..k {
                    for h in 0..k {
                        let delta = if g == h { 1.0 } else { 0.0 };
                        var[g * k + h] += f * at_risk[g] / n * (delta - at_risk[h] / n);
                    }
                }
            }
        }
        for g in 0..k {
            at_risk[g] -= leaving[g];
        }
    }
    if result.observed.iter().sum::<f64>() == 0.0 {
        result.problem = Some("no events: the log-rank test needs at least one".into());
        return result;
    }
    let m = k - 1;
    let u: Vec<f64> = (0..m).map(|g| result.observed[g] - result.expected[g]).collect();
    let v: Vec<f64> = (0..m)
        .flat_map(|g| (0..m).map(move |h| (g, h)))
        .map(|(g, h)| var[g * k + h])
        .collect();
    match math::invert(&v, m) {
        Some(inv) => {
            let stat: f64 = u.iter().zip(math::mat_vec(&inv, &u)).map(|(a, b)| a * b).sum();
            let stat = stat.max(0.0);
            result.statistic = Some(stat);
            result.p_value = Some(chi2_sf(stat, m as f64));
        }
        None => result.problem = Some("singular covariance: no group has events and survivors at a shared time".into()),
    }
    result
}

impl LogRank {
    /// JSON: `{"groups", "n", "observed", "expected", "statistic", "df", "p_value", "problem"}`;
    /// `statistic` and `p_value` are `null` when `problem` says why.
    pub fn to_json(&self) -> Json {
        json!({
            "groups": self.groups,
            "n": self.n,
            "observed": self.observed.iter().map(|v| json_num(*v)).collect::<Vec<_>>(),
            "expected": self.expected.iter().map(|v| json_num(*v)).collect::<Vec<_>>(),
            "statistic": self.statistic.map_or(Json::Null, json_num),
            "df": self.df,
            "p_value": self.p_value.map_or(Json::Null, json_num),
            "problem": self.problem,
        })
    }
}

/// The log-rank test across the levels of one grouping column (ELN 2022 risk, say), run
/// separately on the real and on the synthetic table: does the synthetic data keep the
/// prognostic separation the real data shows?
#[derive(Debug, Clone, PartialEq)]
pub struct PrognosticLogRank {
    /// The time-to-event pair's name.
    pub endpoint: String,
    /// The grouping column (categorical: its levels; boolean: false/true). Rows where it is
    /// missing are in no group.
    pub column: String,
    pub real: Option<LogRank>,
    pub synthetic: Option<LogRank>,
    /// Why a side is missing (the column is absent or cannot group).
    pub problem: Option<String>,
}

/// Group labels and each row's group index (`usize::MAX` when missing) of `column`.
fn grouping(table: &Table, column: &str) -> Result<(Vec<String>, Vec<usize>), String> {
    let col = table
        .dictionary()
        .column(column)
        .ok_or_else(|| format!("column {column:?} is not in the table"))?;
    match (&col.kind, table.column_by_name(column)) {
        (Kind::Categorical { levels, .. }, Some(ColumnData::Category(v))) => Ok((
            levels.clone(),
            v.iter().map(|c| c.map_or(usize::MAX, |c| c as usize)).collect(),
        )),
        (Kind::Boolean { .. }, Some(ColumnData::Bool(v))) => Ok((
            vec!["false".into(), "true".into()],
            v.iter().map(|b| b.map_or(usize::MAX, usize::from)).collect(),
        )),
        (kind, _) => Err(format!(
            "column {column:?} is {}: only categorical and boolean columns group",
            kind.name()
        )),
    }
}

/// Runs the k-group log-rank test of `tte` across the levels of `column` on each table.
/// Problems (a column one table lacks, a numeric column) are reported in the result.
pub fn prognostic_logrank(real: &Table, synthetic: &Table, tte: &TimeToEvent, column: &str) -> PrognosticLogRank {
    let mut problems = Vec::new();
    let mut side = |t: &Table, what: &str| {
        let run = || -> Result<LogRank, String> {
            let obs = observations(t, tte).map_err(|e| e.to_string())?;
            let (labels, group_of_row) = grouping(t, column)?;
            let groups: Vec<usize> = obs.rows.iter().map(|r| group_of_row[*r]).collect();
            Ok(logrank(&obs.times, &obs.events, &groups, &labels))
        };
        run().map_err(|e| problems.push(format!("{what} table: {e}"))).ok()
    };
    let (r, s) = (side(real, "real"), side(synthetic, "synthetic"));
    PrognosticLogRank {
        endpoint: tte.name.clone(),
        column: column.into(),
        real: r,
        synthetic: s,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    }
}

impl PrognosticLogRank {
    /// JSON: `{"endpoint", "column", "real": LogRank|null, "synthetic": LogRank|null, "problem"}`.
    pub fn to_json(&self) -> Json {
        json!({
            "endpoint": self.endpoint,
            "column": self.column,
            "real": self.real.as_ref().map_or(Json::Null, LogRank::to_json),
            "synthetic": self.synthetic.as_ref().map_or(Json::Null, LogRank::to_json),
            "problem": self.problem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_groups_give_a_zero_statistic() {
        let t = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0];
        let e = [true, false, true, true, false, true];
        let lr = logrank(&t, &e, &[0, 0, 0, 1, 1, 1], &["a".into(), "b".into()]);
        assert!(lr.statistic.is_some_and(|s| s.abs() < 1e-12), "{lr:?}");
        assert!(lr.p_value.is_some_and(|p| (p - 1.0).abs() < 1e-9));
    }

    #[test]
    fn a_single_group_is_reported_not_tested() {
        let lr = logrank(&[1.0, 2.0], &[true, true], &[1, 1], &["a".into(), "b".into()]);
        assert_eq!(lr.statistic, None);
        assert!(lr.problem.is_some());
        assert_eq!(lr.to_json()["statistic"], Json::Null);
    }
}
