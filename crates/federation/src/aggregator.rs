//! The helper aggregator (a computing centre) as a node of the federation: it receives the
//! sites' helper shares directly, verifies each report with the hub (the secagg leader), and at
//! the end of a round releases its aggregate share with its **own** discrete Gaussian noise.
//!
//! **Privacy claim at the helper.** It derives σ² from the round's request (bound into every
//! report's Prio3 context, so it is the σ² the sites agreed to) and adds 𝒩_ℤ(0, σ²) to every
//! cell from its own CSPRNG; it never takes a noise level from the hub apart from that request.
//! It releases nothing for a round with fewer accepted reports than the job's minimum number of
//! sites (or its own floor), and only for the exact set of reports the hub lists (secagg's
//! `CollectRequest` check), so a report is never counted twice.
//!
//! **At most one noisy share per (job, round).** Once the helper released its share of a round
//! it keeps the encoded share with the sorted set of report ids it covers. When the hub asks
//! again for that round (it restarted, or the reply was lost) with the same report set, the
//! helper re-sends the **identical bytes**: no fresh noise, since two draws of `Z_H` would let a
//! hub that fakes a crash average them and learn the sum with half the noise variance. Any other
//! report set for a released round is refused ([`HelperReply::Refused`]; the hub then fails the
//! round). A round re-opened with the same number and an identical request (a restarted hub)
//! starts a fresh verification: if its share was never released the partial state is dropped,
//! so the sites' identical re-sent reports are accepted again; if it was released, the fresh
//! verification only serves the hub's leader, and collection still yields the cached bytes. A
//! repeated report id within one attempt is still rejected. A round re-opened with a different
//! request is refused.

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha20Rng;
use secagg::{
    AggregationParams, CollectRequest, Helper, HelperInput, HelperOutput, LeaderMessage, ReportId, ReportShare,
    VerifyKey,
};

use crate::hub::RejectedUpload;
use crate::msg::{
    HelperInstruction, HelperReply, JobId, MeasurementRequest, Message, Purpose, Round, SiteId, from_hex, to_hex,
};
use crate::noise::{AggregatorNoise, Noise};
use crate::query::params;
use crate::{Result, protocol};

mod checkpoint;
pub use checkpoint::{HELPER_CHECKPOINT_VERSION, HelperCheckpoint};

/// An input to the helper node.
#[derive(Debug, Clone, PartialEq)]
pub enum HelperNodeInput {
    /// From the hub (a [`Message::ToHelper`]).
    FromHub(Message),
    /// From a site (a [`Message::Upload`] of its helper share); `site` is the authenticated peer.
    FromSite {
        /// The authenticated sender.
        site: SiteId,
        /// The message.
        message: Message,
    },
}

/// A released share: what the helper re-sends, and for which reports only.
struct Released {
    accepted: Vec<ReportId>,
    share: String,
}

struct HelperRound {
    request: MeasurementRequest,
    params: AggregationParams,
    helper: Helper,
    min_sites: u32,
    uploaded: BTreeSet<SiteId>,
    reports: BTreeMap<ReportId, SiteId>,
}

/// The helper aggregator's state machine: one secagg [`Helper`] per open round.
pub struct HelperNode {
    verify_key: VerifyKey,
    noise: Noise,
    rng: ChaCha20Rng,
    min_sites_floor: u32,
    rounds: BTreeMap<(JobId, Round), HelperRound>,
    /// SHA-256 of the request of every round ever opened (a round is re-opened only
    /// identically).
    requests: BTreeMap<(JobId, Round), [u8; 32]>,
    released: BTreeMap<(JobId, Round), Released>,
    rejected: Vec<RejectedUpload>,
}

impl HelperNode {
    /// A helper sharing `verify_key` with the hub, adding `noise` drawn from `rng` (a CSPRNG
    /// seeded from the OS in deployment), and never releasing over fewer than
    /// `min_sites_floor` reports whatever a job says.
    pub fn new(verify_key: VerifyKey, noise: Noise, rng: ChaCha20Rng, min_sites_floor: u32) -> Self {
        HelperNode {
            verify_key,
            noise,
            rng,
            min_sites_floor,
            rounds: BTreeMap::new(),
            requests: BTreeMap::new(),
            released: BTreeMap::new(),
            rejected: Vec::new(),
        }
    }

    /// Whether the helper released its aggregate share of `round` of `job` (it never draws
    /// noise for that round again).
    pub fn released(&self, job: &JobId, round: Round) -> bool {
        self.released.contains_key(&(job.clone(), round))
    }

