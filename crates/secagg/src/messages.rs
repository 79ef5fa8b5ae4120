//! Messages between the two aggregators, and the record of a rejected report.

use prio::codec::{Decode, Encode};
use prio::field::Field128;
use prio::topology::ping_pong::PingPongMessage;

use crate::codec::{Reader, Writer};
use crate::error::{Result, SecaggError};
use crate::report::ReportId;

/// Why an aggregator refused to count a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The report id was already seen in this job.
    Replayed,
    /// The share was addressed to the other aggregator.
    WrongAggregator,
    /// The two aggregators received different declared record counts.
    DeclaredCountMismatch,
    /// The Prio3 validity proof did not verify (a cell out of range, or a tampered share).
    VerificationFailed,
    /// The cells and the slack cell do not add up to the declared record count.
    TotalMismatch,
    /// The peer aggregator rejected the report (its reason is in the detail).
    RejectedByPeer,
    /// Verification had not finished when the job was closed (e.g. the site's share never
    /// reached the other aggregator).
    Unfinished,
}

impl RejectReason {
    fn tag(self) -> u8 {
        match self {
            RejectReason::Replayed => 1,
            RejectReason::WrongAggregator => 2,
            RejectReason::DeclaredCountMismatch => 3,
            RejectReason::VerificationFailed => 4,
            RejectReason::TotalMismatch => 5,
            RejectReason::RejectedByPeer => 6,
            RejectReason::Unfinished => 7,
        }
    }

    fn from_tag(tag: u8, reader: &Reader<'_>) -> Result<Self> {
        Ok(match tag {
            1 => RejectReason::Replayed,
            2 => RejectReason::WrongAggregator,
            3 => RejectReason::DeclaredCountMismatch,
            4 => RejectReason::VerificationFailed,
            5 => RejectReason::TotalMismatch,
            6 => RejectReason::RejectedByPeer,
            7 => RejectReason::Unfinished,
            other => return Err(reader.error(format!("reject reason {other}"))),
        })
    }
}

/// A report an aggregator refused: its id, the reason and a human-readable detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The report.
    pub report_id: ReportId,
    /// Why.
    pub reason: RejectReason,
    /// Details (prio's error text, the peer's reason, the counts that differ).
    pub detail: String,
}

impl Rejection {
    /// Records a refusal in an aggregator's log and returns it (for the output to the caller).
    pub(crate) fn log(
        log: &mut Vec<Rejection>,
        report_id: ReportId,
        reason: RejectReason,
        detail: String,
    ) -> Rejection {
        let rejection = Rejection {
            report_id,
            reason,
            detail,
        };
        log.push(rejection.clone());
        rejection
    }
}

/// A message from the leader to the helper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaderMessage {
    /// Start verifying a report: the leader's declared count and its first ping-pong message.
    Prepare {
        /// The report.
        report_id: ReportId,
        /// The declared record count the leader received from the site.
        declared_count: Option<u64>,
        /// Encoded `PingPongMessage::Initialize` (the leader's verifier share).
        ping_pong: Vec<u8>,
    },
    /// The leader's final decision on a report the helper had verified.
    Decide {
        /// The report.
        report_id: ReportId,
        /// `true`: both count it; `false`: both drop it.
        accept: bool,
    },
}

/// A message from the helper to the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelperMessage {
    /// The helper verified the report and holds its output share until the leader decides.
    Prepared {
        /// The report.
        report_id: ReportId,
        /// Encoded `PingPongMessage::Finish` (the combined verifier message).
        ping_pong: Vec<u8>,
        /// The helper's share of `total + slack`, under [`crate::TotalBound::DeclaredCount`].
        total_share: Option<Field128>,
    },
    /// The helper rejected the report.
    Rejected {
        /// The report.
        report_id: ReportId,
        /// Why.
        reason: RejectReason,
    },
}

/// Sent by the leader when it closes the job: the exact set of accepted reports, which the
/// helper must hold too before it releases its aggregate share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectRequest {
    /// Accepted report ids, sorted.
    pub accepted: Vec<ReportId>,
}

const PREPARE_TAG: u8 = 10;
const DECIDE_TAG: u8 = 11;
const PREPARED_TAG: u8 = 20;
const HELPER_REJECTED_TAG: u8 = 21;
const COLLECT_TAG: u8 = 30;

fn check_ping_pong(reader: &Reader<'_>, bytes: &[u8]) -> Result<()> {
    PingPongMessage::get_decoded(bytes)
        .map(|_| ())
        .map_err(|e| reader.error(format!("ping-pong message: {e}")))
}

impl LeaderMessage {
    /// The report the message is about.
    pub fn report_id(&self) -> ReportId {
        match self {
            LeaderMessage::Prepare { report_id, .. } | LeaderMessage::Decide { report_id, .. } => *report_id,
        }
    }

