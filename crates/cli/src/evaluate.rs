//! `synthema evaluate`: the validation report of a synthetic table against the real one.

use crate::dialect::Dialect;
use crate::{Outcome, files};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use table::{Kind, Table};

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The real data the synthesizer was trained on (CSV, or Parquet by extension).
    #[arg(long)]
    pub real: PathBuf,
    /// The synthetic data.
    #[arg(long)]
    pub synthetic: PathBuf,
    /// The real data's dictionary.
    #[arg(long)]
    pub schema: PathBuf,
    /// The synthetic data's dictionary (default: SYNTHETIC.dictionary.toml beside it if it
    /// exists, else --schema).
    #[arg(long)]
    pub synthetic_schema: Option<PathBuf>,
    /// Real records NOT used for training: needed by the privacy attacks and as the test set.
    #[arg(long)]
    pub holdout: Option<PathBuf>,
    /// Utility target: a column (classification or regression) or a time-to-event pair name.
    #[arg(long)]
    pub target: Option<String>,
    /// Add a time-to-event pair TIME:STATUS (repeatable) to those of the dictionary.
    #[arg(long = "time-to-event", value_name = "TIME:STATUS")]
    pub time_to_event: Vec<String>,
    /// Stratify survival by every level of these categorical or boolean columns (comma
    /// separated), instead of the default strata.
    #[arg(long, value_delimiter = ',')]
    pub strata: Vec<String>,
    /// Sensitive columns for the attribute-inference attack (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Vec<String>,
    /// Also run the shadow-model membership attack, with MST (ε = 1) as the shadow
    /// synthesizer (slower: about 200 synthesizer runs).
    #[arg(long)]
    pub shadow_attack: bool,
    /// Seed of every sampling choice of the evaluation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output directory: report.html and metrics.json.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub dialect: Dialect,
}

fn strata_for(table: &Table, columns: &[String]) -> Result<Vec<(String, String)>> {
    let dict = table.dictionary();
    let mut out = Vec::new();
    for c in columns {
        let col = dict
            .column(c)
            .with_context(|| format!("--strata: column {c:?} is not in the dictionary"))?;
        let quoted = format!("`{}`", c.replace('`', ""));
        match &col.kind {
            Kind::Categorical { levels, .. } => {
                for l in levels {
                    out.push((
                        format!("{c} = {l}"),
                        format!("{quoted} == '{}'", l.replace('\'', "\\'")),
                    ));
                }
            }
            Kind::Boolean { .. } => {
                out.push((format!("{c} = 1"), format!("{quoted} == 1")));
                out.push((format!("{c} = 0"), format!("{quoted} == 0")));
            }
            k => bail!("--strata: column {c:?} is {}, not categorical or boolean", k.name()),
        }
    }
    Ok(out)
}

/// MST at ε = 1 as the shadow synthesizer (the attacker's model of the release).
fn shadow_mst(data: &Table, seed: u64) -> Table {
    use rand::SeedableRng;
    let request = synth::Request {
        method: synth::Method::Mst,
        budget: dp::Epsilon::new(1.0).ok().zip(dp::Delta::new(1e-9).ok()),
        rows: data.n_rows().max(1),
        workload_degree: 2,
        max_model_mb: 80.0,
        rounds: None,
        iters: 200,
        encode: table::encode::EncodeOptions::default(),
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    match synth::synthesize(data, &request, &mut rng, &mut |_| {}) {
        Ok(s) => s.output,
        // An empty release: the attack then has nothing to learn from, which it reports.
        Err(_) => Table::new(data.dictionary().clone()),
    }
}

pub fn run(a: EvaluateArgs) -> Result<Outcome> {
    let start = Instant::now();
    let opts = a.dialect.options()?;
    let dict = files::read_dictionary(&a.schema)?;
    let real = files::read_table(&a.real, dict.clone(), &opts)?;
    let holdout = a
        .holdout
        .as_ref()
        .map(|h| files::read_table(h, dict.clone(), &opts))
        .transpose()?;
    let synth_schema = match &a.synthetic_schema {
        Some(p) => p.clone(),
        None => {
            let sidecar = files::sidecar_dictionary(&a.synthetic);
            if sidecar.exists() { sidecar } else { a.schema.clone() }
        }
    };
    let synthetic = files::read_table(&a.synthetic, files::read_dictionary(&synth_schema)?, &opts)?;
    let mut pairs = Vec::new();
    for p in &a.time_to_event {
        let (t, s) = p
            .split_once(':')
            .with_context(|| format!("--time-to-event {p:?}: expected TIME:STATUS"))?;
        pairs.push((t.to_string(), s.to_string()));
    }
    let strata = if a.strata.is_empty() {
        None
    } else {
        Some(strata_for(&real, &a.strata)?)
    };
    let shadow: &eval::privacy::Synthesizer = &shadow_mst;
    let options = eval::report::EvaluateOptions {
        target: a.target.clone(),
        time_to_event: pairs,
        strata,
        sensitive: a.sensitive.clone(),
        shadow: a.shadow_attack.then_some(shadow),
        seed: a.seed,
    };
    let bar = indicatif::ProgressBar::new_spinner()
        .with_message("evaluating fidelity, utility, clinical agreement and privacy risk");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut report = eval::report::evaluate(&real, &synthetic, holdout.as_ref(), &options)?;
    bar.finish_and_clear();
    report.json["seconds"] = serde_json::json!((start.elapsed().as_secs_f64() * 10.0).round() / 10.0);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    write_report(&a.out, &report)?;
    print_summary(&report);
    println!(
        "wrote {}/report.html and {}/metrics.json in {:.1} s",
        a.out.display(),
        a.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(Outcome::Success)
}

/// Writes report.html and metrics.json into `dir`.
pub fn write_report(dir: &Path, report: &eval::report::Report) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = serde_json::to_string_pretty(&report.json)?;
    files::write_atomically(&dir.join("metrics.json"), |w| Ok(w.write_all(json.as_bytes())?))?;
    let html = report.to_html();
    files::write_atomically(&dir.join("report.html"), |w| Ok(w.write_all(html.as_bytes())?))
}

/// The traffic lights on stdout.
pub fn print_summary(report: &eval::report::Report) {
    for item in report.json["summary"].as_array().into_iter().flatten() {
        println!(
            "  {:<6} {:<9} {} = {}",
            item["light"].as_str().unwrap_or("?"),
            item["section"].as_str().unwrap_or("?"),
            item["measure"].as_str().unwrap_or("?"),
            item["value"].as_str().unwrap_or("?")
        );
    }
}
