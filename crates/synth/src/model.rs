//! A fitted DP model: the graphical model estimated from noisy marginals, with everything
//! needed to sample typed rows from it. Sampling is post-processing: free of privacy cost.

use crate::oracle::NoisyMarginal;
use crate::repair::Conditionals;
use crate::sample::{Compression, SampleReport, sample_with_rules};
use crate::{Error, Result};
use pgm::{Clique, CliqueVector, EstimationOptions, GraphicalModel, Measurement, SamplingMethod};
use rand::Rng;
use std::sync::Arc;
use table::encode::Domain;
use table::{Dictionary, Table};

/// A model fitted by a DP synthesizer.
#[derive(Debug, Clone)]
pub struct FittedModel {
    /// The dictionary of the synthetic output (the modelled columns).
    pub dictionary: Arc<Dictionary>,
    /// The public domain the codes refer to.
    pub domain: Domain,
    /// MST's public merging of rare codes (none for the other methods).
    pub compression: Compression,
    /// The graphical model over (compressed) codes.
    pub model: GraphicalModel,
}

impl FittedModel {
    /// Draws `rows` synthetic rows, each satisfying every rule of the dictionary.
    pub fn sample(&self, rows: usize, rng: &mut (impl Rng + ?Sized)) -> Result<(Table, SampleReport)> {
        let conditionals = Conditionals::new(self.model.potentials(), self.model.domain().sizes());
        sample_with_rules(
            &self.dictionary,
            &self.domain,
            &self.compression,
            Some(&conditionals),
            rows,
            rng,
            |n, rng| Ok(self.model.sample(n, SamplingMethod::Independent, rng)?),
        )
    }

    /// Model size in cells (the sum of the junction tree's clique table sizes).
    pub fn cells(&self) -> u128 {
        self.model.tree().model_size()
    }
}

/// Converts released marginals to the estimation engine's measurements (weights 1/σ).
pub fn measurements(released: &[NoisyMarginal]) -> Vec<Measurement> {
    released
        .iter()
        .map(|m| Measurement {
            clique: Clique::new(m.attrs.iter().copied()),
            values: m.values.iter().map(|&v| v as f64).collect(),
            stddev: m.sigma,
        })
        .collect()
}

/// Fits a graphical model over attributes of `sizes` to the released marginals by mirror
/// descent (Private-PGM), from `warm` potentials if given.
pub fn estimate(
    sizes: &[usize],
    released: &[NoisyMarginal],
    warm: Option<&CliqueVector>,
    iters: usize,
) -> Result<GraphicalModel> {
    let domain = pgm::Domain::new(sizes.to_vec())?;
    for m in released {
        if m.attrs.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::Input(format!(
                "marginal over {:?}: attributes must be increasing",
                m.attrs
            )));
        }
    }
    let options = EstimationOptions {
        iters,
        ..EstimationOptions::default()
    };
    Ok(pgm::estimate(&domain, &measurements(released), &[], warm, &options)?)
}
