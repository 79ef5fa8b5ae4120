//! The hub: coordinator of a job and leader aggregator. It announces the job, opens one round
//! per measurement or selection, collects the sites' leader shares, drives Prio3 verification
//! with the helper, and at the end of the round releases the sum of both (noised) aggregate
//! shares.
//!
//! **Privacy claim at the hub.** The hub holds the leader's input shares (uniformly random
//! alone), the sites' declared record counts and the released sum `S + Z_L + Z_H`. It adds its
//! own noise `Z_L` (σ² of the request, own CSPRNG) before its share leaves it; since it knows
//! `Z_L`, its own view of the result is a post-processing of `S + Z_H`, ρ-zCDP by the helper's
//! noise alone ([`crate::noise`]). Fault handling never double counts: a site's second upload in
//! a round is rejected before it reaches secagg, secagg rejects a repeated report id, and the
//! helper releases only for the exact list of accepted reports.
//!
//! **Restart from persisted state.** A driver persists [`Hub::checkpoint`] (membership, the next
//! round, the round open if any; no secret) at round boundaries and before the hub asks the
//! helper for its aggregate share, and after a crash rebuilds the hub with [`Hub::restore`]. It
//! then re-runs the synthesizer deterministically (cached releases for finished rounds) and
//! calls [`Hub::open_round`] for the unfinished round, which gets the **same round number**; a
//! restored open round must be re-opened with an identical request, or `open_round` refuses.
//! Privacy argument, per party:
//!
//! - *Sites* answer an identical re-request of a round they answered with their stored uploads
//!   and charge nothing more ([`crate::site`]): a restart double-charges no one.
//! - *Helper*: it releases at most one noisy aggregate share per (job, round) and re-sends the
//!   identical bytes for the same report set, refusing any other set ([`crate::aggregator`]), so
//!   a hub that fakes crashes never averages two draws of `Z_H`: its view stays `S + Z_H`.
//! - *Hub noise*: `Z_L` of round r is drawn from a CSPRNG keyed by (the hub's secret seed, r), so
//!   a restored hub (given an RNG from the same persisted seed) re-draws the same `Z_L`, and a
//!   round re-released after a restart is the identical value: the helper, which knows `Z_H`,
//!   sees `S + Z_L` once whatever happens. The seed is a secret against the helper (with it,
//!   the helper would learn `S` exactly); the checkpoint does not contain it.

use std::collections::{BTreeMap, BTreeSet};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secagg::{AggregateShare, Leader, LeaderInput, LeaderOutput, ReportId, ReportShare, VerifyKey, unshard};
use serde::{Deserialize, Serialize};

use crate::msg::{
    HelperInstruction, HelperReply, JobAnnouncement, MeasurementRequest, Message, Purpose, Refusal, Round,
    RoundFailure, RoundResult, ScoreQuery, SiteId, VoteQuery, WireRational, from_hex, to_hex,
};
use crate::noise::{AggregatorNoise, Noise};
use crate::query::{check, params};
use crate::{FederationError, Result, input, protocol};

mod checkpoint;
pub use checkpoint::{HUB_CHECKPOINT_VERSION, HubCheckpoint};
use dp::Rational;

/// An upload (or report) that was not counted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectedUpload {
    /// The round.
    pub round: Round,
    /// The uploading site.
    pub site: SiteId,
    /// What was wrong (replay, decoding, Prio3 verification, unfinished, ...).
    pub detail: String,
}

/// An input to the hub.
#[derive(Debug, Clone, PartialEq)]
pub enum HubInput {
    /// A message from a site (`site` is the authenticated peer, not a claim in the message).
    FromSite {
        /// The authenticated sender.
        site: SiteId,
        /// The message.
        message: Message,
    },
    /// A message from the helper.
    FromHelper(Message),
    /// The driver's clock says the site is gone (no answer before its deadline).
    SiteDropped(SiteId),
    /// The driver's clock says the open round's deadline passed: close it with what arrived.
    Deadline,
    /// The driver's clock says the helper did not answer the hub's request for its aggregate
    /// share in time: the round fails ("helper aggregator timed out") and the job ends, since
    /// the helper may or may not have released. Sites keep what they committed; nothing more is
    /// charged and nothing is released.
    HelperTimeout,
}

