//! `anon`: anonymisation of real extracts.
//!
//! * direct identifiers (dictionary type `identifier`) are removed or replaced by keyed
//!   pseudonyms (HMAC-SHA-256), dates optionally shifted per patient;
//! * quasi-identifiers are generalised along hierarchies (declared in the config or derived
//!   from the dictionary) to the node of the full-domain generalisation lattice that satisfies
//!   k-anonymity, l-diversity and t-closeness with the least information loss, suppressing
//!   the records of violating classes within a limit;
//! * a report gives re-identification risks before and after, class sizes, loss per column.
//!
//! The crate does no file or environment I/O: callers pass tables, config text and key bytes.
//! The user documentation is `docs/anonymization.md`.

pub mod config;
pub mod error;
mod hierarchy;
mod html;
pub mod key;
mod model;
mod pipeline;
pub mod report;
mod search;
pub mod strategy;

pub use config::Config;
pub use error::{Error, NoSolution, Result};
pub use key::Key;
pub use report::Report;
pub use strategy::Strategy;

use config::{Distance, LDiversity, Privacy};
use pipeline::Prepared;
use report::SearchSummary;
use table::{Kind, Table};

/// The result of an anonymisation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The anonymised table (its dictionary has generalised QIs as categorical columns).
    pub output: Table,
    /// The chosen generalisation, to re-apply to later batches.
    pub strategy: Strategy,
    /// Risk and utility report.
    pub report: Report,
}

/// Anonymises `table` as `config` says: searches the generalisation lattice for the node with
/// the least information loss that satisfies the privacy models within the suppression limit.
///
/// `key` is needed for pseudonyms and date shifting. When no node satisfies the models the
/// result is [`Error::NoSolution`] with the figures of the closest node, and no output.
pub fn anonymize(table: &Table, config: &Config, key: Option<&Key>) -> Result<Outcome> {
    let prepared = Prepared::new(table, config, key)?;
    let problem = prepared.problem();
    let found = problem.search(config.lattice_limit);
    let summary = SearchSummary {
        method: if found.optimal {
            "optimal (Flash-style lattice search with monotonicity pruning)".to_string()
        } else {
            format!(
                "greedy bottom-up heuristic (NOT optimal: the lattice exceeds the limit of {} nodes)",
                config.lattice_limit
            )
        },
        optimal: found.optimal,
        lattice_size: found.lattice_size,
        nodes_checked: found.nodes_checked,
        metric: config.metric,
    };
    match &found.best {
        Some(best) => prepared.finish(&best.node, summary),
        None => Err(prepared.no_solution(&found.closest, found.nodes_checked)),
    }
}

/// Re-applies a saved `strategy` to a new batch: the same generalisation levels, the models of
/// `config` checked on the new data (violating classes suppressed within the limit, otherwise
/// [`Error::NoSolution`]).
pub fn apply_strategy(table: &Table, config: &Config, strategy: &Strategy, key: Option<&Key>) -> Result<Outcome> {
    let prepared = Prepared::new(table, config, key)?;
    let node = prepared.node_of(strategy)?;
    let (fig, _, _) = prepared.problem().evaluate(&node);
    if !fig.satisfied {
        return Err(prepared.no_solution(&fig, 1));
    }
    let lattice_size = prepared.hierarchies.iter().map(|h| h.height() as u128).product();
    prepared.finish(
        &node,
        SearchSummary {
            method: "saved strategy re-applied (no search)".to_string(),
            optimal: false,
            lattice_size,
            nodes_checked: 1,
            metric: config.metric,
        },
    )
}

/// Privacy figures of a table as it is (no generalisation, no suppression), with the
/// definitions pycanon uses: every equivalence class of the QI values counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Smallest class size.
    pub k: u32,
    /// Fewest distinct values of a sensitive attribute in a class (over all attributes).
    pub l_distinct: Option<u32>,
    /// Smallest exp(entropy) of a sensitive attribute in a class.
    pub l_entropy: Option<f64>,
    /// Largest EMD of a class to the table's distribution (ordered distance for numeric and
    /// date attributes, equal distance otherwise).
    pub t: Option<f64>,
}

/// Measures k, l and t of `table` over `quasi_identifiers` and `sensitive` (column names).
pub fn measure(table: &Table, quasi_identifiers: &[&str], sensitive: &[&str]) -> Result<Measured> {
    let dict = table.dictionary();
    let column = |name: &str| {
        dict.index_of(name).ok_or_else(|| Error::Column {
            column: name.to_string(),
            message: format!("not in dictionary {:?}", dict.name),
        })
    };
    let values = |c: usize| (0..table.n_rows()).map(|r| table.value(r, c)).collect::<Vec<_>>();
    let mut hierarchies = Vec::new();
    for q in quasi_identifiers {
        let c = column(q)?;
        hierarchies.push(hierarchy::identity(q, &dict.columns[c].kind, &values(c)));
    }
    let mut codes = Vec::new();
    for s in sensitive {
        if quasi_identifiers.contains(s) {
            return Err(Error::SensitiveIsQuasiIdentifier { column: s.to_string() });
        }
        let c = column(s)?;
        let kind = &dict.columns[c].kind;
        let distance = if matches!(kind, Kind::Integer { .. } | Kind::Real { .. } | Kind::Date { .. }) {
            Distance::Ordered
        } else {
            Distance::Equal
        };
        codes.push(model::SensitiveCodes::new(
            &hierarchy::identity(s, kind, &values(c)),
            distance,
        ));
    }
    let privacy = Privacy {
        k: 1,
        l_diversity: Some(LDiversity::Distinct { l: 1 }),
        t_closeness: None,
    };
    let classes = model::classes(&hierarchies, &vec![0; hierarchies.len()]);
    let figures = model::class_figures(&classes, &codes, &privacy);
    let has_sa = !codes.is_empty();
    Ok(Measured {
        k: classes.sizes.iter().copied().min().unwrap_or(0),
        l_distinct: has_sa.then(|| figures.iter().map(|f| f.distinct).min().unwrap_or(0)),
        l_entropy: has_sa.then(|| figures.iter().map(|f| f.entropy_l).fold(f64::INFINITY, f64::min)),
        t: has_sa.then(|| figures.iter().map(|f| f.emd).fold(0.0, f64::max)),
    })
}
