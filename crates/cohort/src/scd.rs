//! Sickle-cell disease (SCD) cohort simulator.
//!
//! Each simulated patient is a small life course: a genotype drawn from the site's mix, latent
//! traits (haemolysis, crisis frailty, chest-syndrome frailty, renal susceptibility), steady-state
//! laboratory values that depend on the genotype and those traits, a first-stroke age from an
//! age-specific hazard modified by transcranial Doppler screening and transfusion, treatments
//! (hydroxyurea, chronic transfusion, stem-cell transplant) with start ages, a Gompertz death age
//! conditional on being alive at enrolment, and event counts (vaso-occlusive crises, acute chest
//! syndrome) over follow-up as overdispersed Poisson counts (log-normal frailty) whose rates change at
//! every treatment start. The model, its parameters and their sources are in
//! `docs/simulator-scd.md`.
//!
//! Random streams: stream 0 draws the site sizes and then the site profiles; stream `k + 1`
//! draws the patients of site `k`, so one site's size does not shift another site's patients.

mod labs;
mod patient;
mod site;

use crate::{Cohort, Config, rng_for, site_sizes};
use patient::Patient;
use site::SiteProfile;
use std::sync::{Arc, OnceLock};
use table::{Dictionary, Table};

/// The embedded data dictionary of the SCD simulator (columns, time-to-event pairs, rules).
const DICTIONARY_TOML: &str = include_str!("scd.toml");

/// The public data dictionary of the SCD simulator, parsed once from the embedded `scd.toml`.
pub fn dictionary() -> Arc<Dictionary> {
    static DICTIONARY: OnceLock<Arc<Dictionary>> = OnceLock::new();
    DICTIONARY
        .get_or_init(|| {
            let parsed = Dictionary::from_toml(DICTIONARY_TOML, "scd.toml")
                .unwrap_or_else(|e| panic!("the embedded scd.toml is a valid dictionary (checked by its tests): {e}"));
            Arc::new(parsed)
        })
        .clone()
}

/// Simulates an SCD cohort: one table per site, sized by [`site_sizes`], with site profiles
/// (genotype mix, age mix, treatment intensity, registry opening) that differ more as
/// `config.heterogeneity` grows. The caller ([`crate::simulate`]) has checked `config`.
pub fn simulate(config: &Config) -> Cohort {
    let dictionary = dictionary();
    let mut rng = rng_for(config.seed, 0);
    let sizes = site_sizes(config.patients, config.sites, config.heterogeneity, &mut rng);
    let profiles: Vec<SiteProfile> = sizes
        .iter()
        .map(|_| SiteProfile::draw(config.heterogeneity, &mut rng))
        .collect();
    let sites = sizes
        .iter()
        .zip(&profiles)
        .enumerate()
        .map(|(k, (&n, profile))| {
            let mut rng = rng_for(config.seed, k as u64 + 1);
            let mut table = Table::new(dictionary.clone());
            for i in 0..n {
                let row = Patient::simulate(profile, &mut rng).into_row(k, i);
                table
                    .push_row(row)
                    .unwrap_or_else(|e| panic!("simulated SCD rows follow the embedded dictionary: {e}"));
            }
            table
        })
        .collect();
    Cohort { dictionary, sites }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_parses_and_names_its_columns() {
        let d = dictionary();
        assert_eq!(d.name, "scd");
        assert!((35..=45).contains(&d.columns.len()), "{} columns", d.columns.len());
        for name in ["ID", "GENOTYPE", "HB", "HBF", "VOC_COUNT", "FOLLOWUP_YEARS", "DEATH"] {
            assert!(d.index_of(name).is_some(), "{name} missing");
        }
        assert!(d.rules.len() >= 10);
        assert_eq!(d.time_to_event.len(), 2);
    }

    #[test]
    fn dictionary_round_trips_through_toml() {
        let d = dictionary();
        let again = Dictionary::from_toml(&d.to_toml(), "written scd.toml").expect("a written dictionary reads back");
        assert_eq!(again.columns, d.columns);
        assert_eq!(again.time_to_event, d.time_to_event);
        let names = |x: &Dictionary| {
            x.rules
                .iter()
                .map(|r| (r.name.clone(), r.source.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&again), names(&d));
    }
}
