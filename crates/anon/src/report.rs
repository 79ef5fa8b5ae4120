//! The risk and utility report: re-identification risk (prosecutor, journalist, marketer;
//! El Emam 2013), sample uniques, class-size distributions, information loss per column and
//! the privacy figures reached.

use crate::config::{LDiversity, Metric, SuppressedRecords};
use crate::model::{ClassFigures, Classes};
use crate::pipeline::Prepared;
use crate::search::NodeFigures;
use serde::Serialize;

/// How the node was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchSummary {
    /// "optimal (Flash-style lattice search)", "greedy (not optimal)" or "saved strategy".
    pub method: String,
    pub optimal: bool,
    /// Nodes of the full-domain generalisation lattice.
    pub lattice_size: u128,
    /// Nodes whose equivalence classes were computed.
    pub nodes_checked: usize,
    /// The metric minimised.
    pub metric: Metric,
}

/// The report of one anonymisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub rows_in: usize,
    pub rows_out: usize,
    pub suppressed: usize,
    pub suppression_limit: f64,
    pub suppressed_records: SuppressedRecords,
    pub search: SearchSummary,
    pub quasi_identifiers: Vec<QuasiIdentifierReport>,
    pub sensitive: Vec<String>,
    pub requested: Requested,
    pub reached: Reached,
    /// Iyengar's loss over all QI cells (suppressed records count fully), in `[0, 1]`.
    pub loss: f64,
    pub discernibility: f64,
    pub risk_before: Risk,
    pub risk_after: Risk,
    pub class_sizes_before: Vec<SizeBucket>,
    pub class_sizes_after: Vec<SizeBucket>,
    pub notes: Vec<String>,
}

/// One quasi-identifier in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuasiIdentifierReport {
    pub column: String,
    pub level: usize,
    pub levels: usize,
    /// Mean loss of the column's cells, suppressed records counting 1.
    pub loss: f64,
    /// Distinct generalised values at the chosen level.
    pub distinct_values: usize,
}

/// The models asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requested {
    pub k: u32,
    pub l_diversity: Option<String>,
    pub t: Option<f64>,
}

/// The figures reached over the released (non-suppressed) classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reached {
    /// Smallest class size.
    pub k: Option<u32>,
    /// Fewest distinct sensitive values in a class.
    pub l_distinct: Option<u32>,
    /// Smallest exp(entropy of the sensitive values) in a class.
    pub l_entropy: Option<f64>,
    /// Largest EMD between a class and the input distribution.
    pub t: Option<f64>,
}

/// Re-identification risk of a set of records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    pub records: usize,
    pub classes: usize,
    pub prosecutor_highest: f64,
    pub prosecutor_average: f64,
    /// Records whose prosecutor risk exceeds `threshold`.
    pub records_above_threshold: usize,
    pub threshold: f64,
    pub journalist_highest: f64,
    pub journalist_average: f64,
    /// Expected share of records re-identified by matching all of them.
    pub marketer: f64,
    /// Records unique in the data on their QI values.
    pub sample_uniques: usize,
    /// What the journalist risk used as population.
    pub population: String,
}

/// Records and classes of sizes in `[min, max]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeBucket {
    pub label: String,
    pub min: u32,
    pub max: Option<u32>,
    pub classes: usize,
    pub records: usize,
}

const BUCKETS: [(u32, Option<u32>); 8] = [
    (1, Some(1)),
    (2, Some(2)),
    (3, Some(4)),
    (5, Some(9)),
    (10, Some(19)),
    (20, Some(49)),
    (50, Some(99)),
    (100, None),
];

fn buckets(sizes: &[u32]) -> Vec<SizeBucket> {
    BUCKETS
        .iter()
        .map(|&(min, max)| {
            let inside = sizes.iter().filter(|&&s| s >= min && max.is_none_or(|m| s <= m));
            let (classes, records) = inside.fold((0, 0), |(c, r), &s| (c + 1, r + s as usize));
            SizeBucket {
                label: match max {
                    Some(m) if m == min => format!("{min}"),
                    Some(m) => format!("{min}–{m}"),
                    None => format!("≥{min}"),
                },
                min,
                max,
                classes,
                records,
            }
        })
        .collect()
}

