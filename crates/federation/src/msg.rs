//! Versioned wire messages: the only serde types of the core (ARCHITECTURE.md §2 rule 4).
//!
//! Every message travels as an [`Envelope`] `{ "version": 1, "message": { "kind": …, "body": … } }`
//! in JSON. [`decode`] checks the version first (a message of another version is refused by
//! name, not by a field error), then decodes with `deny_unknown_fields` everywhere. Decoding
//! never panics: any byte string either decodes or yields [`FederationError::Wire`] /
//! [`FederationError::Version`]. Secret-share bytes are carried as lowercase hex strings.
//!
//! Semantic checks (σ² positive, attributes in range, the site's own limits) are the receiving
//! state machine's job; the codec only guarantees well-typed values.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{FederationError, Result};

/// Fixed-point scale of [`ScoreQuery::models`]: a value v stands for v / 1024 expected records.
pub const MODEL_SCALE: u64 = 1024;

/// Format version of every message this crate writes and accepts.
pub const WIRE_VERSION: u32 = 1;

/// Identifies a synthesis job (chosen by the hub; public).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub String);

/// Identifies a site (its certificate's name in deployment; public).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SiteId(pub String);

/// A round of one job: one secure aggregation (a measurement or a selection). Starts at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Round(pub u32);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A synthesis method a job runs (a site's policy allows a subset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// MST.
    Mst,
    /// AIM.
    Aim,
    /// Independent one-way marginals.
    Independent,
}

/// What a round's release is for. Both are secure sums of marginals with aggregator noise; the
/// purpose is recorded in the site's audit trail and ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A marginal the synthesizer fits its model to.
    Measurement,
    /// The candidates' marginals of one private selection ("noisy-measure then select").
    Selection,
    /// The candidates' summed local scores of one private selection (see [`ScoreQuery`]).
    Scores,
    /// One vote per site, chosen by the site's own exponential mechanism (see [`VoteQuery`]).
    Votes,
}

/// For [`Purpose::Votes`]: each site scores the candidates on its own records and votes for
/// one by the exponential mechanism with parameter ε; the one-hot votes are secure-summed.
///
/// Site s's score for candidate c, in units of `1/resolution` of the largest weight, is
/// `⌊resolution·w_c·(‖x_{s,c} − (n_s/N_c)·m_c‖₁ − p_c/S) / max_w⌋` with `S` the number of sites.
/// All values are fixed point (units of 1/[`MODEL_SCALE`]) so that every party binds exactly
/// the same request into the Prio3 context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteQuery {
    /// The model's expected counts per candidate.
    pub models: Vec<Vec<u64>>,
    /// The candidates' weights.
    pub weights: Vec<u64>,
    /// The candidates' penalties (the union's; each site subtracts its `1/S` part).
    pub penalties: Vec<u64>,
    /// The exponential mechanism's ε at each site, `num/den`.
    pub epsilon: WireRational,
    /// Score units per largest weight (1..=1024).
    pub resolution: u32,
    /// The number of sites S the penalty is split over.
    pub sites: u32,
}

/// For [`Purpose::Scores`]: the public model each site scores its local marginals against.
///
/// Site s with n_s records reports, per candidate c, `⌊q·‖x_{s,c} − (n_s/N_c)·m_c‖₁⌋` where
/// `m_c` is the model's expected counts over c (total `N_c`) and `q` the resolution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreQuery {
    /// The model's expected counts per candidate (same layout as the marginal), in fixed point:
    /// units of 1/[`MODEL_SCALE`] of a count (integers, so that every party binds exactly the
    /// same request into the Prio3 context).
    pub models: Vec<Vec<u64>>,
    /// Quantisation: score units per count (1 ≤ q ≤ 64).
    pub resolution: u32,
}

/// An exact positive rational `num/den` (the noise variance σ² per aggregator).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRational {
    /// Numerator.
    pub num: u64,
    /// Denominator.
    pub den: u64,
}

