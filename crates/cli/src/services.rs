//! The federation's services and their tools: `pki`, `hub`, `aggregator`, `node`, `job`, `audit`.
//! Everything here parses arguments and calls the `server` crate.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use server::api::{JobRequest, JobState, JobStatus};
use server::client::JobClient;
use server::config::{self, MethodName};
use server::pki::{IssueOptions, Role};

use crate::Outcome;

/// `synthema pki …`
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create the project's certificate authority (ca.pem, ca-key.pem with mode 0600).
    Init {
        /// Directory for the CA (created; existing files are never overwritten).
        #[arg(long)]
        dir: PathBuf,
        /// The project's name (letters, digits, '.', '_', '-').
        #[arg(long, default_value = "synthema")]
        project: String,
    },
    /// Issue a party's certificate and key, signed by the project CA.
    Issue {
        /// The CA directory made by `pki init`.
        #[arg(long)]
        ca: PathBuf,
        /// The party's role.
        #[arg(long)]
        role: Role,
        /// The party's name (a site's name is its id in jobs and policies).
        #[arg(long)]
        name: String,
        /// Host names or IP addresses the service is reached at (hub, aggregator); default
        /// localhost and 127.0.0.1.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Output directory: cert.pem, key.pem (0600), ca.pem.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `synthema job …`: a researcher's commands (user certificate).
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Submit a synthesis job.
    Submit {
        #[command(flatten)]
        hub: HubArgs,
        /// The dataset, as configured at the hub.
        #[arg(long)]
        dataset: String,
        /// Columns to model (comma-separated dictionary names); default every modelled column.
        #[arg(long, value_delimiter = ',')]
        columns: Vec<String>,
        /// Method.
        #[arg(long, value_enum, default_value = "aim")]
        method: MethodArg,
        /// ε of the job at every site.
        #[arg(long)]
        epsilon: f64,
        /// δ of the job.
        #[arg(long, default_value_t = 1e-9)]
        delta: f64,
        /// Synthetic rows to produce.
        #[arg(long)]
        rows: u64,
        /// Minimum number of sites any release aggregates.
        #[arg(long, default_value_t = 2)]
        min_sites: u32,
        /// Wait for the job to end, showing its progress; with --out, fetch its result.
        #[arg(long)]
        wait: bool,
        /// Where to write the synthetic CSV (with --wait).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show a job's status.
    Status {
        #[command(flatten)]
        hub: HubArgs,
        /// The job's id.
        id: String,
    },
    /// Fetch the synthetic data of a succeeded job.
    Fetch {
        #[command(flatten)]
        hub: HubArgs,
        /// The job's id.
        id: String,
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Cancel a queued or running job: no further round is opened.
    Cancel {
        #[command(flatten)]
        hub: HubArgs,
        /// The job's id.
        id: String,
    },
}

/// Where the hub is and who is asking.
#[derive(Debug, Args)]
pub struct HubArgs {
    /// The hub's URL, e.g. https://hub.example.org:7443.
    #[arg(long)]
    hub: String,
    /// The user's credentials directory (from `pki issue --role user`).
    #[arg(long)]
    cert: PathBuf,
}

/// A method on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MethodArg {
    /// AIM.
    Aim,
    /// MST.
    Mst,
}

/// `synthema audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify hash-chained audit logs: any edited, deleted or reordered entry is reported with
    /// its line.
    Verify {
        /// Log files.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
    },
}

/// A service's configuration file.
#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// The TOML configuration (samples in docs/samples/).
    #[arg(long)]
    config: PathBuf,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

pub fn pki(command: PkiCommand) -> Result<Outcome> {
    match command {
        PkiCommand::Init { dir, project } => {
            server::pki::init(&dir, &project)?;
            println!("created the project CA in {} (keep ca-key.pem offline)", dir.display());
        }
        PkiCommand::Issue {
            ca,
            role,
            name,
            hosts,
            days,
            out,
        } => {
            let options = IssueOptions {
                role,
                name: name.clone(),
                hosts,
                validity_days: days,
                not_after_override: None,
            };
            server::pki::issue(&ca, &options, &out)?;
            println!(
                "issued {role}:{name} into {} (cert.pem, key.pem, ca.pem)",
                out.display()
            );
        }
    }
    Ok(Outcome::Success)
}

