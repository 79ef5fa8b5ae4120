//! Sampling synthetic rows that respect the dictionary's clinical rules.
//!
//! Rules are public, so enforcing them is post-processing and costs no privacy budget. A
//! record is drawn from the model as codes; each code is expanded (if MST merged it with
//! others) and decoded to a typed value inside its bin; the row is kept only if every rule
//! holds. A decoded row that breaks a rule is re-decoded (new values inside the same bins) up
//! to [`DECODE_TRIES`] times before its codes are rejected and a new record is drawn. This is
//! rejection sampling, i.e. sampling from the model conditioned on the rules, which is exactly
//! right when the real data satisfies them. When the model's potentials are given, a record that
//! still breaks a rule is repaired by constrained Gibbs sampling under the model
//! ([`crate::repair`]) before it is rejected. The report counts repairs and rejections.

use crate::repair::{Conditionals, Record, repair};
use crate::{Error, Result};
use rand::{Rng, RngExt};
use std::sync::Arc;
use table::encode::Domain;
use table::{Dictionary, Table, Value};

/// Re-decodings of one record's codes before it is repaired or rejected.
pub const DECODE_TRIES: usize = 5;

/// Sweeps of constrained Gibbs repair (see [`crate::repair`]) before a record is rejected.
pub const REPAIR_SWEEPS: usize = 10;

/// What sampling with rules did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SampleReport {
    /// Rows produced.
    pub rows: usize,
    /// Records (code rows) drawn from the model.
    pub records_drawn: usize,
    /// Records rejected: neither decoding nor repair made them satisfy every rule.
    pub records_rejected: usize,
    /// Records that broke a rule as drawn and were repaired (see [`crate::repair`]).
    pub records_repaired: usize,
    /// Decodings rejected in all (including those of accepted records).
    pub decodings_rejected: usize,
}

impl SampleReport {
    /// Share of drawn records rejected by the rules.
    pub fn rejection_rate(&self) -> f64 {
        if self.records_drawn == 0 {
            0.0
        } else {
            self.records_rejected as f64 / self.records_drawn as f64
        }
    }
}

/// The public recoding made by MST's domain compression: for each attribute, either `None`
/// (codes unchanged) or, for each compressed code, the original codes it stands for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Compression {
    pub groups: Vec<Option<Vec<Vec<u32>>>>,
}

impl Compression {
    /// No compression of `attributes` attributes.
    pub fn none(attributes: usize) -> Compression {
        Compression {
            groups: vec![None; attributes],
        }
    }

    /// For each attribute, the map original code → compressed code.
    pub fn maps(&self) -> Vec<Option<Vec<u32>>> {
        self.groups
            .iter()
            .map(|g| {
                g.as_ref().map(|groups| {
                    let n = groups.iter().map(Vec::len).sum();
                    let mut map = vec![0u32; n];
                    for (new, olds) in groups.iter().enumerate() {
                        for &o in olds {
                            map[o as usize] = new as u32;
                        }
                    }
                    map
                })
            })
            .collect()
    }

    /// An original code for compressed `code` of `attr`, uniform among the codes it stands for.
    pub(crate) fn expand(&self, attr: usize, code: u32, rng: &mut (impl Rng + ?Sized)) -> Result<usize> {
        match &self.groups[attr] {
            None => Ok(code as usize),
            Some(groups) => {
                let olds = groups.get(code as usize).filter(|g| !g.is_empty()).ok_or_else(|| {
                    Error::Input(format!("compressed code {code} of attribute {attr} stands for nothing"))
                })?;
                Ok(olds[rng.random_range(0..olds.len())] as usize)
            }
        }
    }
}

/// Draws `rows` rows satisfying every rule of `dictionary` (the dictionary of `domain`), using
/// `draw(n)` to draw `n` records as code columns (`columns[attr][row]`).
pub fn sample_with_rules<G: Rng + ?Sized>(
    dictionary: &Arc<Dictionary>,
    domain: &Domain,
    compression: &Compression,
    conditionals: Option<&Conditionals>,
    rows: usize,
    rng: &mut G,
    mut draw: impl FnMut(usize, &mut G) -> Result<Vec<Vec<u32>>>,
) -> Result<(Table, SampleReport)> {
    let mut table = Table::new(dictionary.clone());
    let mut report = SampleReport::default();
    let width = dictionary.columns.len();
    let attrs = domain.len();
    let mut row = vec![Value::Missing; width];
    let mut codes = vec![0usize; attrs];
    while table.n_rows() < rows {
        let need = rows - table.n_rows();
        // Over-draw a little in proportion to the rejection rate seen so far.
        let batch = ((need as f64) * (1.0 + 2.0 * report.rejection_rate())).ceil() as usize + 16;
        let columns = draw(batch, rng)?;
        #[allow(
            clippy::needless_range_loop,
            reason = "r indexes the inner vectors of the column-major batch"
        )]
        for r in 0..batch {
            if table.n_rows() == rows {
                break;
            }
            report.records_drawn += 1;
            let mut accepted = false;
            for _ in 0..DECODE_TRIES {
                for (a, code) in codes.iter_mut().enumerate() {
                    *code = compression.expand(a, columns[a][r], rng)?;
                }
                domain.decode_row(&codes, &mut row, rng)?;
                if dictionary.rules.iter().all(|rule| rule.holds(&row)) {
                    accepted = true;
                    break;
                }
                report.decodings_rejected += 1;
            }
            if !accepted && let Some(conditionals) = conditionals {
                let mut model_codes: Vec<u32> = (0..attrs).map(|a| columns[a][r]).collect();
                let record = Record {
                    codes: &mut model_codes,
                    row: &mut row,
                };
                accepted = repair(
                    conditionals,
                    dictionary,
                    domain,
                    record,
                    REPAIR_SWEEPS,
                    compression,
                    rng,
                )?;
                if accepted {
                    report.records_repaired += 1;
                }
            }
            if accepted {
                table
                    .push_row(row.clone())
                    .map_err(|e| Error::Input(format!("decoded value does not fit its column: {e}")))?;
            } else {
                report.records_rejected += 1;
            }
        }
        if report.records_drawn > 1000 + 100 * rows && report.rejection_rate() > 0.99 {
            return Err(Error::Input(format!(
                "the clinical rules reject {:.1}% of the model's records: the model and the rules disagree",
                100.0 * report.rejection_rate()
            )));
        }
    }
    report.rows = table.n_rows();
    Ok((table, report))
}
