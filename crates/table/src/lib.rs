//! `table`: synthema's data dictionary, typed columnar tables, CSV and Parquet reading and
//! writing, validation with located errors, domain encoding to integer codes and marginal
//! counting.
//!
//! This crate does no file-path, network or clock I/O: it reads from `Read` and writes to
//! `Write`, and takes a `source_name` for its error messages.

pub mod csv;
pub mod date;
pub mod describe;
pub mod encode;
pub mod error;
pub mod infer;
pub mod marginal;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod redcap;
pub mod rule;
pub mod schema;
pub mod table;
pub mod validate;
pub mod value;

pub use date::Date;
pub use error::{Error, Result};
pub use rule::{Rule, Truth};
pub use schema::{Column, Dictionary, Kind, Missing, TimeToEvent};
pub use table::{ColumnData, Table};
pub use value::Value;

/// One problem found while validating data against its dictionary: where, what value, which
/// rule it breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The file (or other source) name.
    pub source_name: String,
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// The column name, or `None` for a whole-row problem.
    pub column: Option<String>,
    /// 1-based field index in the row, when the problem is about one field.
    pub field: Option<usize>,
    /// The offending raw value, when there is one.
    pub value: Option<String>,
    /// The rule broken, in words.
    pub rule: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.source_name, self.line)?;
        if let Some(i) = self.field {
            write!(f, ":{i}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ": column {c:?}")?;
        }
        if let Some(v) = &self.value {
            write!(f, ": value {v:?}")?;
        }
        write!(f, ": {}", self.rule)
    }
}
