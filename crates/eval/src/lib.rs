//! `eval`: validation of synthetic data against real data (and an optional holdout): fidelity,
//! utility, privacy risk and clinical agreement, as pure functions over tables returning typed
//! results, plus the report model (JSON with stable keys, self-contained HTML).

pub mod align;
pub mod fidelity;
pub mod privacy;
pub mod report;
pub mod survival;
pub mod utility;

/// Every error of the `eval` crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Table(#[from] table::Error),
    /// The inputs cannot be compared (different dictionaries, too few rows, unknown column…).
    #[error("cannot evaluate: {0}")]
    Input(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