    /// Uploads refused at the helper (undecodable, duplicate, for a closed round).
    pub fn rejected(&self) -> &[RejectedUpload] {
        &self.rejected
    }

    /// Handles one input; every output goes to the hub.
    pub fn handle(&mut self, input: HelperNodeInput) -> Result<Vec<Message>> {
        match input {
            HelperNodeInput::FromHub(Message::ToHelper(instruction)) => self.instruct(instruction),
            HelperNodeInput::FromSite {
                site,
                message: Message::Upload(upload),
            } => {
                if upload.site != site {
                    self.rejected.push(RejectedUpload {
                        round: upload.round,
                        site,
                        detail: format!("upload names another site, {}", upload.site),
                    });
                    return Ok(Vec::new());
                }
                let key = (upload.job_id.clone(), upload.round);
                let Some(round) = self.rounds.get_mut(&key) else {
                    self.rejected.push(RejectedUpload {
                        round: upload.round,
                        site: upload.site,
                        detail: format!("no open round {} of job {} at the helper", key.1, key.0),
                    });
                    return Ok(Vec::new());
                };
                if !round.uploaded.insert(upload.site.clone()) {
                    self.rejected.push(RejectedUpload {
                        round: upload.round,
                        site: upload.site,
                        detail: "second upload of the site in this round (replay)".into(),
                    });
                    return Ok(Vec::new());
                }
                let share = from_hex(&upload.share, "helper share")
                    .and_then(|bytes| Ok(ReportShare::decode(&round.params, &bytes)?));
                let share = match share {
                    Ok(share) => share,
                    Err(e) => {
                        self.rejected.push(RejectedUpload {
                            round: upload.round,
                            site: upload.site,
                            detail: e.to_string(),
                        });
                        return Ok(Vec::new());
                    }
                };
                round.reports.insert(share.report_id(), upload.site);
                let outputs = round.helper.handle(HelperInput::Report(share))?;
                replies(&key, outputs)
            }
            other => Err(protocol(format!("the helper cannot handle {other:?}"))),
        }
    }

    fn instruct(&mut self, instruction: HelperInstruction) -> Result<Vec<Message>> {
        match instruction {
            HelperInstruction::Open {
                request,
                bits,
                min_sites,
            } => {
                let request = *request;
                let key = (request.job_id.clone(), request.round);
                let digest = request_digest(&request)?;
                if let Some(before) = self.requests.get(&key)
                    && *before != digest
                {
                    return Ok(vec![Message::FromHelper(HelperReply::Refused {
                        job_id: key.0,
                        round: key.1,
                        reason: format!(
                            "round {} was opened before with another request; a round is re-opened \
                             only identically",
                            request.round
                        ),
                    })]);
                }
                // A first opening, or an identical re-opening after a hub restart: a fresh
                // verification replaces any partial state (module documentation).
                // The helper needs the vector length; it trusts the hub only for the public
                // domain sizes, which a wrong value would make every report fail to decode.
                let length = request_length(&request)?;
                let params = params(&request, bits, length)?;
                let helper = Helper::new(params.clone(), self.verify_key.clone())?;
                self.requests.insert(key.clone(), digest);
                self.rounds.insert(
                    key,
                    HelperRound {
                        request,
                        params,
                        helper,
                        min_sites,
                        uploaded: BTreeSet::new(),
                        reports: BTreeMap::new(),
                    },
                );
                Ok(Vec::new())
            }
            HelperInstruction::Leader { job_id, round, message } => {
                let key = (job_id, round);
                let state = self
                    .rounds
                    .get_mut(&key)
                    .ok_or_else(|| protocol(format!("leader message for round {round}, which is not open")))?;
                let message = LeaderMessage::decode(&from_hex(&message, "leader message")?)?;
                let outputs = state.helper.handle(HelperInput::FromLeader(message))?;
                replies(&key, outputs)
            }
            HelperInstruction::Collect { job_id, round, request } => {
                let key = (job_id.clone(), round);
                let collect = CollectRequest::decode(&from_hex(&request, "collect request")?)?;
                if let Some(done) = self.released.get(&key) {
                    self.rounds.remove(&key);
                    let mut listed = collect.accepted.clone();
                    listed.sort();
                    let reply = if listed == done.accepted {
                        HelperReply::AggregateShare {
                            job_id,
                            round,
                            share: done.share.clone(),
                        }
                    } else {
                        HelperReply::Refused {
                            job_id,
                            round,
                            reason: format!(
                                "round {round} already released its aggregate share over {} reports; \
                                 it is released at most once, never for another set of {} reports",
                                done.accepted.len(),
                                listed.len()
                            ),
                        }
                    };
                    return Ok(vec![Message::FromHelper(reply)]);
                }
                let state = self
                    .rounds
                    .remove(&key)
                    .ok_or_else(|| protocol(format!("collect for round {round}, which is not open")))?;
                let needed = state.min_sites.max(self.min_sites_floor) as usize;
                if collect.accepted.len() < needed || state.helper.accepted_count() < needed {
                    return Ok(vec![Message::FromHelper(HelperReply::Refused {
                        job_id,
                        round,
                        reason: format!(
                            "{} accepted reports, the job needs at least {needed}",
                            state.helper.accepted_count()
                        ),
                    })]);
                }
                // Votes carry the sites' own exponential-mechanism noise: nothing is added.
                let noised = self.noise == Noise::DiscreteGaussian && state.request.purpose != Purpose::Votes;
                let (share, rejections) = match noised {
                    true => {
                        let sigma2 = state.request.sigma2.to_rational()?;
                        let mut noise = AggregatorNoise::new(sigma2, &mut self.rng)?;
                        state.helper.finish(&collect, Some(&mut noise))?
                    }
                    false => state.helper.finish(&collect, None)?,
                };
                for r in rejections {
                    self.rejected.push(RejectedUpload {
                        round,
                        site: state
                            .reports
                            .get(&r.report_id)
                            .cloned()
                            .unwrap_or_else(|| SiteId("unknown".into())),
                        detail: format!("{:?}: {}", r.reason, r.detail),
                    });
                }
                let share = to_hex(&share.encode()?);
                let mut accepted = collect.accepted;
                accepted.sort();
                self.released.insert(
                    key,
                    Released {
                        accepted,
                        share: share.clone(),
                    },
                );
                Ok(vec![Message::FromHelper(HelperReply::AggregateShare {
                    job_id,
                    round,
                    share,
                })])
            }
            HelperInstruction::Abort { job_id, round } => {
                // Nothing is released; a restarted hub may re-open the round identically.
                self.rounds.remove(&(job_id, round));
                Ok(Vec::new())
            }
        }
    }
}

