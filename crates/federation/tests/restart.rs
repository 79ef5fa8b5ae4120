//! Restarts and timeouts of the aggregators in the deterministic simulation: a hub restarted
//! from its persisted checkpoint (through JSON bytes) releases exactly what an uninterrupted run
//! releases and charges no site twice; the helper re-sends its cached share; a helper that
//! never answers fails the round and ends the job, within every ledger's policy.

mod common;

use common::*;
use dp::Rational;
use federation::msg::RoundFailure;
use federation::{
    AggregatorFault, Deadlines, FederationError, Hub, HubCheckpoint, HubInput, HubOutput, InMemoryLedger, Noise,
    Purpose, RestartStep, RoundRelease, RoundSpec, SimEvent, Simulation,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secagg::VerifyKey;

fn spec(fx: &Fixture, purpose: Purpose, marginals: Vec<Vec<usize>>, what: &str) -> RoundSpec {
    RoundSpec {
        purpose,
        marginals,
        maps: vec![None; fx.domain.len()],
        scores: None,
        votes: None,
        sigma2: Rational::new(25, 2).expect("sigma2"),
        what: what.into(),
    }
}

/// The job of every scenario: a measurement, a selection over three candidates, a measurement.
fn rounds(fx: &Fixture) -> Vec<RoundSpec> {
    vec![
        spec(fx, Purpose::Measurement, vec![vec![0, 1]], "first"),
        spec(fx, Purpose::Selection, vec![vec![0, 4], vec![2], vec![3, 5]], "second"),
        spec(fx, Purpose::Measurement, vec![vec![2, 3]], "third"),
    ]
}

fn commitments(sim: &Simulation) -> Vec<Vec<(String, federation::JobId, f64)>> {
    sim.sites()
        .iter()
        .map(|s| InMemoryLedger::commitments(s.ledger()))
        .collect()
}

/// Runs the job's rounds, checking the ledgers after each; returns the releases.
fn run_job(sim: &mut Simulation, fx: &Fixture) -> Vec<RoundRelease> {
    rounds(fx)
        .into_iter()
        .map(|spec| {
            let release = sim
                .run(spec)
                .unwrap_or_else(|e| panic!("{e}: {:?} {:?}", sim.rejected(), sim.events()));
            check_ledgers(sim);
            release
        })
        .collect()
}

fn plain(fx: &Fixture, spec: &RoundSpec) -> Vec<i64> {
    let parts: Vec<&table::encode::Encoded> = fx.parts.iter().collect();
    spec.marginals.iter().flat_map(|m| plain_sum(&parts, m)).collect()
}

fn share_digests(sim: &Simulation, round: u32) -> Vec<String> {
    sim.events()
        .iter()
        .filter_map(|e| match e {
            SimEvent::AggregateShareSent { round: r, sha256 } if *r == round => Some(sha256.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_hub_restart_at_either_step_releases_and_charges_what_an_uninterrupted_run_does() {
    let fx = fixture(3, 600, 31);
    for noise in [Noise::DisabledForTests, Noise::DiscreteGaussian] {
        let mut baseline = simulation(&fx, 2, 1.0, 2.0, config(noise, vec![]));
        let expected = run_job(&mut baseline, &fx);
        if noise == Noise::DisabledForTests {
            for (release, spec) in expected.iter().zip(rounds(&fx)) {
                assert_eq!(release.values, plain(&fx, &spec), "{}", spec.what);
            }
        }
        for step in [RestartStep::Uploads, RestartStep::HelperShare] {
            for round in [1, 2] {
                let fault = AggregatorFault::HubRestart { round, step };
                let mut sim =
                    simulation(&fx, 2, 1.0, 2.0, config(noise, vec![])).with_aggregator_faults(vec![fault.clone()]);
                let releases = run_job(&mut sim, &fx);
                let case = format!("{noise:?} {step:?} round {round}");
                assert_eq!(releases, expected, "{case}");
                assert_eq!(commitments(&sim), commitments(&baseline), "{case}: charged twice?");
                let restarts = sim
                    .events()
                    .iter()
                    .filter(|e| **e == SimEvent::AggregatorFaultInjected(fault.clone()))
                    .count();
                assert_eq!(restarts, 1, "{case}");
                // The helper drew its noise once: after a restart past its release it re-sent
                // the identical share.
                let digests = share_digests(&sim, round);
                let sent = if step == RestartStep::HelperShare { 2 } else { 1 };
                assert_eq!(digests.len(), sent, "{case}");
                assert!(digests.iter().all(|d| *d == digests[0]), "{case}");
                assert_eq!(sim.hub().next_round(), baseline.hub().next_round(), "{case}");
                assert!(sim.rejected().is_empty(), "{case}: {:?}", sim.rejected());
            }
        }
    }
}

#[test]
fn the_persisted_checkpoint_is_versioned_json_and_resumes_the_open_round() {
    let fx = fixture(3, 600, 32);
    let sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![]));
    let checkpoint: HubCheckpoint = serde_json::from_slice(sim.persisted_checkpoint()).unwrap();
    assert_eq!(checkpoint.version(), federation::HUB_CHECKPOINT_VERSION);
    assert_eq!(checkpoint.resume_round(), federation::Round(1));
    assert!(checkpoint.open_request().is_none());

    // A hub with an open round, checkpointed, restored: the round re-opens with the same number
    // and, for the same spec, the same request to every site.
    let announcement = announcement(&fx, 2, 1.0);
    let key = VerifyKey::from_bytes([5; 32]);
    let rng = ChaCha20Rng::seed_from_u64(9);
    let new_hub = || {
        Hub::new(
            announcement.clone(),
            fx.domain.sizes(),
            key.clone(),
            Noise::DisabledForTests,
            rng.clone(),
        )
        .unwrap()
    };
    let mut hub = new_hub();
    for i in 0..3 {
        let acceptance = federation::msg::Message::Acceptance(federation::msg::JobAcceptance {
            job_id: announcement.job_id.clone(),
            site: site_id(i),
        });
        hub.handle(HubInput::FromSite {
            site: site_id(i),
            message: acceptance,
        })
        .unwrap();
    }
    let first = spec(&fx, Purpose::Measurement, vec![vec![1, 2]], "open");
    let sent = hub.open_round(first.clone()).unwrap();
    let bytes = serde_json::to_vec(&hub.checkpoint()).unwrap();
    let checkpoint: HubCheckpoint = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(checkpoint.resume_round(), federation::Round(1));
    let restore = |checkpoint: HubCheckpoint| {
        Hub::restore(
            announcement.clone(),
            fx.domain.sizes(),
            key.clone(),
            Noise::DisabledForTests,
            rng.clone(),
            checkpoint,
        )
    };
    let mut restored = restore(checkpoint.clone()).unwrap();
    assert_eq!(restored.active_sites().len(), 3);
    assert!(!restored.round_open());
    // A restored, not yet re-opened hub checkpoints the same state.
    assert_eq!(restored.checkpoint(), checkpoint);
    let other = spec(&fx, Purpose::Measurement, vec![vec![1, 3]], "open");
    assert!(matches!(
        restored.open_round(other),
        Err(FederationError::Protocol { .. })
    ));
    assert_eq!(restored.open_round(first).unwrap(), sent);
    assert!(sent.iter().any(|o| matches!(o, HubOutput::ToSite(..))));

    // Another version, another job: refused.
    let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    json["version"] = serde_json::json!(99);
    assert!(restore(serde_json::from_value(json).unwrap()).is_err());
    let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    json["job_id"] = serde_json::json!("another-job");
    assert!(restore(serde_json::from_value(json).unwrap()).is_err());
    assert!(serde_json::from_slice::<HubCheckpoint>(b"{\"version\":1}").is_err());
}

#[test]
fn a_helper_timeout_fails_the_round_and_ends_the_job_within_every_policy() {
    let fx = fixture(3, 600, 33);
    let specs = rounds(&fx);
    let deadlines = Deadlines { site: 500, helper: 40 };
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![]))
        .with_deadlines(deadlines)
        .with_aggregator_faults(vec![AggregatorFault::HelperTimeout { round: 2 }]);
    assert_eq!(sim.run(specs[0].clone()).unwrap().values, plain(&fx, &specs[0]));
    let before = sim.now();
    let err = sim.run(specs[1].clone()).unwrap_err();
    match &err {
        FederationError::RoundFailed { round: 2, reason } => {
            assert!(reason.contains("helper aggregator timed out"), "{reason}")
        }
        other => panic!("expected a failed round 2, got {other}"),
    }
    assert!(sim.now() >= before + deadlines.helper, "{} {before}", sim.now());
    assert!(
        sim.now() < before + deadlines.site,
        "the helper's deadline, not the sites'"
    );
    assert!(
        sim.hub()
            .ended()
            .is_some_and(|r| r.contains("helper aggregator timed out in round 2"))
    );
    assert!(sim.events().iter().any(|e| matches!(
        e,
        SimEvent::Failed(RoundFailure { reason, .. }) if reason == "helper aggregator timed out"
    )));
    // The job is over: the next round fails at once and nobody is asked or charged.
    let charged = commitments(&sim);
    match sim.run(specs[2].clone()) {
        Err(FederationError::RoundFailed { round: 3, reason }) => assert!(reason.contains("the job ended"), "{reason}"),
        other => panic!("expected the job to have ended, got {other:?}"),
    }
    assert_eq!(commitments(&sim), charged);
    // Each site committed rounds 1 and 2 (its shares left), nothing else: an uninterrupted run
    // of the same two rounds charges the same.
    let mut baseline = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![]));
    for spec in &specs[..2] {
        baseline.run(spec.clone()).unwrap();
    }
    assert_eq!(charged, commitments(&baseline));
    check_ledgers(&sim);
}

