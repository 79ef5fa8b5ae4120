//! Federation benchmarks (recorded in docs/benchmarks.md):
//!
//! 1. `utility`: federated vs central MST and AIM on a simulated AML cohort of 2,500 patients
//!    over 5 heterogeneous sites (heterogeneity 0.5), ε = 1, δ = 1e-9, several seeds. Workload
//!    error = mean total-variation distance over all 2-way marginals of the columns (all the
//!    modelled columns with `all`, else [`COLUMNS`]) between the union and as many synthetic
//!    rows; wall time of fit + sampling.
//! 2. `secagg CELLS…`: one federated measurement round over 10 sites of a marginal of CELLS
//!    cells (two categorical columns of √CELLS levels, 16-bit cells): wall time of the round and
//!    bytes each site uploads (both shares, as encoded on the wire).
//!
//! Run: `cargo run --release -p federation --example federated_bench -- utility [SEEDS [AIM_ROUNDS|default [all]]]`
//! and `cargo run --release -p federation --example federated_bench -- secagg 10000 100000`.

use std::sync::Arc;
use std::time::Instant;

use dp::{Delta, Epsilon, GaussianMechanism, Rho};
use federation::msg::JobAnnouncement;
use federation::{
    FederatedOracle, InMemoryLedger, JobId, Method, Noise, Purpose, Simulation, SimulationConfig, SiteId, SiteNode,
    SitePolicy,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use synth::aim::{AimOptions, aim};
use synth::model::FittedModel;
use synth::mst::mst;
use synth::oracle::{CentralOracle, MeasurementOracle};
use synth::sample::Compression;
use table::encode::{Domain, EncodeOptions, Encoded};

/// The modelled columns of the utility benchmark (a restricted set: see the module docs).
const COLUMNS: &[&str] = &[
    "AGE",
    "SEX",
    "NPM1",
    "FLT3_ITD",
    "TP53",
    "ELN 2022",
    "complex",
    "NORMAL_KARYOTYPE",
    "Allogeneic HSCT",
    "TIME TO HSCT",
];
const PATIENTS: usize = 2500;
const SITES: usize = 5;

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("utility") => {
            let seeds: u64 = args.get(1).map_or(Ok(5), |s| s.parse())?;
            let rounds: Option<usize> = match args.get(2).map(String::as_str) {
                None | Some("default") => None,
                Some(r) => Some(r.parse()?),
            };
            utility(seeds, rounds, args.get(3).is_some_and(|a| a == "all"))
        }
        Some("secagg") => {
            for cells in &args[1..] {
                secagg(cells.parse()?, 10)?;
            }
            Ok(())
        }
        _ => Err("usage: federated_bench utility [SEEDS [AIM_ROUNDS|default [all]]] | secagg CELLS…".into()),
    }
}

fn utility(seeds: u64, rounds: Option<usize>, all: bool) -> BoxResult<()> {
    let rho = dp::rho_from_eps_delta(Epsilon::new(1.0)?, Delta::new(1e-9)?)?;
    println!(
        "ε = 1, δ = 1e-9 → ρ = {:.5}; {PATIENTS} patients over {SITES} sites (heterogeneity 0.5); {} columns; AIM T = {}",
        rho.get(),
        if all {
            "all modelled".to_string()
        } else {
            COLUMNS.len().to_string()
        },
        rounds.map_or("16·d".to_string(), |r| r.to_string())
    );
    println!("| method | seed | central TV | federated TV | ratio | central s | federated s | fed. rounds |");
    println!("|---|---|---|---|---|---|---|---|");
    for method in [Method::Mst, Method::Aim] {
        let mut sums = [0.0; 4];
        for seed in 0..seeds {
            let (domain, dictionary, parts) = cohort(seed, all)?;
            let union = union(&domain, &parts)?;
            let (c_tv, c_s, _) = run(method, rounds, &domain, &dictionary, &union, seed, |rng| {
                Ok(CentralOracle::new(union.clone(), rho, rng))
            })?;
            let mut fed_rounds = 0;
            let (f_tv, f_s, oracle) = run(method, rounds, &domain, &dictionary, &union, seed, |rng| {
                federated(&domain, &parts, rho, rng)
            })?;
            fed_rounds += oracle.rounds();
            for (sum, v) in sums.iter_mut().zip([c_tv, f_tv, c_s, f_s]) {
                *sum += v;
            }
            println!(
                "| {method:?} | {seed} | {c_tv:.4} | {f_tv:.4} | {:.2}× | {c_s:.2} | {f_s:.2} | {fed_rounds} |",
                f_tv / c_tv
            );
        }
        let n = seeds as f64;
        println!(
            "| {method:?} | mean | {:.4} | {:.4} | {:.2}× | {:.2} | {:.2} ({:.1}×) | |",
            sums[0] / n,
            sums[1] / n,
            sums[1] / sums[0],
            sums[2] / n,
            sums[3] / n,
            sums[3] / sums[2]
        );
    }
    Ok(())
}

