//! The `dp` crate's error type.

/// Every error of the `dp` crate. Each variant carries the offending value and the rule broken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// ε must be finite and strictly positive.
    #[error("epsilon must be finite and > 0, got {value}")]
    InvalidEpsilon { value: f64 },

    /// δ must lie strictly between 0 and 1.
    #[error("delta must be in the open interval (0, 1), got {value}")]
    InvalidDelta { value: f64 },

    /// ρ must be finite and strictly positive.
    #[error("rho must be finite and > 0, got {value}")]
    InvalidRho { value: f64 },

    /// An exact rational parameter is outside the range the exact samplers support.
    #[error("rational {num}/{den} is out of range: numerator and denominator must be in [1, {max}]")]
    InvalidRational { num: u64, den: u64, max: u64 },

    /// A sensitivity is zero or larger than the mechanism supports.
    #[error("sensitivity {value} is out of range: must be in [1, {max}]")]
    InvalidSensitivity { value: u64, max: u64 },

    /// The noise variance a privacy claim needs is outside the exactly supported range.
    #[error("the required noise variance {sigma2} (Δ²/(2ρ)) exceeds the supported maximum {max}")]
    VarianceOutOfRange { sigma2: f64, max: f64 },

    /// A selection was asked for among zero candidates.
    #[error("cannot select among zero candidates")]
    NoCandidates,

    /// Adding noise to a value overflowed the `i64` range.
    #[error("value {value} at index {index} overflows i64 when noise {noise} is added")]
    NoisyValueOverflow { index: usize, value: i64, noise: i64 },

    /// A charge would take the ledger past its total budget; nothing was spent.
    #[error("privacy budget exceeded: requested rho {requested}, remaining rho {remaining}")]
    BudgetExceeded { requested: f64, remaining: f64 },

    /// A zCDP ↔ (ε, δ) conversion has no representable answer.
    #[error("cannot convert {what}: {reason}")]
    Conversion { what: &'static str, reason: &'static str },
}

/// The `dp` crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
