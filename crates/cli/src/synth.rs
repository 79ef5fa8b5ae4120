//! `synthema synth` and `synthema sample`: private synthesis on one machine.

use crate::dialect::Dialect;
use crate::{Outcome, files, modelfile};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use synth::{Method, Request};
use table::encode::EncodeOptions;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MethodArg {
    /// AIM: adaptive and workload-aware (differentially private).
    Aim,
    /// MST: maximum spanning tree of pairs (differentially private).
    Mst,
    /// Independent one-way marginals (differentially private baseline).
    Independent,
    /// Gaussian copula: NOT differentially private (a non-private baseline).
    Copula,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// The real data (CSV, or Parquet by extension).
    #[arg(long)]
    pub input: PathBuf,
    /// Its data dictionary: the only source of domains (levels, bounds, bins).
    #[arg(long)]
    pub schema: PathBuf,
    #[arg(long, value_enum)]
    pub method: MethodArg,
    /// ε of the (ε, δ)-DP guarantee of the whole synthesis.
    #[arg(long, allow_negative_numbers = true)]
    pub epsilon: Option<f64>,
    /// δ of the (ε, δ)-DP guarantee, in (0, 1); use far less than 1/rows.
    #[arg(long, allow_negative_numbers = true)]
    pub delta: Option<f64>,
    /// Number of synthetic rows.
    #[arg(long)]
    pub rows: usize,
    /// Output file (CSV, or Parquet by extension).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the fitted model here, to draw more rows later with `synthema sample`.
    #[arg(long)]
    pub save_model: Option<PathBuf>,
    /// Seed every random choice, noise included. FOR TESTING ONLY: a known seed lets anyone
    /// reproduce the noise and void the privacy guarantee. Without it, the OS seeds.
    #[arg(long)]
    pub seed: Option<u64>,
    /// AIM's workload: all marginals of this many columns.
    #[arg(long, default_value_t = 2)]
    pub degree: usize,
    /// AIM's model-size cap, in MB.
    #[arg(long, default_value_t = 80.0)]
    pub max_model_mb: f64,
    /// AIM's number of rounds (default 16 × the number of modelled columns).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Mirror-descent iterations of the final model estimate.
    #[arg(long, default_value_t = 1000)]
    pub iters: usize,
    /// Equal-width bins for numeric columns without public bin edges.
    #[arg(long, default_value_t = 16)]
    pub default_bins: usize,
    #[command(flatten)]
    pub dialect: Dialect,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// A model written by `synthema synth --save-model`.
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub rows: usize,
    /// Output file (CSV, or Parquet by extension).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed the sampling (for tests; sampling is post-processing and costs no budget).
    #[arg(long)]
    pub seed: Option<u64>,
}

fn rng(seed: Option<u64>) -> ChaCha20Rng {
    match seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => ChaCha20Rng::from_rng(&mut rand::rng()),
    }
}

fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("static template"));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub fn run_synth(a: SynthArgs) -> Result<Outcome> {
    let start = Instant::now();
    let method = match a.method {
        MethodArg::Aim => Method::Aim,
        MethodArg::Mst => Method::Mst,
        MethodArg::Independent => Method::Independent,
        MethodArg::Copula => Method::Copula,
    };
    let budget = match (a.epsilon, a.delta, method) {
        (None, None, Method::Copula) => None,
        (_, _, Method::Copula) => {
            bail!("the Gaussian copula is not differentially private: it takes no --epsilon/--delta")
        }
        (Some(e), Some(d), _) => Some((
            dp::Epsilon::new(e).with_context(|| format!("--epsilon {e}"))?,
            dp::Delta::new(d).with_context(|| format!("--delta {d}"))?,
        )),
        _ => bail!(
            "{} is differentially private: give both --epsilon and --delta",
            method_name(method)
        ),
    };
    if a.save_model.is_some() && method == Method::Copula {
        bail!("--save-model is for the DP methods; the copula baseline keeps real values and is not saved");
    }
    let dict = files::read_dictionary(&a.schema)?;
    let data = files::read_table(&a.input, dict, &a.dialect.options()?)?;
    let encode = EncodeOptions {
        default_bins: a.default_bins,
        ..EncodeOptions::default()
    };
    let request = Request {
        method,
        budget,
        rows: a.rows,
        workload_degree: a.degree,
        max_model_mb: a.max_model_mb,
        rounds: a.rounds,
        iters: a.iters,
        encode,
    };
    let mut rng = rng(a.seed);
    let bar = spinner();
    let result = synth::synthesize(&data, &request, &mut rng, &mut |m: &str| bar.set_message(m.to_string()));
    bar.finish_and_clear();
    let s = result?;
    let dict_path = files::write_synthetic(&a.out, &s.output, &a.dialect.options()?)?;
    if let (Some(path), Some(model)) = (&a.save_model, &s.model) {
        let json = modelfile::to_json(model, method_name(method), &encode)?;
        files::write_atomically(path, |w| Ok(w.write_all(json.as_bytes())?))?;
    }
    print_summary(&a, method, &s, start.elapsed());
    println!(
        "dictionary    {} (the synthetic columns: identifiers and free text are never synthesised)",
        dict_path.display()
    );
    Ok(Outcome::Success)
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Aim => "aim",
        Method::Mst => "mst",
        Method::Independent => "independent",
        Method::Copula => "copula",
    }
}