/// The vector length of a request: the product of the merged sizes of each marginal. Merged
/// sizes come from the maps; attributes without a map need the domain, which the request
/// carries implicitly through the maps' lengths only when compressed — so the hub sends a map
/// for every attribute the helper must size (identity maps included). See [`Hub`](crate::Hub).
fn request_length(request: &MeasurementRequest) -> Result<usize> {
    let sizes: Vec<usize> = request
        .maps
        .iter()
        .enumerate()
        .map(|(a, m)| {
            m.as_ref()
                .map(|m| m.len())
                .ok_or_else(|| protocol(format!("attribute {a} has no map: the helper cannot size it")))
        })
        .collect::<Result<_>>()?;
    Ok(crate::query::check(request, &sizes)?.length)
}

/// SHA-256 of a request's JSON encoding: every field, the audit text included.
fn request_digest(request: &MeasurementRequest) -> Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(request).map_err(|e| protocol(format!("request encoding: {e}")))?;
    Ok(Sha256::digest(&bytes).into())
}

fn replies(key: &(JobId, Round), outputs: Vec<HelperOutput>) -> Result<Vec<Message>> {
    let mut messages = Vec::new();
    for output in outputs {
        if let HelperOutput::ToLeader(message) = output {
            messages.push(Message::FromHelper(HelperReply::Helper {
                job_id: key.0.clone(),
                round: key.1,
                message: to_hex(&message.encode()?),
            }));
        }
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use secagg::{Leader, LeaderInput, LeaderOutput, ReportShare, share};

    use super::*;
    use crate::msg::{Upload, WireRational};

    const BITS: u32 = 8;

    fn request(round: u32, sigma2: u64) -> MeasurementRequest {
        MeasurementRequest {
            job_id: JobId("job".into()),
            round: Round(round),
            purpose: Purpose::Measurement,
            marginals: vec![vec![0]],
            maps: vec![Some(vec![0, 1, 2])],
            sigma2: WireRational { num: sigma2, den: 1 },
            what: "test".into(),
            scores: None,
            votes: None,
        }
    }

    fn key() -> VerifyKey {
        VerifyKey::from_bytes([7; 32])
    }

    fn site(i: usize) -> SiteId {
        SiteId(format!("site-{i}"))
    }

    /// Three sites' reports for `request`: (leader share, helper share).
    fn reports(request: &MeasurementRequest) -> Vec<(ReportShare, ReportShare)> {
        let params = params(request, BITS, 3).unwrap();
        [[1, 0, 2], [0, 3, 0], [2, 2, 2]]
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let [l, h] = share(
                    &params,
                    v,
                    Some(v.iter().sum()),
                    ReportId::from_bytes([i as u8 + 1; 16]),
                )
                .unwrap();
                (l, h)
            })
            .collect()
    }

    fn open(helper: &mut HelperNode, request: &MeasurementRequest) -> Vec<Message> {
        let open = HelperInstruction::Open {
            request: Box::new(request.clone()),
            bits: BITS,
            min_sites: 2,
        };
        helper
            .handle(HelperNodeInput::FromHub(Message::ToHelper(open)))
            .unwrap()
    }

    /// One attempt at a round: the helper gets `sites`' helper shares and verifies them with a
    /// fresh leader; with `collect`, the leader then asks for the helper's share. Returns the
    /// helper's last reply.
    fn attempt(
        helper: &mut HelperNode,
        request: &MeasurementRequest,
        sites: &[usize],
        collect: bool,
    ) -> Option<HelperReply> {
        let params = params(request, BITS, 3).unwrap();
        let all = reports(request);
        assert!(open(helper, request).is_empty());
        let mut leader = Leader::new(params, key()).unwrap();
        let mut to_leader: Vec<Message> = Vec::new();
        for &i in sites {
            let upload = Upload {
                job_id: request.job_id.clone(),
                round: request.round,
                site: site(i),
                share: to_hex(&all[i].1.encode().unwrap()),
            };
            to_leader.extend(
                helper
                    .handle(HelperNodeInput::FromSite {
                        site: site(i),
                        message: Message::Upload(upload),
                    })
                    .unwrap(),
            );
        }
        let mut outputs: Vec<LeaderOutput> = Vec::new();
        for &i in sites {
            outputs.extend(leader.handle(LeaderInput::Report(all[i].0.clone())).unwrap());
        }
        while !outputs.is_empty() || !to_leader.is_empty() {
            for output in std::mem::take(&mut outputs) {
                if let LeaderOutput::ToHelper(m) = output {
                    let instruction = HelperInstruction::Leader {
                        job_id: request.job_id.clone(),
                        round: request.round,
                        message: to_hex(&m.encode().unwrap()),
                    };
                    to_leader.extend(
                        helper
                            .handle(HelperNodeInput::FromHub(Message::ToHelper(instruction)))
                            .unwrap(),
                    );
                }
            }
            for reply in std::mem::take(&mut to_leader) {
                let Message::FromHelper(HelperReply::Helper { message, .. }) = reply else {
                    panic!("unexpected {reply:?}");
                };
                let m = secagg::HelperMessage::decode(&from_hex(&message, "m").unwrap()).unwrap();
                outputs.extend(leader.handle(LeaderInput::FromHelper(m)).unwrap());
            }
        }
        if !collect {
            return None;
        }
        let (_, collect, _) = leader.finish(None).unwrap();
        let instruction = HelperInstruction::Collect {
            job_id: request.job_id.clone(),
            round: request.round,
            request: to_hex(&collect.encode().unwrap()),
        };
        let mut replies = helper
            .handle(HelperNodeInput::FromHub(Message::ToHelper(instruction)))
            .unwrap();
        assert_eq!(replies.len(), 1);
        match replies.pop() {
            Some(Message::FromHelper(reply)) => Some(reply),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn helper() -> HelperNode {
        HelperNode::new(key(), Noise::DiscreteGaussian, ChaCha20Rng::seed_from_u64(3), 2)
    }

    #[test]
    fn a_released_share_is_resent_identically_and_never_for_another_report_set() {
        let mut helper = helper();
        let request = request(1, 400);
        let Some(HelperReply::AggregateShare { share: first, .. }) = attempt(&mut helper, &request, &[0, 1, 2], true)
        else {
            panic!("no share");
        };
        assert!(helper.released(&request.job_id, request.round));
        // The hub restarted and re-ran the round: same reports, the very same bytes (σ² = 400:
        // a fresh draw of noise would differ).
        let again = attempt(&mut helper, &request, &[0, 1, 2], true);
        assert_eq!(
            again,
            Some(HelperReply::AggregateShare {
                job_id: request.job_id.clone(),
                round: request.round,
                share: first.clone(),
            })
        );
        // Another report set for the released round is refused.
        match attempt(&mut helper, &request, &[0, 1], true) {
            Some(HelperReply::Refused { reason, .. }) => assert!(reason.contains("at most once"), "{reason}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // And a re-opening with another request (another σ²) too.
        match open(&mut helper, &self::request(1, 100)).pop() {
            Some(Message::FromHelper(HelperReply::Refused { reason, .. })) => {
                assert!(reason.contains("another request"), "{reason}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(helper.rejected().is_empty(), "{:?}", helper.rejected());
    }

    #[test]
    fn a_restarted_helper_remembers_its_released_shares() {
        let mut helper = helper();
        let request = request(1, 400);
        let Some(HelperReply::AggregateShare { share: first, .. }) = attempt(&mut helper, &request, &[0, 1, 2], true)
        else {
            panic!("no share");
        };
        // Round 2 only opened and verified: not released, so not remembered beyond its request.
        let round2 = self::request(2, 400);
        assert_eq!(attempt(&mut helper, &round2, &[0, 1, 2], false), None);
        let bytes = serde_json::to_vec(&helper.checkpoint()).unwrap();
        let checkpoint: HelperCheckpoint = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(checkpoint.version(), HELPER_CHECKPOINT_VERSION);
        assert_eq!(checkpoint.released_rounds(), vec![(request.job_id.clone(), Round(1))]);
        // Another RNG after the restart: a fresh draw would differ, the cached share does not.
        let restore = |c: HelperCheckpoint| {
            HelperNode::restore(key(), Noise::DiscreteGaussian, ChaCha20Rng::seed_from_u64(99), 2, c)
        };
        let mut restarted = restore(checkpoint.clone()).unwrap();
        assert_eq!(restarted.checkpoint(), checkpoint);
        let again = attempt(&mut restarted, &request, &[0, 1, 2], true);
        assert!(matches!(again, Some(HelperReply::AggregateShare { ref share, .. }) if *share == first));
        assert!(matches!(
            attempt(&mut restarted, &request, &[1, 2], true),
            Some(HelperReply::Refused { .. })
        ));
        assert!(matches!(
            open(&mut restarted, &self::request(2, 100)).pop(),
            Some(Message::FromHelper(HelperReply::Refused { .. }))
        ));
        // The unreleased round 2 runs to a release afresh.
        let reply = attempt(&mut restarted, &round2, &[0, 1, 2], true);
        assert!(matches!(reply, Some(HelperReply::AggregateShare { .. })), "{reply:?}");
        // Another version, or a malformed record: refused.
        let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        json["version"] = serde_json::json!(2);
        assert!(restore(serde_json::from_value(json).unwrap()).is_err());
        let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        json["rounds"][0]["request_sha256"] = serde_json::json!("abcd");
        assert!(restore(serde_json::from_value(json).unwrap()).is_err());
    }

    #[test]
    fn re_opening_an_unreleased_round_accepts_the_same_reports_again() {
        let mut helper = helper();
        let request = request(2, 400);
        // The first attempt verifies every report, then the hub crashes before collecting.
        assert_eq!(attempt(&mut helper, &request, &[0, 1, 2], false), None);
        assert!(!helper.released(&request.job_id, request.round));
        // The identical re-opening resets the round: the re-sent reports are not replays.
        let reply = attempt(&mut helper, &request, &[0, 1, 2], true);
        assert!(matches!(reply, Some(HelperReply::AggregateShare { .. })), "{reply:?}");
        assert!(helper.rejected().is_empty(), "{:?}", helper.rejected());
        // Within one attempt a repeated upload is still a replay.
        let round3 = self::request(3, 400);
        let params = params(&round3, BITS, 3).unwrap();
        assert!(open(&mut helper, &round3).is_empty());
        let [_, h] = share(&params, &[1, 1, 1], Some(3), ReportId::from_bytes([9; 16])).unwrap();
        let upload = Upload {
            job_id: round3.job_id.clone(),
            round: round3.round,
            site: site(0),
            share: to_hex(&h.encode().unwrap()),
        };
        for _ in 0..2 {
            helper
                .handle(HelperNodeInput::FromSite {
                    site: site(0),
                    message: Message::Upload(upload.clone()),
                })
                .unwrap();
        }
        assert_eq!(helper.rejected().len(), 1);
        assert!(helper.rejected()[0].detail.contains("replay"));
    }
}
