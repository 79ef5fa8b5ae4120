//! `synthema federate`: federated synthesis in simulation mode. Every site's file stays in its
//! own `federation::SiteNode`; a hub, a helper aggregator and the sites run in one process
//! (`federation::Simulation`), every message encoded and decoded on every hop. MST or AIM runs
//! unchanged on the `federation::FederatedOracle`; the model it fits is sampled under the rules.

use crate::dialect::Dialect;
use crate::{Outcome, files};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use dp::{Accountant, Epsilon, Rho};
use federation::msg::JobAnnouncement;
use federation::{
    AggregatorFault, Fault, FederatedOracle, InMemoryLedger, JobId, Method, Noise, PrivacyLedger, RestartStep,
    Selection, SimEvent, Simulation, SimulationConfig, SiteId, SiteNode, SitePolicy, Step,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use synth::aim::{AimOptions, aim};
use synth::model::FittedModel;
use synth::mst::mst;
use synth::oracle::{Candidate, MeasurementOracle, NoisyMarginal};
use synth::sample::Compression;
use table::encode::{Domain, EncodeOptions};

/// Who the simulated hub says is asking (the sites' policies allow exactly this requester).
const REQUESTER: &str = "synthema-federate";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FederatedMethod {
    /// AIM: adaptive and workload-aware.
    Aim,
    /// MST: maximum spanning tree of pairs.
    Mst,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SelectionArg {
    /// Summed local scores, minus each candidate's estimated between-site heterogeneity floor
    /// (post-processing of earlier releases; see docs/federation.md §5a).
    FloorCorrected,
    /// Secure sum of the sites' quantised local scores, with aggregator noise.
    SummedScores,
    /// The candidates' marginals measured together, then scored.
    NoisyMarginals,
    /// One exponential-mechanism vote per site, secure-summed.
    LocalVotes,
}

#[derive(Debug, Args)]
#[command(after_help = FAULT_HELP)]
pub struct FederateArgs {
    /// One site's data file (CSV, or Parquet by extension); repeat once per site. Site k (from 1,
    /// in the order given) is named after its file stem.
    #[arg(long = "site", required = true)]
    pub sites: Vec<PathBuf>,
    /// The shared data dictionary: the only source of domains (levels, bounds, bins).
    #[arg(long)]
    pub schema: PathBuf,
    #[arg(long, value_enum)]
    pub method: FederatedMethod,
    /// ε of the (ε, δ)-DP guarantee of the whole synthesis, at every site.
    #[arg(long, allow_negative_numbers = true)]
    pub epsilon: f64,
    /// δ of the (ε, δ)-DP guarantee, in (0, 1); use far less than 1/rows.
    #[arg(long, allow_negative_numbers = true)]
    pub delta: f64,
    /// Number of synthetic rows.
    #[arg(long)]
    pub rows: usize,
    /// Output file (CSV, or Parquet by extension); its dictionary goes beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed every random choice, noise included. FOR TESTING ONLY: a known seed lets anyone
    /// reproduce the noise and void the privacy guarantee. Without it, the OS seeds.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Inject a fault into the simulation (repeatable); see FAULTS below.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
    /// How candidate marginals are selected without revealing the union's exact scores.
    #[arg(long, value_enum, default_value = "floor-corrected")]
    pub selection: SelectionArg,
    /// Fewest sites a round may release over (the sites' policies and the helper require it too).
    #[arg(long, default_value_t = 2)]
    pub min_sites: u32,
    /// AIM's number of rounds (default 16 × the number of modelled columns).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// AIM's workload: all marginals of this many columns.
    #[arg(long, default_value_t = 2)]
    pub degree: usize,
    /// AIM's model-size cap, in MB.
    #[arg(long, default_value_t = 80.0)]
    pub max_model_mb: f64,
    /// Mirror-descent iterations of the final model estimate.
    #[arg(long, default_value_t = 1000)]
    pub iters: usize,
    /// Equal-width bins for numeric columns without public bin edges.
    #[arg(long, default_value_t = 16)]
    pub default_bins: usize,
    #[command(flatten)]
    pub dialect: Dialect,
}

const FAULT_HELP: &str = "\
FAULTS (--fault SPEC, simulation only; SITE is a site's number from 1 in --site order, or its
name; ROUND counts the protocol's rounds from 1):
  drop:SITE@announcement        the site never answers the job announcement
  drop:SITE@ROUND[:request]     the site goes silent when round ROUND is requested
  drop:SITE@ROUND:helper-upload the site uploads its leader share, then vanishes
  replay:SITE@ROUND             both uploads of the round are delivered twice
  out-of-range:SITE@ROUND       the site sends a report whose cells are out of range
  tamper:SITE@ROUND             one byte of the site's leader share is altered in transit
  impersonate:SITE@ROUND:OTHER  the site's uploads claim to come from site OTHER
  hub-restart@ROUND:uploads     the hub crashes once the round's uploads arrived and restarts
                                from its persisted checkpoint
  hub-restart@ROUND:helper-share  the hub crashes after the helper released its share
  helper-timeout@ROUND          the helper aggregator never answers the request for its share

EXIT STATUS: 0 on success; 1 when the job fails (too few sites, a refusal): nothing is written;
2 on bad arguments or input (a malformed fault spec, an unreadable file).";

/// A parsed `--fault` SPEC: a site's fault or an aggregator's.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultSpec {
    /// A site misbehaves or vanishes.
    Site(Fault),
    /// The hub restarts or the helper times out.
    Aggregator(AggregatorFault),
}

/// Parses one `--fault` SPEC (see [`FAULT_HELP`]).
pub fn parse_spec(spec: &str, names: &[String]) -> Result<FaultSpec> {
    let bad = |why: &str| anyhow!("malformed fault spec {spec:?}: {why} (see `synthema federate --help`)");
    let round = |r: &str| -> Result<u32> {
        r.parse()
            .ok()
            .filter(|&r: &u32| r >= 1)
            .ok_or_else(|| bad(&format!("round {r:?} is not a number from 1")))
    };
    if let Some(rest) = spec.strip_prefix("hub-restart@") {
        let (r, step) = rest
            .split_once(':')
            .ok_or_else(|| bad("expected hub-restart@ROUND:uploads or :helper-share"))?;
        let step = match step {
            "uploads" => RestartStep::Uploads,
            "helper-share" => RestartStep::HelperShare,
            other => return Err(bad(&format!("step {other:?} is not uploads or helper-share"))),
        };
        return Ok(FaultSpec::Aggregator(AggregatorFault::HubRestart {
            round: round(r)?,
            step,
        }));
    }
    if let Some(r) = spec.strip_prefix("helper-timeout@") {
        return Ok(FaultSpec::Aggregator(AggregatorFault::HelperTimeout {
            round: round(r)?,
        }));
    }
    parse_fault(spec, names).map(FaultSpec::Site)
}

/// Parses one site `--fault` SPEC against the site names (see [`FAULT_HELP`]).
pub fn parse_fault(spec: &str, names: &[String]) -> Result<Fault> {
    let bad = |why: &str| anyhow!("malformed fault spec {spec:?}: {why} (see `synthema federate --help`)");
    let (kind, rest) = spec.split_once(':').ok_or_else(|| bad("expected KIND:SITE@ROUND"))?;
    let (site, when) = rest
        .split_once('@')
        .ok_or_else(|| bad("expected SITE@ROUND after the kind"))?;
    let site_index = |s: &str| -> Result<usize> {
        if let Ok(k) = s.parse::<usize>() {
            if k == 0 || k > names.len() {
                return Err(bad(&format!("site {k} is not in 1..={}", names.len())));
            }
            return Ok(k - 1);
        }
        names
            .iter()
            .position(|n| n == s)
            .ok_or_else(|| bad(&format!("no site is named {s:?} (sites: {})", names.join(", "))))
    };
    let site = site_index(site)?;
    let (round, extra) = match when.split_once(':') {
        Some((r, e)) => (r, Some(e)),
        None => (when, None),
    };
    if kind == "drop" && round == "announcement" {
        if extra.is_some() {
            return Err(bad("drop at the announcement takes no step"));
        }
        return Ok(Fault::Drop {
            site,
            round: 0,
            step: Step::Announcement,
        });
    }
    let round: u32 = round
        .parse()
        .ok()
        .filter(|&r| r >= 1)
        .ok_or_else(|| bad(&format!("round {round:?} is not a number from 1")))?;
    let no_extra = || match extra {
        Some(e) => Err(bad(&format!("unexpected {e:?} after the round"))),
        None => Ok(()),
    };
    Ok(match kind {
        "drop" => {
            let step = match extra {
                None | Some("request") => Step::Request,
                Some("helper-upload") => Step::HelperUpload,
                Some(other) => return Err(bad(&format!("step {other:?} is not request or helper-upload"))),
            };
            Fault::Drop { site, round, step }
        }
        "replay" => {
            no_extra()?;
            Fault::ReplayUpload { site, round }
        }
        "out-of-range" => {
            no_extra()?;
            Fault::OutOfRange { site, round }
        }
        "tamper" => {
            no_extra()?;
            Fault::TamperShare { site, round }
        }
        "impersonate" => {
            let other = extra.ok_or_else(|| bad("impersonate needs the claimed site: SITE@ROUND:OTHER"))?;
            Fault::Impersonate {
                site,
                round,
                claims: site_index(other)?,
            }
        }
        other => {
            return Err(bad(&format!(
                "kind {other:?} is not drop, replay, out-of-range, tamper or impersonate"
            )));
        }
    })
}

/// Human text of a fault, with site names.
fn describe(fault: &Fault, names: &[String]) -> String {
    let name = |i: usize| names.get(i).map_or("?", String::as_str).to_string();
    match fault {
        Fault::Drop { site, round, step } => match step {
            Step::Announcement => format!("{} dropped at the announcement", name(*site)),
            Step::Request => format!("{} dropped at round {round}", name(*site)),
            Step::HelperUpload => format!("{} dropped after its leader share in round {round}", name(*site)),
        },
        Fault::ReplayUpload { site, round } => format!("{} uploads replayed in round {round}", name(*site)),
        Fault::OutOfRange { site, round } => format!("{} sent an out-of-range report in round {round}", name(*site)),
        Fault::TamperShare { site, round } => format!("{} leader share tampered in round {round}", name(*site)),
        Fault::Impersonate { site, round, claims } => {
            format!("{} claimed to be {} in round {round}", name(*site), name(*claims))
        }
    }
}

/// The federated oracle with a progress display and the time spent in federation rounds.
struct Tracked<'a> {
    inner: FederatedOracle,
    bar: &'a ProgressBar,
    label: &'static str,
    in_rounds: Duration,
}

