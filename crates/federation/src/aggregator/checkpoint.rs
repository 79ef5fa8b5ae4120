//! The helper's persisted state: [`HelperCheckpoint`], what the helper must never forget across
//! its own restarts for its guarantee of at most one noisy share per (job, round) to hold (see
//! [`crate::aggregator`]): the digest of every round's request and every released share with the
//! report ids it covers. Rounds in progress are not kept: after a helper restart their
//! verification is lost, and the hub's `collect` for them fails, releasing nothing.
//!
//! A driver persists [`HelperNode::checkpoint`] after every instruction from the hub and, at the
//! latest, **before an aggregate share leaves the helper**; a share sent but not persisted could
//! be drawn again after a crash.

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use secagg::{ReportId, VerifyKey};
use serde::{Deserialize, Serialize};

use super::{HelperNode, Released};
use crate::msg::{JobId, Round, from_hex, to_hex};
use crate::noise::Noise;
use crate::{Result, input};

/// The format version of [`HelperCheckpoint`].
pub const HELPER_CHECKPOINT_VERSION: u32 = 1;

/// A released share in a [`HelperCheckpoint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleasedRecord {
    /// The report ids the share covers, sorted, hex.
    accepted: Vec<String>,
    /// The encoded share, hex, exactly as sent.
    share: String,
}

/// One round the helper saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoundRecord {
    job_id: JobId,
    round: Round,
    /// SHA-256 of the round's request, hex.
    request_sha256: String,
    released: Option<ReleasedRecord>,
}

/// The helper's persisted state (module documentation): serde-serialisable and versioned. It
/// holds released shares (already sent to the hub) and request digests; no noise seed, no input
/// share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelperCheckpoint {
    version: u32,
    rounds: Vec<RoundRecord>,
}

impl HelperCheckpoint {
    /// The checkpoint's format version ([`HELPER_CHECKPOINT_VERSION`] when written here).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The rounds whose share was released, in order.
    pub fn released_rounds(&self) -> Vec<(JobId, Round)> {
        self.rounds
            .iter()
            .filter(|r| r.released.is_some())
            .map(|r| (r.job_id.clone(), r.round))
            .collect()
    }
}

impl HelperNode {
    /// The helper's persisted state (see [`HelperCheckpoint`]).
    pub fn checkpoint(&self) -> HelperCheckpoint {
        let rounds = self
            .requests
            .iter()
            .map(|((job_id, round), digest)| RoundRecord {
                job_id: job_id.clone(),
                round: *round,
                request_sha256: to_hex(digest),
                released: self.released.get(&(job_id.clone(), *round)).map(|r| ReleasedRecord {
                    accepted: r.accepted.iter().map(|id| to_hex(id.as_bytes())).collect(),
                    share: r.share.clone(),
                }),
            })
            .collect();
        HelperCheckpoint {
            version: HELPER_CHECKPOINT_VERSION,
            rounds,
        }
    }

    /// A helper built as by [`HelperNode::new`] that remembers what `checkpoint` records: it
    /// re-sends the recorded shares, refuses other report sets for those rounds and re-openings
    /// with other requests. Fails on another version or a malformed record.
    pub fn restore(
        verify_key: VerifyKey,
        noise: Noise,
        rng: ChaCha20Rng,
        min_sites_floor: u32,
        checkpoint: HelperCheckpoint,
    ) -> Result<HelperNode> {
        if checkpoint.version != HELPER_CHECKPOINT_VERSION {
            return Err(input(format!(
                "helper checkpoint of version {}, this helper reads version {HELPER_CHECKPOINT_VERSION}",
                checkpoint.version
            )));
        }
        let mut node = HelperNode::new(verify_key, noise, rng, min_sites_floor);
        let mut requests = BTreeMap::new();
        let mut released = BTreeMap::new();
        for record in checkpoint.rounds {
            let key = (record.job_id, record.round);
            let digest: [u8; 32] = from_hex(&record.request_sha256, "request digest")?
                .try_into()
                .map_err(|_| {
                    input(format!(
                        "round {} of job {}: a request digest is 32 bytes",
                        key.1, key.0
                    ))
                })?;
            if let Some(r) = record.released {
                let mut accepted = r
                    .accepted
                    .iter()
                    .map(|hex| {
                        let bytes: [u8; 16] = from_hex(hex, "report id")?
                            .try_into()
                            .map_err(|_| input("a report id is 16 bytes"))?;
                        Ok(ReportId::from_bytes(bytes))
                    })
                    .collect::<Result<Vec<_>>>()?;
                accepted.sort();
                released.insert(
                    key.clone(),
                    Released {
                        accepted,
                        share: r.share,
                    },
                );
            }
            if requests.insert(key.clone(), digest).is_some() {
                return Err(input(format!(
                    "the helper checkpoint records round {} of job {} twice",
                    key.1, key.0
                )));
            }
        }
        node.requests = requests;
        node.released = released;
        Ok(node)
    }
}