impl From<dp::Rational> for WireRational {
    fn from(r: dp::Rational) -> Self {
        WireRational {
            num: r.num(),
            den: r.den(),
        }
    }
}

impl WireRational {
    /// The `dp` rational (errors when zero or out of the exact samplers' range).
    pub fn to_rational(self) -> Result<dp::Rational> {
        Ok(dp::Rational::new(self.num, self.den)?)
    }
}

/// Hub → sites: a job is proposed. A site accepts or refuses it against its policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobAnnouncement {
    /// The job.
    pub job_id: JobId,
    /// The dataset (data dictionary) the job is about.
    pub dataset: String,
    /// Who asked for the synthetic data.
    pub requester: String,
    /// The synthesis method.
    pub method: Method,
    /// The modelled columns, in attribute order.
    pub columns: Vec<String>,
    /// The zCDP budget the job may spend at every site.
    pub rho_per_site: f64,
    /// How many rounds (measurements and selections) the job expects to run.
    pub requested_measurements: u32,
    /// The sites invited.
    pub sites: Vec<SiteId>,
    /// The job releases nothing aggregated over fewer sites than this.
    pub min_sites: u32,
    /// Bit width of a count cell in the validity proof (cells and totals below `2^bits`).
    pub bits: u32,
}

/// Site → hub: the site takes part in the job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobAcceptance {
    /// The job.
    pub job_id: JobId,
    /// The site.
    pub site: SiteId,
}

/// Hub → sites (and → helper inside [`HelperInstruction::Open`]): one round's query. A
/// selection request has purpose [`Purpose::Selection`] and several marginals; a measurement
/// request one or several (a batch of independent measurements at the same σ², charged as
/// their composition: squared sensitivity k). The concatenated vector of all `marginals` is
/// secret-shared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasurementRequest {
    /// The job.
    pub job_id: JobId,
    /// The round.
    pub round: Round,
    /// Measurement or selection.
    pub purpose: Purpose,
    /// The marginals (attribute indices, increasing within each).
    pub marginals: Vec<Vec<u32>>,
    /// Public merging of codes (MST's compression): `maps[a][c]` is the merged code of code
    /// `c` of attribute `a`; `None` leaves the attribute unchanged.
    pub maps: Vec<Option<Vec<u32>>>,
    /// The noise variance σ² that **each** aggregator adds to every cell, exact.
    pub sigma2: WireRational,
    /// What the synthesizer asked for (audit text).
    pub what: String,
    /// For [`Purpose::Scores`] only: the public models to score against.
    pub scores: Option<ScoreQuery>,
    /// For [`Purpose::Votes`] only: what the sites vote on.
    pub votes: Option<VoteQuery>,
}

/// Site → one aggregator: that aggregator's secret share of the site's report for a round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The job.
    pub job_id: JobId,
    /// The round.
    pub round: Round,
    /// The uploading site (authenticated by mTLS in deployment).
    pub site: SiteId,
    /// The encoded `secagg::ReportShare` (hex).
    pub share: String,
}

/// Why a site refused a job or a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The job is about a dataset this site does not hold.
    UnknownDataset,
    /// The requester is not in the site's allowed list.
    RequesterNotAllowed,
    /// The method is not in the site's allowed list.
    MethodNotAllowed,
    /// The job's minimum number of sites is below the site's policy.
    TooFewSites,
    /// The request would exceed the job's or the dataset's privacy budget.
    BudgetExceeded,
    /// The request names an unknown job, or a job this site refused.
    UnknownJob,
    /// The request is malformed for this site's data (columns, attributes, maps, σ², bits).
    InvalidRequest,
    /// The site's privacy ledger could not record the charge (its storage failed): nothing
    /// derived from the data was sent.
    LedgerUnavailable,
}

