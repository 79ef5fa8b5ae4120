//! The federated oracle under the unchanged synthesizers: MST and AIM run over hub + helper +
//! 3 sites, every site's ledger ends within its policy at (almost exactly) the job's budget, and
//! the fitted model samples rule-abiding rows.

mod common;

use common::*;
use dp::{Epsilon, Rho};
use federation::hub::{RoundRelease, RoundSpec};
use federation::msg::{JobAnnouncement, JobId, MeasurementRequest, Round, WireRational};
use federation::{FederatedOracle, Noise, PrivacyLedger, RoundDriver, Selection, Simulation, rho_of_request};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use synth::aim::{AimOptions, aim};
use synth::model::FittedModel;
use synth::mst::mst;
use synth::oracle::{Candidate, MeasurementOracle};
use synth::sample::Compression;

const JOB_RHO: f64 = 0.5;

fn oracle(fx: &Fixture, faults: Vec<federation::Fault>) -> FederatedOracle {
    let sim = simulation(fx, 2, JOB_RHO, 2.0, config(Noise::DiscreteGaussian, faults));
    FederatedOracle::new(sim, Rho::new(JOB_RHO).unwrap(), ChaCha20Rng::seed_from_u64(8)).unwrap()
}

fn check_spending(oracle: &FederatedOracle, contributors: usize) {
    let spent = oracle.accountant().spent();
    assert!(spent <= JOB_RHO && spent > 0.999 * JOB_RHO, "oracle spent {spent}");
    check_ledgers(oracle.simulation());
    let charged: Vec<f64> = oracle
        .simulation()
        .sites()
        .iter()
        .map(|s| s.ledger().committed(DATASET))
        .collect();
    // Each contributing site charged what it recomputed: at most the oracle's charge, and
    // within rounding of it.
    let full = charged
        .iter()
        .filter(|&&c| c <= spent * (1.0 + 1e-9) && c > 0.99 * spent)
        .count();
    assert_eq!(full, contributors, "ledgers {charged:?} vs oracle {spent}");
}

fn check_rows(fitted: &FittedModel) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (rows, report) = fitted.sample(400, &mut rng).unwrap();
    assert_eq!(rows.n_rows(), 400);
    assert_eq!(report.rows, 400);
    for r in 0..rows.n_rows() {
        let row = rows.row(r);
        for rule in &rows.dictionary().rules {
            assert!(rule.holds(&row), "row {r} breaks {}", rule.source);
        }
    }
}

#[test]
fn federated_mst_runs_unchanged_and_samples_rule_abiding_rows() {
    let fx = fixture(3, 1500, 21);
    assert!(!fx.dictionary.rules.is_empty(), "the fixture keeps clinical rules");
    let mut oracle = oracle(&fx, vec![]);
    let fit = mst(&mut oracle, 200).unwrap();
    assert_eq!(fit.edges.len(), fx.domain.len() - 1);
    // One round for the d one-way marginals, d − 1 selections, one round for the d − 1
    // two-way marginals (3d − 2 rounds before `measure_many`).
    let d = fx.domain.len();
    assert_eq!(oracle.rounds(), d + 1);
    check_spending(&oracle, 3);
    let fitted = FittedModel {
        dictionary: fx.dictionary.clone(),
        domain: fx.domain.clone(),
        compression: fit.compression,
        model: fit.model,
    };
    check_rows(&fitted);
}

#[test]
fn federated_aim_runs_unchanged_and_survives_a_dropout() {
    let fx = fixture(3, 1500, 22);
    // Site 3 vanishes at round 4 (a selection; round 1 measures the one-way marginals): the
    // job continues with two sites.
    let fault = federation::Fault::Drop {
        site: 2,
        round: 4,
        step: federation::Step::Request,
    };
    let mut oracle = oracle(&fx, vec![fault]);
    let mut options = AimOptions::all_k_way(fx.domain.len(), 2);
    options.rounds = Some(12);
    options.round_iters = 50;
    options.final_iters = 200;
    let fit = aim(&mut oracle, &options).unwrap();
    assert!(!fit.selected.is_empty());
    let spent = oracle.accountant().spent();
    assert!(spent <= JOB_RHO && spent > 0.999 * JOB_RHO, "oracle spent {spent}");
    check_ledgers(oracle.simulation());
    let sim = oracle.simulation();
    let dropped = sim.sites()[2].ledger().committed(DATASET);
    let stayed = sim.sites()[0].ledger().committed(DATASET);
    assert!(
        dropped < stayed,
        "the dropped site stopped paying: {dropped} vs {stayed}"
    );
    let fitted = FittedModel {
        dictionary: fx.dictionary.clone(),
        domain: fx.domain.clone(),
        compression: Compression::none(fx.domain.len()),
        model: fit.model,
    };
    check_rows(&fitted);
}

