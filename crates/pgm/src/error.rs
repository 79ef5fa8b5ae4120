//! The `pgm` crate's error type.

/// Every error of the `pgm` crate. Messages name the attribute, clique or measurement at fault and
/// the rule it breaks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PgmError {
    /// An attribute was declared with no possible value.
    #[error("attribute {attr} has domain size 0; every attribute needs at least one value")]
    EmptyAttribute { attr: usize },

    /// An attribute's domain is too large for `u32` codes.
    #[error("attribute {attr} has domain size {size}; codes are u32, so at most {limit} values are allowed")]
    AttributeTooLarge { attr: usize, size: usize, limit: usize },

    /// An attribute index is not in the domain.
    #[error("attribute {attr} is outside the domain of {attributes} attributes (0..{attributes})")]
    UnknownAttribute { attr: usize, attributes: usize },

    /// A table over a clique was given the wrong number of values.
    #[error("clique {clique:?} has {expected} cells but {found} values were given")]
    ValueCount {
        clique: Vec<usize>,
        expected: usize,
        found: usize,
    },

    /// A value is NaN or infinite where that is not allowed.
    #[error("clique {clique:?}, cell {cell}: value {value} is not allowed ({rule})")]
    InvalidValue {
        clique: Vec<usize>,
        cell: usize,
        value: f64,
        rule: &'static str,
    },

    /// A table would have more cells than the engine indexes (`u32` cell indices).
    #[error("a table over clique {clique:?} would have {cells} cells, more than the limit of {limit}")]
    TableTooLarge {
        clique: Vec<usize>,
        cells: u128,
        limit: u128,
    },

    /// A clique was expected to be a subset of another.
    #[error("clique {sub:?} is not contained in clique {sup:?}")]
    NotSubset { sub: Vec<usize>, sup: Vec<usize> },

    /// Two clique vectors (or factors) that must share cliques do not.
    #[error("clique vectors differ: one has clique {clique:?}, the other does not")]
    CliqueMismatch { clique: Vec<usize> },

    /// A clique is not contained in any clique of the junction tree.
    #[error("clique {clique:?} is not contained in any clique of the model's junction tree")]
    NotInModel { clique: Vec<usize> },

    /// A measurement's noise standard deviation is not a positive finite number.
    #[error("measurement {index} over clique {clique:?}: standard deviation {stddev} must be finite and > 0")]
    InvalidStddev {
        index: usize,
        clique: Vec<usize>,
        stddev: f64,
    },

    /// The total number of records is not a positive finite number.
    #[error("total {total} must be finite and > 0")]
    InvalidTotal { total: f64 },

    /// A mirror-descent step size is not a positive finite number.
    #[error("step size {stepsize} must be finite and > 0")]
    InvalidStepsize { stepsize: f64 },

    /// Every record has probability zero (for example, structural zeros forbid every cell).
    #[error("the model gives probability zero to every record: clique {clique:?} has no allowed cell")]
    EmptySupport { clique: Vec<usize> },

    /// A record has the wrong number of values.
    #[error("record has {found} values; the domain has {expected} attributes")]
    RecordLength { expected: usize, found: usize },

    /// A code is outside its attribute's domain.
    #[error("code {code} of attribute {attr} is outside its domain of size {size}")]
    CodeOutOfRange { attr: usize, code: u32, size: usize },
}

/// Result with [`PgmError`] as the default error.
pub type Result<T, E = PgmError> = std::result::Result<T, E>;
