//! Utility gap of federated vs central MST and AIM on the same union of data: a simulated AML
//! cohort over 3 heterogeneous sites, 10 columns, ε = 1 (δ = 1e-9), several seeds. Prints the
//! workload error — the mean total-variation distance over all 2-way marginals between the union
//! and N synthetic rows — and wall time, as a Markdown table (recorded in docs/federation.md).
//!
//! Run: `cargo run --profile ci -p federation --example utility_gap [SEEDS]`.

use std::sync::Arc;
use std::time::Instant;

use dp::{Delta, Epsilon, Rho};
use federation::msg::JobAnnouncement;
use federation::{
    FederatedOracle, InMemoryLedger, JobId, Method, Noise, Selection, Simulation, SimulationConfig, SiteId, SiteNode,
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
const PATIENTS: usize = 3000;
const SITES: usize = 3;
const AIM_ROUNDS: usize = 30;

type Run = Result<(f64, f64), Box<dyn std::error::Error>>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seeds: u64 = std::env::args().nth(1).map_or(Ok(3), |s| s.parse())?;
    let rho = dp::rho_from_eps_delta(Epsilon::new(1.0)?, Delta::new(1e-9)?)?;
    println!(
        "ε = 1, δ = 1e-9 → ρ = {:.5}; {PATIENTS} patients over {SITES} sites; AIM T = {AIM_ROUNDS}",
        rho.get()
    );
    println!(
        "| method | seed | central TV | central TV at ρ/2 | fed. TV (local scores) | fed. TV (noisy marginals) | fed. TV (local votes) | central s | fed. s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let local = Selection::SummedLocalScores { resolution: 4 };
    for method in [Method::Mst, Method::Aim] {
        let mut sums = [0.0; 5];
        for seed in 0..seeds {
            let (domain, dictionary, parts) = cohort(seed)?;
            let union = union(&domain, &parts)?;
            let (c_tv, c_s) = run(method, &domain, &dictionary, &union, seed, |rng| {
                Ok(CentralOracle::new(union.clone(), rho, rng))
            })?;
            let (l_tv, l_s) = run(method, &domain, &dictionary, &union, seed, |rng| {
                federated(&domain, &parts, rho, rng, local)
            })?;
            let (m_tv, _) = run(method, &domain, &dictionary, &union, seed, |rng| {
                federated(&domain, &parts, rho, rng, Selection::NoisyMarginals)
            })?;
            let (v_tv, _) = run(method, &domain, &dictionary, &union, seed, |rng| {
                federated(&domain, &parts, rho, rng, Selection::LocalVotes { resolution: 64 })
            })?;
            // Central at ρ/2: the same measurement variance as the federation's 2σ².
            let half = Rho::new(rho.get() / 2.0)?;
            let (h_tv, _) = run(method, &domain, &dictionary, &union, seed, |rng| {
                Ok(CentralOracle::new(union.clone(), half, rng))
            })?;
            for (sum, tv) in sums.iter_mut().zip([c_tv, l_tv, m_tv, h_tv, v_tv]) {
                *sum += tv;
            }
            println!(
                "| {method:?} | {seed} | {c_tv:.4} | {h_tv:.4} | {l_tv:.4} | {m_tv:.4} | {v_tv:.4} | {c_s:.2} | {l_s:.1} |"
            );
        }
        let n = seeds as f64;
        println!(
            "| {method:?} | mean | {:.4} | {:.4} ({:.2}×) | {:.4} ({:.2}×) | {:.4} ({:.2}×) | {:.4} ({:.2}×) | | |",
            sums[0] / n,
            sums[3] / n,
            sums[3] / sums[0],
            sums[1] / n,
            sums[1] / sums[0],
            sums[2] / n,
            sums[2] / sums[0],
            sums[4] / n,
            sums[4] / sums[0]
        );
    }
    Ok(())
}

type Parts = (Domain, Arc<table::Dictionary>, Vec<Encoded>);

fn cohort(seed: u64) -> Result<Parts, Box<dyn std::error::Error>> {
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
            .restrict(|c| COLUMNS.contains(&c.name.as_str()))
            .modelled(),
    );
    let domain = Domain::from_dictionary(&dictionary, &EncodeOptions::default())?;
    let mut parts = Vec::new();
    for t in &cohort.sites {
        parts.push(domain.encode(&t.project(dictionary.clone())?)?);
    }
    Ok((domain, dictionary, parts))
}

fn union(domain: &Domain, parts: &[Encoded]) -> Result<Encoded, Box<dyn std::error::Error>> {
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

fn federated(
    domain: &Domain,
    parts: &[Encoded],
    rho: Rho,
    rng: ChaCha20Rng,
    selection: Selection,
) -> Result<FederatedOracle, Box<dyn std::error::Error>> {
    let policy = SitePolicy {
        max_rho_per_dataset: Rho::new(rho.get() * 2.0)?,
        allowed_methods: vec![Method::Mst, Method::Aim],
        min_sites: 2,
        allowed_requesters: vec!["bench".into()],
    };
    let mut seeds = rng;
    let sites: Vec<SiteNode<InMemoryLedger>> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            SiteNode::new(
                SiteId(format!("site-{i}")),
                "aml",
                part.clone(),
                policy.clone(),
                InMemoryLedger::new(),
                ChaCha20Rng::from_rng(&mut seeds),
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
        requested_measurements: 1000,
        sites: sites.iter().map(|s| s.id().clone()).collect(),
        min_sites: 2,
        bits: 16,
    };
    let config = SimulationConfig {
        seed: rand::RngExt::random(&mut seeds),
        noise: Noise::DiscreteGaussian,
        helper_min_sites: 2,
        faults: Vec::new(),
    };
    let sim = Simulation::new(announcement, domain.sizes(), sites, config)?;
    Ok(FederatedOracle::new(sim, rho, ChaCha20Rng::from_rng(&mut seeds))?.with_selection(selection))
}

fn run<O: MeasurementOracle>(
    method: Method,
    domain: &Domain,
    dictionary: &Arc<table::Dictionary>,
    union: &Encoded,
    seed: u64,
    make: impl FnOnce(ChaCha20Rng) -> Result<O, Box<dyn std::error::Error>>,
) -> Run {
    let started = Instant::now();
    let mut oracle = make(ChaCha20Rng::seed_from_u64(seed))?;
    let (model, compression) = match method {
        Method::Mst => {
            let fit = mst(&mut oracle, 500)?;
            (fit.model, fit.compression)
        }
        _ => {
            let mut options = AimOptions::all_k_way(domain.len(), 2);
            options.rounds = Some(AIM_ROUNDS);
            options.final_iters = 500;
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
    Ok((workload_tv(domain, union, &synthetic)?, seconds))
}

/// Mean total-variation distance over all 2-way marginals.
fn workload_tv(domain: &Domain, real: &Encoded, synthetic: &Encoded) -> Result<f64, Box<dyn std::error::Error>> {
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
