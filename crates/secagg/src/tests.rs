//! End-to-end tests of sharding, the two aggregators and unsharding, driven in memory.

use std::collections::VecDeque;

use proptest::prelude::*;

use crate::*;

fn key() -> VerifyKey {
    VerifyKey::from_bytes([7u8; 32])
}

fn id(n: u64) -> ReportId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[15] = 0xa5;
    ReportId::from_bytes(bytes)
}

fn params(length: usize, bits: usize, bound: TotalBound) -> AggregationParams {
    AggregationParams::new(length, bits, bound, b"job-42").expect("valid test parameters")
}

fn declared(bound: TotalBound, vector: &[u64]) -> Option<u64> {
    match bound {
        TotalBound::CellsOnly => None,
        TotalBound::DeclaredCount => Some(vector.iter().sum()),
    }
}

/// Both aggregators of one job, with in-memory "network" queues. Every message crosses the
/// queues encoded and decoded, as it would over the wire.
struct Job {
    params: AggregationParams,
    leader: Leader,
    helper: Helper,
    leader_events: Vec<LeaderOutput>,
    helper_events: Vec<HelperOutput>,
}

impl Job {
    fn new(params: AggregationParams) -> Self {
        Job {
            leader: Leader::new(params.clone(), key()).expect("leader"),
            helper: Helper::new(params.clone(), key()).expect("helper"),
            params,
            leader_events: Vec::new(),
            helper_events: Vec::new(),
        }
    }

    fn with_keys(params: AggregationParams, leader_key: VerifyKey, helper_key: VerifyKey) -> Self {
        Job {
            leader: Leader::new(params.clone(), leader_key).expect("leader"),
            helper: Helper::new(params.clone(), helper_key).expect("helper"),
            params,
            leader_events: Vec::new(),
            helper_events: Vec::new(),
        }
    }

    /// Uploads shares (encoded and decoded, as over the wire) and runs the aggregators' exchange
    /// to quiescence.
    fn upload(&mut self, leader_share: Option<ReportShare>, helper_share: Option<ReportShare>) {
        let mut to_helper = VecDeque::new();
        let mut to_leader = VecDeque::new();
        if let Some(share) = helper_share {
            let wire = ReportShare::decode(&self.params, &share.encode().expect("encode")).expect("decode");
            let out = self
                .helper
                .handle(HelperInput::Report(wire))
                .expect("helper handles upload");
            self.route_helper(out, &mut to_leader);
        }
        if let Some(share) = leader_share {
            let wire = ReportShare::decode(&self.params, &share.encode().expect("encode")).expect("decode");
            let out = self
                .leader
                .handle(LeaderInput::Report(wire))
                .expect("leader handles upload");
            self.route_leader(out, &mut to_helper);
        }
        self.pump(to_helper, to_leader);
    }

    fn pump(&mut self, mut to_helper: VecDeque<LeaderMessage>, mut to_leader: VecDeque<HelperMessage>) {
        while !to_helper.is_empty() || !to_leader.is_empty() {
            if let Some(message) = to_helper.pop_front() {
                let wire = LeaderMessage::decode(&message.encode().expect("encode")).expect("decode");
                assert_eq!(wire, message);
                let out = self
                    .helper
                    .handle(HelperInput::FromLeader(wire))
                    .expect("helper handles message");
                self.route_helper(out, &mut to_leader);
            }
            if let Some(message) = to_leader.pop_front() {
                let wire = HelperMessage::decode(&message.encode().expect("encode")).expect("decode");
                assert_eq!(wire, message);
                let out = self
                    .leader
                    .handle(LeaderInput::FromHelper(wire))
                    .expect("leader handles message");
                self.route_leader(out, &mut to_helper);
            }
        }
    }

    fn route_leader(&mut self, outputs: Vec<LeaderOutput>, to_helper: &mut VecDeque<LeaderMessage>) {
        for output in outputs {
            match output {
                LeaderOutput::ToHelper(message) => to_helper.push_back(message),
                other => self.leader_events.push(other),
            }
        }
    }

