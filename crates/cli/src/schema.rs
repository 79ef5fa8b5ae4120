//! `synthema schema …`: check data against a dictionary, import a REDCap dictionary, draft a
//! dictionary from data.

use crate::dialect::Dialect;
use crate::{Outcome, files};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Validate a data file (CSV, or Parquet by extension) against a dictionary and list every
    /// problem with file, line, column, value and the rule broken. Exit code 1 if any.
    Check(CheckArgs),
    /// Convert a REDCap data dictionary export (CSV) into a synthema dictionary.
    ImportRedcap(ImportArgs),
    /// Draft a dictionary from a data file. Its bounds and levels are read from the data and
    /// are disclosive: replace them with public values before any private use.
    Infer(InferArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The data file.
    pub data: PathBuf,
    /// The dictionary (TOML).
    #[arg(long)]
    pub schema: PathBuf,
    /// List at most this many problems (the total is always counted).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub dialect: Dialect,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The REDCap data dictionary export (CSV).
    pub redcap_dictionary: PathBuf,
    /// Write the dictionary here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InferArgs {
    /// The data file (CSV).
    pub data: PathBuf,
    /// Write the draft here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A column with at most this many distinct values is drafted as categorical.
    #[arg(long, default_value_t = 30)]
    pub max_levels: usize,
    /// The dictionary's name (default: the file name).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub dialect: Dialect,
}

pub fn run(c: SchemaCommand) -> Result<Outcome> {
    match c {
        SchemaCommand::Check(a) => check(a),
        SchemaCommand::ImportRedcap(a) => import_redcap(a),
        SchemaCommand::Infer(a) => infer(a),
    }
}

fn check(a: CheckArgs) -> Result<Outcome> {
    let dict = files::read_dictionary(&a.schema)?;
    let name = a.data.display().to_string();
    if files::is_parquet(&a.data) {
        return match files::read_table(&a.data, dict, &a.dialect.options()?) {
            Ok(t) => {
                println!("{name}: {} rows, no problems", t.n_rows());
                Ok(Outcome::Success)
            }
            Err(e) => match e.downcast::<table::Error>() {
                Ok(table::Error::Invalid(p)) => {
                    println!("{p}");
                    println!("{name}: stopped at the first problem (Parquet files are checked strictly)");
                    Ok(Outcome::Invalid)
                }
                Ok(other) => Err(other.into()),
                Err(e) => Err(e),
            },
        };
    }
    let report = table::validate::check(files::open(&a.data)?, &name, dict, &a.dialect.options()?, a.limit)?;
    let mut out = std::io::stdout().lock();
    for p in &report.problems {
        writeln!(out, "{p}")?;
    }
    let total = report.problems.len() as u64 + report.not_listed;
    if report.not_listed > 0 {
        writeln!(
            out,
            "… and {} more problems not listed (raise --limit to see them)",
            report.not_listed
        )?;
    }
    if total == 0 {
        writeln!(out, "{name}: {} rows, no problems", report.rows)?;
        Ok(Outcome::Success)
    } else {
        writeln!(
            out,
            "{name}: {} rows read, {total} problem{}",
            report.rows,
            if total == 1 { "" } else { "s" }
        )?;
        Ok(Outcome::Invalid)
    }
}

fn emit(out: &Option<PathBuf>, text: &str) -> Result<()> {
    match out {
        Some(path) => files::write_atomically(path, |w| Ok(w.write_all(text.as_bytes())?)),
        None => Ok(std::io::stdout().lock().write_all(text.as_bytes())?),
    }
}

fn import_redcap(a: ImportArgs) -> Result<Outcome> {
    let name = a.redcap_dictionary.display().to_string();
    let imported = table::redcap::import_redcap(files::open(&a.redcap_dictionary)?, &name)?;
    for n in &imported.notes {
        eprintln!("note: {n}");
    }
    for u in &imported.unmapped {
        eprintln!("{name}:{}: {}: {}", u.line, u.variable, u.reason);
    }
    emit(&a.out, &imported.dictionary.to_toml())?;
    eprintln!(
        "imported {} columns; {} item{} need attention (listed above); add bounds, bins and rules by hand",
        imported.dictionary.columns.len(),
        imported.unmapped.len(),
        if imported.unmapped.len() == 1 { "" } else { "s" }
    );
    Ok(Outcome::Success)
}

fn infer(a: InferArgs) -> Result<Outcome> {
    let name = a.data.display().to_string();
    let dict_name = a.name.clone().unwrap_or_else(|| stem(&a.data));
    let opts = a.dialect.options()?;
    let (header, records) =
        table::csv::read_records(files::open(&a.data)?, &name, &opts).with_context(|| format!("cannot read {name}"))?;
    let infer_opts = table::infer::InferOptions {
        max_levels: a.max_levels,
        decimal: opts.decimal,
    };
    let inferred = table::infer::infer(&header, records, &dict_name, &infer_opts)?;
    eprintln!(
        "WARNING: this draft's bounds and levels were read from {name}. Read from private data they are \
         themselves disclosive: replace them with public values (published ranges, code lists) before \
         using the dictionary for synthesis or sharing it."
    );
    for w in &inferred.warnings {
        eprintln!("warning: {w}");
    }
    emit(&a.out, &inferred.dictionary.to_toml())?;
    Ok(Outcome::Success)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dictionary".into())
}