type Parts = (Domain, Arc<table::Dictionary>, Vec<Encoded>);

fn cohort(seed: u64, all: bool) -> BoxResult<Parts> {
    let cohort = cohort::simulate(
        cohort::Disease::Aml,
        &cohort::Config {
            patients: PATIENTS,
            sites: SITES,
            heterogeneity: 0.5,
            seed: 1000 + seed,
        },
    )?;
    let dictionary = Arc::new(
        cohort
            .dictionary
            .restrict(|c| all || COLUMNS.contains(&c.name.as_str()))
            .modelled(),
    );
    let domain = Domain::from_dictionary(&dictionary, &EncodeOptions::default())?;
    let mut parts = Vec::new();
    for t in &cohort.sites {
        parts.push(domain.encode(&t.project(dictionary.clone())?)?);
    }
    Ok((domain, dictionary, parts))
}

fn union(domain: &Domain, parts: &[Encoded]) -> BoxResult<Encoded> {
    let mut columns = vec![Vec::new(); domain.len()];
    for part in parts {
        for row in 0..part.n_rows() {
            for (a, column) in columns.iter_mut().enumerate() {
                let code = part.code(row, a).ok_or("missing code")?;
                column.push(u16::try_from(code)?);
            }
        }
    }
    Ok(Encoded::from_codes(domain, &columns)?)
}

/// Sites, hub and helper in one process, each site holding its own part.
fn simulation(domain: &Domain, parts: &[Encoded], rho: Rho, seeds: &mut ChaCha20Rng) -> BoxResult<Simulation> {
    let policy = SitePolicy {
        max_rho_per_dataset: rho,
        allowed_methods: vec![Method::Mst, Method::Aim],
        min_sites: 2,
        allowed_requesters: vec!["bench".into()],
    };
    let sites: Vec<SiteNode<InMemoryLedger>> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            SiteNode::new(
                SiteId(format!("site-{}", i + 1)),
                "aml",
                part.clone(),
                policy.clone(),
                InMemoryLedger::new(),
                ChaCha20Rng::from_rng(&mut *seeds),
            )
        })
        .collect();
    let announcement = JobAnnouncement {
        job_id: JobId("bench".into()),
        dataset: "aml".into(),
        requester: "bench".into(),
        method: Method::Aim,
        columns: domain.attributes().iter().map(|a| a.name().to_string()).collect(),
        rho_per_site: rho.get(),
        requested_measurements: 0,
        sites: sites.iter().map(|s| s.id().clone()).collect(),
        min_sites: 2,
        bits: 16,
    };
    let config = SimulationConfig {
        seed: rand::RngExt::random(seeds),
        noise: Noise::DiscreteGaussian,
        helper_min_sites: 2,
        faults: Vec::new(),
    };
    Ok(Simulation::new(announcement, domain.sizes(), sites, config)?)
}

fn federated(domain: &Domain, parts: &[Encoded], rho: Rho, mut rng: ChaCha20Rng) -> BoxResult<FederatedOracle> {
    let sim = simulation(domain, parts, rho, &mut rng)?;
    Ok(FederatedOracle::new(sim, rho, ChaCha20Rng::from_rng(&mut rng))?)
}