    fn route_helper(&mut self, outputs: Vec<HelperOutput>, to_leader: &mut VecDeque<HelperMessage>) {
        for output in outputs {
            match output {
                HelperOutput::ToLeader(message) => to_leader.push_back(message),
                other => self.helper_events.push(other),
            }
        }
    }

    /// Closes the job (noise optional per aggregator) and unshards.
    fn close(
        self,
        leader_noise: Option<&mut dyn NoiseSource>,
        helper_noise: Option<&mut dyn NoiseSource>,
    ) -> (Vec<i64>, Vec<Rejection>, Vec<Rejection>) {
        let (leader_share, collect, leader_rejections) = self.leader.finish(leader_noise).expect("leader finish");
        let collect = CollectRequest::decode(&collect.encode().expect("encode")).expect("decode");
        let (helper_share, helper_rejections) = self.helper.finish(&collect, helper_noise).expect("helper finish");
        let leader_share =
            AggregateShare::decode(&self.params, &leader_share.encode().expect("encode")).expect("decode");
        let helper_share =
            AggregateShare::decode(&self.params, &helper_share.encode().expect("encode")).expect("decode");
        let n = collect.accepted.len() as u64;
        let sum = unshard(&self.params, [leader_share, helper_share], n).expect("unshard");
        (sum, leader_rejections, helper_rejections)
    }
}

fn plain_sum(length: usize, vectors: &[Vec<u64>]) -> Vec<i64> {
    (0..length).map(|i| vectors.iter().map(|v| v[i] as i64).sum()).collect()
}

fn run_honest(length: usize, bits: usize, bound: TotalBound, vectors: &[Vec<u64>]) -> Vec<i64> {
    let params = params(length, bits, bound);
    let mut job = Job::new(params.clone());
    for (n, vector) in vectors.iter().enumerate() {
        let [l, h] = share(&params, vector, declared(bound, vector), id(n as u64)).expect("share");
        job.upload(Some(l), Some(h));
    }
    let (sum, lr, hr) = job.close(None, None);
    assert!(lr.is_empty() && hr.is_empty(), "honest reports rejected: {lr:?} {hr:?}");
    sum
}

#[test]
fn honest_sites_sum_exactly_for_several_lengths_and_site_counts() {
    for &bound in &[TotalBound::CellsOnly, TotalBound::DeclaredCount] {
        for &length in &[1usize, 4, 33] {
            for &sites in &[1usize, 3, 6] {
                let vectors: Vec<Vec<u64>> = (0..sites)
                    .map(|s| (0..length).map(|i| ((s * 7 + i * 3) % 16) as u64).collect())
                    .collect();
                let sum = run_honest(length, 4, bound, &vectors);
                assert_eq!(
                    sum,
                    plain_sum(length, &vectors),
                    "bound {bound:?} length {length} sites {sites}"
                );
            }
        }
    }
}

