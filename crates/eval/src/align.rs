//! Putting real, synthetic and holdout tables on one dictionary before comparing them.

use crate::{Error, Result};
use std::sync::Arc;
use table::{Dictionary, Table};

/// Tables restricted to the columns they share (same name and same kind, modelled columns
/// only), in the real table's column order, with what was left out and why.
#[derive(Debug, Clone)]
pub struct Aligned {
    pub dictionary: Arc<Dictionary>,
    pub real: Table,
    pub synthetic: Table,
    pub holdout: Option<Table>,
    /// Columns left out, with the reason (for the report and stderr).
    pub skipped: Vec<(String, String)>,
}

/// Aligns `synthetic` (and `holdout`) on `real`'s dictionary.
pub fn align(real: &Table, synthetic: &Table, holdout: Option<&Table>) -> Result<Aligned> {
    let rd = real.dictionary();
    let sd = synthetic.dictionary();
    let mut skipped = Vec::new();
    let keep = |c: &table::Column| -> Option<String> {
        if !c.kind.is_modelled() {
            return Some(format!("{} column: not compared", c.kind.name()));
        }
        match sd.column(&c.name) {
            None => Some("not in the synthetic data".into()),
            Some(s) if s.kind != c.kind => Some(format!(
                "{} in the real data but {} in the synthetic data",
                c.kind.name(),
                s.kind.name()
            )),
            Some(_) => None,
        }
    };
    for c in &rd.columns {
        if let Some(why) = keep(c) {
            skipped.push((c.name.clone(), why));
        }
    }
    for c in &sd.columns {
        if c.kind.is_modelled() && rd.column(&c.name).is_none() {
            skipped.push((c.name.clone(), "in the synthetic data only".into()));
        }
    }
    let dictionary = Arc::new(rd.restrict(|c| keep(c).is_none()));
    if dictionary.columns.is_empty() {
        return Err(Error::Input(
            "the real and synthetic tables share no modelled column".into(),
        ));
    }
    let project = |t: &Table, what: &str| {
        t.project(dictionary.clone())
            .map_err(|e| Error::Input(format!("the {what} table does not fit: {e}")))
    };
    Ok(Aligned {
        real: project(real, "real")?,
        synthetic: project(synthetic, "synthetic")?,
        holdout: holdout.map(|h| project(h, "holdout")).transpose()?,
        dictionary,
        skipped,
    })
}