fn print_summary(a: &SynthArgs, method: Method, s: &synth::Synthesis, took: Duration) {
    println!("method        {}", method_name(method));
    match (&s.rho, a.epsilon, a.delta) {
        (Some(rho), Some(e), Some(d)) => {
            let spent: f64 = s.ledger.iter().map(|c| c.rho.get()).sum();
            println!(
                "guarantee     ({e}, {d})-DP = ρ {:.6}-zCDP; spent ρ {spent:.6}",
                rho.get()
            );
            for (label, key) in [("one-way", "one-way"), ("selection", "select"), ("selection", "edge")] {
                let charges: Vec<f64> = s
                    .ledger
                    .iter()
                    .filter(|c| c.what.contains(key))
                    .map(|c| c.rho.get())
                    .collect();
                if !charges.is_empty() {
                    println!(
                        "  {label:<11} {:>4} charges, ρ {:.6}",
                        charges.len(),
                        charges.iter().sum::<f64>()
                    );
                }
            }
            let other: Vec<f64> = s
                .ledger
                .iter()
                .filter(|c| !["one-way", "select", "edge"].iter().any(|k| c.what.contains(k)))
                .map(|c| c.rho.get())
                .collect();
            if !other.is_empty() {
                println!(
                    "  {:<11} {:>4} charges, ρ {:.6}",
                    "measurement",
                    other.len(),
                    other.iter().sum::<f64>()
                );
            }
        }
        _ => {
            println!("guarantee     NONE: the Gaussian copula is not differentially private; do not release its output")
        }
    }
    if !s.selected.is_empty() {
        println!("selected      {} marginals:", s.selected.len());
        for c in &s.selected {
            println!("  {}", c.join(" × "));
        }
    }
    if s.model_cells > 0 {
        println!(
            "model size    {} cells ({:.2} MB)",
            s.model_cells,
            s.model_cells as f64 * 8.0 / 1048576.0
        );
    }
    println!(
        "rules         {} of {} drawn records repaired, {} rejected ({:.2}%)",
        s.report.records_repaired,
        s.report.records_drawn,
        s.report.records_rejected,
        100.0 * s.report.rejection_rate()
    );
    println!("wrote         {} rows to {}", s.output.n_rows(), a.out.display());
    if let Some(m) = &a.save_model {
        println!("model         {}", m.display());
    }
    println!("time          {:.1} s", took.as_secs_f64());
}

pub fn run_sample(a: SampleArgs) -> Result<Outcome> {
    let text = std::fs::read_to_string(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let (model, method) = modelfile::from_json(&text, &a.model.display().to_string())?;
    let mut rng = rng(a.seed);
    let (table, report) = model.sample(a.rows, &mut rng)?;
    files::write_synthetic(&a.out, &table, &table::csv::CsvOptions::default())?;
    println!(
        "sampled {} rows from a {method} model (no privacy cost); {} records rejected by the rules; wrote {}",
        table.n_rows(),
        report.records_rejected,
        a.out.display()
    );
    Ok(Outcome::Success)
}
