//! `cohort`: realistic multi-site AML and SCD cohort simulators, calibrated to published
//! clinical distributions (see `docs/simulators.md`), each with its public data dictionary and
//! clinical rules. They are the default data of the demo, the tests and the benchmarks: real
//! patient data never enters this repository.
//!
//! Determinism: the same [`Config`] (including the seed) gives the same tables, bit for bit.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;
use table::{Dictionary, Table};

pub mod aml;
pub mod scd;

/// Which disease to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disease {
    Aml,
    Scd,
}

/// Parameters of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Total number of patients over all sites.
    pub patients: usize,
    /// Number of sites (hospitals) the patients are split across.
    pub sites: usize,
    /// How much sites differ, from 0 (identical case mix and care) to 1 (strongly different
    /// age mix, genotype mix, treatment intensity and size).
    pub heterogeneity: f64,
    pub seed: u64,
}

/// A simulated multi-site cohort: one table per site, all described by one dictionary.
#[derive(Debug, Clone)]
pub struct Cohort {
    pub dictionary: Arc<Dictionary>,
    pub sites: Vec<Table>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid simulation parameter: {0}")]
    Config(String),
}

impl Config {
    fn check(&self) -> Result<(), Error> {
        if self.sites == 0 {
            return Err(Error::Config("--sites must be at least 1".into()));
        }
        if self.patients < self.sites {
            return Err(Error::Config(format!(
                "{} patients cannot fill {} sites (at least one patient per site)",
                self.patients, self.sites
            )));
        }
        if !(0.0..=1.0).contains(&self.heterogeneity) {
            return Err(Error::Config(format!(
                "--heterogeneity must be in [0, 1], got {}",
                self.heterogeneity
            )));
        }
        Ok(())
    }
}

/// Simulates a cohort of `disease` split across sites.
pub fn simulate(disease: Disease, config: &Config) -> Result<Cohort, Error> {
    config.check()?;
    Ok(match disease {
        Disease::Aml => aml::simulate(config),
        Disease::Scd => scd::simulate(config),
    })
}

/// The public data dictionary of `disease`'s simulator (embedded in the binary).
pub fn dictionary(disease: Disease) -> Arc<Dictionary> {
    match disease {
        Disease::Aml => aml::dictionary(),
        Disease::Scd => scd::dictionary(),
    }
}

/// The random stream of one purpose (`stream` 0 = site sizes and profiles, `k + 1` = site k),
/// derived from the seed so that changing the number of patients at one site does not shift
/// another site's draws.
pub(crate) fn rng_for(seed: u64, stream: u64) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Splits `patients` across `sites`: equal shares at heterogeneity 0, increasingly unequal
/// (log-normal weights) as heterogeneity grows; every site gets at least one patient and the
/// sizes add up to `patients` exactly.
pub(crate) fn site_sizes(patients: usize, sites: usize, heterogeneity: f64, rng: &mut impl Rng) -> Vec<usize> {
    let weights: Vec<f64> = (0..sites)
        .map(|_| {
            let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
            (0.8 * heterogeneity * z).exp()
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let spare = patients - sites;
    let mut sizes: Vec<usize> = weights
        .iter()
        .map(|w| 1 + (spare as f64 * w / total).floor() as usize)
        .collect();
    let mut left = patients - sizes.iter().sum::<usize>();
    let mut i = 0;
    while left > 0 {
        sizes[i % sites] += 1;
        left -= 1;
        i += 1;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_add_up() {
        for h in [0.0, 0.5, 1.0] {
            let mut rng = rng_for(7, 0);
            let s = site_sizes(2500, 5, h, &mut rng);
            assert_eq!(s.iter().sum::<usize>(), 2500);
            assert!(s.iter().all(|&n| n >= 1));
        }
        let mut rng = rng_for(7, 0);
        assert_eq!(site_sizes(10, 3, 0.0, &mut rng), vec![4, 3, 3]);
    }

    #[test]
    fn bad_config_is_refused() {
        let c = Config {
            patients: 2,
            sites: 3,
            heterogeneity: 0.5,
            seed: 1,
        };
        assert!(simulate(Disease::Aml, &c).is_err());
        let c = Config {
            patients: 20,
            sites: 0,
            heterogeneity: 0.5,
            seed: 1,
        };
        assert!(simulate(Disease::Aml, &c).is_err());
        let c = Config {
            patients: 20,
            sites: 2,
            heterogeneity: 1.5,
            seed: 1,
        };
        assert!(simulate(Disease::Aml, &c).is_err());
    }
}