impl Tracked<'_> {
    fn show(&self, what: &str) {
        self.bar
            .set_message(format!("{}: round {} ({what})", self.label, self.inner.rounds() + 1));
    }
}

impl MeasurementOracle for Tracked<'_> {
    fn sizes(&self) -> Vec<usize> {
        self.inner.sizes()
    }

    fn compress(&mut self, maps: &[Option<Vec<u32>>]) -> synth::Result<()> {
        self.inner.compress(maps)
    }

    fn measure(&mut self, attrs: &[usize], rho: Rho, what: &str) -> synth::Result<NoisyMarginal> {
        self.show(what);
        let started = Instant::now();
        let result = self.inner.measure(attrs, rho, what);
        self.in_rounds += started.elapsed();
        result
    }

    fn select(&mut self, candidates: &[Candidate<'_>], epsilon: Epsilon, what: &str) -> synth::Result<usize> {
        self.show(what);
        let started = Instant::now();
        let result = self.inner.select(candidates, epsilon, what);
        self.in_rounds += started.elapsed();
        result
    }

    fn accountant(&self) -> &Accountant {
        self.inner.accountant()
    }
}

/// Distinct site names: the file stems, or `site-K` when two stems collide.
fn site_names(paths: &[PathBuf]) -> Vec<String> {
    let stems: Vec<String> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.file_stem()
                .map_or_else(|| format!("site-{}", i + 1), |s| s.to_string_lossy().into_owned())
        })
        .collect();
    let distinct: BTreeSet<&String> = stems.iter().collect();
    if distinct.len() == stems.len() {
        stems
    } else {
        (1..=paths.len()).map(|k| format!("site-{k}")).collect()
    }
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

