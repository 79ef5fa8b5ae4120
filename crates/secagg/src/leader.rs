//! The leader aggregator (the hub): a sans-I/O state machine for one aggregation job.

use std::collections::HashMap;

use prio::codec::{Decode, Encode};
use prio::field::{Field128, FieldElement};
use prio::topology::ping_pong::{PingPongMessage, PingPongState, PingPongTopology};
use prio::vdaf::prio3::{Prio3SumVec, Prio3VerifyState};
use subtle::ConstantTimeEq;

use crate::aggregate::{Accumulator, AggregateShare, NoiseSource};
use crate::error::{Result, SecaggError};
use crate::messages::{CollectRequest, HelperMessage, LeaderMessage, RejectReason, Rejection};
use crate::params::{AggregationParams, TotalBound};
use crate::report::{ReportId, ReportShare, Role, VerifyKey};

/// An input to the leader.
#[derive(Debug)]
pub enum LeaderInput {
    /// A site's report share for the leader.
    Report(ReportShare),
    /// A message from the helper.
    FromHelper(HelperMessage),
}

/// An output of the leader, for the caller to act on.
#[derive(Debug, PartialEq, Eq)]
pub enum LeaderOutput {
    /// Send this message to the helper.
    ToHelper(LeaderMessage),
    /// The report was verified by both aggregators and is counted.
    Accepted(ReportId),
    /// The report was refused and is not counted.
    Rejected(Rejection),
}

/// A report the leader has sent to the helper and not yet decided.
struct InFlight {
    state: Prio3VerifyState<Field128, 32>,
    declared_count: Option<u64>,
}

/// The leader's state for one job: verifies reports with the helper, rejects invalid ones,
/// accumulates valid output shares and finally releases its (optionally noised) aggregate share.
pub struct Leader {
    params: AggregationParams,
    vdaf: Prio3SumVec,
    ctx: Vec<u8>,
    verify_key: VerifyKey,
    in_flight: HashMap<ReportId, InFlight>,
    seen: std::collections::HashSet<ReportId>,
    accumulator: Accumulator,
    rejections: Vec<Rejection>,
}

