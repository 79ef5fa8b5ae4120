//! `synth`: synthesizers of tabular data. The DP synthesizers (MST, AIM, independent marginals)
//! ask their questions of the data only through a measurement oracle, so the same code runs
//! centrally or federated; baselines that are not DP (Gaussian copula) say so in their output.

pub mod aim;
pub mod copula;
pub mod independent;
pub mod model;
pub mod mst;
pub mod normal;
pub mod oracle;
pub mod repair;
pub mod sample;
pub mod synthesize;

pub use synthesize::{Method, Request, Synthesis, synthesize};

/// Every error of the `synth` crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Table(#[from] table::Error),
    #[error(transparent)]
    Privacy(#[from] dp::Error),
    #[error(transparent)]
    Model(#[from] pgm::PgmError),
    #[error("cannot synthesise: {0}")]
    Input(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
