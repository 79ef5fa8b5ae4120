//! `pgm`: estimation of discrete graphical models from noisy marginals, in the manner of
//! Private-PGM (McKenna, Sheldon & Miklau 2019). It knows nothing about privacy: it takes
//! measurements with a noise scale and fits the model that explains them best.
//!
//! The vocabulary: a [`Domain`] of attributes `0..d` with sizes; a [`Clique`] (set of attributes);
//! a [`Factor`] (log-space table over a clique); a [`CliqueVector`] (factors indexed by clique);
//! a [`JunctionTree`] (triangulated interaction graph); a [`Measurement`] (noisy counts over a
//! clique); and the fitted [`GraphicalModel`], which answers marginal queries and samples
//! synthetic records. [`estimate`] runs mirror descent ([`MirrorDescent`] exposes single steps).
//!
//! Tables are dense, row-major over the clique's sorted attributes (the last attribute varies
//! fastest). See `docs/pgm.md` for the algorithms and their tests.
//!
//! ```
//! use pgm::{Clique, Domain, EstimationOptions, Measurement, SamplingMethod, estimate};
//! use rand::SeedableRng;
//!
//! # fn main() -> Result<(), pgm::PgmError> {
//! let domain = Domain::new(vec![2, 3, 2])?;
//! let measurements = vec![
//!     Measurement { clique: Clique::from([0, 1]), values: vec![10.0, 20.0, 5.0, 30.0, 15.0, 20.0], stddev: 1.0 },
//!     Measurement { clique: Clique::from([1, 2]), values: vec![30.0, 10.0, 20.0, 15.0, 5.0, 20.0], stddev: 1.0 },
//! ];
//! let options = EstimationOptions { iters: 200, ..EstimationOptions::default() };
//! let model = estimate(&domain, &measurements, &[], None, &options)?;
//! // A marginal that no measured clique contains (computed by variable elimination).
//! let m = model.marginal(&Clique::from([0, 2]))?;
//! assert!((m.counts.iter().sum::<f64>() - model.total()).abs() < 1e-6);
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
//! let columns = model.sample(100, SamplingMethod::Independent, &mut rng)?;
//! assert_eq!(columns.len(), 3);
//! # Ok(())
//! # }
//! ```

mod clique_vector;
mod domain;
mod elimination;
mod error;
mod estimation;
mod factor;
mod inference;
mod junction_tree;
mod kernel;
mod model;
mod sample;

pub use clique_vector::CliqueVector;
pub use domain::{Clique, Domain, MAX_TABLE_CELLS};
pub use error::{PgmError, Result};
pub use estimation::{
    EstimationOptions, Measurement, MirrorDescent, StructuralZeros, estimate, minimum_variance_total,
};
pub use factor::Factor;
pub use junction_tree::{JunctionTree, model_size};
pub use model::{GraphicalModel, Marginal};
pub use sample::SamplingMethod;