impl Leader {
    /// A leader for one job with the verification key it shares with the helper.
    pub fn new(params: AggregationParams, verify_key: VerifyKey) -> Result<Self> {
        let vdaf = params.vdaf()?;
        let ctx = params.prio_context();
        let accumulator = Accumulator::new(params.length());
        Ok(Leader {
            params,
            vdaf,
            ctx,
            verify_key,
            in_flight: HashMap::new(),
            seen: std::collections::HashSet::new(),
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

    /// Number of reports waiting for the helper.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// Advances the state machine. Invalid reports become [`LeaderOutput::Rejected`]; an `Err`
    /// means the helper (or the caller) broke the protocol, e.g. a message about an unknown report.
    pub fn handle(&mut self, input: LeaderInput) -> Result<Vec<LeaderOutput>> {
        match input {
            LeaderInput::Report(share) => Ok(self.start(share)),
            LeaderInput::FromHelper(message) => self.continue_with(message),
        }
    }

    fn reject(&mut self, report_id: ReportId, reason: RejectReason, detail: String) -> LeaderOutput {
        LeaderOutput::Rejected(Rejection::log(&mut self.rejections, report_id, reason, detail))
    }

    fn start(&mut self, share: ReportShare) -> Vec<LeaderOutput> {
        let id = share.report_id();
        if !self.seen.insert(id) {
            return vec![self.reject(
                id,
                RejectReason::Replayed,
                "report id already seen by the leader".into(),
            )];
        }
        if share.role() != Role::Leader {
            return vec![self.reject(
                id,
                RejectReason::WrongAggregator,
                "share addressed to the helper".into(),
            )];
        }
        let (public, input) = match share.prio_shares(&self.params) {
            Ok(shares) => shares,
            Err(e) => return vec![self.reject(id, RejectReason::VerificationFailed, e.to_string())],
        };
        let started = self.vdaf.leader_initialized(
            self.verify_key.as_bytes(),
            &self.ctx,
            &(),
            id.as_bytes(),
            &public,
            &input,
        );
        let continued = match started {
            Ok(continued) => continued,
            Err(e) => return vec![self.reject(id, RejectReason::VerificationFailed, e.to_string())],
        };
        let ping_pong = match continued.message.get_encoded() {
            Ok(bytes) => bytes,
            Err(e) => return vec![self.reject(id, RejectReason::VerificationFailed, e.to_string())],
        };
        let declared_count = share.declared_count();
        self.in_flight.insert(
            id,
            InFlight {
                state: continued.verifier_state,
                declared_count,
            },
        );
        vec![LeaderOutput::ToHelper(LeaderMessage::Prepare {
            report_id: id,
            declared_count,
            ping_pong,
        })]
    }

    fn continue_with(&mut self, message: HelperMessage) -> Result<Vec<LeaderOutput>> {
        let id = message.report_id();
        let flight = self.in_flight.remove(&id).ok_or_else(|| SecaggError::Protocol {
            reason: format!("helper message about report {id}, which is not awaiting the helper"),
        })?;
        let (ping_pong, total_share) = match message {
            HelperMessage::Rejected { reason, .. } => {
                return Ok(vec![self.reject(
                    id,
                    RejectReason::RejectedByPeer,
                    format!("helper: {reason:?}"),
                )]);
            }
            HelperMessage::Prepared {
                ping_pong, total_share, ..
            } => (ping_pong, total_share),
        };
        let decision = self.decide(id, flight, &ping_pong, total_share);
        let accept = decision.is_ok();
        let outcome = match decision {
            Ok(output_share) => {
                self.accumulator.add(id, &output_share)?;
                LeaderOutput::Accepted(id)
            }
            Err((reason, detail)) => self.reject(id, reason, detail),
        };
        Ok(vec![
            LeaderOutput::ToHelper(LeaderMessage::Decide { report_id: id, accept }),
            outcome,
        ])
    }

    /// Finishes Prio3 verification and checks the total; returns the output share to count.
    fn decide(
        &self,
        id: ReportId,
        flight: InFlight,
        ping_pong: &[u8],
        helper_total: Option<Field128>,
    ) -> std::result::Result<Vec<Field128>, (RejectReason, String)> {
        let failed = |e: String| (RejectReason::VerificationFailed, e);
        let message = PingPongMessage::get_decoded(ping_pong).map_err(|e| failed(e.to_string()))?;
        let continuation = self
            .vdaf
            .leader_continued(&self.ctx, &(), flight.state, &message)
            .map_err(|e| failed(e.to_string()))?;
        let output_share = match continuation
            .evaluate(&self.ctx, &self.vdaf)
            .map_err(|e| failed(e.to_string()))?
        {
            PingPongState::Finished { output_share } => output_share,
            other => {
                return Err(failed(format!(
                    "unexpected ping-pong state {other:?} after the helper finished"
                )));
            }
        };
        let cells: Vec<Field128> = output_share.as_ref().to_vec();
        if self.params.total_bound() == TotalBound::DeclaredCount {
            let declared = flight.declared_count.ok_or_else(|| {
                (
                    RejectReason::DeclaredCountMismatch,
                    format!("report {id} carries no declared count"),
                )
            })?;
            let helper_total = helper_total.ok_or_else(|| {
                (
                    RejectReason::TotalMismatch,
                    "the helper sent no share of the total".to_string(),
                )
            })?;
            let leader_total = cells.iter().fold(Field128::zero(), |acc, c| acc + *c);
            let target = Field128::from(u128::from(declared));
            if !bool::from((leader_total + helper_total).ct_eq(&target)) {
                return Err((
                    RejectReason::TotalMismatch,
                    format!("cells plus slack do not add up to the declared count {declared}"),
                ));
            }
        }
        Ok(cells)
    }

    /// Closes the job. Reports still waiting for the helper are rejected as
    /// [`RejectReason::Unfinished`]. Returns the leader's aggregate share (with `noise` added to
    /// every cell when given) and the [`CollectRequest`] to send to the helper.
    pub fn finish(
        mut self,
        noise: Option<&mut dyn NoiseSource>,
    ) -> Result<(AggregateShare, CollectRequest, Vec<Rejection>)> {
        let mut unfinished: Vec<ReportId> = self.in_flight.keys().copied().collect();
        unfinished.sort();
        for id in unfinished {
            self.reject(
                id,
                RejectReason::Unfinished,
                "the helper had not answered when the job closed".into(),
            );
        }
        let accepted: Vec<ReportId> = self.accumulator.accepted().iter().copied().collect();
        let share = self.accumulator.release(Role::Leader, noise)?;
        Ok((share, CollectRequest { accepted }, self.rejections))
    }
}