/// An output of the hub.
#[derive(Debug, Clone, PartialEq)]
pub enum HubOutput {
    /// Send to a site.
    ToSite(SiteId, Message),
    /// Send to the helper.
    ToHelper(Message),
    /// A round's noisy result.
    Released(RoundRelease),
    /// A round ended without a release.
    Failed(RoundFailure),
}

/// A round's release: the noisy counts of the concatenated marginals.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRelease {
    /// The round.
    pub round: Round,
    /// What it measured.
    pub purpose: Purpose,
    /// `S + Z_L + Z_H` per cell.
    pub values: Vec<i64>,
    /// σ² per aggregator (each cell carries variance 2σ² in all).
    pub sigma2: Rational,
    /// The sites counted.
    pub contributors: Vec<SiteId>,
}

/// What a round asks: built by the oracle, turned into a [`MeasurementRequest`] by the hub.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundSpec {
    /// Measurement, selection by noisy marginals, summed scores or votes.
    pub purpose: Purpose,
    /// The marginals (attribute lists, increasing).
    pub marginals: Vec<Vec<usize>>,
    /// Public code merging per attribute (`None`: unchanged).
    pub maps: Vec<Option<Vec<u32>>>,
    /// For [`Purpose::Scores`].
    pub scores: Option<ScoreQuery>,
    /// For [`Purpose::Votes`].
    pub votes: Option<VoteQuery>,
    /// σ² per aggregator (unused for [`Purpose::Votes`], whose noise is the sites' own).
    pub sigma2: Rational,
    /// Audit text.
    pub what: String,
}

/// Where an invited site stands in the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Membership {
    Invited,
    Accepted,
    Refused,
    Dropped,
}

struct OpenRound {
    request: MeasurementRequest,
    params: secagg::AggregationParams,
    leader: Option<Leader>,
    awaiting: BTreeSet<SiteId>,
    uploaded: BTreeSet<SiteId>,
    report_site: BTreeMap<ReportId, SiteId>,
    accepted: BTreeSet<SiteId>,
    /// The leader's share and the number of reports, once the helper was asked for its share.
    collecting: Option<(AggregateShare, u64)>,
}

/// The hub's state machine for one job.
pub struct Hub {
    announcement: JobAnnouncement,
    sizes: Vec<usize>,
    verify_key: VerifyKey,
    noise: Noise,
    /// Keys the hub's noise: round r draws from ChaCha20(seed, stream r).
    noise_seed: [u8; 32],
    members: BTreeMap<SiteId, Membership>,
    next_round: u32,
    round: Option<OpenRound>,
    /// A round open when the restored checkpoint was taken: the next `open_round` must repeat it.
    pending: Option<MeasurementRequest>,
    /// Why the job ended early (the helper timed out), if it did.
    ended: Option<String>,
    rejected: Vec<RejectedUpload>,
    refusals: Vec<Refusal>,
}

impl Hub {
    /// A hub for the job `announcement` over attributes of public `sizes`, sharing `verify_key`
    /// with the helper and keying its noise with a seed drawn from `rng`. In deployment `rng`
    /// comes from a secret seed the driver keeps (drawn from the OS once per job, never given
    /// to the helper): [`Hub::restore`] must get an RNG from the same seed so that a restored
    /// hub re-draws the same noise for a round (module documentation).
    pub fn new(
        announcement: JobAnnouncement,
        sizes: Vec<usize>,
        verify_key: VerifyKey,
        noise: Noise,
        mut rng: ChaCha20Rng,
    ) -> Result<Hub> {
        let sites: BTreeSet<&SiteId> = announcement.sites.iter().collect();
        if sites.len() != announcement.sites.len() || sites.is_empty() {
            return Err(input("the job's sites must be distinct and at least one"));
        }
        if announcement.min_sites == 0 || announcement.min_sites as usize > sites.len() {
            return Err(input(format!(
                "min_sites {} must be in 1..={}",
                announcement.min_sites,
                sites.len()
            )));
        }
        if announcement.columns.len() != sizes.len() {
            return Err(input(format!(
                "{} columns for {} attribute sizes",
                announcement.columns.len(),
                sizes.len()
            )));
        }
        let members = announcement
            .sites
            .iter()
            .map(|s| (s.clone(), Membership::Invited))
            .collect();
        Ok(Hub {
            announcement,
            sizes,
            verify_key,
            noise,
            noise_seed: rng.random(),
            members,
            next_round: 1,
            round: None,
            pending: None,
            ended: None,
            rejected: Vec::new(),
            refusals: Vec::new(),
        })
    }

