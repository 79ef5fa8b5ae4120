//! `dp`: synthema's privacy kernel.
//!
//! - [`Epsilon`], [`Delta`], [`Rho`], [`Rational`]: parameters that cannot hold invalid values.
//! - [`DiscreteLaplace`], [`DiscreteGaussian`]: exact samplers (Canonne, Kamath & Steinke 2020)
//!   using integer arithmetic and uniform random bits only.
//! - [`GaussianMechanism`], [`ExponentialMechanism`]: mechanisms with their privacy claims
//!   (neighbouring relation: add or remove one record).
//! - [`Accountant`], [`eps_from_rho_delta`], [`rho_from_eps_delta`]: zCDP accounting and
//!   conversion to (ε, δ)-DP, rounded against us.
//!
//! Randomness is a parameter (`&mut impl rand::CryptoRng`); the crate does no I/O and depends on
//! no other crate of the workspace. `docs/privacy.md` states the privacy model.

mod accounting;
mod error;
mod float;
mod mechanism;
mod params;
mod sample;

pub use accounting::{Accountant, Charge, eps_from_rho_delta, rho_from_eps_delta};
pub use error::{Error, Result};
pub use mechanism::{ExponentialMechanism, GaussianMechanism};
pub use params::{Delta, Epsilon, Rational, Rho};
pub use sample::{DiscreteGaussian, DiscreteLaplace};
