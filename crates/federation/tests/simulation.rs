//! Deterministic fault simulation of the federation (hub + helper + 3 sites, seeded, scripted
//! faults). Every scenario checks the invariants: with noise off the secure sum is the plain sum
//! of the contributing sites exactly; nothing is double counted; no ledger exceeds its policy;
//! a round either releases over at least `min_sites` sites or fails with a reason.

mod common;

use common::*;
use dp::Rational;
use federation::msg::RefusalReason;
use federation::{Fault, FederationError, Noise, PrivacyLedger, Purpose, SimEvent, Step};

fn sigma2() -> Rational {
    Rational::new(25, 2).expect("sigma2")
}

fn none(fx: &Fixture) -> Vec<Option<Vec<u32>>> {
    vec![None; fx.domain.len()]
}

fn measure(sim: &mut federation::Simulation, fx: &Fixture, attrs: &[usize]) -> Result<Vec<i64>, FederationError> {
    sim.run_round(Purpose::Measurement, &[attrs.to_vec()], &none(fx), sigma2(), "test")
        .map(|r| r.values)
}

fn all(fx: &Fixture) -> Vec<&table::encode::Encoded> {
    fx.parts.iter().collect()
}

fn without(fx: &Fixture, skip: usize) -> Vec<&table::encode::Encoded> {
    fx.parts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != skip)
        .map(|(_, p)| p)
        .collect()
}

fn rejected_with(sim: &federation::Simulation, site: usize, needle: &str) -> bool {
    sim.rejected()
        .iter()
        .any(|r| r.site == site_id(site) && r.detail.to_lowercase().contains(needle))
}

#[test]
fn without_noise_the_secure_sum_is_the_plain_sum() {
    let fx = fixture(3, 600, 1);
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![]));
    assert_eq!(sim.hub().active_sites().len(), 3);
    for attrs in [vec![0], vec![1, 5], vec![2, 3, 4]] {
        assert_eq!(
            measure(&mut sim, &fx, &attrs).unwrap(),
            plain_sum(&all(&fx), &attrs),
            "{attrs:?}"
        );
    }
    // A selection round: the concatenation of the candidates' marginals.
    let marginals = vec![vec![0, 1], vec![4], vec![2, 5]];
    let release = sim
        .run_round(Purpose::Selection, &marginals, &none(&fx), sigma2(), "selection")
        .unwrap_or_else(|e| panic!("{e}: {:?} {:?}", sim.rejected(), sim.events()));
    let expected: Vec<i64> = marginals.iter().flat_map(|m| plain_sum(&all(&fx), m)).collect();
    assert_eq!(release.values, expected);
    assert_eq!(release.contributors.len(), 3);
    // Merged codes: attribute 5's codes all merged into one, attribute 0 into two halves.
    let mut maps = none(&fx);
    let sizes = fx.domain.sizes();
    maps[5] = Some(vec![0; sizes[5]]);
    maps[0] = Some(
        (0..sizes[0] as u32)
            .map(|c| u32::from(c >= sizes[0] as u32 / 2))
            .collect(),
    );
    let merged = sim
        .run_round(Purpose::Measurement, &[vec![0, 5]], &maps, sigma2(), "merged")
        .unwrap()
        .values;
    let raw = plain_sum(&all(&fx), &[0]);
    let half = sizes[0] / 2;
    assert_eq!(
        merged,
        vec![raw[..half].iter().sum::<i64>(), raw[half..].iter().sum::<i64>()]
    );
    check_ledgers(&sim);
}

#[test]
fn with_noise_every_aggregator_adds_its_share_of_variance() {
    let fx = fixture(3, 600, 2);
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DiscreteGaussian, vec![]));
    let attrs = vec![0, 1];
    let exact = plain_sum(&all(&fx), &attrs);
    let noisy = measure(&mut sim, &fx, &attrs).unwrap();
    assert_ne!(noisy, exact, "noise was added");
    let errors: Vec<f64> = noisy.iter().zip(&exact).map(|(a, b)| (a - b) as f64).collect();
    let var = errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64;
    // 2σ² = 25 per cell; a loose band for a few dozen cells.
    assert!(var > 8.0 && var < 60.0, "empirical variance {var}");
}