#[test]
fn the_sites_deadline_closes_a_round_with_what_arrived() {
    let fx = fixture(3, 600, 34);
    let fault = federation::Fault::Drop {
        site: 2,
        round: 1,
        step: federation::Step::Request,
    };
    let deadlines = Deadlines { site: 300, helper: 40 };
    let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![fault])).with_deadlines(deadlines);
    let start = sim.now();
    let spec = spec(&fx, Purpose::Measurement, vec![vec![0]], "deadline");
    let release = sim.run(spec.clone()).unwrap();
    // The silent site is noticed only when the sites' deadline passes.
    assert!(sim.now() >= start + deadlines.site, "{} {start}", sim.now());
    assert_eq!(release.contributors, vec![site_id(0), site_id(1)]);
    let parts: Vec<&table::encode::Encoded> = fx.parts[..2].iter().collect();
    assert_eq!(release.values, plain_sum(&parts, &[0]));
    check_ledgers(&sim);
}

#[test]
fn a_restart_after_a_site_dropped_still_counts_the_others_once() {
    let fx = fixture(3, 600, 35);
    for step in [RestartStep::Uploads, RestartStep::HelperShare] {
        let drop = federation::Fault::Drop {
            site: 2,
            round: 1,
            step: federation::Step::Request,
        };
        let mut sim = simulation(&fx, 2, 1.0, 2.0, config(Noise::DisabledForTests, vec![drop]))
            .with_aggregator_faults(vec![AggregatorFault::HubRestart { round: 1, step }]);
        let spec = spec(&fx, Purpose::Measurement, vec![vec![1, 4]], "drop then restart");
        let release = sim.run(spec).unwrap_or_else(|e| panic!("{step:?}: {e}"));
        let parts: Vec<&table::encode::Encoded> = fx.parts[..2].iter().collect();
        assert_eq!(release.values, plain_sum(&parts, &[1, 4]), "{step:?}");
        assert_eq!(release.contributors, vec![site_id(0), site_id(1)], "{step:?}");
        assert_eq!(
            federation::PrivacyLedger::committed(sim.sites()[2].ledger(), DATASET),
            0.0
        );
        let once = 1.0 / 25.0;
        for site in &sim.sites()[..2] {
            let spent = federation::PrivacyLedger::committed(site.ledger(), DATASET);
            assert!((spent - once).abs() < 1e-9, "{step:?} {}: {spent}", site.id());
        }
        check_ledgers(&sim);
    }
}
