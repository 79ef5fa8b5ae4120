//! The crate's one error type.

/// Everything that can go wrong in sharding, aggregation or unsharding.
///
/// Invalid *reports* are not errors: an aggregator records them as [`crate::Rejection`]s and goes
/// on. Errors are for misuse (bad parameters, an out-of-range vector at the site), malformed bytes
/// and protocol violations between the two aggregators.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecaggError {
    /// The aggregation parameters cannot be used.
    #[error("invalid aggregation parameters: {reason}")]
    InvalidParams {
        /// The rule broken.
        reason: String,
    },
    /// A vector does not have the length the aggregation expects.
    #[error("vector has {found} cells, the aggregation expects {expected}")]
    LengthMismatch {
        /// Cells expected.
        expected: usize,
        /// Cells found.
        found: usize,
    },
    /// A cell is above `2^bits - 1`: the site refuses to share it.
    #[error("cell {index} holds {value}, above the maximum {max} (2^{bits} - 1)")]
    CellOutOfRange {
        /// Index of the cell.
        index: usize,
        /// Its value.
        value: u64,
        /// The largest valid value.
        max: u64,
        /// The bit width of a cell.
        bits: usize,
    },
    /// The vector's total is above the declared record count: the site refuses to share it.
    #[error("vector total {total} exceeds the declared record count {declared}")]
    TotalExceedsDeclared {
        /// Sum of the cells.
        total: u128,
        /// The declared record count.
        declared: u64,
    },
    /// The declared count is so far above the total that the slack cell cannot hold the gap.
    #[error(
        "declared record count {declared} exceeds the vector total {total} by {slack}, \
         more than the slack cell can hold ({max})"
    )]
    SlackOutOfRange {
        /// Sum of the cells.
        total: u128,
        /// The declared record count.
        declared: u64,
        /// `declared - total`.
        slack: u128,
        /// The largest value of a cell.
        max: u64,
    },
    /// A declared record count was given where none is checked, or is missing where one is.
    #[error("declared record count: {reason}")]
    DeclaredCount {
        /// The rule broken.
        reason: String,
    },
    /// Bytes that do not decode to the named message.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// The message or field being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The `prio` library refused an operation (sharding, parameter construction).
    #[error("prio: {0}")]
    Prio(String),
    /// The peer aggregator or the caller broke the protocol (unknown report, wrong order, ...).
    #[error("protocol violation: {reason}")]
    Protocol {
        /// What happened.
        reason: String,
    },
    /// A noise source returned the wrong number of values.
    #[error("noise source returned {found} values for {expected} cells")]
    NoiseLength {
        /// Values expected (the vector length).
        expected: usize,
        /// Values returned.
        found: usize,
    },
    /// An unsharded cell does not fit in an `i64`.
    #[error("aggregate cell {index} = {value} does not fit in i64")]
    Overflow {
        /// Index of the cell.
        index: usize,
        /// Its centred value.
        value: i128,
    },
    /// The two aggregate shares do not belong together.
    #[error("aggregate shares do not match: {reason}")]
    ShareMismatch {
        /// What differs.
        reason: String,
    },
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, SecaggError>;