fn dataset_name(schema: &Path) -> String {
    schema
        .file_stem()
        .map_or_else(|| "dataset".to_string(), |s| s.to_string_lossy().into_owned())
}

pub fn run(a: FederateArgs) -> Result<Outcome> {
    let start = Instant::now();
    let epsilon = Epsilon::new(a.epsilon).with_context(|| format!("--epsilon {}", a.epsilon))?;
    let delta = dp::Delta::new(a.delta).with_context(|| format!("--delta {}", a.delta))?;
    let rho = dp::rho_from_eps_delta(epsilon, delta)?;
    if a.rows == 0 {
        bail!("--rows must be at least 1");
    }
    if a.sites.len() < 2 {
        bail!("a federation needs at least two --site files, got {}", a.sites.len());
    }
    if a.min_sites == 0 || a.min_sites as usize > a.sites.len() {
        bail!(
            "--min-sites {} must be in 1..={} (the number of --site files)",
            a.min_sites,
            a.sites.len()
        );
    }
    let names = site_names(&a.sites);
    let mut faults = Vec::new();
    let mut aggregator_faults = Vec::new();
    for spec in &a.faults {
        match parse_spec(spec, &names)? {
            FaultSpec::Site(f) => faults.push(f),
            FaultSpec::Aggregator(f) => aggregator_faults.push(f),
        }
    }

    // The public domain, from the dictionary alone (as in a central run).
    let dict = files::read_dictionary(&a.schema)?;
    let modelled = Arc::new(dict.modelled());
    if modelled.columns.is_empty() {
        bail!("the dictionary has no column to model (only identifiers and free text)");
    }
    let encode = EncodeOptions {
        default_bins: a.default_bins,
        ..EncodeOptions::default()
    };
    let domain = Domain::from_dictionary(&modelled, &encode)?;
    let dataset = dataset_name(&a.schema);
    let method = match a.method {
        FederatedMethod::Aim => Method::Aim,
        FederatedMethod::Mst => Method::Mst,
    };
    let policy = SitePolicy {
        max_rho_per_dataset: rho,
        allowed_methods: vec![method],
        min_sites: a.min_sites,
        allowed_requesters: vec![REQUESTER.to_string()],
    };
    let mut seeds = rng(a.seed);
    let opts = a.dialect.options()?;
    let mut sites = Vec::with_capacity(a.sites.len());
    for (path, name) in a.sites.iter().zip(&names) {
        // Each site reads and encodes its own file; its records go into its node only.
        let table = files::read_table(path, dict.clone(), &opts)?;
        let projected = table
            .project(modelled.clone())
            .with_context(|| format!("{} does not match the dictionary", path.display()))?;
        let encoded = domain
            .encode(&projected)
            .with_context(|| format!("cannot encode {}", path.display()))?;
        sites.push(SiteNode::new(
            SiteId(name.clone()),
            &dataset,
            encoded,
            policy.clone(),
            InMemoryLedger::new(),
            ChaCha20Rng::from_rng(&mut seeds),
        ));
    }
    let largest = sites.iter().map(|s| s.data().n_rows() as u64).max().unwrap_or(0);
    let bits = (u64::BITS - largest.leading_zeros()).max(16);
    let announcement = JobAnnouncement {
        job_id: JobId(format!("federate-{dataset}")),
        dataset: dataset.clone(),
        requester: REQUESTER.to_string(),
        method,
        columns: domain.attributes().iter().map(|x| x.name().to_string()).collect(),
        rho_per_site: rho.get(),
        requested_measurements: 0,
        sites: sites.iter().map(|s| s.id().clone()).collect(),
        min_sites: a.min_sites,
        bits,
    };
    let config = SimulationConfig {
        seed: rand::RngExt::random(&mut seeds),
        noise: Noise::DiscreteGaussian,
        helper_min_sites: a.min_sites,
        faults,
    };
    let sim = Simulation::new(announcement, domain.sizes(), sites, config)?.with_aggregator_faults(aggregator_faults);
    let selection = match a.selection {
        SelectionArg::FloorCorrected => Selection::FloorCorrectedScores { resolution: 4 },
        SelectionArg::SummedScores => Selection::SummedLocalScores { resolution: 4 },
        SelectionArg::NoisyMarginals => Selection::NoisyMarginals,
        SelectionArg::LocalVotes => Selection::LocalVotes { resolution: 64 },
    };
    let oracle = FederatedOracle::new(sim, rho, ChaCha20Rng::from_rng(&mut seeds))?.with_selection(selection);
    let bar = spinner();
    let mut tracked = Tracked {
        inner: oracle,
        bar: &bar,
        label: match method {
            Method::Aim => "AIM",
            _ => "MST",
        },
        in_rounds: Duration::ZERO,
    };
    let d = domain.len();
    let fit = match method {
        Method::Aim => {
            let mut options = AimOptions::all_k_way(d, a.degree);
            options.max_model_mb = a.max_model_mb;
            options.rounds = a.rounds;
            options.final_iters = a.iters;
            aim(&mut tracked, &options).map(|f| (f.model, Compression::none(d)))
        }
        _ => mst(&mut tracked, a.iters).map(|f| (f.model, f.compression)),
    };
    bar.finish_and_clear();
    let in_rounds = tracked.in_rounds;
    let rounds = tracked.inner.rounds();
    let sim = tracked.inner.into_simulation();
    let (model, compression) = match fit {
        Ok(fit) => fit,
        Err(e) => {
            let failed = sim.events().iter().find_map(|ev| match ev {
                SimEvent::Failed(f) => Some(f.clone()),
                _ => None,
            });
            if let Some(f) = failed {
                eprintln!("job failed in round {}: {}", f.round.0, f.reason);
                print_federation(&sim, &names, rounds, in_rounds);
                eprintln!("nothing was written");
                return Ok(Outcome::Invalid);
            }
            return Err(e.into());
        }
    };
    let fitted = FittedModel {
        dictionary: modelled,
        domain,
        compression,
        model,
    };
    let (output, report) = fitted.sample(a.rows, &mut seeds)?;
    let dict_path = files::write_synthetic(&a.out, &output, &opts)?;
    println!(
        "method        {} over {} sites, ({}, {})-DP = ρ {:.6}-zCDP at every site",
        match method {
            Method::Aim => "aim",
            _ => "mst",
        },
        names.len(),
        a.epsilon,
        a.delta,
        rho.get()
    );
    print_federation(&sim, &names, rounds, in_rounds);
    println!(
        "rules         {} of {} drawn records repaired, {} rejected ({:.2}%)",
        report.records_repaired,
        report.records_drawn,
        report.records_rejected,
        100.0 * report.rejection_rate()
    );
    println!("wrote         {} rows to {}", output.n_rows(), a.out.display());
    println!("dictionary    {}", dict_path.display());
    println!("time          {:.1} s", start.elapsed().as_secs_f64());
    Ok(Outcome::Success)
}

