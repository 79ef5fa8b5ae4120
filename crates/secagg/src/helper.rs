//! The helper aggregator (a computing centre): a sans-I/O state machine for one aggregation job.

use std::collections::{HashMap, HashSet};

use prio::codec::{Decode, Encode};
use prio::field::{Field128, FieldElement};
use prio::topology::ping_pong::{PingPongMessage, PingPongState, PingPongTopology};
use prio::vdaf::prio3::Prio3SumVec;

use crate::aggregate::{Accumulator, AggregateShare, NoiseSource};
use crate::error::{Result, SecaggError};
use crate::messages::{CollectRequest, HelperMessage, LeaderMessage, RejectReason, Rejection};
use crate::params::{AggregationParams, TotalBound};
use crate::report::{ReportId, ReportShare, Role, VerifyKey};

/// An input to the helper.
#[derive(Debug)]
pub enum HelperInput {
    /// A site's report share for the helper (uploaded directly by the site).
    Report(ReportShare),
    /// A message from the leader.
    FromLeader(LeaderMessage),
}

/// An output of the helper, for the caller to act on.
#[derive(Debug, PartialEq, Eq)]
pub enum HelperOutput {
    /// Send this message to the leader.
    ToLeader(HelperMessage),
    /// The leader accepted the report; it is counted.
    Accepted(ReportId),
    /// The report was refused and is not counted.
    Rejected(Rejection),
}

/// Where one report stands at the helper.
enum Slot {
    /// The site's share arrived; the leader has not asked about it yet.
    Uploaded(ReportShare),
    /// The leader asked before the site's share arrived.
    Asked {
        declared_count: Option<u64>,
        ping_pong: Vec<u8>,
    },
    /// Verified; waiting for the leader's decision.
    Verified(Vec<Field128>),
    /// Counted or refused: nothing more may happen to it.
    Done,
}

/// The helper's state for one job. It answers the leader's messages, holds verified output
/// shares until the leader decides, and releases its aggregate share only for the exact set of
/// reports the leader accepted.
pub struct Helper {
    params: AggregationParams,
    vdaf: Prio3SumVec,
    ctx: Vec<u8>,
    verify_key: VerifyKey,
    slots: HashMap<ReportId, Slot>,
    uploads_seen: HashSet<ReportId>,
    accumulator: Accumulator,
    rejections: Vec<Rejection>,
}

impl Helper {
    /// A helper for one job with the verification key it shares with the leader.
    pub fn new(params: AggregationParams, verify_key: VerifyKey) -> Result<Self> {
        let vdaf = params.vdaf()?;
        let ctx = params.prio_context();
        let accumulator = Accumulator::new(params.length());
        Ok(Helper {
            params,
            vdaf,
            ctx,
            verify_key,
            slots: HashMap::new(),
            uploads_seen: HashSet::new(),
            accumulator,
            rejections: Vec::new(),
        })
    }

    /// Every report refused so far, in order.
    pub fn rejections(&self) -> &[Rejection] {
        &self.rejections
    }

    /// Number of reports accepted so far.
    pub fn accepted_count(&self) -> usize {
        self.accumulator.accepted().len()
    }

    /// Advances the state machine. Invalid reports become [`HelperOutput::Rejected`] (and, when
    /// the leader asked about them, a [`HelperMessage::Rejected`]); an `Err` means the leader
    /// broke the protocol (a decision about a report it never sent, a repeated request).
    pub fn handle(&mut self, input: HelperInput) -> Result<Vec<HelperOutput>> {
        match input {
            HelperInput::Report(share) => Ok(self.upload(share)),
            HelperInput::FromLeader(LeaderMessage::Prepare {
                report_id,
                declared_count,
                ping_pong,
            }) => self.prepare(report_id, declared_count, ping_pong),
            HelperInput::FromLeader(LeaderMessage::Decide { report_id, accept }) => self.decide(report_id, accept),
        }
    }

    fn record(&mut self, report_id: ReportId, reason: RejectReason, detail: String) -> HelperOutput {
        HelperOutput::Rejected(Rejection::log(&mut self.rejections, report_id, reason, detail))
    }

    fn upload(&mut self, share: ReportShare) -> Vec<HelperOutput> {
        let id = share.report_id();
        if !self.uploads_seen.insert(id) {
            return vec![self.record(
                id,
                RejectReason::Replayed,
                "report id already uploaded to the helper".into(),
            )];
        }
        if share.role() != Role::Helper {
            // Keep the slot empty: if the leader asks, it is told the report was refused.
            self.slots.insert(id, Slot::Done);
            return vec![self.record(
                id,
                RejectReason::WrongAggregator,
                "share addressed to the leader".into(),
            )];
        }
        match self.slots.remove(&id) {
            Some(Slot::Asked {
                declared_count,
                ping_pong,
            }) => self.verify(share, declared_count, &ping_pong),
            Some(other) => {
                self.slots.insert(id, other);
                vec![self.record(id, RejectReason::Replayed, "report already being processed".into())]
            }
            None => {
                self.slots.insert(id, Slot::Uploaded(share));
                Vec::new()
            }
        }
    }

