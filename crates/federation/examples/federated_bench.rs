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
//! 3. `selection aim|mst DATASET …`: central AIM (or MST) on the union vs federated AIM (or
//!    MST) under each selection variant ([`Selection`]), same error and time measures, ε = 1,
//!    δ = 1e-9. DATASET is `adult` (UCI Adult read from `../shared/data/adult.csv`, or
//!    `$ADULT_CSV`, with the repository's public Adult dictionary minus `fnlwgt`, split non-IID
//!    over 5 sites: see [`split_dirichlet`]), `adult-iid` (the same rows dealt uniformly at
//!    random: a control), `aml` (the `utility` cohort, [`COLUMNS`]) or `aml-all` (its 57
//!    modelled columns). Site sizes and AIM's selected cliques go to stderr.
//!    SELECTIONS is a comma-separated list of `scores:Q` (summed local scores at resolution Q),
//!    `floor:Q` (the same with the heterogeneity-floor correction), `marginals` (noisy
//!    marginals) and `votes:Q` (local votes at resolution Q); the default is
//!    `scores:4,marginals,votes:64`.
//!
//! Run: `cargo run --release -p federation --example federated_bench -- utility [SEEDS [AIM_ROUNDS|default [all]]]`,
//! `cargo run --release -p federation --example federated_bench -- secagg 10000 100000` and
//! `cargo run --release -p federation --example federated_bench -- selection aim|mst adult|adult-iid|aml|aml-all [SEEDS [AIM_ROUNDS|default [SELECTIONS]]]`.

use std::sync::Arc;
use std::time::Instant;