/// Prints the sites' ledgers against their policies, the rounds, the secure-aggregation cost,
/// rejected contributions, refusals and injected faults.
fn print_federation(sim: &Simulation, names: &[String], rounds: usize, in_rounds: Duration) {
    let active: BTreeSet<SiteId> = sim.hub().active_sites().into_iter().collect();
    println!("sites         {} of {} still active", active.len(), names.len());
    for (site, bytes) in sim.sites().iter().zip(sim.upload_bytes()) {
        let spent = site.ledger().committed(site.dataset());
        let limit = site.policy().max_rho_per_dataset.get();
        let state = if active.contains(site.id()) {
            "active"
        } else {
            "dropped out"
        };
        println!(
            "  {:<12} spent ρ {spent:.6} of its policy's {limit:.6} ({:.1}%), uploaded {} bytes, {state}",
            site.id().0,
            100.0 * spent / limit,
            bytes
        );
    }
    let per_round = |total: usize| total.checked_div(rounds).unwrap_or(0);
    let uploads = sim.upload_bytes();
    let mean = uploads.iter().sum::<usize>() / uploads.len().max(1);
    println!(
        "rounds        {rounds}; secure aggregation {:.2} s in all ({:.1} ms a round), {mean} bytes per site ({} a round)",
        in_rounds.as_secs_f64(),
        if rounds == 0 {
            0.0
        } else {
            1000.0 * in_rounds.as_secs_f64() / rounds as f64
        },
        per_round(mean)
    );
    let rejected = sim.rejected();
    println!("rejected      {} contributions", rejected.len());
    for r in &rejected {
        println!("  round {} from {}: {}", r.round.0, r.site.0, r.detail);
    }
    let faults: Vec<&Fault> = sim
        .events()
        .iter()
        .filter_map(|e| match e {
            SimEvent::FaultInjected(f) => Some(f),
            _ => None,
        })
        .collect();
    let aggregator: Vec<&AggregatorFault> = sim
        .events()
        .iter()
        .filter_map(|e| match e {
            SimEvent::AggregatorFaultInjected(f) => Some(f),
            _ => None,
        })
        .collect();
    println!("faults        {} injected", faults.len() + aggregator.len());
    for f in faults {
        println!("  {}", describe(f, names));
    }
    for f in aggregator {
        match f {
            AggregatorFault::HubRestart { round, step } => {
                println!("  the hub restarted from its checkpoint in round {round} ({step:?})")
            }
            AggregatorFault::HelperTimeout { round } => println!("  the helper timed out in round {round}"),
        }
    }
    for e in sim.events() {
        if let SimEvent::Refused(r) = e {
            let round = r
                .round
                .map_or_else(|| "the job".to_string(), |x| format!("round {}", x.0));
            println!(
                "refused       {} refused {round}: {:?}: {}",
                r.site.0, r.reason, r.detail
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["site-1".into(), "site-2".into(), "site-3".into()]
    }

    #[test]
    fn fault_specs_map_onto_faults() {
        let n = names();
        assert_eq!(
            parse_fault("drop:2@3:helper-upload", &n).unwrap(),
            Fault::Drop {
                site: 1,
                round: 3,
                step: Step::HelperUpload
            }
        );
        assert_eq!(
            parse_fault("drop:site-3@1", &n).unwrap(),
            Fault::Drop {
                site: 2,
                round: 1,
                step: Step::Request
            }
        );
        assert_eq!(
            parse_fault("drop:1@announcement", &n).unwrap(),
            Fault::Drop {
                site: 0,
                round: 0,
                step: Step::Announcement
            }
        );
        assert_eq!(
            parse_fault("replay:1@2", &n).unwrap(),
            Fault::ReplayUpload { site: 0, round: 2 }
        );
        assert_eq!(
            parse_fault("out-of-range:3@4", &n).unwrap(),
            Fault::OutOfRange { site: 2, round: 4 }
        );
        assert_eq!(
            parse_fault("tamper:2@1", &n).unwrap(),
            Fault::TamperShare { site: 1, round: 1 }
        );
        assert_eq!(
            parse_fault("impersonate:1@2:site-2", &n).unwrap(),
            Fault::Impersonate {
                site: 0,
                round: 2,
                claims: 1
            }
        );
    }

    #[test]
    fn aggregator_fault_specs_map_onto_aggregator_faults() {
        let n = names();
        assert_eq!(
            parse_spec("hub-restart@3:helper-share", &n).unwrap(),
            FaultSpec::Aggregator(AggregatorFault::HubRestart {
                round: 3,
                step: RestartStep::HelperShare
            })
        );
        assert_eq!(
            parse_spec("helper-timeout@2", &n).unwrap(),
            FaultSpec::Aggregator(AggregatorFault::HelperTimeout { round: 2 })
        );
        assert_eq!(
            parse_spec("tamper:2@1", &n).unwrap(),
            FaultSpec::Site(Fault::TamperShare { site: 1, round: 1 })
        );
        for spec in [
            "hub-restart@3",
            "hub-restart@0:uploads",
            "hub-restart@2:later",
            "helper-timeout@x",
        ] {
            let e = parse_spec(spec, &n).unwrap_err().to_string();
            assert!(e.contains(spec), "{e}");
        }
    }

    #[test]
    fn malformed_fault_specs_name_the_spec() {
        let n = names();
        for spec in [
            "drop",
            "drop:1",
            "drop:4@1",
            "drop:0@1",
            "drop:1@0",
            "drop:1@x",
            "drop:1@2:later",
            "melt:1@2",
            "replay:1@2:request",
            "impersonate:1@2",
            "drop:nowhere@1",
        ] {
            let e = parse_fault(spec, &n).unwrap_err().to_string();
            assert!(e.contains(&format!("{spec:?}")), "{spec}: {e}");
        }
    }

    #[test]
    fn colliding_file_stems_fall_back_to_numbers() {
        let paths = vec![PathBuf::from("a/data.csv"), PathBuf::from("b/data.csv")];
        assert_eq!(site_names(&paths), vec!["site-1", "site-2"]);
        let paths = vec![PathBuf::from("a/x.csv"), PathBuf::from("b/y.csv")];
        assert_eq!(site_names(&paths), vec!["x", "y"]);
    }
}