#[test]
fn sites_charge_what_they_recompute_and_refuse_beyond_their_policy() {
    let fx = fixture(3, 600, 3);
    // σ² = 25/2 for one marginal costs 1/(2σ²) = 0.04 at each site.
    let mut policies = vec![policy(1.0), policy(1.0), policy(0.1)];
    policies[2].max_rho_per_dataset = dp::Rho::new(0.1).unwrap();
    let mut sim = federation::Simulation::new(
        announcement(&fx, 2, 0.1),
        fx.domain.sizes(),
        sites(&fx, &policies),
        config(Noise::DisabledForTests, vec![]),
    )
    .unwrap();
    for _ in 0..2 {
        assert_eq!(measure(&mut sim, &fx, &[1]).unwrap(), plain_sum(&all(&fx), &[1]));
    }
    for site in sim.sites() {
        let spent = site.ledger().committed(DATASET);
        assert!((spent - 0.08).abs() < 1e-9, "{}: {spent}", site.id());
    }
    // A third round would take every site to 0.12 > the job's 0.1: all refuse, the round fails.
    let err = measure(&mut sim, &fx, &[1]).unwrap_err();
    assert!(matches!(err, FederationError::RoundFailed { .. }), "{err}");
    let refusals: Vec<_> = sim
        .events()
        .iter()
        .filter_map(|e| match e {
            SimEvent::Refused(r) => Some(r.reason),
            _ => None,
        })
        .collect();
    assert_eq!(refusals, vec![RefusalReason::BudgetExceeded; 3]);
    check_ledgers(&sim);
    // And the job cannot continue: no active site is left.
    assert!(matches!(
        measure(&mut sim, &fx, &[1]),
        Err(FederationError::RoundFailed { .. })
    ));
}

#[test]
fn a_site_whose_dataset_budget_is_exhausted_refuses_the_job() {
    let fx = fixture(3, 600, 4);
    let policies = vec![policy(1.0), policy(1.0), policy(0.05)];
    let sim = federation::Simulation::new(
        announcement(&fx, 2, 0.5),
        fx.domain.sizes(),
        sites(&fx, &policies),
        config(Noise::DisabledForTests, vec![]),
    )
    .unwrap();
    assert_eq!(sim.hub().active_sites(), vec![site_id(0), site_id(1)]);
    let refused: Vec<_> = sim
        .hub()
        .refusals()
        .iter()
        .map(|r| (r.site.clone(), r.reason))
        .collect();
    assert_eq!(refused, vec![(site_id(2), RefusalReason::BudgetExceeded)]);
}

#[test]
fn policies_refuse_foreign_requesters_methods_and_small_federations() {
    let fx = fixture(3, 600, 5);
    let mut bad = vec![policy(1.0), policy(1.0), policy(1.0)];
    bad[0].allowed_requesters = vec!["someone-else".into()];
    bad[1].allowed_methods = vec![federation::Method::Aim];
    bad[2].min_sites = 3;
    let sim = federation::Simulation::new(
        announcement(&fx, 2, 0.5),
        fx.domain.sizes(),
        sites(&fx, &bad),
        config(Noise::DisabledForTests, vec![]),
    )
    .unwrap();
    let reasons: Vec<_> = sim.hub().refusals().iter().map(|r| r.reason).collect();
    assert_eq!(
        reasons,
        vec![
            RefusalReason::RequesterNotAllowed,
            RefusalReason::MethodNotAllowed,
            RefusalReason::TooFewSites
        ]
    );
    assert!(sim.hub().active_sites().is_empty());
}

/// Drop site 1 at `step` of round 1 (or at the announcement); with `min_sites` 2 the round
/// releases the sum of the two others, with 3 it fails cleanly.
fn drop_scenario(step: Step, min_sites: u32) -> (federation::Simulation, Result<Vec<i64>, FederationError>, Fixture) {
    let fx = fixture(3, 600, 6);
    let fault = Fault::Drop {
        site: 1,
        round: 1,
        step,
    };
    let mut sim = simulation(&fx, min_sites, 1.0, 2.0, config(Noise::DisabledForTests, vec![fault]));
    let result = measure(&mut sim, &fx, &[0, 4]);
    check_ledgers(&sim);
    (sim, result, fx)
}

#[test]
fn a_site_dropping_at_any_step_above_the_minimum_leaves_the_others_counted() {
    for step in [Step::Announcement, Step::Request, Step::HelperUpload] {
        let (mut sim, result, fx) = drop_scenario(step, 2);
        assert_eq!(result.unwrap(), plain_sum(&without(&fx, 1), &[0, 4]), "{step:?}");
        assert!(
            sim.events().iter().any(|e| matches!(e, SimEvent::FaultInjected(_))),
            "{step:?}"
        );
        // Charged only if its shares left the site.
        let charged = sim.sites()[1].ledger().committed(DATASET);
        assert_eq!(charged > 0.0, step == Step::HelperUpload, "{step:?}: {charged}");
        if step == Step::HelperUpload {
            assert!(rejected_with(&sim, 1, "unfinished"), "{:?}", sim.rejected());
        }
        // The job goes on without it.
        assert_eq!(measure(&mut sim, &fx, &[2]).unwrap(), plain_sum(&without(&fx, 1), &[2]));
        check_ledgers(&sim);
    }
}

#[test]
fn a_site_dropping_at_any_step_below_the_minimum_fails_the_round_cleanly() {
    for step in [Step::Announcement, Step::Request, Step::HelperUpload] {
        let (mut sim, result, _) = drop_scenario(step, 3);
        match result {
            Err(FederationError::RoundFailed { reason, .. }) => assert!(reason.contains("at least 3"), "{reason}"),
            other => panic!("{step:?}: expected a failed round, got {other:?}"),
        }
        assert!(!sim.hub().round_open());
        assert!(sim.events().iter().any(|e| matches!(e, SimEvent::Failed(_))));
        let fx = fixture(3, 600, 6);
        assert!(matches!(
            measure(&mut sim, &fx, &[0]),
            Err(FederationError::RoundFailed { .. })
        ));
    }
}

