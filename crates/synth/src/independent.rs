//! The independent-marginals baseline: every attribute's one-way marginal measured with the
//! Gaussian mechanism, the whole budget split equally; attributes sampled independently.

use crate::model::estimate;
use crate::oracle::MeasurementOracle;
use crate::{Error, Result};
use dp::Rho;
use pgm::GraphicalModel;

/// Measures every one-way marginal and fits the product model.
pub fn independent(oracle: &mut impl MeasurementOracle, iters: usize) -> Result<GraphicalModel> {
    let sizes = oracle.sizes();
    if sizes.is_empty() {
        return Err(Error::Input("no attribute to synthesise".into()));
    }
    // Slightly under an equal share so that rounding in the accountant never refuses the last.
    let share = Rho::new(oracle.accountant().remaining() / sizes.len() as f64 * (1.0 - 1e-9))?;
    let mut released = Vec::with_capacity(sizes.len());
    for a in 0..sizes.len() {
        released.push(oracle.measure(&[a], share, &format!("one-way marginal {a}"))?);
    }
    estimate(&sizes, &released, None, iters)
}