#[test]
fn cells_at_the_maximum_are_accepted() {
    let vectors = vec![vec![1023, 0, 1023], vec![1023, 1023, 1]];
    assert_eq!(
        run_honest(3, 10, TotalBound::CellsOnly, &vectors),
        vec![2046, 1023, 1024]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn shares_sum_to_the_inputs(
        (bits, vectors) in (1usize..6, 1usize..5, 1usize..4).prop_flat_map(|(bits, length, sites)| {
            let max = (1u64 << bits) - 1;
            (Just(bits), prop::collection::vec(prop::collection::vec(0..=max, length), sites))
        }),
        bounded in any::<bool>(),
    ) {
        let length = vectors[0].len();
        let bound = if bounded { TotalBound::DeclaredCount } else { TotalBound::CellsOnly };
        // The slack cell must fit in `bits` bits: only declare totals when they do.
        let bound = if vectors.iter().all(|v| v.iter().sum::<u64>() < (1u64 << bits)) || !bounded {
            bound
        } else {
            TotalBound::CellsOnly
        };
        prop_assert_eq!(run_honest(length, bits, bound, &vectors), plain_sum(length, &vectors));
    }
}

#[test]
fn out_of_range_cell_is_refused_at_sharing() {
    let p = params(3, 4, TotalBound::CellsOnly);
    let err = share(&p, &[1, 16, 0], None, id(1)).expect_err("16 > 15");
    assert!(
        matches!(
            err,
            SecaggError::CellOutOfRange {
                index: 1,
                value: 16,
                max: 15,
                bits: 4
            }
        ),
        "{err}"
    );
    let err = share(&p, &[1, 2], None, id(1)).expect_err("short vector");
    assert!(
        matches!(err, SecaggError::LengthMismatch { expected: 3, found: 2 }),
        "{err}"
    );
}

#[test]
fn totals_are_checked_against_the_declared_count_at_sharing() {
    let p = params(3, 4, TotalBound::DeclaredCount);
    let err = share(&p, &[3, 3, 3], Some(8), id(1)).expect_err("9 > 8");
    assert!(
        matches!(err, SecaggError::TotalExceedsDeclared { total: 9, declared: 8 }),
        "{err}"
    );
    let err = share(&p, &[0, 0, 1], Some(17), id(1)).expect_err("slack 16 > 15");
    assert!(matches!(err, SecaggError::SlackOutOfRange { slack: 16, .. }), "{err}");
    assert!(share(&p, &[0, 0, 1], Some(16), id(1)).is_ok(), "slack 15 fits");
    assert!(matches!(
        share(&p, &[0, 0, 1], None, id(1)),
        Err(SecaggError::DeclaredCount { .. })
    ));
    let cells_only = params(3, 4, TotalBound::CellsOnly);
    assert!(matches!(
        share(&cells_only, &[0, 0, 1], Some(1), id(1)),
        Err(SecaggError::DeclaredCount { .. })
    ));
}

fn tamper_job(bound: TotalBound, tamper: impl Fn(&mut ReportShare, &mut ReportShare)) -> (Job, Vec<Vec<u64>>) {
    let p = params(5, 6, bound);
    let mut job = Job::new(p.clone());
    let honest = vec![vec![1, 2, 3, 4, 5], vec![10, 0, 0, 7, 1]];
    for (n, v) in honest.iter().enumerate() {
        let [l, h] = share(&p, v, declared(bound, v), id(n as u64)).expect("share");
        job.upload(Some(l), Some(h));
    }
    let bad = vec![9, 9, 9, 9, 9];
    let [mut l, mut h] = share(&p, &bad, declared(bound, &bad), id(99)).expect("share");
    tamper(&mut l, &mut h);
    job.upload(Some(l), Some(h));
    (job, honest)
}

fn assert_rejected_alone(job: Job, honest: &[Vec<u64>], leader_reason: RejectReason, helper_reason: RejectReason) {
    let (sum, lr, hr) = job.close(None, None);
    assert_eq!(sum, plain_sum(5, honest));
    assert_eq!(lr.len(), 1, "{lr:?}");
    assert_eq!((lr[0].report_id, lr[0].reason), (id(99), leader_reason), "{lr:?}");
    assert_eq!(hr.len(), 1, "{hr:?}");
    assert_eq!((hr[0].report_id, hr[0].reason), (id(99), helper_reason), "{hr:?}");
}

#[test]
fn flipped_bit_in_leader_share_fails_verification_and_others_still_aggregate() {
    for bound in [TotalBound::CellsOnly, TotalBound::DeclaredCount] {
        // Byte 1 is inside the first field element's low bytes: the value stays a valid encoding.
        let (job, honest) = tamper_job(bound, |l, _| l.input_share_bytes_mut()[1] ^= 0x01);
        assert_rejected_alone(
            job,
            &honest,
            RejectReason::RejectedByPeer,
            RejectReason::VerificationFailed,
        );
    }
}

#[test]
fn flipped_bit_in_helper_share_fails_verification_and_others_still_aggregate() {
    for bound in [TotalBound::CellsOnly, TotalBound::DeclaredCount] {
        let (job, honest) = tamper_job(bound, |_, h| h.input_share_bytes_mut()[3] ^= 0x10);
        assert_rejected_alone(
            job,
            &honest,
            RejectReason::RejectedByPeer,
            RejectReason::VerificationFailed,
        );
    }
}

#[test]
fn total_above_declared_count_is_rejected() {
    // The site shares 45 records but both aggregators are told 44.
    let (job, honest) = tamper_job(TotalBound::DeclaredCount, |l, h| {
        l.set_declared_count(Some(44));
        h.set_declared_count(Some(44));
    });
    assert_rejected_alone(job, &honest, RejectReason::TotalMismatch, RejectReason::RejectedByPeer);
}

#[test]
fn different_declared_counts_at_the_two_aggregators_are_rejected() {
    let (job, honest) = tamper_job(TotalBound::DeclaredCount, |l, _| l.set_declared_count(Some(50)));
    assert_rejected_alone(
        job,
        &honest,
        RejectReason::RejectedByPeer,
        RejectReason::DeclaredCountMismatch,
    );
}

#[test]
fn replayed_report_id_is_counted_once() {
    let p = params(2, 4, TotalBound::DeclaredCount);
    let mut job = Job::new(p.clone());
    let [l, h] = share(&p, &[3, 4], Some(7), id(5)).expect("share");
    job.upload(Some(l.clone()), Some(h.clone()));
    job.upload(Some(l), Some(h));
    // A fresh sharing under the same id is a replay too.
    let [l2, h2] = share(&p, &[1, 1], Some(2), id(5)).expect("share");
    job.upload(Some(l2), Some(h2));
    let (sum, lr, hr) = job.close(None, None);
    assert_eq!(sum, vec![3, 4]);
    assert_eq!(
        lr.iter().map(|r| r.reason).collect::<Vec<_>>(),
        vec![RejectReason::Replayed; 2]
    );
    assert_eq!(
        hr.iter().map(|r| r.reason).collect::<Vec<_>>(),
        vec![RejectReason::Replayed; 2]
    );
}

#[test]
fn noise_from_both_aggregators_is_added_exactly() {
    let p = params(4, 5, TotalBound::DeclaredCount);
    let mut job = Job::new(p.clone());
    let vectors = vec![vec![0, 1, 2, 3], vec![4, 0, 0, 1]];
    for (n, v) in vectors.iter().enumerate() {
        let [l, h] = share(&p, v, declared(TotalBound::DeclaredCount, v), id(n as u64)).expect("share");
        job.upload(Some(l), Some(h));
    }
    let mut leader_noise = |len: usize| -> Vec<i64> { (0..len as i64).map(|i| -3 * i - 1).collect() };
    let mut helper_noise = |len: usize| -> Vec<i64> { (0..len as i64).map(|i| 100 - i).collect() };
    let (sum, _, _) = job.close(Some(&mut leader_noise), Some(&mut helper_noise));
    let expected: Vec<i64> = plain_sum(4, &vectors)
        .iter()
        .enumerate()
        .map(|(i, s)| s + (-3 * i as i64 - 1) + (100 - i as i64))
        .collect();
    assert_eq!(sum, expected);
}

#[test]
fn negative_noisy_cells_are_lifted_to_negative_integers() {
    let p = params(2, 3, TotalBound::CellsOnly);
    let mut job = Job::new(p.clone());
    let [l, h] = share(&p, &[1, 0], None, id(0)).expect("share");
    job.upload(Some(l), Some(h));
    let mut leader_noise = |_: usize| vec![-5_i64, i64::MIN / 4];
    let mut helper_noise = |_: usize| vec![-7_i64, 0];
    let (sum, _, _) = job.close(Some(&mut leader_noise), Some(&mut helper_noise));
    assert_eq!(sum, vec![-11, i64::MIN / 4]);
}

#[test]
fn noise_source_of_wrong_length_is_an_error() {
    let p = params(3, 3, TotalBound::CellsOnly);
    let leader = Leader::new(p, key()).expect("leader");
    let mut noise = |_: usize| vec![1_i64];
    let err = leader.finish(Some(&mut noise)).expect_err("wrong length");
    assert!(matches!(err, SecaggError::NoiseLength { expected: 3, found: 1 }));
}

#[test]
fn mismatched_verify_keys_reject_every_report() {
    let p = params(2, 3, TotalBound::CellsOnly);
    let mut job = Job::with_keys(p.clone(), key(), VerifyKey::from_bytes([8u8; 32]));
    let [l, h] = share(&p, &[1, 2], None, id(0)).expect("share");
    job.upload(Some(l), Some(h));
    let (sum, lr, hr) = job.close(None, None);
    assert_eq!(sum, vec![0, 0]);
    assert_eq!(lr[0].reason, RejectReason::RejectedByPeer);
    assert_eq!(hr[0].reason, RejectReason::VerificationFailed);
}

#[test]
fn report_from_another_job_fails_verification() {
    let ours = params(2, 3, TotalBound::CellsOnly);
    let theirs = AggregationParams::new(2, 3, TotalBound::CellsOnly, b"job-43").expect("params");
    let mut job = Job::new(ours);
    let [l, h] = share(&theirs, &[1, 2], None, id(0)).expect("share");
    job.upload(Some(l), Some(h));
    let (sum, _, hr) = job.close(None, None);
    assert_eq!(sum, vec![0, 0]);
    assert_eq!(hr[0].reason, RejectReason::VerificationFailed);
}

#[test]
fn helper_may_hear_from_the_leader_before_the_site_uploads() {
    let p = params(3, 4, TotalBound::DeclaredCount);
    let mut job = Job::new(p.clone());
    let [l, h] = share(&p, &[1, 2, 3], Some(6), id(0)).expect("share");
    job.upload(Some(l), None);
    assert_eq!(job.leader.in_flight_count(), 1);
    job.upload(None, Some(h));
    assert_eq!(job.leader.accepted_count(), 1);
    assert_eq!(job.helper.accepted_count(), 1);
    let (sum, _, _) = job.close(None, None);
    assert_eq!(sum, vec![1, 2, 3]);
}

#[test]
fn share_for_the_wrong_aggregator_is_rejected() {
    let p = params(2, 3, TotalBound::CellsOnly);
    let mut job = Job::new(p.clone());
    let [l, h] = share(&p, &[1, 2], None, id(0)).expect("share");
    job.upload(Some(h), Some(l));
    let (sum, lr, hr) = job.close(None, None);
    assert_eq!(sum, vec![0, 0]);
    assert_eq!(lr[0].reason, RejectReason::WrongAggregator);
    assert_eq!(hr[0].reason, RejectReason::WrongAggregator);
}

#[test]
fn dropout_leaves_reports_unfinished_and_the_rest_aggregates() {
    let p = params(2, 3, TotalBound::CellsOnly);
    let mut job = Job::new(p.clone());
    let [l0, h0] = share(&p, &[1, 2], None, id(0)).expect("share");
    let [l1, _] = share(&p, &[4, 4], None, id(1)).expect("share");
    let [_, h2] = share(&p, &[5, 5], None, id(2)).expect("share");
    job.upload(Some(l0), Some(h0));
    job.upload(Some(l1), None);
    job.upload(None, Some(h2));
    let (sum, lr, hr) = job.close(None, None);
    assert_eq!(sum, vec![1, 2]);
    assert_eq!((lr[0].report_id, lr[0].reason), (id(1), RejectReason::Unfinished));
    let helper_unfinished: Vec<ReportId> = hr.iter().map(|r| r.report_id).collect();
    assert_eq!(helper_unfinished, vec![id(1), id(2)]);
}

#[test]
fn protocol_violations_are_errors() {
    let p = params(2, 3, TotalBound::CellsOnly);
    let mut leader = Leader::new(p.clone(), key()).expect("leader");
    let mut helper = Helper::new(p.clone(), key()).expect("helper");
    let stray = HelperMessage::Rejected {
        report_id: id(3),
        reason: RejectReason::Replayed,
    };
    assert!(matches!(
        leader.handle(LeaderInput::FromHelper(stray)),
        Err(SecaggError::Protocol { .. })
    ));
    let stray = LeaderMessage::Decide {
        report_id: id(3),
        accept: true,
    };
    assert!(matches!(
        helper.handle(HelperInput::FromLeader(stray)),
        Err(SecaggError::Protocol { .. })
    ));
    // A collect request listing a report the helper never accepted.
    let err = helper
        .finish(&CollectRequest { accepted: vec![id(3)] }, None)
        .expect_err("mismatch");
    assert!(matches!(err, SecaggError::Protocol { .. }));
}

#[test]
fn unshard_checks_roles_lengths_and_report_counts() {
    let p = params(2, 3, TotalBound::CellsOnly);
    let (a, _, _) = Leader::new(p.clone(), key())
        .expect("leader")
        .finish(None)
        .expect("finish");
    let (b, _, _) = Leader::new(p.clone(), key())
        .expect("leader")
        .finish(None)
        .expect("finish");
    assert!(matches!(
        unshard(&p, [a.clone(), b], 0),
        Err(SecaggError::ShareMismatch { .. })
    ));
    let (h, _) = Helper::new(p.clone(), key())
        .expect("helper")
        .finish(&CollectRequest { accepted: vec![] }, None)
        .expect("finish");
    assert!(matches!(
        unshard(&p, [a.clone(), h.clone()], 1),
        Err(SecaggError::ShareMismatch { .. })
    ));
    assert_eq!(unshard(&p, [h, a], 0).expect("unshard"), vec![0, 0]);
}

#[test]
fn parameters_are_validated() {
    assert!(AggregationParams::new(0, 4, TotalBound::CellsOnly, b"").is_err());
    assert!(AggregationParams::new(3, 0, TotalBound::CellsOnly, b"").is_err());
    assert!(AggregationParams::new(3, 64, TotalBound::CellsOnly, b"").is_err());
    let p = AggregationParams::new(3, 63, TotalBound::DeclaredCount, b"x").expect("63 bits");
    assert_eq!(
        (p.length(), p.bits(), p.max_cell(), p.aggregators()),
        (3, 63, (1u64 << 63) - 1, 2)
    );
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let k = VerifyKey::from_bytes([0xab; 32]);
    assert_eq!(format!("{k:?}"), "VerifyKey(<redacted>)");
    assert_eq!(k, VerifyKey::from_bytes([0xab; 32]));
    assert_ne!(k, VerifyKey::from_bytes([0xac; 32]));
    let p = params(2, 3, TotalBound::CellsOnly);
    let [l, _] = share(&p, &[1, 2], None, id(0)).expect("share");
    let shown = format!("{l:?}");
    assert!(
        shown.contains("<redacted>") && !shown.contains("input_share: ["),
        "{shown}"
    );
    let (agg, _, _) = Leader::new(p, key()).expect("leader").finish(None).expect("finish");
    assert!(format!("{agg:?}").contains("<redacted>"));
}

/// Every encoded message of a small job, with its decoder.
fn sample_messages() -> (AggregationParams, Vec<(Vec<u8>, &'static str)>) {
    let p = params(3, 4, TotalBound::DeclaredCount);
    let [l, h] = share(&p, &[1, 2, 3], Some(7), id(0)).expect("share");
    let mut leader = Leader::new(p.clone(), key()).expect("leader");
    let mut helper = Helper::new(p.clone(), key()).expect("helper");
    let mut out = vec![
        (l.encode().expect("encode"), "report"),
        (h.encode().expect("encode"), "report"),
    ];
    helper.handle(HelperInput::Report(h)).expect("upload");
    let prepare = match leader.handle(LeaderInput::Report(l)).expect("start").pop() {
        Some(LeaderOutput::ToHelper(m)) => m,
        other => panic!("expected a prepare message, got {other:?}"),
    };
    out.push((prepare.encode().expect("encode"), "leader"));
    let prepared = match helper.handle(HelperInput::FromLeader(prepare)).expect("prepare").pop() {
        Some(HelperOutput::ToLeader(m)) => m,
        other => panic!("expected a prepared message, got {other:?}"),
    };
    out.push((prepared.encode().expect("encode"), "helper"));
    let rejected = HelperMessage::Rejected {
        report_id: id(9),
        reason: RejectReason::TotalMismatch,
    };
    out.push((rejected.encode().expect("encode"), "helper"));
    let decide = LeaderMessage::Decide {
        report_id: id(0),
        accept: false,
    };
    out.push((decide.encode().expect("encode"), "leader"));
    let (agg, collect, _) = leader.finish(None).expect("finish");
    out.push((collect.encode().expect("encode"), "collect"));
    let collect2 = CollectRequest {
        accepted: vec![id(1), id(2)],
    };
    out.push((collect2.encode().expect("encode"), "collect"));
    out.push((agg.encode().expect("encode"), "aggregate"));
    (p, out)
}

fn decode_any(p: &AggregationParams, kind: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    match kind {
        "report" => ReportShare::decode(p, bytes)?.encode(),
        "leader" => LeaderMessage::decode(bytes)?.encode(),
        "helper" => HelperMessage::decode(bytes)?.encode(),
        "collect" => CollectRequest::decode(bytes)?.encode(),
        _ => AggregateShare::decode(p, bytes)?.encode(),
    }
}

#[test]
fn every_message_round_trips_through_bytes() {
    let (p, messages) = sample_messages();
    assert_eq!(messages.len(), 9);
    for (bytes, kind) in &messages {
        assert_eq!(&decode_any(&p, kind, bytes).expect(kind), bytes, "{kind}");
    }
}

#[test]
fn truncated_extended_or_versioned_bytes_are_errors() {
    let (p, messages) = sample_messages();
    for (bytes, kind) in &messages {
        // Every truncation (the leader share is large: sample its prefixes).
        let step = (bytes.len() / 200).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            assert!(
                decode_any(&p, kind, &bytes[..cut]).is_err(),
                "{kind} truncated at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_any(&p, kind, &longer).is_err(), "{kind} with a trailing byte");
        let mut versioned = bytes.clone();
        versioned[0] = 2;
        assert!(
            matches!(decode_any(&p, kind, &versioned), Err(SecaggError::Malformed { .. })),
            "{kind}"
        );
    }
}

#[test]
fn report_share_for_other_parameters_is_malformed() {
    let p = params(3, 4, TotalBound::CellsOnly);
    let [l, _] = share(&p, &[1, 2, 3], None, id(0)).expect("share");
    let bytes = l.encode().expect("encode");
    let longer = params(4, 4, TotalBound::CellsOnly);
    assert!(matches!(
        ReportShare::decode(&longer, &bytes),
        Err(SecaggError::Malformed { .. })
    ));
    let bounded = params(3, 4, TotalBound::DeclaredCount);
    assert!(ReportShare::decode(&bounded, &bytes).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), tag in 0u8..50) {
        let p = params(3, 4, TotalBound::DeclaredCount);
        let mut framed = vec![1u8, tag];
        framed.extend_from_slice(&bytes);
        for candidate in [&bytes[..], &framed[..]] {
            for kind in ["report", "leader", "helper", "collect", "aggregate"] {
                let _ = decode_any(&p, kind, candidate);
            }
        }
    }

    #[test]
    fn single_byte_corruption_never_panics(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let (p, messages) = sample_messages();
        for (bytes, kind) in &messages {
            let mut corrupted = bytes.clone();
            let at = index.index(corrupted.len());
            corrupted[at] ^= flip;
            let _ = decode_any(&p, kind, &corrupted);
        }
    }
}
