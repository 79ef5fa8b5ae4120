//! `synthema`: the command-line tool. Argument parsing, file paths, exit codes, progress and
//! human output live here; every algorithm lives in a library crate.

mod anonymize;
mod demo;
mod dialect;
mod evaluate;
mod federate;
mod files;
mod modelfile;
mod schema;
mod services;
mod simulate;
mod synth;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Federated, privacy-preserving synthetic health data.
#[derive(Debug, Parser)]
#[command(name = "synthema", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole pipeline on this machine with embedded defaults.
    Demo(demo::DemoArgs),
    /// Simulate a multi-site AML or SCD cohort with its data dictionary.
    Simulate(simulate::SimulateArgs),
    /// Fit a synthesizer to a data file and write synthetic rows (differentially private
    /// unless the method is the copula baseline).
    Synth(synth::SynthArgs),
    /// Federated synthesis over several sites' files, simulated in one process: each site keeps
    /// its data, only secret shares leave it, and every site's ledger enforces its budget.
    Federate(federate::FederateArgs),
    /// Draw more rows from a saved model, at no privacy cost.
    Sample(synth::SampleArgs),
    /// Validate synthetic data against the real data: fidelity, utility, clinical agreement and
    /// privacy risk, in report.html and metrics.json.
    Evaluate(evaluate::EvaluateArgs),
    /// Anonymise a real extract: pseudonyms, generalisation to k-anonymity / l-diversity /
    /// t-closeness, with a re-identification risk report.
    Anonymize(anonymize::AnonymizeArgs),
    /// Data dictionaries: check data against one, import one from REDCap, draft one from data.
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
    /// The project's certificate authority and the parties' certificates.
    #[command(subcommand)]
    Pki(services::PkiCommand),
    /// Run the hub: coordinator and leader aggregator (HTTPS, mutual TLS).
    Hub(services::ServiceArgs),
    /// Run a computing centre's helper aggregator (HTTPS, mutual TLS).
    Aggregator(services::ServiceArgs),
    /// Run a hospital's node: connects outbound only, keeps the data and the privacy ledger.
    Node(services::ServiceArgs),
    /// Submit, follow, fetch or cancel a federated synthesis job (as a researcher).
    #[command(subcommand)]
    Job(services::JobCommand),
    /// Verify hash-chained audit logs.
    #[command(subcommand)]
    Audit(services::AuditCommand),
}

/// What a command reports to `main`, which turns it into an exit code.
pub enum Outcome {
    /// Everything went well (exit 0).
    Success,
    /// The input was read but breaks its dictionary (exit 1); problems were printed.
    Invalid,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Schema(c) => schema::run(c),
        Command::Synth(a) => synth::run_synth(a),
        Command::Federate(a) => federate::run(a),
        Command::Anonymize(a) => anonymize::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Sample(a) => synth::run_sample(a),
        Command::Pki(c) => services::pki(c),
        Command::Hub(a) => services::hub(a),
        Command::Aggregator(a) => services::aggregator(a),
        Command::Node(a) => services::node(a),
        Command::Job(c) => services::job(c),
        Command::Audit(c) => services::audit(c),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