#[test]
fn a_replayed_upload_is_counted_once() {
    let fx = fixture(3, 600, 7);
    let fault = Fault::ReplayUpload { site: 0, round: 1 };
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![fault]));
    assert_eq!(measure(&mut sim, &fx, &[0, 1]).unwrap(), plain_sum(&all(&fx), &[0, 1]));
    assert!(rejected_with(&sim, 0, "replay"), "{:?}", sim.rejected());
    // Replayed at both aggregators.
    assert_eq!(sim.rejected().iter().filter(|r| r.site == site_id(0)).count(), 2);
    check_ledgers(&sim);
}

#[test]
fn an_out_of_range_contribution_is_rejected_and_recorded() {
    let fx = fixture(3, 600, 8);
    let fault = Fault::OutOfRange { site: 2, round: 1 };
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![fault]));
    assert_eq!(measure(&mut sim, &fx, &[3]).unwrap(), plain_sum(&without(&fx, 2), &[3]));
    assert!(rejected_with(&sim, 2, "malformed"), "{:?}", sim.rejected());
    // With three required sites the malicious report makes the round fail rather than count.
    let fault = Fault::OutOfRange { site: 2, round: 1 };
    let mut sim = simulation(&fx, 3, 1.0, 2.0, config(Noise::DisabledForTests, vec![fault]));
    assert!(matches!(
        measure(&mut sim, &fx, &[3]),
        Err(FederationError::RoundFailed { .. })
    ));
}

#[test]
fn a_tampered_share_fails_prio3_verification() {
    let fx = fixture(3, 600, 9);
    let fault = Fault::TamperShare { site: 0, round: 1 };
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![fault]));
    assert_eq!(
        measure(&mut sim, &fx, &[1, 2]).unwrap(),
        plain_sum(&without(&fx, 0), &[1, 2])
    );
    assert!(
        rejected_with(&sim, 0, "verification") || rejected_with(&sim, 0, "malformed"),
        "{:?}",
        sim.rejected()
    );
    check_ledgers(&sim);
}

#[test]
fn upload_bytes_are_accounted_per_site() {
    let fx = fixture(3, 600, 10);
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![]));
    measure(&mut sim, &fx, &[0, 1]).unwrap();
    assert!(sim.upload_bytes().iter().all(|&b| b > 1000), "{:?}", sim.upload_bytes());
}

#[test]
fn a_vote_round_counts_one_vote_per_contributing_site_without_noise() {
    let fx = fixture(3, 600, 11);
    // Noise on: vote rounds get none from the aggregators all the same.
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DiscreteGaussian, vec![]));
    let marginals = vec![vec![0, 1], vec![2, 5], vec![4]];
    let sizes = fx.domain.sizes();
    let models: Vec<Vec<u64>> = marginals
        .iter()
        .map(|m| vec![1024; m.iter().map(|&a| sizes[a]).product()])
        .collect();
    let spec = federation::RoundSpec {
        purpose: Purpose::Votes,
        marginals: marginals.clone(),
        maps: none(&fx),
        scores: None,
        votes: Some(federation::msg::VoteQuery {
            models,
            weights: vec![1024, 2048, 1024],
            penalties: vec![0, 0, 0],
            epsilon: federation::msg::WireRational { num: 1, den: 10 },
            resolution: 64,
            sites: 3,
        }),
        sigma2: Rational::integer(1).unwrap(),
        what: "votes".into(),
    };
    let release = sim.run(spec).unwrap();
    assert_eq!(release.values.len(), 3);
    assert!(release.values.iter().all(|&v| v >= 0));
    assert_eq!(release.values.iter().sum::<i64>(), 3, "{:?}", release.values);
    // Each site charged ε²/8 = 0.00125 (rounded up), recomputed from the request's ε.
    for site in sim.sites() {
        let spent = site.ledger().committed(DATASET);
        assert!((spent - 0.00125).abs() < 1e-9, "{spent}");
    }
    check_ledgers(&sim);
}

#[test]
fn an_upload_claiming_another_site_is_rejected_by_both_aggregators() {
    let fx = fixture(3, 600, 12);
    let fault = Fault::Impersonate {
        site: 0,
        round: 1,
        claims: 1,
    };
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![fault]));
    // Site 1 still counts once; site 0's claim is refused at the hub and at the helper.
    assert_eq!(measure(&mut sim, &fx, &[0]).unwrap(), plain_sum(&without(&fx, 0), &[0]));
    let refused = sim
        .rejected()
        .iter()
        .filter(|r| r.site == site_id(0) && r.detail.contains("names"))
        .count();
    assert_eq!(refused, 2, "{:?}", sim.rejected());
    check_ledgers(&sim);
}
