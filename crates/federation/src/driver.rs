//! The seam between the synthesizer's oracle and whatever carries a round's messages: the
//! in-process [`Simulation`](crate::Simulation) here, the networked driver of the `server` crate
//! over mutual TLS. Both drive the same sans-I/O [`Hub`](crate::Hub); the
//! [`FederatedOracle`](crate::FederatedOracle) only needs to run one round at a time.

use crate::Result;
use crate::hub::{RoundRelease, RoundSpec};
use crate::msg::JobAnnouncement;
use crate::noise::Noise;

/// Runs the rounds of one job, one at a time, to their end.
pub trait RoundDriver {
    /// The job being run (its sites, minimum number of sites and ρ per site).
    fn announcement(&self) -> &JobAnnouncement;

    /// The public sizes of the job's attributes (before any merging).
    fn sizes(&self) -> &[usize];

    /// Whether the aggregators add noise ([`Noise::DisabledForTests`] only in tests).
    fn noise(&self) -> Noise;

    /// Runs one round to its end: a release, or [`FederationError::RoundFailed`] (too few sites,
    /// the helper refused or timed out, the job ended) or another error of the protocol.
    ///
    /// [`FederationError::RoundFailed`]: crate::FederationError::RoundFailed
    fn run(&mut self, spec: RoundSpec) -> Result<RoundRelease>;
}

impl RoundDriver for crate::Simulation {
    fn announcement(&self) -> &JobAnnouncement {
        self.hub().announcement()
    }

    fn sizes(&self) -> &[usize] {
        self.hub().sizes()
    }

    fn noise(&self) -> Noise {
        self.hub().noise()
    }

    fn run(&mut self, spec: RoundSpec) -> Result<RoundRelease> {
        crate::Simulation::run(self, spec)
    }
}