use dp::{Delta, Epsilon, GaussianMechanism, Rho};
use federation::msg::JobAnnouncement;
use federation::{
    FederatedOracle, InMemoryLedger, JobId, Method, Noise, Purpose, Selection, Simulation, SimulationConfig, SiteId,
    SiteNode, SitePolicy,
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
        Some("selection") => {
            let method = match args.get(1).map(String::as_str) {
                Some("aim") => Method::Aim,
                Some("mst") => Method::Mst,
                other => return Err(format!("selection: method {other:?} is not aim or mst").into()),
            };
            let dataset = Dataset::parse(args.get(2).map_or("adult", String::as_str))?;
            let seeds: u64 = args.get(3).map_or(Ok(5), |s| s.parse())?;
            let rounds: Option<usize> = match args.get(4).map(String::as_str) {
                None | Some("default") => None,
                Some(r) => Some(r.parse()?),
            };
            let selections = parse_selections(args.get(5).map_or("scores:4,marginals,votes:64", String::as_str))?;
            selection(method, dataset, seeds, rounds, &selections)
        }
        Some("secagg") => {
            for cells in &args[1..] {
                secagg(cells.parse()?, 10)?;
            }
            Ok(())
        }
        _ => Err(
            "usage: federated_bench utility [SEEDS [AIM_ROUNDS|default [all]]] | secagg CELLS… | \
                  selection aim|mst adult|adult-iid|aml|aml-all [SEEDS [AIM_ROUNDS|default [SELECTIONS]]]"
                .into(),
        ),
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
            let Fit {
                tv: c_tv, seconds: c_s, ..
            } = run(method, rounds, &domain, &dictionary, &union, seed, |rng| {
                Ok(CentralOracle::new(union.clone(), rho, rng))
            })?;
            let mut fed_rounds = 0;
            let Fit {
                tv: f_tv,
                seconds: f_s,
                oracle,
                ..
            } = run(method, rounds, &domain, &dictionary, &union, seed, |rng| {
                federated(
                    "aml",
                    &domain,
                    &parts,
                    rho,
                    rng,
                    Selection::SummedLocalScores { resolution: 4 },
                )
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
fn simulation(
    dataset: &str,
    domain: &Domain,
    parts: &[Encoded],
    rho: Rho,
    seeds: &mut ChaCha20Rng,
) -> BoxResult<Simulation> {
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
                dataset,
                part.clone(),
                policy.clone(),
                InMemoryLedger::new(),
                ChaCha20Rng::from_rng(&mut *seeds),
            )
        })
        .collect();
    let announcement = JobAnnouncement {
        job_id: JobId("bench".into()),
        dataset: dataset.into(),
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

/// The federated oracle over a fresh simulation of `parts`, selecting by `selection`.
fn federated(
    dataset: &str,
    domain: &Domain,
    parts: &[Encoded],
    rho: Rho,
    mut rng: ChaCha20Rng,
    selection: Selection,
) -> BoxResult<FederatedOracle> {
    let sim = simulation(dataset, domain, parts, rho, &mut rng)?;
    Ok(FederatedOracle::new(sim, rho, ChaCha20Rng::from_rng(&mut rng))?.with_selection(selection))
}

/// One synthesis: its workload error, wall time (fit + sampling), oracle and, for AIM, the
/// cliques it selected after the one-way marginals.
struct Fit<O> {
    tv: f64,
    seconds: f64,
    oracle: O,
    selected: Option<Vec<Vec<usize>>>,
}

fn run<O: MeasurementOracle>(
    method: Method,
    rounds: Option<usize>,
    domain: &Domain,
    dictionary: &Arc<table::Dictionary>,
    union: &Encoded,
    seed: u64,
    make: impl FnOnce(ChaCha20Rng) -> BoxResult<O>,
) -> BoxResult<Fit<O>> {
    let started = Instant::now();
    let mut oracle = make(ChaCha20Rng::seed_from_u64(seed))?;
    let (model, compression, selected) = match method {
        Method::Mst => {
            let fit = mst(&mut oracle, 1000)?;
            (fit.model, fit.compression, None)
        }
        _ => {
            let mut options = AimOptions::all_k_way(domain.len(), 2);
            options.rounds = rounds;
            options.final_iters = 1000;
            let fit = aim(&mut oracle, &options)?;
            (fit.model, Compression::none(domain.len()), Some(fit.selected))
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
    Ok(Fit {
        tv: workload_tv(domain, union, &synthetic)?,
        seconds,
        oracle,
        selected,
    })
}

/// Mean total-variation distance over all 2-way marginals.
fn workload_tv(domain: &Domain, real: &Encoded, synthetic: &Encoded) -> BoxResult<f64> {
    let d = domain.len();
    let (mut sum, mut count) = (0.0, 0);
    for i in 0..d {
        for j in i + 1..d {
            let a = real.marginal(&[i, j])?.counts;
            let b = synthetic.marginal(&[i, j])?.counts;
            sum += tv(&a, &b);
            count += 1;
        }
    }
    Ok(sum / count as f64)
}

/// Total-variation distance between two histograms over the same cells, as distributions.
fn tv(a: &[u64], b: &[u64]) -> f64 {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    let l1: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 / na - y as f64 / nb).abs())
        .sum();
    l1 / 2.0
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
    let mut sim = simulation("bench", &domain, &parts, rho, &mut rng)?;
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

/// The data of a `selection` comparison.
#[derive(Clone, Copy, Debug)]
enum Dataset {
    /// UCI Adult over [`SITES`] sites, split non-IID by [`split_dirichlet`] (α = 0.5), or IID
    /// (α = ∞: every site gets a uniformly random fifth) as a control.
    Adult { iid: bool },
    /// The simulated AML cohort of `utility` ([`COLUMNS`], or all modelled columns).
    Aml { all: bool },
}

impl Dataset {
    fn parse(s: &str) -> BoxResult<Dataset> {
        match s {
            "adult" => Ok(Dataset::Adult { iid: false }),
            "adult-iid" => Ok(Dataset::Adult { iid: true }),
            "aml" => Ok(Dataset::Aml { all: false }),
            "aml-all" => Ok(Dataset::Aml { all: true }),
            other => Err(format!("unknown dataset {other:?} (adult, adult-iid, aml or aml-all)").into()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Dataset::Adult { .. } => "adult",
            Dataset::Aml { .. } => "aml",
        }
    }
}

/// Parses `scores:Q`, `floor:Q`, `marginals` and `votes:Q`, comma-separated, into labelled variants.
fn parse_selections(list: &str) -> BoxResult<Vec<(String, Selection)>> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let selection = match item.split_once(':') {
            None if item == "marginals" => Selection::NoisyMarginals,
            Some(("scores", q)) => Selection::SummedLocalScores { resolution: q.parse()? },
            Some(("votes", q)) => Selection::LocalVotes { resolution: q.parse()? },
            Some(("floor", q)) => Selection::FloorCorrectedScores { resolution: q.parse()? },
            _ => return Err(format!("unknown selection {item:?} (scores:Q, floor:Q, marginals or votes:Q)").into()),
        };
        out.push((item.to_string(), selection));
    }
    if out.is_empty() {
        return Err("no selection variant given".into());
    }
    Ok(out)
}

/// One seed's result of central AIM and federated AIM under one selection variant.
struct Outcome {
    label: String,
    seed: u64,
    central_tv: f64,
    federated_tv: f64,
    central_s: f64,
    federated_s: f64,
    central_aim_rounds: Option<usize>,
    federated_aim_rounds: Option<usize>,
    federation_rounds: usize,
}

impl Outcome {
    fn row(&self) -> String {
        let r = |v: Option<usize>| v.map_or("–".to_string(), |v| v.to_string());
        format!(
            "| {} | {} | {:.4} | {:.4} | {:.2}× | {:.2} | {:.2} | {} / {} | {} |",
            self.label,
            self.seed,
            self.central_tv,
            self.federated_tv,
            self.federated_tv / self.central_tv,
            self.central_s,
            self.federated_s,
            r(self.central_aim_rounds),
            r(self.federated_aim_rounds),
            self.federation_rounds
        )
    }
}

/// Central AIM on the union vs federated AIM under each of `selections`, `seeds` seeds; prints
/// every result as it comes, then one table per variant with means.
fn selection(
    method: Method,
    dataset: Dataset,
    seeds: u64,
    rounds: Option<usize>,
    selections: &[(String, Selection)],
) -> BoxResult<()> {
    let rho = dp::rho_from_eps_delta(Epsilon::new(1.0)?, Delta::new(1e-9)?)?;
    let adult = match dataset {
        Dataset::Adult { .. } => Some(adult()?),
        Dataset::Aml { .. } => None,
    };
    println!(
        "{method:?} on {dataset:?}: ε = 1, δ = 1e-9 → ρ = {:.5}; {SITES} sites; AIM T = {}, all 2-way marginals; selections {}",
        rho.get(),
        rounds.map_or("16·d".to_string(), |r| r.to_string()),
        selections
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let header = "| selection | seed | central TV | federated TV | ratio | central s | federated s | AIM rounds central / fed. | fed. rounds |\n|---|---|---|---|---|---|---|---|---|";
    println!("{header}");
    let mut outcomes = Vec::new();
    for seed in 0..seeds {
        let (domain, dictionary, parts, union) = match (&adult, dataset) {
            (Some((domain, dictionary, data)), Dataset::Adult { iid }) => {
                let key = domain
                    .index_of(ADULT_SPLIT_KEY)
                    .ok_or("no split key in the Adult domain")?;
                let mut split_rng = ChaCha20Rng::seed_from_u64(1000 + seed);
                let parts = if iid {
                    split_uniform(data, SITES, &mut split_rng)?
                } else {
                    split_dirichlet(data, key, SITES, 0.5, &mut split_rng)?
                };
                (domain.clone(), dictionary.clone(), parts, data.clone())
            }
            (None, Dataset::Aml { all }) => {
                let (domain, dictionary, parts) = cohort(seed, all)?;
                let union = union(&domain, &parts)?;
                (domain, dictionary, parts, union)
            }
            _ => return Err("the Adult data was not loaded".into()),
        };
        let sizes: Vec<usize> = parts.iter().map(Encoded::n_rows).collect();
        let mut skew = Vec::new();
        if let Some(key) = domain.index_of(ADULT_SPLIT_KEY) {
            let whole = union.marginal(&[key])?.counts;
            for part in &parts {
                skew.push(tv(&whole, &part.marginal(&[key])?.counts));
            }
        }
        eprintln!(
            "seed {seed}: {} rows, sites {sizes:?}, TV of each site's {ADULT_SPLIT_KEY} to the union's {skew:.2?}, domain sizes {:?}",
            union.n_rows(),
            domain.sizes()
        );
        let Fit {
            tv: central_tv,
            seconds: central_s,
            selected: central_selected,
            ..
        } = run(method, rounds, &domain, &dictionary, &union, seed, |rng| {
            Ok(CentralOracle::new(union.clone(), rho, rng))
        })?;
        eprintln!(
            "seed {seed} central selected {}",
            cliques(&domain, central_selected.as_deref())
        );
        for (label, variant) in selections {
            let Fit {
                tv: federated_tv,
                seconds: federated_s,
                oracle,
                selected: federated_selected,
            } = run(method, rounds, &domain, &dictionary, &union, seed, |rng| {
                federated(dataset.name(), &domain, &parts, rho, rng, *variant)
            })?;
            eprintln!(
                "seed {seed} {label} selected {}",
                cliques(&domain, federated_selected.as_deref())
            );
            let outcome = Outcome {
                label: label.clone(),
                seed,
                central_tv,
                federated_tv,
                central_s,
                federated_s,
                central_aim_rounds: central_selected.as_ref().map(Vec::len),
                federated_aim_rounds: federated_selected.as_ref().map(Vec::len),
                federation_rounds: oracle.rounds(),
            };
            println!("{}", outcome.row());
            outcomes.push(outcome);
        }
    }
    println!("\nBy variant:\n");
    println!("{header}");
    for (label, _) in selections {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| &o.label == label).collect();
        for o in &mine {
            println!("{}", o.row());
        }
        let n = mine.len() as f64;
        let mean = |f: fn(&Outcome) -> f64| mine.iter().map(|o| f(o)).sum::<f64>() / n;
        let (c_tv, f_tv) = (mean(|o| o.central_tv), mean(|o| o.federated_tv));
        let (c_s, f_s) = (mean(|o| o.central_s), mean(|o| o.federated_s));
        let ratios = mean(|o| o.federated_tv / o.central_tv);
        let aim_rounds = |f: fn(&Outcome) -> Option<usize>| {
            let counts: Vec<usize> = mine.iter().filter_map(|o| f(o)).collect();
            if counts.is_empty() {
                "–".to_string()
            } else {
                format!("{:.1}", counts.iter().sum::<usize>() as f64 / counts.len() as f64)
            }
        };
        println!(
            "| **{label}** | **mean** | {c_tv:.4} | {f_tv:.4} | **{:.2}×** (mean of ratios {ratios:.2}×) | {c_s:.2} | {f_s:.2} | {} / {} | **{:.1}× time** |",
            f_tv / c_tv,
            aim_rounds(|o| o.central_aim_rounds),
            aim_rounds(|o| o.federated_aim_rounds),
            f_s / c_s
        );
    }
    Ok(())
}

/// The selected cliques by attribute name (a diagnostic on stderr).
fn cliques(domain: &Domain, selected: Option<&[Vec<usize>]>) -> String {
    let Some(selected) = selected else {
        return "-".into();
    };
    let names = |c: &Vec<usize>| {
        c.iter()
            .map(|&a| domain.attributes().get(a).map_or("?", |x| x.name()))
            .collect::<Vec<_>>()
            .join("×")
    };
    format!(
        "{}: {}",
        selected.len(),
        selected.iter().map(names).collect::<Vec<_>>().join(", ")
    )
}

/// Splits `data` into `sites` parts of (nearly) equal size, rows dealt uniformly at random.
fn split_uniform(data: &Encoded, sites: usize, rng: &mut ChaCha20Rng) -> BoxResult<Vec<Encoded>> {
    let mut rows: Vec<usize> = (0..data.n_rows()).collect();
    shuffle(&mut rows, rng);
    let assigned: Vec<Vec<usize>> = (0..sites)
        .map(|s| rows.iter().skip(s).step_by(sites).copied().collect())
        .collect();
    parts_of(data, &assigned)
}

/// Fisher–Yates.
fn shuffle(rows: &mut [usize], rng: &mut ChaCha20Rng) {
    for i in (1..rows.len()).rev() {
        rows.swap(i, rand::RngExt::random_range(&mut *rng, 0..=i));
    }
}

/// The sites' tables: site `s` holds the rows `assigned[s]` of `data`.
fn parts_of(data: &Encoded, assigned: &[Vec<usize>]) -> BoxResult<Vec<Encoded>> {
    let domain = data.domain();
    let mut parts = Vec::with_capacity(assigned.len());
    for rows in assigned {
        if rows.is_empty() {
            return Err("a site received no row; try another seed".into());
        }
        let mut columns = vec![Vec::with_capacity(rows.len()); domain.len()];
        for &row in rows {
            for (a, column) in columns.iter_mut().enumerate() {
                column.push(u16::try_from(data.code(row, a).ok_or("missing code")?)?);
            }
        }
        parts.push(Encoded::from_codes(domain, &columns)?);
    }
    Ok(parts)
}

/// The Adult column whose levels are dealt to the sites in skewed proportions.
const ADULT_SPLIT_KEY: &str = "education";

/// The repository's public dictionary of UCI Adult (levels and bounds from the UCI documentation,
/// nothing read from the data).
const ADULT_DICTIONARY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/anonymize/adult-dictionary.toml"
));