    /// The number the next [`Hub::open_round`] gives its round.
    pub fn next_round(&self) -> Round {
        Round(self.next_round)
    }

    /// Why the job ended early (the helper timed out), if it did: every later round fails.
    pub fn ended(&self) -> Option<&str> {
        self.ended.as_deref()
    }

    /// Whether the hub waits for the helper's aggregate share: the driver's helper deadline
    /// runs while this holds, and [`HubInput::HelperTimeout`] ends the wait.
    pub fn awaiting_helper(&self) -> bool {
        self.round.as_ref().is_some_and(|open| open.collecting.is_some())
    }

    /// The public sizes of the attributes (before any merging).
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Whether the hub adds noise.
    pub fn noise(&self) -> Noise {
        self.noise
    }

    /// The job.
    pub fn announcement(&self) -> &JobAnnouncement {
        &self.announcement
    }

    /// The announcement, to every invited site.
    pub fn announce(&self) -> Vec<HubOutput> {
        self.announcement
            .sites
            .iter()
            .map(|s| HubOutput::ToSite(s.clone(), Message::Announcement(self.announcement.clone())))
            .collect()
    }

    /// Sites that accepted the job and have neither refused a round nor dropped out.
    pub fn active_sites(&self) -> Vec<SiteId> {
        self.members
            .iter()
            .filter(|(_, m)| **m == Membership::Accepted)
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// Uploads and reports not counted so far, in order.
    pub fn rejected(&self) -> &[RejectedUpload] {
        &self.rejected
    }

    /// Refusals received so far, in order.
    pub fn refusals(&self) -> &[Refusal] {
        &self.refusals
    }

    /// Whether a round is open.
    pub fn round_open(&self) -> bool {
        self.round.is_some()
    }

    /// Opens the next round ([`Hub::next_round`]). Fails with [`FederationError::RoundFailed`]
    /// when fewer active sites than the job's minimum remain or the job ended: the job cannot
    /// continue. After [`Hub::restore`] from a checkpoint taken with a round open, this
    /// re-opens that round: the request must be identical to the one sent before (sites then
    /// answer with their stored uploads, charging nothing), else a protocol error.
    pub fn open_round(&mut self, spec: RoundSpec) -> Result<Vec<HubOutput>> {
        if self.round.is_some() {
            return Err(protocol("a round is already open"));
        }
        let round = Round(self.next_round);
        if let Some(reason) = &self.ended {
            return Err(FederationError::RoundFailed {
                round: round.0,
                reason: format!("the job ended: {reason}"),
            });
        }
        let active = self.active_sites();
        if active.len() < self.announcement.min_sites as usize {
            return Err(FederationError::RoundFailed {
                round: round.0,
                reason: format!(
                    "{} active sites, the job needs at least {}",
                    active.len(),
                    self.announcement.min_sites
                ),
            });
        }
        if spec.maps.len() != self.sizes.len() {
            return Err(input(format!(
                "{} maps for {} attributes",
                spec.maps.len(),
                self.sizes.len()
            )));
        }
        // Every attribute gets an explicit map (identity when not merged): the helper sizes the
        // vector from the maps alone.
        let maps = spec
            .maps
            .iter()
            .zip(&self.sizes)
            .map(|(m, &size)| Some(m.clone().unwrap_or_else(|| (0..size as u32).collect())))
            .collect();
        let request = MeasurementRequest {
            job_id: self.announcement.job_id.clone(),
            round,
            purpose: spec.purpose,
            marginals: spec
                .marginals
                .iter()
                .map(|m| m.iter().map(|&a| a as u32).collect())
                .collect(),
            maps,
            sigma2: WireRational::from(spec.sigma2),
            what: spec.what,
            scores: spec.scores,
            votes: spec.votes,
        };
        if let Some(pending) = &self.pending
            && *pending != request
        {
            return Err(protocol(format!(
                "round {round} was open before the hub restarted with another request: \
                 the driver must re-run the job deterministically"
            )));
        }
        let query = check(&request, &self.sizes)?;
        let params = params(&request, self.announcement.bits, query.length)?;
        let leader = Leader::new(params.clone(), self.verify_key.clone())?;
        self.pending = None;
        self.next_round += 1;
        let mut out = vec![HubOutput::ToHelper(Message::ToHelper(HelperInstruction::Open {
            request: Box::new(request.clone()),
            bits: self.announcement.bits,
            min_sites: self.announcement.min_sites,
        }))];
        for site in &active {
            out.push(HubOutput::ToSite(site.clone(), Message::Request(request.clone())));
        }
        self.round = Some(OpenRound {
            request,
            params,
            leader: Some(leader),
            awaiting: active.into_iter().collect(),
            uploaded: BTreeSet::new(),
            report_site: BTreeMap::new(),
            accepted: BTreeSet::new(),
            collecting: None,
        });
        Ok(out)
    }

    /// Advances the state machine.
    pub fn handle(&mut self, input: HubInput) -> Result<Vec<HubOutput>> {
        match input {
            HubInput::FromSite { site, message } => self.site_message(site, message),
            HubInput::FromHelper(Message::FromHelper(reply)) => self.helper_reply(reply),
            HubInput::FromHelper(other) => Err(protocol(format!("not a helper reply: {other:?}"))),
            HubInput::SiteDropped(site) => {
                if let Some(m) = self.members.get_mut(&site) {
                    *m = Membership::Dropped;
                }
                if let Some(round) = self.round.as_mut() {
                    round.awaiting.remove(&site);
                }
                self.maybe_close(false)
            }
            HubInput::Deadline => self.maybe_close(true),
            HubInput::HelperTimeout => {
                let Some(round) = self.round.as_ref().map(|open| open.request.round) else {
                    return Ok(Vec::new());
                };
                self.ended = Some(format!("helper aggregator timed out in round {round}"));
                Ok(self.fail("helper aggregator timed out".into(), true))
            }
        }
    }

    fn reject(&mut self, round: Round, site: SiteId, detail: String) {
        self.rejected.push(RejectedUpload { round, site, detail });
    }

    fn site_message(&mut self, site: SiteId, message: Message) -> Result<Vec<HubOutput>> {
        match message {
            Message::Acceptance(a) => {
                if a.job_id == self.announcement.job_id
                    && a.site == site
                    && self.members.get(&site) == Some(&Membership::Invited)
                {
                    self.members.insert(site, Membership::Accepted);
                }
                Ok(Vec::new())
            }
            Message::Refusal(r) => {
                if r.site != site || r.job_id != self.announcement.job_id {
                    return Err(protocol(format!("refusal from {site} names {} / {}", r.site, r.job_id)));
                }
                if self.members.contains_key(&site) {
                    self.members.insert(site.clone(), Membership::Refused);
                }
                let this_round = self.round.as_ref().map(|o| o.request.round);
                self.refusals.push(r.clone());
                if let (Some(open), Some(round)) = (self.round.as_mut(), r.round)
                    && Some(round) == this_round
                {
                    open.awaiting.remove(&site);
                }
                self.maybe_close(false)
            }
            Message::Upload(upload) => self.upload(site, upload),
            other => Err(protocol(format!("a site cannot send {other:?}"))),
        }
    }

    fn upload(&mut self, site: SiteId, upload: crate::msg::Upload) -> Result<Vec<HubOutput>> {
        let Some(open) = self.round.as_mut() else {
            self.reject(upload.round, site, "no round is open".into());
            return Ok(Vec::new());
        };
        let round = open.request.round;
        let problem = if upload.site != site || upload.job_id != self.announcement.job_id {
            Some(format!("upload names site {} of job {}", upload.site, upload.job_id))
        } else if upload.round != round {
            Some(format!("upload for round {}, round {round} is open", upload.round))
        } else if self.members.get(&site) != Some(&Membership::Accepted) {
            Some("the site is not an active member of the job".into())
        } else if !open.uploaded.insert(site.clone()) {
            Some("second upload of the site in this round (replay)".into())
        } else if open.collecting.is_some() || open.leader.is_none() {
            Some("the round is closing".into())
        } else {
            None
        };
        if let Some(detail) = problem {
            self.reject(upload.round, site, detail);
            return Ok(Vec::new());
        }
        open.awaiting.remove(&site);
        let share = from_hex(&upload.share, "leader share").and_then(|b| Ok(ReportShare::decode(&open.params, &b)?));
        let share = match share {
            Ok(share) => share,
            Err(e) => {
                self.reject(round, site, e.to_string());
                return self.maybe_close(false);
            }
        };
        open.report_site.insert(share.report_id(), site);
        let outputs = match open.leader.as_mut() {
            Some(leader) => leader.handle(LeaderInput::Report(share))?,
            None => return Err(protocol("the round has no leader")),
        };
        let mut out = self.leader_outputs(outputs)?;
        out.extend(self.maybe_close(false)?);
        Ok(out)
    }

    fn leader_outputs(&mut self, outputs: Vec<LeaderOutput>) -> Result<Vec<HubOutput>> {
        let Some(open) = self.round.as_mut() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut rejected = Vec::new();
        for output in outputs {
            match output {
                LeaderOutput::ToHelper(message) => {
                    out.push(HubOutput::ToHelper(Message::ToHelper(HelperInstruction::Leader {
                        job_id: open.request.job_id.clone(),
                        round: open.request.round,
                        message: to_hex(&message.encode()?),
                    })))
                }
                LeaderOutput::Accepted(id) => {
                    if let Some(site) = open.report_site.get(&id) {
                        open.accepted.insert(site.clone());
                    }
                }
                LeaderOutput::Rejected(r) => {
                    let site = open.report_site.get(&r.report_id).cloned();
                    rejected.push((site, format!("{:?}: {}", r.reason, r.detail)));
                }
            }
        }
        let round = open.request.round;
        for (site, detail) in rejected {
            self.reject(round, site.unwrap_or_else(|| SiteId("unknown".into())), detail);
        }
        Ok(out)
    }

    fn helper_reply(&mut self, reply: HelperReply) -> Result<Vec<HubOutput>> {
        let Some(open) = self.round.as_mut() else {
            return Err(protocol(format!("helper reply with no open round: {reply:?}")));
        };
        let key = (&open.request.job_id, open.request.round);
        let (job_id, round) = match &reply {
            HelperReply::Helper { job_id, round, .. }
            | HelperReply::AggregateShare { job_id, round, .. }
            | HelperReply::Refused { job_id, round, .. } => (job_id, *round),
        };
        if (job_id, round) != key {
            return Err(protocol(format!("helper reply for round {round} of job {job_id}")));
        }
        match reply {
            HelperReply::Helper { message, .. } => {
                let message = secagg::HelperMessage::decode(&from_hex(&message, "helper message")?)?;
                let outputs = match open.leader.as_mut() {
                    Some(leader) => leader.handle(LeaderInput::FromHelper(message))?,
                    None => return Err(protocol("helper message after the leader closed")),
                };
                let mut out = self.leader_outputs(outputs)?;
                out.extend(self.maybe_close(false)?);
                Ok(out)
            }
            HelperReply::Refused { reason, .. } => Ok(self.fail(format!("the helper refused: {reason}"), false)),
            HelperReply::AggregateShare { share, .. } => {
                let helper_share = AggregateShare::decode(&open.params, &from_hex(&share, "aggregate share")?)?;
                let (leader_share, reports) = open
                    .collecting
                    .take()
                    .ok_or_else(|| protocol("aggregate share before the hub asked for it"))?;
                let values = unshard(&open.params, [leader_share, helper_share], reports)?;
                let sigma2 = open.request.sigma2.to_rational()?;
                let release = RoundRelease {
                    round,
                    purpose: open.request.purpose,
                    values,
                    sigma2,
                    contributors: open.accepted.iter().cloned().collect(),
                };
                self.round = None;
                let result = Message::Result(RoundResult {
                    job_id: self.announcement.job_id.clone(),
                    round,
                    values: release.values.clone(),
                    sigma2: WireRational::from(sigma2),
                    contributors: release.contributors.clone(),
                });
                let mut out: Vec<HubOutput> = release
                    .contributors
                    .iter()
                    .map(|s| HubOutput::ToSite(s.clone(), result.clone()))
                    .collect();
                out.push(HubOutput::Released(release));
                Ok(out)
            }
        }
    }

    /// Ends the open round without a release.
    fn fail(&mut self, reason: String, abort_helper: bool) -> Vec<HubOutput> {
        let Some(open) = self.round.take() else {
            return Vec::new();
        };
        let failure = RoundFailure {
            job_id: open.request.job_id.clone(),
            round: open.request.round,
            reason,
        };
        let mut out = Vec::new();
        if abort_helper {
            out.push(HubOutput::ToHelper(Message::ToHelper(HelperInstruction::Abort {
                job_id: failure.job_id.clone(),
                round: failure.round,
            })));
        }
        out.push(HubOutput::Failed(failure));
        out
    }

    /// Closes the round when every site answered and no report awaits the helper, or when
    /// `deadline` forces it: below the minimum number of sites it fails, else the leader
    /// releases its noised share and asks the helper for its own.
    fn maybe_close(&mut self, deadline: bool) -> Result<Vec<HubOutput>> {
        let Some(open) = self.round.as_mut() else {
            return Ok(Vec::new());
        };
        let Some(leader) = open.leader.as_ref() else {
            return Ok(Vec::new());
        };
        if !deadline && (!open.awaiting.is_empty() || leader.in_flight_count() > 0) {
            return Ok(Vec::new());
        }
        let Some(leader) = open.leader.take() else {
            return Ok(Vec::new());
        };
        let min = self.announcement.min_sites as usize;
        if leader.accepted_count() < min {
            let unverified = match leader.in_flight_count() {
                0 => String::new(),
                n => format!(" ({n} reports still awaited the helper's verification)"),
            };
            let reason = format!(
                "{} sites contributed valid reports, the job needs at least {min}{unverified}",
                leader.accepted_count()
            );
            return Ok(self.fail(reason, true));
        }
        let noised = self.noise == Noise::DiscreteGaussian && open.request.purpose != Purpose::Votes;
        let (share, collect, rejections) = match noised {
            true => {
                let sigma2 = open.request.sigma2.to_rational()?;
                // The same (seed, round) always draws the same noise (module documentation).
                let mut rng = ChaCha20Rng::from_seed(self.noise_seed);
                rng.set_stream(u64::from(open.request.round.0));
                let mut noise = AggregatorNoise::new(sigma2, &mut rng)?;
                leader.finish(Some(&mut noise))?
            }
            false => leader.finish(None)?,
        };
        let reports = collect.accepted.len() as u64;
        let job_id = open.request.job_id.clone();
        let round = open.request.round;
        let unfinished: Vec<(SiteId, String)> = rejections
            .iter()
            .filter(|r| r.reason == secagg::RejectReason::Unfinished)
            .map(|r| {
                let site = open.report_site.get(&r.report_id).cloned();
                (site.unwrap_or_else(|| SiteId("unknown".into())), r.detail.clone())
            })
            .collect();
        open.collecting = Some((share, reports));
        for (site, detail) in unfinished {
            self.reject(round, site, format!("Unfinished: {detail}"));
        }
        Ok(vec![HubOutput::ToHelper(Message::ToHelper(
            HelperInstruction::Collect {
                job_id,
                round,
                request: to_hex(&collect.encode()?),
            },
        ))])
    }
}