    /// Encodes to bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        match self {
            LeaderMessage::Prepare {
                report_id,
                declared_count,
                ping_pong,
            } => {
                let mut w = Writer::new(PREPARE_TAG);
                w.raw(report_id.as_bytes());
                w.option_u64(*declared_count);
                w.bytes(ping_pong)?;
                Ok(w.finish())
            }
            LeaderMessage::Decide { report_id, accept } => {
                let mut w = Writer::new(DECIDE_TAG);
                w.raw(report_id.as_bytes());
                w.u8(u8::from(*accept));
                Ok(w.finish())
            }
        }
    }

    /// Decodes bytes produced by [`LeaderMessage::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (mut r, tag) = Reader::new("leader message", bytes)?;
        let report_id = ReportId::from_bytes(r.array()?);
        let message = match tag {
            PREPARE_TAG => {
                let declared_count = r.option_u64()?;
                let ping_pong = r.bytes()?.to_vec();
                check_ping_pong(&r, &ping_pong)?;
                LeaderMessage::Prepare {
                    report_id,
                    declared_count,
                    ping_pong,
                }
            }
            DECIDE_TAG => {
                let accept = match r.u8()? {
                    0 => false,
                    1 => true,
                    other => return Err(r.error(format!("decision {other}, expected 0 or 1"))),
                };
                LeaderMessage::Decide { report_id, accept }
            }
            other => return Err(r.error(format!("message tag {other}"))),
        };
        r.finish()?;
        Ok(message)
    }
}

impl HelperMessage {
    /// The report the message is about.
    pub fn report_id(&self) -> ReportId {
        match self {
            HelperMessage::Prepared { report_id, .. } | HelperMessage::Rejected { report_id, .. } => *report_id,
        }
    }

    /// Encodes to bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        match self {
            HelperMessage::Prepared {
                report_id,
                ping_pong,
                total_share,
            } => {
                let mut w = Writer::new(PREPARED_TAG);
                w.raw(report_id.as_bytes());
                w.bytes(ping_pong)?;
                match total_share {
                    None => w.u8(0),
                    Some(t) => {
                        w.u8(1);
                        let encoded = t.get_encoded().map_err(|e| SecaggError::Prio(e.to_string()))?;
                        w.raw(&encoded);
                    }
                }
                Ok(w.finish())
            }
            HelperMessage::Rejected { report_id, reason } => {
                let mut w = Writer::new(HELPER_REJECTED_TAG);
                w.raw(report_id.as_bytes());
                w.u8(reason.tag());
                Ok(w.finish())
            }
        }
    }

    /// Decodes bytes produced by [`HelperMessage::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (mut r, tag) = Reader::new("helper message", bytes)?;
        let report_id = ReportId::from_bytes(r.array()?);
        let message = match tag {
            PREPARED_TAG => {
                let ping_pong = r.bytes()?.to_vec();
                check_ping_pong(&r, &ping_pong)?;
                let total_share = match r.u8()? {
                    0 => None,
                    1 => Some(decode_field(&mut r)?),
                    other => return Err(r.error(format!("option flag {other}, expected 0 or 1"))),
                };
                HelperMessage::Prepared {
                    report_id,
                    ping_pong,
                    total_share,
                }
            }
            HELPER_REJECTED_TAG => {
                let reason_tag = r.u8()?;
                HelperMessage::Rejected {
                    report_id,
                    reason: RejectReason::from_tag(reason_tag, &r)?,
                }
            }
            other => return Err(r.error(format!("message tag {other}"))),
        };
        r.finish()?;
        Ok(message)
    }
}

impl CollectRequest {
    /// Encodes to bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new(COLLECT_TAG);
        w.u64(self.accepted.len() as u64);
        for id in &self.accepted {
            w.raw(id.as_bytes());
        }
        Ok(w.finish())
    }

    /// Decodes bytes produced by [`CollectRequest::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (mut r, tag) = Reader::new("collect request", bytes)?;
        if tag != COLLECT_TAG {
            return Err(r.error(format!("message tag {tag}, expected {COLLECT_TAG}")));
        }
        let count = r.u64()?;
        let mut accepted = Vec::new();
        for _ in 0..count {
            accepted.push(ReportId::from_bytes(r.array()?));
        }
        r.finish()?;
        Ok(CollectRequest { accepted })
    }
}

/// Reads one Field128 element (16 bytes), refusing values not below the modulus.
pub(crate) fn decode_field(r: &mut Reader<'_>) -> Result<Field128> {
    let bytes: [u8; 16] = r.array()?;
    Field128::get_decoded(&bytes).map_err(|e| r.error(format!("field element: {e}")))
}