/// Reads Adult (`$ADULT_CSV`, default `../shared/data/adult.csv` next to the workspace) with the
/// repository's dictionary minus `fnlwgt` (a census sampling weight, not an attribute), encoded
/// with the default options: one code per value of `education_num`, 16 equal-width bins for
/// `age`, `capital_gain`, `capital_loss` and `hours_per_week`, and a missing code for
/// `workclass`, `occupation` and `native_country`.
fn adult() -> BoxResult<(Domain, Arc<table::Dictionary>, Encoded)> {
    let path = std::env::var("ADULT_CSV")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/adult.csv").to_string());
    let full = Arc::new(table::Dictionary::from_toml(ADULT_DICTIONARY, "adult-dictionary.toml")?);
    let file = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    let read = table::csv::read_table(
        std::io::BufReader::new(file),
        &path,
        full.clone(),
        &table::csv::CsvOptions::default(),
    )?;
    let dictionary = Arc::new(full.restrict(|c| c.name != "fnlwgt").modelled());
    let domain = Domain::from_dictionary(&dictionary, &EncodeOptions::default())?;
    let data = domain.encode(&read.project(dictionary.clone())?)?;
    Ok((domain, dictionary, data))
}

/// Splits `data` over `sites` sites, non-IID and deterministically given `rng`: for every code
/// of attribute `key` in order, the rows with that code are shuffled (Fisher–Yates) and dealt in
/// contiguous runs whose lengths follow proportions drawn from Dirichlet(α, …, α) — the usual
/// label-skew partition of the federated-learning literature (Hsu, Qi & Brown 2019). With α = 0.5 a
/// site typically holds most of some levels and almost none of others, and site sizes differ.
fn split_dirichlet(
    data: &Encoded,
    key: usize,
    sites: usize,
    alpha: f64,
    rng: &mut ChaCha20Rng,
) -> BoxResult<Vec<Encoded>> {
    let domain = data.domain();
    let levels = *domain.sizes().get(key).ok_or("split key out of range")?;
    let mut by_level: Vec<Vec<usize>> = vec![Vec::new(); levels];
    for row in 0..data.n_rows() {
        let code = data.code(row, key).ok_or("missing code of the split key")?;
        by_level.get_mut(code).ok_or("code outside the domain")?.push(row);
    }
    let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); sites];
    for rows in &mut by_level {
        shuffle(rows, rng);
        let weights: Vec<f64> = (0..sites).map(|_| gamma(alpha, rng)).collect();
        let total: f64 = weights.iter().sum();
        let (mut cumulative, mut start) = (0.0, 0);
        for (s, w) in weights.iter().enumerate() {
            cumulative += w / total;
            let end = if s + 1 == sites {
                rows.len()
            } else {
                ((cumulative * rows.len() as f64).round() as usize).clamp(start, rows.len())
            };
            assigned[s].extend_from_slice(&rows[start..end]);
            start = end;
        }
    }
    parts_of(data, &assigned)
}

/// A Gamma(shape, 1) variate (Marsaglia & Tsang 2000; shape < 1 by Gamma(shape + 1)·U^{1/shape}).
fn gamma(shape: f64, rng: &mut ChaCha20Rng) -> f64 {
    if shape < 1.0 {
        let u: f64 = 1.0 - rand::RngExt::random::<f64>(rng);
        return gamma(shape + 1.0, rng) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = 1.0 - rand::RngExt::random::<f64>(rng);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A standard normal variate (Box–Muller); the benchmark's partition only, never a privacy path.
fn normal(rng: &mut ChaCha20Rng) -> f64 {
    let u1: f64 = 1.0 - rand::RngExt::random::<f64>(rng);
    let u2: f64 = rand::RngExt::random(rng);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
