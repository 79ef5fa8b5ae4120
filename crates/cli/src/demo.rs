//! `synthema demo`: the main job, the whole pipeline on one machine with embedded defaults.
//!
//! Today the pipeline is: simulate a multi-site AML cohort → write each site's file and the
//! public dictionary → validate every file against the dictionary → summarise → DP synthesis
//! with AIM → the validation report. Until the federation services land, synthesis runs
//! centrally on the pooled sites (a stand-in that says so; `synthema federate` runs the same job
//! over secure aggregation in simulation mode).

use crate::simulate::write_cohort;
use crate::{Outcome, files};
use anyhow::Result;
use clap::Args;
use cohort::{Config, Disease};
use rand::SeedableRng;
use std::path::PathBuf;
use std::time::Instant;
use table::csv::CsvOptions;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(long, default_value = "synthema-demo")]
    pub out: PathBuf,
    /// Total number of simulated patients.
    #[arg(long, default_value_t = 2500)]
    pub patients: usize,
    /// Number of hospital sites.
    #[arg(long, default_value_t = 5)]
    pub sites: usize,
    /// Random seed of the simulation (testing and reproducibility).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// ε of the synthesis.
    #[arg(long, default_value_t = 1.0)]
    pub epsilon: f64,
    /// δ of the synthesis.
    #[arg(long, default_value_t = 1e-9)]
    pub delta: f64,
}

/// Columns the summary shows (the AML simulator's registry names).
const SUMMARY: &[&str] = &[
    "AGE",
    "SEX",
    "ELN 2022",
    "NPM1",
    "FLT3_ITD",
    "TP53",
    "Intensive chemotherapy induction",
    "RESPONSE TO INDUCTION",
    "Allogeneic HSCT",
    "Overall survival",
    "STATUS_OS",
];

pub fn run(a: DemoArgs) -> Result<Outcome> {
    let start = Instant::now();
    let config = Config {
        patients: a.patients,
        sites: a.sites,
        heterogeneity: 0.5,
        seed: a.seed,
    };
    let data_dir = a.out.join("sites");
    println!(
        "[1/3] simulating {} AML patients at {} sites (seed {})",
        a.patients, a.sites, a.seed
    );
    let cohort = write_cohort(Disease::Aml, &config, &data_dir)?;

    println!(
        "[2/3] validating every site file against {}/dictionary.toml",
        data_dir.display()
    );
    let dict = files::read_dictionary(&data_dir.join("dictionary.toml"))?;
    let mut all_ok = true;
    for k in 1..=cohort.sites.len() {
        let path = data_dir.join(format!("site-{k}.csv"));
        let name = path.display().to_string();
        let report = table::validate::check(files::open(&path)?, &name, dict.clone(), &CsvOptions::default(), 20)?;
        let total = report.problems.len() as u64 + report.not_listed;
        println!("      site-{k}.csv: {:>5} rows, {} problems", report.rows, total);
        for p in &report.problems {
            println!("        {p}");
        }
        all_ok &= total == 0;
    }

    println!("[3/5] summary of the pooled cohort (simulated data: safe to show)");
    let mut pooled = table::Table::new(cohort.dictionary.clone());
    for site in &cohort.sites {
        pooled.append(site)?;
    }
    for s in table::describe::describe(&pooled) {
        if SUMMARY.contains(&s.name.as_str()) {
            println!("      {s}");
        }
    }

    println!(
        "[4/5] DP synthesis with AIM, (ε, δ) = ({}, {}) — run centrally on the pooled sites (a stand-in \
         until the federation services land); every 5th patient is kept aside as a holdout for the privacy checks",
        a.epsilon, a.delta
    );
    let mut train = table::Table::new(cohort.dictionary.clone());
    let mut holdout = table::Table::new(cohort.dictionary.clone());
    for r in 0..pooled.n_rows() {
        let target = if r % 5 == 4 { &mut holdout } else { &mut train };
        target.push_row(pooled.row(r))?;
    }
    let request = synth::Request {
        method: synth::Method::Aim,
        budget: Some((dp::Epsilon::new(a.epsilon)?, dp::Delta::new(a.delta)?)),
        rows: train.n_rows(),
        workload_degree: 2,
        max_model_mb: 80.0,
        rounds: None,
        iters: 1000,
        encode: table::encode::EncodeOptions::default(),
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(a.seed);
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let s = synth::synthesize(&train, &request, &mut rng, &mut |m: &str| {
        bar.set_message(m.to_string())
    })?;
    bar.finish_and_clear();
    let synthetic = a.out.join("synthetic.csv");
    let dict_path = files::write_synthetic(&synthetic, &s.output, &CsvOptions::default())?;
    let spent: f64 = s.ledger.iter().map(|c| c.rho.get()).sum();
    println!(
        "      {} marginals selected, ρ {spent:.5} of {:.5} spent; of {} records drawn, {} repaired and {} rejected \
         to satisfy the rules",
        s.selected.len(),
        s.rho.map_or(0.0, |r| r.get()),
        s.report.records_drawn,
        s.report.records_repaired,
        s.report.records_rejected
    );
    println!("      wrote {} and {}", synthetic.display(), dict_path.display());

    println!("[5/5] validation report: fidelity, utility (ELN 2022), survival by stratum, rules, privacy attacks");
    let options = eval::report::EvaluateOptions {
        target: Some("ELN 2022".into()),
        time_to_event: Vec::new(),
        strata: None,
        sensitive: vec!["TP53".into()],
        shadow: None,
        seed: a.seed,
    };
    let bar = indicatif::ProgressBar::new_spinner().with_message("evaluating");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let report = eval::report::evaluate(&train, &s.output, Some(&holdout), &options)?;
    bar.finish_and_clear();
    let report_dir = a.out.join("report");
    crate::evaluate::write_report(&report_dir, &report)?;
    crate::evaluate::print_summary(&report);
    println!(
        "      wrote {}/report.html and {}/metrics.json",
        report_dir.display(),
        report_dir.display()
    );
    println!(
        "done in {:.1} s: {} columns, {} rules checked on every row",
        start.elapsed().as_secs_f64(),
        cohort.dictionary.columns.len(),
        cohort.dictionary.rules.len(),
    );
    println!(
        "not yet in this pipeline: the federation services. `synthema federate --site {}/site-1.csv …` runs the \
         same synthesis over secure aggregation in one process (simulation mode)",
        data_dir.display()
    );
    Ok(if all_ok { Outcome::Success } else { Outcome::Invalid })
}