pub fn hub(a: ServiceArgs) -> Result<Outcome> {
    let config = config::load(&a.config)?;
    runtime()?.block_on(server::hub::run(config, stop_signal()))?;
    Ok(Outcome::Success)
}

pub fn aggregator(a: ServiceArgs) -> Result<Outcome> {
    let config = config::load(&a.config)?;
    runtime()?.block_on(server::aggregator::run(config, stop_signal()))?;
    Ok(Outcome::Success)
}

pub fn node(a: ServiceArgs) -> Result<Outcome> {
    let config = config::load(&a.config)?;
    runtime()?.block_on(server::node::run(config, stop_signal()))?;
    Ok(Outcome::Success)
}

pub fn audit(command: AuditCommand) -> Result<Outcome> {
    let AuditCommand::Verify { logs } = command;
    let mut ok = true;
    for log in logs {
        match server::audit::verify(&log) {
            Ok(s) => println!("{}: intact, {} entries, head {}", log.display(), s.entries, s.head),
            Err(e) => {
                ok = false;
                println!("{}: BROKEN: {e:#}", log.display());
            }
        }
    }
    Ok(if ok { Outcome::Success } else { Outcome::Invalid })
}

fn print_status(s: &JobStatus) {
    println!("job      {}", s.id);
    println!("state    {}", s.describe());
    println!(
        "request  {} {:?} over {}, (ε, δ) = ({}, {}), {} rows, at least {} sites",
        s.request.dataset,
        s.request.method,
        s.sites.join(", "),
        s.request.epsilon,
        s.request.delta,
        s.request.rows,
        s.request.min_sites
    );
    if let Some((n, head)) = &s.audit_head {
        println!("audit    hub log has {n} entries, head {head}");
    }
}

/// Polls a job until it is final, with a progress display.
pub async fn wait(client: &JobClient, id: &str) -> Result<JobStatus> {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(120));
    loop {
        let s = client.status(id).await?;
        bar.set_message(format!("{id}: {}", s.describe()));
        if s.state.is_final() {
            bar.finish_and_clear();
            return Ok(s);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub fn job(command: JobCommand) -> Result<Outcome> {
    runtime()?.block_on(async {
        match command {
            JobCommand::Submit {
                hub,
                dataset,
                columns,
                method,
                epsilon,
                delta,
                rows,
                min_sites,
                wait: block,
                out,
            } => {
                let client = JobClient::new(&hub.cert, &hub.hub)?;
                let request = JobRequest {
                    dataset,
                    columns,
                    method: match method {
                        MethodArg::Aim => MethodName::Aim,
                        MethodArg::Mst => MethodName::Mst,
                    },
                    epsilon,
                    delta,
                    rows,
                    min_sites,
                };
                let status = client.submit(&request).await?;
                println!("submitted {}", status.id);
                if !block {
                    return Ok(Outcome::Success);
                }
                let status = wait(&client, &status.id).await?;
                print_status(&status);
                if status.state != JobState::Succeeded {
                    return Ok(Outcome::Invalid);
                }
                if let Some(out) = out {
                    let bytes = client.fetch(&status.id).await?;
                    std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
                    println!("wrote    {} ({} bytes)", out.display(), bytes.len());
                }
                Ok(Outcome::Success)
            }
            JobCommand::Status { hub, id } => {
                let status = JobClient::new(&hub.cert, &hub.hub)?.status(&id).await?;
                print_status(&status);
                Ok(Outcome::Success)
            }
            JobCommand::Fetch { hub, id, out } => {
                let bytes = JobClient::new(&hub.cert, &hub.hub)?.fetch(&id).await?;
                std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
                println!("wrote {} ({} bytes)", out.display(), bytes.len());
                Ok(Outcome::Success)
            }
            JobCommand::Cancel { hub, id } => {
                let status = JobClient::new(&hub.cert, &hub.hub)?.cancel(&id).await?;
                print_status(&status);
                Ok(Outcome::Success)
            }
        }
    })
}