/// Risk of records grouped in classes of `sizes`, each matching `population[i]` records of the
/// population.
fn risk(sizes: &[u32], population: &[u32], threshold: f64, population_name: &str) -> Risk {
    let records: usize = sizes.iter().map(|&s| s as usize).sum();
    let nonzero = |x: &u32| *x > 0;
    let min_size = sizes.iter().copied().filter(nonzero).min().unwrap_or(0);
    let min_pop = population.iter().copied().filter(nonzero).min().unwrap_or(0);
    let inv = |x: u32| if x == 0 { 0.0 } else { 1.0 / f64::from(x) };
    let r = records.max(1) as f64;
    let journalist_sum: f64 = sizes.iter().zip(population).map(|(&s, &p)| f64::from(s) * inv(p)).sum();
    Risk {
        records,
        classes: sizes.len(),
        prosecutor_highest: inv(min_size),
        prosecutor_average: if records == 0 { 0.0 } else { sizes.len() as f64 / r },
        records_above_threshold: sizes.iter().filter(|&&s| inv(s) > threshold).map(|&s| s as usize).sum(),
        threshold,
        journalist_highest: inv(min_pop),
        journalist_average: if records == 0 { 0.0 } else { journalist_sum / r },
        marketer: if records == 0 { 0.0 } else { journalist_sum / r },
        sample_uniques: sizes.iter().filter(|&&s| s == 1).count(),
        population: population_name.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    prepared: &Prepared<'_>,
    node: &[usize],
    fig: &NodeFigures,
    classes: &Classes,
    kept: &[bool],
    figures: &[ClassFigures],
    before: &Classes,
    search: SearchSummary,
) -> Report {
    let config = prepared.config;
    let n = prepared.table.n_rows();
    let mask = config.suppressed_records == SuppressedRecords::Mask;
    let population = "the input data set itself (no population table given)";
    let risk_before = risk(&before.sizes, &before.sizes, config.risk_threshold, population);
    let mut after_sizes: Vec<u32> = classes
        .sizes
        .iter()
        .zip(kept)
        .filter(|(_, k)| **k)
        .map(|(&s, _)| s)
        .collect();
    let mut after_pop = after_sizes.clone();
    if mask && fig.suppressed > 0 {
        after_sizes.push(fig.suppressed as u32);
        after_pop.push(n as u32);
    }
    let risk_after = risk(&after_sizes, &after_pop, config.risk_threshold, population);
    let kept_figs: Vec<(&u32, &ClassFigures)> = classes
        .sizes
        .iter()
        .zip(figures)
        .zip(kept)
        .filter(|(_, k)| **k)
        .map(|(x, _)| x)
        .collect();
    let has_sa = !prepared.sensitive.is_empty();
    let reached = Reached {
        k: kept_figs.iter().map(|(s, _)| **s).min(),
        l_distinct: if has_sa {
            kept_figs.iter().map(|(_, f)| f.distinct).min()
        } else {
            None
        },
        l_entropy: if has_sa {
            kept_figs.iter().map(|(_, f)| f.entropy_l).reduce(f64::min)
        } else {
            None
        },
        t: if has_sa {
            kept_figs.iter().map(|(_, f)| f.emd).reduce(f64::max)
        } else {
            None
        },
    };
    let quasi_identifiers = prepared
        .hierarchies
        .iter()
        .zip(node)
        .map(|(h, &level)| {
            let mut sum = 0.0;
            for (row, &c) in classes.class_of_row.iter().enumerate() {
                sum += if kept[c as usize] {
                    h.loss[level][h.row_codes[level][row] as usize]
                } else {
                    1.0
                };
            }
            QuasiIdentifierReport {
                column: h.name.clone(),
                level,
                levels: h.height(),
                loss: if n == 0 { 0.0 } else { sum / n as f64 },
                distinct_values: h.cardinality(level),
            }
        })
        .collect();
    let l_text = config.privacy.l_diversity.map(|l| match l {
        LDiversity::Distinct { l } => format!("distinct l = {l}"),
        LDiversity::Entropy { l } => format!("entropy l = {l}"),
        LDiversity::Recursive { c, l } => format!("recursive (c = {c}, l = {l})"),
    });
    let mut notes = vec![
        "Journalist risk uses the input data set as the population (no population table was given); \
         it then equals the prosecutor risk for released classes."
            .to_string(),
        "Loss is Iyengar's loss metric with the domain of each QI taken as the values present in the input; \
         a suppressed record counts as fully generalised."
            .to_string(),
    ];
    if !search.optimal {
        notes.push(
            "The generalisation was NOT found by the optimal search (greedy heuristic or a saved strategy)."
                .to_string(),
        );
    }
    if prepared.config.date_shift.is_some() {
        notes.push("Dates were shifted per patient before generalisation.".to_string());
    }
    Report {
        rows_in: n,
        rows_out: if mask { n } else { n - fig.suppressed },
        suppressed: fig.suppressed,
        suppression_limit: config.suppression_limit,
        suppressed_records: config.suppressed_records,
        search,
        quasi_identifiers,
        sensitive: prepared.sensitive.iter().map(|s| s.name.clone()).collect(),
        requested: Requested {
            k: config.privacy.k,
            l_diversity: l_text,
            t: config.privacy.t_closeness,
        },
        reached,
        loss: fig.loss,
        discernibility: fig.discernibility,
        risk_before,
        risk_after,
        class_sizes_before: buckets(&before.sizes),
        class_sizes_after: buckets(&after_sizes),
        notes,
    }
}

impl Report {
    /// The report as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
    }

    /// The report as one self-contained HTML page (no script, no network; inline SVG bars).
    pub fn to_html(&self) -> String {
        crate::html::render(self)
    }
}
