//! `synthema anonymize`: an anonymised extract of real data (pseudonyms, generalisation,
//! k-anonymity / l-diversity / t-closeness) with a risk and utility report.

use crate::dialect::Dialect;
use crate::{Outcome, files};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// The environment variable that may hold the pseudonymisation key (at least 32 bytes).
pub const KEY_ENV: &str = "SYNTHEMA_PSEUDONYM_KEY";

#[derive(Debug, Args)]
pub struct AnonymizeArgs {
    /// The real data (CSV, or Parquet by extension).
    #[arg(long)]
    pub input: PathBuf,
    /// Its data dictionary.
    #[arg(long)]
    pub schema: PathBuf,
    /// The anonymisation config (TOML; see docs/anonymization.md and examples/anonymize/).
    #[arg(long)]
    pub config: PathBuf,
    /// The anonymised extract (CSV, or Parquet by extension); its dictionary is written beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Directory for report.html, report.json and strategy.toml.
    #[arg(long)]
    pub report: PathBuf,
    /// Re-apply a saved strategy (strategy.toml of an earlier run) instead of searching.
    #[arg(long)]
    pub strategy: Option<PathBuf>,
    /// File holding the pseudonymisation key (≥ 32 bytes). Without it, the key is read from
    /// the environment variable SYNTHEMA_PSEUDONYM_KEY. The key is never written anywhere.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    #[command(flatten)]
    pub dialect: Dialect,
}

fn read_key(a: &AnonymizeArgs) -> Result<Option<anon::Key>> {
    let bytes = match &a.key_file {
        Some(path) => Some(std::fs::read(path).with_context(|| format!("cannot read key file {}", path.display()))?),
        None => std::env::var_os(KEY_ENV).map(|v| v.into_encoded_bytes()),
    };
    match bytes {
        None => Ok(None),
        Some(b) => Ok(Some(anon::Key::from_bytes(&b).context("the pseudonymisation key")?)),
    }
}

pub fn run(a: AnonymizeArgs) -> Result<Outcome> {
    let dict = files::read_dictionary(&a.schema)?;
    let opts = a.dialect.options()?;
    let data = files::read_table(&a.input, dict, &opts)?;
    let config_text =
        std::fs::read_to_string(&a.config).with_context(|| format!("cannot read {}", a.config.display()))?;
    let config = anon::Config::from_toml(&config_text, &a.config.display().to_string())?;
    let key = read_key(&a)?;
    let result = match &a.strategy {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let strategy = anon::Strategy::from_toml(&text).with_context(|| format!("strategy {}", path.display()))?;
            anon::apply_strategy(&data, &config, &strategy, key.as_ref())
        }
        None => anon::anonymize(&data, &config, key.as_ref()),
    };
    let outcome = match result {
        Ok(o) => o,
        Err(anon::Error::NoSolution(n)) => {
            println!("{n}");
            println!("nothing was written: relax k/l/t, raise the suppression limit or add hierarchy levels");
            return Ok(Outcome::Invalid);
        }
        Err(e) => bail!(e),
    };
    let dict_path = files::write_synthetic(&a.out, &outcome.output, &opts)?;
    std::fs::create_dir_all(&a.report).with_context(|| format!("cannot create {}", a.report.display()))?;
    let json = serde_json::to_string_pretty(&outcome.report.to_json())?;
    files::write_atomically(&a.report.join("report.json"), |w| Ok(w.write_all(json.as_bytes())?))?;
    files::write_atomically(&a.report.join("report.html"), |w| {
        Ok(w.write_all(outcome.report.to_html().as_bytes())?)
    })?;
    files::write_atomically(&a.report.join("strategy.toml"), |w| {
        Ok(w.write_all(outcome.strategy.to_toml().as_bytes())?)
    })?;
    println!(
        "wrote {} ({} rows) and {}",
        a.out.display(),
        outcome.output.n_rows(),
        dict_path.display()
    );
    println!(
        "report {}/report.html, {}/report.json; strategy {}/strategy.toml (re-apply with --strategy)",
        a.report.display(),
        a.report.display(),
        a.report.display()
    );
    Ok(Outcome::Success)
}