#[test]
fn the_oracle_refuses_to_run_without_noise_or_beyond_the_job_budget() {
    let fx = fixture(3, 300, 23);
    let sim = simulation(&fx, 2, JOB_RHO, 2.0, config(Noise::DisabledForTests, vec![]));
    assert!(FederatedOracle::new(sim, Rho::new(JOB_RHO).unwrap(), ChaCha20Rng::seed_from_u64(8)).is_err());
    let sim = simulation(&fx, 2, JOB_RHO, 2.0, config(Noise::DiscreteGaussian, vec![]));
    assert!(FederatedOracle::new(sim, Rho::new(2.0 * JOB_RHO).unwrap(), ChaCha20Rng::seed_from_u64(8)).is_err());
}

#[test]
fn a_failed_round_stops_the_synthesizer_with_a_reason() {
    let fx = fixture(3, 300, 24);
    let faults = vec![
        federation::Fault::Drop {
            site: 0,
            round: 2,
            step: federation::Step::Request,
        },
        federation::Fault::Drop {
            site: 1,
            round: 2,
            step: federation::Step::Request,
        },
    ];
    let mut oracle = oracle(&fx, faults);
    let err = mst(&mut oracle, 50).unwrap_err();
    assert!(err.to_string().contains("round 2 failed"), "{err}");
    check_ledgers(oracle.simulation());
}

#[test]
fn both_selection_variants_charge_every_site_the_same() {
    let fx = fixture(3, 900, 25);
    for selection in [
        Selection::NoisyMarginals,
        Selection::SummedLocalScores { resolution: 4 },
        Selection::LocalVotes { resolution: 64 },
        Selection::FloorCorrectedScores { resolution: 4 },
    ] {
        let mut oracle = oracle(&fx, vec![]).with_selection(selection);
        let fit = mst(&mut oracle, 50).unwrap();
        assert_eq!(fit.edges.len(), fx.domain.len() - 1, "{selection:?}");
        check_spending(&oracle, 3);
    }
}

#[test]
fn hub_restarts_are_invisible_to_the_synthesizer_and_a_helper_timeout_stops_it() {
    use federation::{AggregatorFault, RestartStep};
    let fx = fixture(3, 600, 26);
    let run = |faults: Vec<AggregatorFault>| {
        let sim =
            simulation(&fx, 2, JOB_RHO, 2.0, config(Noise::DiscreteGaussian, vec![])).with_aggregator_faults(faults);
        let mut oracle = FederatedOracle::new(sim, Rho::new(JOB_RHO).unwrap(), ChaCha20Rng::seed_from_u64(8)).unwrap();
        let fit = mst(&mut oracle, 50);
        (fit, oracle.into_driver())
    };
    let (plain, baseline) = run(vec![]);
    let plain = plain.unwrap();
    let (restarted, sim) = run(vec![
        AggregatorFault::HubRestart {
            round: 3,
            step: RestartStep::Uploads,
        },
        // The last round: the batched two-way marginals.
        AggregatorFault::HubRestart {
            round: fx.domain.len() as u32 + 1,
            step: RestartStep::HelperShare,
        },
    ]);
    let restarted = restarted.unwrap();
    assert_eq!(restarted.edges, plain.edges, "same releases, same tree");
    let restarts = sim
        .events()
        .iter()
        .filter(|e| matches!(e, federation::SimEvent::AggregatorFaultInjected(_)))
        .count();
    assert_eq!(restarts, 2);
    for (a, b) in sim.sites().iter().zip(baseline.sites()) {
        assert_eq!(a.ledger().commitments(), b.ledger().commitments(), "{}", a.id());
    }
    check_ledgers(&sim);

    let (failed, sim) = run(vec![AggregatorFault::HelperTimeout { round: 5 }]);
    let err = failed.unwrap_err();
    assert!(err.to_string().contains("helper aggregator timed out"), "{err}");
    assert!(sim.hub().ended().is_some());
    check_ledgers(&sim);
}

