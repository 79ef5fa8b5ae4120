//! The hub's persisted state: [`HubCheckpoint`], taken by [`Hub::checkpoint`] and turned back
//! into a hub by [`Hub::restore`]. The restart semantics and their privacy argument are in the
//! documentation of [`crate::hub`].

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use secagg::VerifyKey;
use serde::{Deserialize, Serialize};

use super::{Hub, Membership, RejectedUpload};
use crate::msg::{JobAnnouncement, JobId, MeasurementRequest, Refusal, Round, SiteId};
use crate::noise::Noise;
use crate::{Result, input};

/// The format version of [`HubCheckpoint`].
pub const HUB_CHECKPOINT_VERSION: u32 = 1;

/// One site's standing in a [`HubCheckpoint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberState {
    site: SiteId,
    membership: Membership,
}

/// The hub's persisted state (restart semantics: [`crate::hub`]): serde-serialisable and
/// versioned, holding nothing secret (no noise seed, no share). A driver stores it at round
/// boundaries and before the hub asks the helper for its aggregate share, and rebuilds the hub
/// from it with [`Hub::restore`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubCheckpoint {
    version: u32,
    job_id: JobId,
    members: Vec<MemberState>,
    next_round: u32,
    open: Option<MeasurementRequest>,
    ended: Option<String>,
    rejected: Vec<RejectedUpload>,
    refusals: Vec<Refusal>,
}

impl HubCheckpoint {
    /// The checkpoint's format version ([`HUB_CHECKPOINT_VERSION`] when written by this crate).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The job.
    pub fn job_id(&self) -> &JobId {
        &self.job_id
    }

    /// The round the restored hub's next [`Hub::open_round`] opens: the round that was open
    /// when the checkpoint was taken (to be re-opened identically), else the next new round.
    pub fn resume_round(&self) -> Round {
        match &self.open {
            Some(request) => request.round,
            None => Round(self.next_round),
        }
    }

    /// The request of the round open when the checkpoint was taken, if any.
    pub fn open_request(&self) -> Option<&MeasurementRequest> {
        self.open.as_ref()
    }
}

impl Hub {
    /// The hub's persisted state (see [`HubCheckpoint`]). Taken while a round is open, it
    /// records that round's request: the restored hub re-opens it with the same number.
    pub fn checkpoint(&self) -> HubCheckpoint {
        HubCheckpoint {
            version: HUB_CHECKPOINT_VERSION,
            job_id: self.announcement.job_id.clone(),
            members: self
                .members
                .iter()
                .map(|(site, &membership)| MemberState {
                    site: site.clone(),
                    membership,
                })
                .collect(),
            // A restored round not yet re-opened is still the open round (its number precedes
            // the next new round's).
            next_round: match (&self.round, &self.pending) {
                (None, Some(pending)) => pending.round.0.saturating_add(1),
                _ => self.next_round,
            },
            open: self
                .round
                .as_ref()
                .map(|open| open.request.clone())
                .or_else(|| self.pending.clone()),
            ended: self.ended.clone(),
            rejected: self.rejected.clone(),
            refusals: self.refusals.clone(),
        }
    }

    /// Rebuilds a hub from `checkpoint` (the arguments are those given to [`Hub::new`], `rng`
    /// from the same seed). No round is open afterwards; if one was open at the checkpoint, the
    /// next [`Hub::open_round`] re-opens it with the same number and must be given the same
    /// spec. Fails on a checkpoint of another version or job, or inconsistent with the job.
    pub fn restore(
        announcement: JobAnnouncement,
        sizes: Vec<usize>,
        verify_key: VerifyKey,
        noise: Noise,
        rng: ChaCha20Rng,
        checkpoint: HubCheckpoint,
    ) -> Result<Hub> {
        if checkpoint.version != HUB_CHECKPOINT_VERSION {
            return Err(input(format!(
                "hub checkpoint of version {}, this hub reads version {HUB_CHECKPOINT_VERSION}",
                checkpoint.version
            )));
        }
        let mut hub = Hub::new(announcement, sizes, verify_key, noise, rng)?;
        if checkpoint.job_id != hub.announcement.job_id {
            return Err(input(format!(
                "hub checkpoint of job {}, not {}",
                checkpoint.job_id, hub.announcement.job_id
            )));
        }
        let members: BTreeMap<SiteId, Membership> =
            checkpoint.members.into_iter().map(|m| (m.site, m.membership)).collect();
        if !members.keys().eq(hub.members.keys()) {
            return Err(input("the hub checkpoint's sites are not the job's sites"));
        }
        if checkpoint.next_round == 0 {
            return Err(input("the hub checkpoint's next round is 0"));
        }
        let next_round = match &checkpoint.open {
            Some(request) => {
                if request.job_id != hub.announcement.job_id
                    || request.round.0.checked_add(1) != Some(checkpoint.next_round)
                {
                    return Err(input(format!(
                        "the hub checkpoint's open round {} does not precede its next round {}",
                        request.round, checkpoint.next_round
                    )));
                }
                request.round.0
            }
            None => checkpoint.next_round,
        };
        hub.members = members;
        hub.next_round = next_round;
        hub.pending = checkpoint.open;
        hub.ended = checkpoint.ended;
        hub.rejected = checkpoint.rejected;
        hub.refusals = checkpoint.refusals;
        Ok(hub)
    }
}
