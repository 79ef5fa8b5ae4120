//! `synthema demo`: the main job, the whole pipeline on one machine with embedded defaults.
//!
//! Simulate a multi-site AML cohort → write each site's file (every 5th patient kept aside as a
//! holdout for the privacy checks) and the public dictionary → validate every file → summarise →
//! provision a project CA and certificates → start the hub, a helper aggregator and one node per
//! site as processes on loopback (mutual TLS) → submit a federated AIM job as a researcher, follow
//! it, fetch the synthetic data → stop every service → the validation report → verify the audit
//! logs of hub, aggregator and sites.

use crate::{Outcome, files};
use anyhow::{Context, Result, bail};
use clap::Args;
use cohort::{Config, Disease};
use server::api::{JobRequest, JobState};
use server::client::JobClient;
use server::config::MethodName;
use server::fleet::{Fleet, Layout};
use std::path::PathBuf;
use std::sync::Arc;
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
    if a.sites < 2 {
        bail!("--sites must be at least 2 for a federation, got {}", a.sites);
    }
    prepare_out(&a.out)?;
    // The services' configuration files name absolute paths: they are read from config/.
    let a = DemoArgs {
        out: std::path::absolute(&a.out).with_context(|| format!("cannot resolve {}", a.out.display()))?,
        ..a
    };
    let config = Config {
        patients: a.patients,
        sites: a.sites,
        heterogeneity: 0.5,
        seed: a.seed,
    };
    println!(
        "[1/7] simulating {} AML patients at {} sites (seed {}); every 5th patient is kept aside as a holdout",
        a.patients, a.sites, a.seed
    );
    let cohort = cohort::simulate(Disease::Aml, &config)?;
    let dict = cohort.dictionary.clone();
    let dictionary = a.out.join("dictionary.toml");
    files::write_atomically(&dictionary, |w| {
        use std::io::Write;
        w.write_all(dict.to_toml().as_bytes())?;
        Ok(())
    })?;
    let mut train = table::Table::new(dict.clone());
    let mut holdout = table::Table::new(dict.clone());
    let mut sites = Vec::new();
    for (k, site) in cohort.sites.iter().enumerate() {
        let mut kept = table::Table::new(dict.clone());
        for r in 0..site.n_rows() {
            if r % 5 == 4 {
                holdout.push_row(site.row(r))?;
            } else {
                kept.push_row(site.row(r))?;
            }
        }
        train.append(&kept)?;
        let path = a.out.join("sites").join(format!("site-{}.csv", k + 1));
        files::write_table(&path, &kept, &CsvOptions::default())?;
        sites.push((format!("site-{}", k + 1), path));
    }
    files::write_table(&a.out.join("holdout.csv"), &holdout, &CsvOptions::default())?;

    println!("[2/7] validating every site file against {}", dictionary.display());
    let dict = files::read_dictionary(&dictionary)?;
    let mut all_ok = true;
    for (name, path) in &sites {
        let shown = path.display().to_string();
        let report = table::validate::check(files::open(path)?, &shown, dict.clone(), &CsvOptions::default(), 20)?;
        let total = report.problems.len() as u64 + report.not_listed;
        println!("      {name}.csv: {:>5} rows, {} problems", report.rows, total);
        for p in &report.problems {
            println!("        {p}");
        }
        all_ok &= total == 0;
    }

    println!("[3/7] summary of the pooled training cohort (simulated data: safe to show)");
    for s in table::describe::describe(&train) {
        if SUMMARY.contains(&s.name.as_str()) {
            println!("      {s}");
        }
    }

    println!(
        "[4/7] provisioning a project CA and certificates; starting hub, helper aggregator and {} nodes on loopback (mutual TLS)",
        sites.len()
    );
    let layout = Layout {
        root: a.out.clone(),
        dataset: "aml".into(),
        dictionary: dictionary.clone(),
        sites,
    };
    // Each site allows twice the job's ε in total, so one demo job fits its policy.
    let settings = server::fleet::Settings {
        policy_epsilon: 2.0 * a.epsilon,
        delta: a.delta,
        min_sites: 2,
        deadlines: (60, 120, 60),
        max_body_bytes: 64 << 20,
    };
    server::fleet::provision(&layout, &settings)?;
    let exe = std::env::current_exe().context("cannot find the synthema executable")?;
    let mut fleet = Fleet::start(&exe, &layout)?;
    let hub = format!("https://{}", fleet.wait_for(&layout.hub_address_file(), &layout)?);
    println!("      hub at {hub}; operator logs in {}/logs/", a.out.display());

    println!(
        "[5/7] federated DP synthesis with AIM, (ε, δ) = ({}, {}) at every site, submitted by the researcher",
        a.epsilon, a.delta
    );
    let synthetic = a.out.join("synthetic.csv");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let job_start = Instant::now();
    let status = runtime.block_on(async {
        let client = JobClient::new(&layout.user_credentials(), &hub)?;
        let request = JobRequest {
            dataset: layout.dataset.clone(),
            columns: Vec::new(),
            method: MethodName::Aim,
            epsilon: a.epsilon,
            delta: a.delta,
            rows: train.n_rows() as u64,
            min_sites: 2,
        };
        let submitted = client.submit(&request).await?;
        let status = crate::services::wait(&client, &submitted.id).await?;
        if status.state == JobState::Succeeded {
            let bytes = client.fetch(&status.id).await?;
            std::fs::write(&synthetic, &bytes).with_context(|| format!("cannot write {}", synthetic.display()))?;
        }
        anyhow::Ok(status)
    })?;
    let job_secs = job_start.elapsed().as_secs_f64();
    fleet.stop();
    if status.state != JobState::Succeeded {
        bail!(
            "the federated job {} ended {}; see {}/logs/ and {}/audit/",
            status.id,
            status.describe(),
            a.out.display(),
            a.out.display()
        );
    }
    println!(
        "      job {}: {} rounds over sites {} in {job_secs:.1} s; every service stopped",
        status.id,
        status.round,
        status.sites.join(", ")
    );
    let modelled = Arc::new(dict.modelled());
    let synthetic_dict = files::sidecar_dictionary(&synthetic);
    files::write_atomically(&synthetic_dict, |w| {
        use std::io::Write;
        w.write_all(modelled.to_toml().as_bytes())?;
        Ok(())
    })?;
    let output = files::read_table(&synthetic, modelled, &CsvOptions::default())?;
    println!(
        "      wrote {} ({} rows) and {}",
        synthetic.display(),
        output.n_rows(),
        synthetic_dict.display()
    );

    println!("[6/7] validation report: fidelity, utility (ELN 2022), survival by stratum, rules, privacy attacks");
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
    let report = eval::report::evaluate(&train, &output, Some(&holdout), &options)?;
    bar.finish_and_clear();
    let report_dir = a.out.join("report");
    crate::evaluate::write_report(&report_dir, &report)?;
    crate::evaluate::print_summary(&report);
    println!(
        "      wrote {}/report.html and {}/metrics.json",
        report_dir.display(),
        report_dir.display()
    );

    println!("[7/7] verifying the hash-chained audit logs");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(layout.audit_dir())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    for log in &logs {
        let summary = server::audit::verify(log)?;
        println!(
            "      {}: intact, {} entries",
            log.strip_prefix(&a.out).unwrap_or(log).display(),
            summary.entries
        );
    }
    println!(
        "done in {:.1} s. Under {}: synthetic.csv, dictionary.toml, report/, audit/ (hub, aggregator, sites), \
         logs/ (operator logs), config/ and pki/ (the provisioning kit), sites/ (the simulated site files)",
        start.elapsed().as_secs_f64(),
        a.out.display()
    );
    Ok(if all_ok { Outcome::Success } else { Outcome::Invalid })
}

/// The marker file of a directory the demo made.
const MARKER: &str = ".synthema-demo";

/// Makes `out` ready: a directory of a previous demo (it holds the marker) is replaced as a
/// whole, since certificates and service state are never overwritten in place; any other
/// non-empty directory is refused, so the demo never deletes files it did not make.
fn prepare_out(out: &std::path::Path) -> Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_none();
        if !empty {
            if !out.join(MARKER).exists() {
                bail!(
                    "{} exists and was not made by `synthema demo`; choose another --out",
                    out.display()
                );
            }
            std::fs::remove_dir_all(out)
                .with_context(|| format!("cannot remove the previous demo in {}", out.display()))?;
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(
        out.join(MARKER),
        "made by `synthema demo`; the next demo run replaces this directory\n",
    )
    .with_context(|| format!("cannot write {}", out.join(MARKER).display()))
}
