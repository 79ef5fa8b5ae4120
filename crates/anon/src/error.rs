//! The one error type of the crate.

use std::fmt;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while anonymising.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The anonymisation config (TOML) is malformed or inconsistent.
    #[error("{source_name}:{line}:{col}: {message}")]
    Config {
        source_name: String,
        line: usize,
        col: usize,
        message: String,
    },
    /// A saved strategy (TOML) is malformed or does not fit the config.
    #[error("strategy: {message}")]
    Strategy { message: String },
    /// The config names a column the table's dictionary lacks, or uses it in a way its type forbids.
    #[error("column {column:?}: {message}")]
    Column { column: String, message: String },
    /// A generalisation hierarchy does not cover a value of the data.
    #[error("column {column:?}: the hierarchy does not cover value {value:?} (at level {level})")]
    Uncovered {
        column: String,
        value: String,
        level: usize,
    },
    /// A sensitive attribute was also declared as a quasi-identifier.
    #[error("column {column:?} is declared both as a quasi-identifier and as a sensitive attribute")]
    SensitiveIsQuasiIdentifier { column: String },
    /// The pseudonymisation key is shorter than the minimum.
    #[error("the pseudonymisation key has {length} bytes; at least {minimum} are required")]
    KeyTooShort { length: usize, minimum: usize },
    /// A keyed operation was requested without a key.
    #[error("{operation} needs a key (none was given)")]
    KeyRequired { operation: &'static str },
    /// A patient identifier needed for date shifting is missing.
    #[error("row {row}: date shifting needs the patient identifier in column {column:?}, which is missing")]
    MissingPatient { row: usize, column: String },
    /// No generalisation satisfies the privacy models within the suppression limit.
    #[error("{0}")]
    NoSolution(Box<NoSolution>),
    /// The anonymised table could not be built (an internal inconsistency, reported not panicked).
    #[error("building the output table: {0}")]
    Output(String),
}

/// Why no solution was found, with the figures of the node that came closest (the one that
/// needs the fewest suppressed records).
#[derive(Debug, Clone, PartialEq)]
pub struct NoSolution {
    /// Generalisation level per quasi-identifier of the closest node, with the QI name.
    pub closest: Vec<(String, usize)>,
    /// Records the closest node would have to suppress.
    pub suppressed_needed: usize,
    /// Records the suppression limit allows.
    pub suppression_allowed: usize,
    /// Rows of the input.
    pub rows: usize,
    /// Nodes whose equivalence classes were computed.
    pub nodes_checked: usize,
}

impl fmt::Display for NoSolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no solution: no generalisation satisfies the privacy models with at most {} of {} records suppressed; \
             the closest node (",
            self.suppression_allowed, self.rows
        )?;
        for (i, (c, l)) in self.closest.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{c}={l}")?;
        }
        write!(
            f,
            ") would suppress {} records; {} nodes checked",
            self.suppressed_needed, self.nodes_checked
        )
    }
}
