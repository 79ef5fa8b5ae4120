//! `synthema simulate`: write a simulated multi-site cohort and its dictionary.

use crate::{Outcome, files};
use anyhow::Result;
use clap::{Args, ValueEnum};
use cohort::{Config, Disease};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use table::csv::CsvOptions;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DiseaseArg {
    /// Acute myeloid leukaemia (registry variable names of a European AML eCRF).
    Aml,
    /// Sickle-cell disease.
    Scd,
}

impl From<DiseaseArg> for Disease {
    fn from(d: DiseaseArg) -> Disease {
        match d {
            DiseaseArg::Aml => Disease::Aml,
            DiseaseArg::Scd => Disease::Scd,
        }
    }
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Which disease.
    #[arg(value_enum)]
    pub disease: DiseaseArg,
    /// Total number of patients over all sites.
    #[arg(long, default_value_t = 2500)]
    pub patients: usize,
    /// Number of sites (hospitals).
    #[arg(long, default_value_t = 5)]
    pub sites: usize,
    /// How much sites differ (age mix, genotype mix, treatment intensity, size), from 0 to 1.
    #[arg(long, default_value_t = 0.5)]
    pub heterogeneity: f64,
    /// Random seed; the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory: site-1.csv … site-K.csv and dictionary.toml.
    #[arg(long)]
    pub out: PathBuf,
}

/// Simulates and writes the cohort; returns the cohort for callers (the demo) that go on.
pub fn write_cohort(disease: Disease, config: &Config, out: &Path) -> Result<cohort::Cohort> {
    let cohort = cohort::simulate(disease, config)?;
    let bar = ProgressBar::new(cohort.sites.len() as u64 + 1)
        .with_style(ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len}").expect("static template"))
        .with_message("writing");
    files::write_atomically(&out.join("dictionary.toml"), |w| {
        use std::io::Write;
        w.write_all(cohort.dictionary.to_toml().as_bytes())?;
        Ok(())
    })?;
    bar.inc(1);
    for (k, site) in cohort.sites.iter().enumerate() {
        files::write_table(&out.join(format!("site-{}.csv", k + 1)), site, &CsvOptions::default())?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(cohort)
}

pub fn run(a: SimulateArgs) -> Result<Outcome> {
    let config = Config {
        patients: a.patients,
        sites: a.sites,
        heterogeneity: a.heterogeneity,
        seed: a.seed,
    };
    let cohort = write_cohort(a.disease.into(), &config, &a.out)?;
    let sizes: Vec<String> = cohort.sites.iter().map(|t| t.n_rows().to_string()).collect();
    println!(
        "simulated {} patients at {} sites ({}) with {} columns",
        a.patients,
        a.sites,
        sizes.join(", "),
        cohort.dictionary.columns.len()
    );
    println!(
        "wrote {}/site-1.csv … site-{}.csv and {}/dictionary.toml",
        a.out.display(),
        a.sites,
        a.out.display()
    );
    Ok(Outcome::Success)
}