/// Three sites of 3,000 records over K (3 levels), A and B (2 levels each), built without
/// randomness: site s holds K = s in 90 % of its rows (label skew), A is independent of K and
/// balanced at every site, and B = A in 90 % of the rows of every (site, K, A) group.
fn skewed_federation() -> Fixture {
    let levels = |n: usize| (0..n).map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ");
    let column = |name: &str, n: usize| {
        format!(
            "[[column]]\nname = \"{name}\"\ntype = \"categorical\"\nmissing = \"forbidden\"\nlevels = [{}]\n",
            levels(n)
        )
    };
    let toml = format!(
        "format_version = 1\nname = \"skew\"\nmissing_tokens = [\"\"]\n\n{}\n{}\n{}",
        column("K", 3),
        column("A", 2),
        column("B", 2)
    );
    let dictionary = std::sync::Arc::new(table::Dictionary::from_toml(&toml, "skew.toml").unwrap());
    let domain = table::encode::Domain::from_dictionary(&dictionary, &table::encode::EncodeOptions::default()).unwrap();
    let mut parts = Vec::new();
    for s in 0..3u16 {
        let mut columns = vec![Vec::new(); 3];
        for k in 0..3u16 {
            // 2,700 rows with K = s, 150 with each other level.
            let rows = if k == s { 2700 } else { 150 };
            for i in 0..rows {
                let a = (i % 2) as u16;
                let b = if (i / 2) % 10 == 0 { 1 - a } else { a };
                columns[0].push(k);
                columns[1].push(a);
                columns[2].push(b);
            }
        }
        parts.push(table::encode::Encoded::from_codes(&domain, &columns).unwrap());
    }
    Fixture {
        dictionary,
        domain,
        parts,
    }
}

/// Runs `rounds` selections over the candidates of `skewed_federation` after K, A, B and K×A
/// have been measured; the model is the union's exact marginal on those cliques and
/// independence (A ⟂ B, K ⟂ B) elsewhere, so the only large union error is A×B's (≈ 0.8·N), while
/// every clique containing K has a heterogeneity floor of ≈ 2·(0.9 − 1/3)·N. Returns the picks.
fn skewed_selections(selection: Selection, rounds: usize) -> (Vec<Vec<usize>>, FederatedOracle) {
    let fx = skewed_federation();
    let sim = simulation(&fx, 2, 20.0, 40.0, config(Noise::DiscreteGaussian, vec![]));
    let mut oracle = FederatedOracle::new(sim, Rho::new(20.0).unwrap(), ChaCha20Rng::seed_from_u64(8))
        .unwrap()
        .with_selection(selection);
    let parts: Vec<&table::encode::Encoded> = fx.parts.iter().collect();
    let union = |attrs: &[usize]| -> Vec<f64> { plain_sum(&parts, attrs).iter().map(|&v| v as f64).collect() };
    let n: f64 = union(&[0]).iter().sum();
    for attrs in [vec![0], vec![1], vec![2], vec![0, 1]] {
        oracle.measure(&attrs, Rho::new(0.5).unwrap(), "measurement").unwrap();
    }
    let independent =
        |x: &[f64], y: &[f64]| -> Vec<f64> { x.iter().flat_map(|&p| y.iter().map(move |&q| p * q / n)).collect() };
    let (k, a, b) = (union(&[0]), union(&[1]), union(&[2]));
    let cliques = [vec![0], vec![1], vec![2], vec![0, 1], vec![0, 2], vec![1, 2]];
    let models = [
        k.clone(),
        a.clone(),
        b.clone(),
        union(&[0, 1]),
        independent(&k, &b),
        independent(&a, &b),
    ];
    let candidates: Vec<Candidate<'_>> = cliques
        .iter()
        .zip(&models)
        .map(|(attrs, model)| Candidate {
            attrs,
            model,
            weight: 1.0,
            penalty: 0.0,
        })
        .collect();
    let mut picks = Vec::new();
    for _ in 0..rounds {
        let pick = oracle
            .select(&candidates, Epsilon::new(1.0).unwrap(), "selection")
            .unwrap();
        picks.push(cliques[pick].clone());
    }
    (picks, oracle)
}

