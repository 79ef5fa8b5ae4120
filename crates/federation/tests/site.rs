//! The site state machine on its own: it charges what it recomputes from σ², answers a repeated
//! request with the same shares and no second charge, refuses a changed request for an answered
//! round, and refuses requests it cannot verify.

mod common;

use common::*;
use federation::msg::{self, MeasurementRequest, Message, RefusalReason, Round, ScoreQuery, WireRational};
use federation::{PrivacyLedger, Purpose, SiteOutput};

fn request(fx: &Fixture, round: u32, sigma2: (u64, u64)) -> MeasurementRequest {
    MeasurementRequest {
        job_id: announcement(fx, 2, 0.5).job_id,
        round: Round(round),
        purpose: Purpose::Measurement,
        marginals: vec![vec![0, 1]],
        maps: vec![None; fx.domain.len()],
        sigma2: WireRational {
            num: sigma2.0,
            den: sigma2.1,
        },
        what: "test".into(),
        scores: None,
        votes: None,
    }
}

fn refusal(outputs: &[SiteOutput]) -> Option<RefusalReason> {
    match outputs {
        [SiteOutput::ToHub(Message::Refusal(r))] => Some(r.reason),
        _ => None,
    }
}

#[test]
fn a_repeated_request_is_answered_identically_and_charged_once() {
    let fx = fixture(3, 300, 31);
    let mut site = sites(&fx, &[policy(1.0)]).remove(0);
    let accepted = site.handle(Message::Announcement(announcement(&fx, 2, 0.5))).unwrap();
    assert!(matches!(
        accepted.as_slice(),
        [SiteOutput::ToHub(Message::Acceptance(_))]
    ));
    // σ² = 5: ρ = 1/(2·5) = 0.1.
    let first = site.handle(Message::Request(request(&fx, 1, (5, 1)))).unwrap();
    assert_eq!(first.len(), 2, "one share to each aggregator");
    assert!(matches!(&first[0], SiteOutput::ToHub(Message::Upload(_))));
    assert!(matches!(&first[1], SiteOutput::ToHelper(Message::Upload(_))));
    let again = site.handle(Message::Request(request(&fx, 1, (5, 1)))).unwrap();
    assert_eq!(first, again);
    let charged = site.ledger().committed(DATASET);
    assert!((charged - 0.1).abs() < 1e-12, "{charged}");
    // Same round, other terms: refused, nothing charged.
    let changed = site.handle(Message::Request(request(&fx, 1, (1, 1)))).unwrap();
    assert_eq!(refusal(&changed), Some(RefusalReason::InvalidRequest));
    assert!((site.ledger().committed(DATASET) - 0.1).abs() < 1e-12);
}

#[test]
fn the_site_charges_from_sigma2_and_stops_at_the_job_budget() {
    let fx = fixture(3, 300, 32);
    let mut site = sites(&fx, &[policy(1.0)]).remove(0);
    site.handle(Message::Announcement(announcement(&fx, 2, 0.5))).unwrap();
    // σ² = 1/2: ρ = 1 > the job's 0.5, whatever the hub believes.
    let greedy = site.handle(Message::Request(request(&fx, 1, (1, 2)))).unwrap();
    assert_eq!(refusal(&greedy), Some(RefusalReason::BudgetExceeded));
    assert_eq!(site.ledger().committed(DATASET), 0.0);
    assert_eq!(site.ledger().reserved(DATASET), 0.0);
    // σ² = 5/2: ρ = 0.2, twice fits, the third does not.
    for round in 2..4 {
        let ok = site.handle(Message::Request(request(&fx, round, (5, 2)))).unwrap();
        assert_eq!(ok.len(), 2);
    }
    let third = site.handle(Message::Request(request(&fx, 4, (5, 2)))).unwrap();
    assert_eq!(refusal(&third), Some(RefusalReason::BudgetExceeded));
    assert!((site.ledger().committed(DATASET) - 0.4).abs() < 1e-12);
}

#[test]
fn requests_the_site_cannot_verify_are_refused() {
    let fx = fixture(3, 300, 33);
    let mut site = sites(&fx, &[policy(1.0)]).remove(0);
    // Unknown job.
    let unknown = site.handle(Message::Request(request(&fx, 1, (5, 1)))).unwrap();
    assert_eq!(refusal(&unknown), Some(RefusalReason::UnknownJob));
    site.handle(Message::Announcement(announcement(&fx, 2, 0.5))).unwrap();
    let mut bad = Vec::new();
    let mut r = request(&fx, 1, (5, 1));
    r.marginals = vec![vec![1, 0]];
    bad.push(r);
    let mut r = request(&fx, 2, (5, 1));
    r.maps.pop();
    bad.push(r);
    let mut r = request(&fx, 3, (0, 1));
    r.sigma2.num = 0;
    bad.push(r);
    let mut r = request(&fx, 4, (5, 1));
    r.purpose = Purpose::Scores;
    bad.push(r);
    let mut r = request(&fx, 5, (5, 1));
    r.purpose = Purpose::Scores;
    r.scores = Some(ScoreQuery {
        models: vec![vec![0; 3]],
        resolution: 4,
    });
    bad.push(r);
    for r in bad {
        let out = site.handle(Message::Request(r.clone())).unwrap();
        assert_eq!(refusal(&out), Some(RefusalReason::InvalidRequest), "{r:?}");
    }
    assert_eq!(site.ledger().committed(DATASET), 0.0);
    assert_eq!(site.ledger().reserved(DATASET), 0.0);
    // Messages meant for other parties are protocol errors, not panics.
    let helper_only = Message::ToHelper(msg::HelperInstruction::Abort {
        job_id: r_job(&fx),
        round: Round(1),
    });
    assert!(site.handle(helper_only).is_err());
}

