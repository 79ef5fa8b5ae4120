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
    closed: BTreeSet<(JobId, Round)>,
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
            closed: BTreeSet::new(),
            rejected: Vec::new(),
        }
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
                if self.rounds.contains_key(&key) || self.closed.contains(&key) {
                    return Err(protocol(format!("round {} of job {} opened twice", key.1, key.0)));
                }
                // The helper needs the vector length; it trusts the hub only for the public
                // domain sizes, which a wrong value would make every report fail to decode.
                let length = request_length(&request)?;
                let params = params(&request, bits, length)?;
                let helper = Helper::new(params.clone(), self.verify_key.clone())?;
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
                let state = self
                    .rounds
                    .remove(&key)
                    .ok_or_else(|| protocol(format!("collect for round {round}, which is not open")))?;
                self.closed.insert(key);
                let collect = CollectRequest::decode(&from_hex(&request, "collect request")?)?;
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
                Ok(vec![Message::FromHelper(HelperReply::AggregateShare {
                    job_id,
                    round,
                    share: to_hex(&share.encode()?),
                })])
            }
            HelperInstruction::Abort { job_id, round } => {
                let key = (job_id, round);
                self.rounds.remove(&key);
                self.closed.insert(key);
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
