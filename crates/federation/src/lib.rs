//! `federation`: federated DP synthesis over secure aggregation, sans-I/O.
//!
//! Parties (ARCHITECTURE.md §4): the **hub** ([`Hub`], also the secagg *leader* aggregator), one
//! **helper** aggregator ([`HelperNode`], a computing centre) and the **sites** ([`SiteNode`],
//! hospitals). Each is a pure state machine: messages in (the versioned wire types of [`msg`]),
//! messages out; no sockets, no clock, no files, randomness injected. The `server` crate drives
//! them over mutual TLS; [`Simulation`] drives them in one process with scripted faults and a
//! mock clock. Both implement [`RoundDriver`], the one seam the [`FederatedOracle`] needs. The hub
//! and the helper persist through [`HubCheckpoint`] and [`HelperCheckpoint`]: a restarted hub
//! re-opens its unfinished round identically, sites charge nothing twice and the helper releases
//! at most one noisy share per (job, round) (argument in [`hub`] and [`aggregator`]).
//!
//! The [`FederatedOracle`] implements `synth::oracle::MeasurementOracle`, so `synth::mst::mst`
//! and `synth::aim::aim` run unchanged over the federation:
//!
//! - *measure*: every site counts the marginal on its own records and secret-shares the count
//!   vector (Prio3 proof that cells are in range and sum to at most its declared record count);
//!   the aggregators sum the valid shares and **each** adds discrete Gaussian noise meeting the
//!   request's ρ on its own; the hub unshards. Central semantics on the union of the data, with
//!   variance 2σ² instead of σ² (the cost of trusting neither aggregator with the exact sum).
//! - *select*: the union's exact scores cannot be revealed, so one of the sound variants of
//!   [`Selection`]: secure sum of the sites' quantised local scores with aggregator noise, by
//!   default minus each candidate's between-site heterogeneity floor estimated from earlier
//!   releases (post-processing); the candidates' marginals measured together then scored; or
//!   one exponential-mechanism vote per site, secure-summed. Each charges ε²/8 at every site.
//!
//! Architecture invariant: *a site sends nothing derived from its data except secret shares
//! (and its declared record count).* Every site recomputes the ρ of every request from the
//! request's σ² and refuses what its policy or its ledger does not allow: it never trusts the
//! hub's accounting. The privacy claims are written next to the code and in `docs/federation.md`.

pub mod aggregator;
pub mod driver;
pub mod hub;
pub mod ledger;
pub mod msg;
pub mod noise;
pub mod oracle;
mod query;
pub mod simulation;
pub mod site;

pub use aggregator::{HELPER_CHECKPOINT_VERSION, HelperCheckpoint, HelperNode, HelperNodeInput};
pub use driver::RoundDriver;
pub use hub::{
    HUB_CHECKPOINT_VERSION, Hub, HubCheckpoint, HubInput, HubOutput, RejectedUpload, RoundRelease, RoundSpec,
};
pub use ledger::{InMemoryLedger, PrivacyLedger, Reservation};
pub use msg::{JobId, Method, Purpose, RefusalReason, Round, SiteId};
pub use noise::{Noise, aggregator_sigma2, rho_of_request};
pub use oracle::{FederatedOracle, Selection};
pub use simulation::{AggregatorFault, Deadlines, Fault, RestartStep, SimEvent, Simulation, SimulationConfig, Step};
pub use site::{SiteNode, SiteOutput, SitePolicy};

/// Every error of the `federation` crate.
///
/// A *refusal* by a site and a *rejected report* are protocol outcomes, not errors: they travel
/// as messages and are recorded. Errors are for misuse, malformed wire bytes and protocol
/// violations between parties, and for a round or a job that cannot complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// Wire bytes that do not decode to a message of this version.
    #[error("malformed wire message: {reason}")]
    Wire {
        /// What is wrong (serde's message, with line and column).
        reason: String,
    },
    /// A wire message of another format version.
    #[error("wire message of version {found}, this node speaks version {expected}")]
    Version {
        /// The version in the message.
        found: u64,
        /// [`msg::WIRE_VERSION`].
        expected: u32,
    },
    /// A secure-aggregation failure (parameters, sharing, protocol between the aggregators).
    #[error(transparent)]
    Secagg(#[from] secagg::SecaggError),
    /// A privacy-parameter or sampler failure.
    #[error(transparent)]
    Privacy(#[from] dp::Error),
    /// Counting a marginal on a site's table failed.
    #[error(transparent)]
    Table(#[from] table::Error),
    /// A reservation would take a dataset's ledger past its policy's limit; nothing was reserved.
    #[error("privacy ledger of dataset {dataset}: rho {requested} requested, {remaining} remaining of {limit}")]
    BudgetExceeded {
        /// The dataset.
        dataset: String,
        /// ρ asked for.
        requested: f64,
        /// ρ still available (limit − committed − reserved).
        remaining: f64,
        /// The policy's limit.
        limit: f64,
    },
    /// A reservation that the ledger does not hold (already committed or released).
    #[error("privacy ledger: reservation {id} is not outstanding")]
    UnknownReservation {
        /// The reservation's id.
        id: u64,
    },
    /// The privacy ledger's storage failed (a durable ledger's database error, ...). Nothing is
    /// assumed reserved or committed by the failed operation; the caller refuses the request.
    #[error("privacy ledger storage: {reason}")]
    Ledger {
        /// What failed.
        reason: String,
    },
    /// A round ended without a release.
    #[error("round {round} failed: {reason}")]
    RoundFailed {
        /// The round.
        round: u32,
        /// Why (too few sites, the helper refused, ...).
        reason: String,
    },
    /// A party broke the protocol or a message arrived where it makes no sense.
    #[error("protocol violation: {reason}")]
    Protocol {
        /// What happened.
        reason: String,
    },
    /// Invalid arguments from the caller (an attribute out of range, an empty query, ...).
    #[error("invalid input: {reason}")]
    Input {
        /// The rule broken.
        reason: String,
    },
}

/// Result type of this crate.
pub type Result<T, E = FederationError> = std::result::Result<T, E>;

pub(crate) fn protocol(reason: impl Into<String>) -> FederationError {
    FederationError::Protocol { reason: reason.into() }
}

pub(crate) fn input(reason: impl Into<String>) -> FederationError {
    FederationError::Input { reason: reason.into() }
}