fn r_job(fx: &Fixture) -> federation::JobId {
    announcement(fx, 2, 0.5).job_id
}

#[test]
fn mutated_wire_bytes_never_panic_the_decoder() {
    let fx = fixture(3, 300, 34);
    let bytes = msg::encode(&Message::Request(request(&fx, 1, (5, 1)))).unwrap();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut decoded = 0;
    for _ in 0..3000 {
        let mut mutated = bytes.clone();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() % mutated.len() as u64) as usize;
            mutated[at] = (next() & 0xff) as u8;
        }
        if msg::decode(&mutated).is_ok() {
            decoded += 1;
        }
    }
    assert!(decoded < 3000, "some mutations must be refused");
}

/// Regression (review finding F1): a score far above the share range used to make `share`
/// fail, and the refusal, sent to the hub uncharged, carried the exact score. Now the site
/// clamps its scores, answers, and is charged.
#[test]
fn over_range_scores_are_clamped_not_leaked() {
    let fx = fixture(2, 800, 33);
    let mut site = sites(&fx, &[policy(1.0), policy(1.0)]).remove(0);
    let accepted = site.handle(Message::Announcement(announcement(&fx, 2, 0.5))).unwrap();
    assert!(
        matches!(accepted.as_slice(), [SiteOutput::ToHub(Message::Acceptance(_))]),
        "{accepted:?}"
    );
    let n = fx.parts[0].n_rows() as u64;
    assert!(n * 2 * 64 > (1 << 14), "the site is large enough to overflow: {n} rows");
    let cells = fx.domain.sizes()[0];
    // A point-mass model on cell 0: the site's L1 error is 2·(n − x₀), times q = 64, far above
    // the 2^14 − 1 the announcement's 14 bits allow.
    let mut model = vec![0u64; cells];
    model[0] = n * msg::MODEL_SCALE;
    // Score sensitivity 2q + 1 = 129: σ² = 50,000 costs 129²/100,000 ≈ 0.17 of the job's 0.5.
    let mut r = request(&fx, 1, (50_000, 1));
    r.purpose = Purpose::Scores;
    r.marginals = vec![vec![0]];
    r.scores = Some(ScoreQuery {
        models: vec![model],
        resolution: 64,
    });
    let out = site.handle(Message::Request(r)).unwrap();
    assert_eq!(
        out.len(),
        2,
        "answered with one share per aggregator, not refused: {out:?}"
    );
    assert!(site.ledger().committed(DATASET) > 0.0, "the answer is charged");
}

/// A ledger whose storage fails on `reserve` or on `commit`.
struct Failing {
    inner: federation::InMemoryLedger,
    fail_commit: bool,
}

impl PrivacyLedger for Failing {
    fn reserve(
        &mut self,
        dataset: &str,
        job: &federation::JobId,
        rho: dp::Rho,
        limit: dp::Rho,
    ) -> federation::Result<federation::Reservation> {
        if !self.fail_commit {
            return Err(federation::FederationError::Ledger {
                reason: "disk I/O error".into(),
            });
        }
        let r = self.inner.reserve(dataset, job, rho, limit)?;
        // A durable ledger hands back its own handle for the row it stored.
        Ok(federation::Reservation::new(r.id(), r.dataset(), r.job(), r.rho()))
    }
    fn commit(&mut self, _: federation::Reservation) -> federation::Result<()> {
        Err(federation::FederationError::Ledger {
            reason: "database is locked".into(),
        })
    }
    fn release(&mut self, reservation: federation::Reservation) -> federation::Result<()> {
        self.inner.release(reservation)
    }
    fn committed(&self, dataset: &str) -> f64 {
        self.inner.committed(dataset)
    }
    fn reserved(&self, dataset: &str) -> f64 {
        self.inner.reserved(dataset)
    }
    fn committed_for_job(&self, dataset: &str, job: &federation::JobId) -> f64 {
        self.inner.committed_for_job(dataset, job)
    }
}

#[test]
fn a_ledger_storage_failure_refuses_the_round_and_sends_nothing() {
    use rand::SeedableRng;
    let fx = fixture(3, 300, 34);
    for fail_commit in [false, true] {
        let ledger = Failing {
            inner: federation::InMemoryLedger::new(),
            fail_commit,
        };
        let mut site = federation::SiteNode::new(
            site_id(0),
            DATASET,
            fx.parts[0].clone(),
            policy(1.0),
            ledger,
            rand_chacha::ChaCha20Rng::seed_from_u64(1),
        );
        site.handle(Message::Announcement(announcement(&fx, 2, 0.5))).unwrap();
        let outputs = site.handle(Message::Request(request(&fx, 1, (5, 1)))).unwrap();
        assert_eq!(refusal(&outputs), Some(RefusalReason::LedgerUnavailable), "{outputs:?}");
        let [SiteOutput::ToHub(Message::Refusal(r))] = outputs.as_slice() else {
            unreachable!()
        };
        // The hub learns that the ledger is unavailable, not the storage error's details.
        assert_eq!(r.detail, "the site's privacy ledger is unavailable");
        // An uncommitted reservation stays counted against the budget: never under-counted.
        let held = if fail_commit { 0.1 } else { 0.0 };
        assert!((site.ledger().reserved(DATASET) - held).abs() < 1e-12);
    }
}