/// Site → hub: a refusal, of a whole job (`round` absent) or of one round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// The job.
    pub job_id: JobId,
    /// The round refused, if any.
    pub round: Option<Round>,
    /// The refusing site.
    pub site: SiteId,
    /// Why.
    pub reason: RefusalReason,
    /// Details for the audit log.
    pub detail: String,
}

/// Hub → requester and sites: a round's released noisy vector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundResult {
    /// The job.
    pub job_id: JobId,
    /// The round.
    pub round: Round,
    /// Noisy counts of the concatenated marginals.
    pub values: Vec<i64>,
    /// The noise variance per aggregator (the released values carry twice this).
    pub sigma2: WireRational,
    /// The sites whose reports were counted.
    pub contributors: Vec<SiteId>,
}

/// Hub → requester and sites: a round ended without a release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundFailure {
    /// The job.
    pub job_id: JobId,
    /// The round.
    pub round: Round,
    /// Why.
    pub reason: String,
}

/// Hub (leader) → helper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HelperInstruction {
    /// Open a round: the helper checks the request itself and derives its noise from it.
    Open {
        /// The round's request (identical to what the sites received: it is bound into every
        /// report's Prio3 context, so a different request fails verification).
        request: Box<MeasurementRequest>,
        /// Bit width of a cell.
        bits: u32,
        /// The job's minimum number of contributing sites.
        min_sites: u32,
    },
    /// A secagg `LeaderMessage` (hex).
    Leader {
        /// The job.
        job_id: JobId,
        /// The round.
        round: Round,
        /// Encoded message.
        message: String,
    },
    /// Close the round: a secagg `CollectRequest` (hex); the helper answers with its share.
    Collect {
        /// The job.
        job_id: JobId,
        /// The round.
        round: Round,
        /// Encoded collect request.
        request: String,
    },
    /// Abandon the round: the helper drops its state and releases nothing.
    Abort {
        /// The job.
        job_id: JobId,
        /// The round.
        round: Round,
    },
}

/// Helper → hub (leader).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HelperReply {
    /// A secagg `HelperMessage` (hex).
    Helper {
        /// The job.
        job_id: JobId,
        /// The round.
        round: Round,
        /// Encoded message.
        message: String,
    },
    /// The helper's (noised) aggregate share (hex of `secagg::AggregateShare`).
    AggregateShare {
        /// The job.
        job_id: JobId,
        /// The round.
        round: Round,
        /// Encoded share.
        share: String,
    },
    /// The helper refuses to release for this round.
    Refused {
        /// The job.
        job_id: JobId,
        /// The round.
        round: Round,
        /// Why.
        reason: String,
    },
}

/// Every message of the protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case", deny_unknown_fields)]
pub enum Message {
    /// Hub → sites.
    Announcement(JobAnnouncement),
    /// Site → hub.
    Acceptance(JobAcceptance),
    /// Hub → sites.
    Request(MeasurementRequest),
    /// Site → an aggregator.
    Upload(Upload),
    /// Site → hub.
    Refusal(Refusal),
    /// Hub → requester and sites.
    Result(RoundResult),
    /// Hub → requester and sites.
    Failure(RoundFailure),
    /// Hub → helper.
    ToHelper(HelperInstruction),
    /// Helper → hub.
    FromHelper(HelperReply),
}

/// The versioned envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Always [`WIRE_VERSION`] when written by this crate.
    pub version: u32,
    /// The message.
    pub message: Message,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: serde_json::Value,
}

/// Encodes `message` in an envelope of version [`WIRE_VERSION`].
pub fn encode(message: &Message) -> Result<Vec<u8>> {
    let envelope = Envelope {
        version: WIRE_VERSION,
        message: message.clone(),
    };
    serde_json::to_vec(&envelope).map_err(|e| FederationError::Wire { reason: e.to_string() })
}

