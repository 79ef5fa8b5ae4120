//! The `table` crate's error type.

/// Every error of the `table` crate. Messages name where the problem is (source, line, column)
/// and what rule was broken.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The dictionary file is not valid TOML or breaks a rule of the dictionary format.
    #[error("{source_name}:{line}:{col}: {message}")]
    Dictionary {
        source_name: String,
        line: usize,
        col: usize,
        message: String,
    },

    /// A clinical rule does not parse or refers to something the dictionary lacks.
    #[error("{source_name}: rule {rule:?}, character {position}: {message}")]
    Rule {
        source_name: String,
        rule: String,
        position: usize,
        message: String,
    },

    /// A data file is malformed in a way that stops reading (bad quoting, ragged row, bad
    /// encoding, header problems).
    #[error("{source_name}:{line}: {message}")]
    Data {
        source_name: String,
        line: u64,
        message: String,
    },

    /// A value problem found while reading strictly (see [`crate::Problem`]).
    #[error("{0}")]
    Invalid(Box<crate::Problem>),

    /// Encoding a table into integer codes needs something the dictionary does not give.
    #[error("column {column:?}: {message}")]
    Domain { column: String, message: String },

    #[error("{source_name}: {error}")]
    Io { source_name: String, error: std::io::Error },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