fn run<O: MeasurementOracle>(
    method: Method,
    rounds: Option<usize>,
    domain: &Domain,
    dictionary: &Arc<table::Dictionary>,
    union: &Encoded,
    seed: u64,
    make: impl FnOnce(ChaCha20Rng) -> BoxResult<O>,
) -> BoxResult<(f64, f64, O)> {
    let started = Instant::now();
    let mut oracle = make(ChaCha20Rng::seed_from_u64(seed))?;
    let (model, compression) = match method {
        Method::Mst => {
            let fit = mst(&mut oracle, 1000)?;
            (fit.model, fit.compression)
        }
        _ => {
            let mut options = AimOptions::all_k_way(domain.len(), 2);
            options.rounds = rounds;
            options.final_iters = 1000;
            (aim(&mut oracle, &options)?.model, Compression::none(domain.len()))
        }
    };
    let fitted = FittedModel {
        dictionary: dictionary.clone(),
        domain: domain.clone(),
        compression,
        model,
    };
    let (rows, _) = fitted.sample(union.n_rows(), &mut ChaCha20Rng::seed_from_u64(seed + 77))?;
    let seconds = started.elapsed().as_secs_f64();
    let synthetic = domain.encode(&rows)?;
    Ok((workload_tv(domain, union, &synthetic)?, seconds, oracle))
}

/// Mean total-variation distance over all 2-way marginals.
fn workload_tv(domain: &Domain, real: &Encoded, synthetic: &Encoded) -> BoxResult<f64> {
    let d = domain.len();
    let (mut sum, mut count) = (0.0, 0);
    for i in 0..d {
        for j in i + 1..d {
            let a = real.marginal(&[i, j])?.counts;
            let b = synthetic.marginal(&[i, j])?.counts;
            let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
            let tv: f64 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x as f64 / na - y as f64 / nb).abs())
                .sum();
            sum += tv / 2.0;
            count += 1;
        }
    }
    Ok(sum / count as f64)
}

/// One measurement round of a `cells`-cell marginal over `sites` sites of 200 records each.
fn secagg(cells: usize, sites: usize) -> BoxResult<()> {
    let side = (cells as f64).sqrt().round() as usize;
    let levels: Vec<String> = (0..side).map(|v| format!("\"{v}\"")).collect();
    let column = |name: &str| {
        format!(
            "[[column]]\nname = \"{name}\"\ntype = \"categorical\"\nmissing = \"forbidden\"\nlevels = [{}]\n",
            levels.join(", ")
        )
    };
    let toml = format!(
        "format_version = 1\nname = \"bench\"\nmissing_tokens = [\"\"]\n\n{}\n{}",
        column("A"),
        column("B")
    );
    let dictionary = table::Dictionary::from_toml(&toml, "bench.toml")?;
    let domain = Domain::from_dictionary(&dictionary, &EncodeOptions::default())?;
    let total: usize = domain.sizes().iter().product();
    let mut rng = ChaCha20Rng::seed_from_u64(cells as u64);
    let mut parts = Vec::new();
    for _ in 0..sites {
        let columns: Vec<Vec<u16>> = (0..2)
            .map(|_| {
                (0..200)
                    .map(|_| rand::RngExt::random_range(&mut rng, 0..side as u16))
                    .collect()
            })
            .collect();
        parts.push(Encoded::from_codes(&domain, &columns)?);
    }
    let rho = Rho::new(1.0)?;
    let mut sim = simulation(&domain, &parts, rho, &mut rng)?;
    let sigma2 = GaussianMechanism::new(Rho::new(0.5)?, 1)?.sigma2();
    let before: Vec<usize> = sim.upload_bytes().to_vec();
    let started = Instant::now();
    let release = sim.run_round(Purpose::Measurement, &[vec![0, 1]], &[None, None], sigma2, "bench")?;
    let seconds = started.elapsed().as_secs_f64();
    let per_site: Vec<usize> = sim.upload_bytes().iter().zip(&before).map(|(a, b)| a - b).collect();
    let mean = per_site.iter().sum::<usize>() as f64 / per_site.len() as f64;
    println!(
        "| {sites} | {total} | 16 | {seconds:.2} | {:.1} MB | {} |",
        mean / 1e6,
        release.contributors.len()
    );
    Ok(())
}