/// Decodes an envelope: the version is checked before the message is decoded.
pub fn decode(bytes: &[u8]) -> Result<Message> {
    let wire = |e: serde_json::Error| FederationError::Wire { reason: e.to_string() };
    let head: VersionOnly = serde_json::from_slice(bytes).map_err(wire)?;
    let version = head.version.as_u64().ok_or_else(|| FederationError::Wire {
        reason: format!("version {} is not a non-negative integer", head.version),
    })?;
    if version != u64::from(WIRE_VERSION) {
        return Err(FederationError::Version {
            found: version,
            expected: WIRE_VERSION,
        });
    }
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(wire)?;
    Ok(envelope.message)
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Bytes of a hex string (either case); `what` names the field in the error.
pub fn from_hex(text: &str, what: &str) -> Result<Vec<u8>> {
    let digit = |c: u8, at: usize| -> Result<u8> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(FederationError::Wire {
                reason: format!("{what}: byte {at} is not a hex digit"),
            }),
        }
    };
    let raw = text.as_bytes();
    if !raw.len().is_multiple_of(2) {
        return Err(FederationError::Wire {
            reason: format!("{what}: odd number of hex digits ({})", raw.len()),
        });
    }
    raw.chunks(2)
        .enumerate()
        .map(|(i, pair)| Ok(digit(pair[0], 2 * i)? << 4 | digit(pair[1], 2 * i + 1)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> MeasurementRequest {
        MeasurementRequest {
            job_id: JobId("job-1".into()),
            round: Round(3),
            purpose: Purpose::Selection,
            marginals: vec![vec![0, 2], vec![1]],
            maps: vec![None, Some(vec![0, 0, 1]), None],
            sigma2: WireRational { num: 25, den: 2 },
            what: "AIM round 1 selection".into(),
            scores: Some(ScoreQuery {
                models: vec![vec![512, 1280], vec![3072]],
                resolution: 4,
            }),
            votes: None,
        }
    }

    #[test]
    fn every_message_kind_round_trips() {
        let job_id = JobId("j".into());
        let messages = vec![
            Message::Request(request()),
            Message::Upload(Upload {
                job_id: job_id.clone(),
                round: Round(1),
                site: SiteId("a".into()),
                share: to_hex(&[0, 1, 254, 255]),
            }),
            Message::Refusal(Refusal {
                job_id: job_id.clone(),
                round: None,
                site: SiteId("b".into()),
                reason: RefusalReason::BudgetExceeded,
                detail: "x".into(),
            }),
            Message::ToHelper(HelperInstruction::Abort {
                job_id: job_id.clone(),
                round: Round(2),
            }),
            Message::FromHelper(HelperReply::Refused {
                job_id,
                round: Round(2),
                reason: "too few".into(),
            }),
        ];
        for m in messages {
            let bytes = encode(&m).unwrap();
            assert_eq!(decode(&bytes).unwrap(), m);
        }
    }

    #[test]
    fn version_and_unknown_fields_are_refused() {
        let bytes = encode(&Message::Request(request())).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let v2 = text.replacen("\"version\":1", "\"version\":2", 1);
        assert!(matches!(
            decode(v2.as_bytes()),
            Err(FederationError::Version { found: 2, .. })
        ));
        let extra = text.replacen("\"purpose\"", "\"sneaky\":1,\"purpose\"", 1);
        assert!(matches!(decode(extra.as_bytes()), Err(FederationError::Wire { .. })));
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"version\":-1}",
            b"{\"version\":1}",
            b"\xff\xfe",
        ] {
            assert!(decode(bad).is_err());
        }
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes), "t").unwrap(), bytes);
        assert!(from_hex("abc", "t").is_err());
        assert!(from_hex("zz", "t").is_err());
        assert_eq!(from_hex("AbCd", "t").unwrap(), vec![0xab, 0xcd]);
    }

    #[test]
    fn truncations_of_a_valid_message_never_panic() {
        let bytes = encode(&Message::Request(request())).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
    }
}