#[test]
fn the_floor_correction_stops_reselecting_a_heterogeneous_measured_clique() {
    let rounds = 8;
    let (summed, _) = skewed_selections(Selection::SummedLocalScores { resolution: 4 }, rounds);
    // Summed local scores: every pick contains the skewed attribute K, whose cliques the model
    // already matches on the union; A×B, the only large union error, is never chosen.
    assert!(summed.iter().all(|c| c.contains(&0)), "{summed:?}");
    assert!(!summed.contains(&vec![1, 2]), "{summed:?}");

    let (corrected, oracle) = skewed_selections(Selection::FloorCorrectedScores { resolution: 4 }, rounds);
    // The first round has no post-measurement release of K's cliques yet (K's own floor is
    // unknown), so it may still pick K; from then on A×B wins every round and no clique that
    // has been measured is selected again.
    assert!(corrected[1..].iter().all(|c| c == &vec![1, 2]), "{corrected:?}");
    // Same request, same charge: the correction is post-processing.
    check_ledgers(oracle.simulation());
    let (_, plain) = skewed_selections(Selection::SummedLocalScores { resolution: 4 }, rounds);
    for (a, b) in oracle.simulation().sites().iter().zip(plain.simulation().sites()) {
        assert_eq!(
            a.ledger().committed(DATASET),
            b.ledger().committed(DATASET),
            "{}",
            a.id()
        );
    }
    assert_eq!(oracle.accountant().spent(), plain.accountant().spent());
}

/// A simulation without aggregator noise that the oracle takes for a noisy one, and keeps the
/// rounds it ran: lets a test compare a release with the plain sum.
struct Unnoised {
    sim: Simulation,
    specs: Vec<RoundSpec>,
}

impl RoundDriver for Unnoised {
    fn announcement(&self) -> &JobAnnouncement {
        RoundDriver::announcement(&self.sim)
    }

    fn sizes(&self) -> &[usize] {
        RoundDriver::sizes(&self.sim)
    }

    fn noise(&self) -> Noise {
        Noise::DiscreteGaussian
    }

    fn run(&mut self, spec: RoundSpec) -> federation::Result<RoundRelease> {
        self.specs.push(spec.clone());
        self.sim.run(spec)
    }
}

#[test]
fn a_batched_measurement_is_one_round_charged_as_k_measurements() {
    let fx = fixture(3, 600, 27);
    let sim = simulation(&fx, 2, JOB_RHO, 2.0, config(Noise::DisabledForTests, vec![]));
    let driver = Unnoised { sim, specs: Vec::new() };
    let mut oracle = FederatedOracle::new(driver, Rho::new(JOB_RHO).unwrap(), ChaCha20Rng::seed_from_u64(8)).unwrap();
    let cliques = vec![vec![0], vec![1, 3], vec![2], vec![0, 4, 5]];
    let rho_each = Rho::new(0.01).unwrap();
    let released = oracle.measure_many(&cliques, rho_each, "batch").unwrap();
    assert_eq!(oracle.rounds(), 1);
    // Without noise the release is exactly the plain union marginals, split back per clique,
    // each with the σ of a single measurement at rho_each (2σ² of the two aggregators).
    let parts: Vec<_> = fx.parts.iter().collect();
    let single = dp::GaussianMechanism::new(rho_each, 1).unwrap().sigma2().to_f64();
    for (m, c) in released.iter().zip(&cliques) {
        assert_eq!(&m.attrs, c);
        assert_eq!(m.values, plain_sum(&parts, c), "{c:?}");
        assert_eq!(m.sigma, (2.0 * single).sqrt());
        assert_eq!(m.rho, rho_each);
    }
    // One charge of k·rho_each at the oracle; what each site recomputes from the request
    // (k/(2σ²)) is that charge within rounding, never above it.
    let k = cliques.len() as f64;
    let ledger = oracle.accountant().ledger();
    assert_eq!(ledger.len(), 1);
    let charged = ledger[0].rho.get();
    assert!(
        charged >= k * rho_each.get() && charged <= (k * rho_each.get()).next_up(),
        "{charged}"
    );
    let driver = oracle.into_driver();
    let spec = &driver.specs[0];
    assert_eq!(spec.purpose, federation::Purpose::Measurement);
    assert_eq!(spec.marginals, cliques);
    let request = MeasurementRequest {
        job_id: JobId("j".into()),
        round: Round(1),
        purpose: spec.purpose,
        marginals: cliques.iter().map(|c| c.iter().map(|&a| a as u32).collect()).collect(),
        maps: spec.maps.clone(),
        sigma2: WireRational::from(spec.sigma2),
        what: spec.what.clone(),
        scores: None,
        votes: None,
    };
    let site = rho_of_request(&request).unwrap().get();
    assert_eq!(site, charged, "the oracle charges what every site recomputes");
    for s in driver.sim.sites() {
        // The ledger rounds its sums up: within a few ulps of the recomputed charge.
        let committed = s.ledger().committed(DATASET);
        assert!(
            committed >= site && committed <= site * (1.0 + 1e-12),
            "{}: {committed}",
            s.id()
        );
    }
    check_ledgers(&driver.sim);
}