    fn prepare(&mut self, id: ReportId, declared_count: Option<u64>, ping_pong: Vec<u8>) -> Result<Vec<HelperOutput>> {
        match self.slots.remove(&id) {
            None => {
                self.slots.insert(
                    id,
                    Slot::Asked {
                        declared_count,
                        ping_pong,
                    },
                );
                Ok(Vec::new())
            }
            Some(Slot::Uploaded(share)) => Ok(self.verify(share, declared_count, &ping_pong)),
            Some(Slot::Done) if !self.accumulator.accepted().contains(&id) => {
                // Refused at upload (wrong aggregator): tell the leader.
                let reason = self
                    .rejections
                    .iter()
                    .rev()
                    .find(|r| r.report_id == id)
                    .map_or(RejectReason::VerificationFailed, |r| r.reason);
                self.slots.insert(id, Slot::Done);
                Ok(vec![HelperOutput::ToLeader(HelperMessage::Rejected {
                    report_id: id,
                    reason,
                })])
            }
            Some(other) => {
                self.slots.insert(id, other);
                Err(SecaggError::Protocol {
                    reason: format!("leader asked twice about report {id}"),
                })
            }
        }
    }

    /// Runs the helper's side of Prio3 verification and answers the leader.
    fn verify(&mut self, share: ReportShare, leader_declared: Option<u64>, ping_pong: &[u8]) -> Vec<HelperOutput> {
        let id = share.report_id();
        match self.verify_inner(&share, leader_declared, ping_pong) {
            Ok((cells, message)) => {
                self.slots.insert(id, Slot::Verified(cells));
                vec![HelperOutput::ToLeader(message)]
            }
            Err((reason, detail)) => {
                self.slots.insert(id, Slot::Done);
                let rejected = self.record(id, reason, detail);
                vec![
                    HelperOutput::ToLeader(HelperMessage::Rejected { report_id: id, reason }),
                    rejected,
                ]
            }
        }
    }

    fn verify_inner(
        &self,
        share: &ReportShare,
        leader_declared: Option<u64>,
        ping_pong: &[u8],
    ) -> std::result::Result<(Vec<Field128>, HelperMessage), (RejectReason, String)> {
        let id = share.report_id();
        if leader_declared != share.declared_count() {
            return Err((
                RejectReason::DeclaredCountMismatch,
                format!(
                    "leader received {:?}, helper received {:?}",
                    leader_declared,
                    share.declared_count()
                ),
            ));
        }
        let failed = |e: String| (RejectReason::VerificationFailed, e);
        let (public, input) = share.prio_shares(&self.params).map_err(|e| failed(e.to_string()))?;
        let leader_message = PingPongMessage::get_decoded(ping_pong).map_err(|e| failed(e.to_string()))?;
        let continuation = self
            .vdaf
            .helper_initialized(
                self.verify_key.as_bytes(),
                &self.ctx,
                &(),
                id.as_bytes(),
                &public,
                &input,
                &leader_message,
            )
            .map_err(|e| failed(e.to_string()))?;
        let (output_share, outbound) = match continuation
            .evaluate(&self.ctx, &self.vdaf)
            .map_err(|e| failed(e.to_string()))?
        {
            PingPongState::FinishedWithOutbound { output_share, message } => (output_share, message),
            other => return Err(failed(format!("unexpected ping-pong state {other:?}"))),
        };
        let cells: Vec<Field128> = output_share.as_ref().to_vec();
        let total_share = match self.params.total_bound() {
            TotalBound::CellsOnly => None,
            TotalBound::DeclaredCount => Some(cells.iter().fold(Field128::zero(), |acc, c| acc + *c)),
        };
        let ping_pong = outbound.get_encoded().map_err(|e| failed(e.to_string()))?;
        Ok((
            cells,
            HelperMessage::Prepared {
                report_id: id,
                ping_pong,
                total_share,
            },
        ))
    }

    fn decide(&mut self, id: ReportId, accept: bool) -> Result<Vec<HelperOutput>> {
        match self.slots.remove(&id) {
            Some(Slot::Verified(cells)) => {
                self.slots.insert(id, Slot::Done);
                if accept {
                    self.accumulator.add(id, &cells)?;
                    Ok(vec![HelperOutput::Accepted(id)])
                } else {
                    Ok(vec![self.record(
                        id,
                        RejectReason::RejectedByPeer,
                        "the leader refused the report".into(),
                    )])
                }
            }
            other => {
                if let Some(slot) = other {
                    self.slots.insert(id, slot);
                }
                Err(SecaggError::Protocol {
                    reason: format!("leader decided on report {id}, which awaits no decision"),
                })
            }
        }
    }

    /// Closes the job and releases the helper's aggregate share (with `noise` added to every cell
    /// when given), provided the helper accepted exactly the reports the leader lists. Reports it
    /// holds but the leader does not list (uploaded, asked about, or verified and undecided) are
    /// dropped as [`RejectReason::Unfinished`].
    pub fn finish(
        mut self,
        collect: &CollectRequest,
        noise: Option<&mut dyn NoiseSource>,
    ) -> Result<(AggregateShare, Vec<Rejection>)> {
        let mut listed: Vec<ReportId> = collect.accepted.clone();
        listed.sort();
        listed.dedup();
        let ours: Vec<ReportId> = self.accumulator.accepted().iter().copied().collect();
        if listed.len() != collect.accepted.len() || listed != ours {
            return Err(SecaggError::Protocol {
                reason: format!(
                    "the leader lists {} accepted reports, the helper accepted {} (or the sets differ)",
                    collect.accepted.len(),
                    ours.len()
                ),
            });
        }
        let mut pending: Vec<ReportId> = self
            .slots
            .iter()
            .filter(|(_, slot)| !matches!(slot, Slot::Done))
            .map(|(id, _)| *id)
            .collect();
        pending.sort();
        for id in pending {
            self.record(
                id,
                RejectReason::Unfinished,
                "not decided by the leader when the job closed".into(),
            );
        }
        let share = self.accumulator.release(Role::Helper, noise)?;
        Ok((share, self.rejections))
    }
}
