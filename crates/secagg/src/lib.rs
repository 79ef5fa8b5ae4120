//! Secure aggregation for synthema: sites split integer count vectors into two secret shares
//! with a Prio3 validity proof (`prio` 0.18, `Prio3SumVec`), and two non-colluding aggregators —
//! the **leader** (the hub) and the **helper** (a computing centre) — verify each report
//! together, sum the valid ones and release one aggregate share each, optionally noised. The
//! collector adds the two shares.
//!
//! Everything here is sans-I/O: no sockets, no clock. [`Leader`] and [`Helper`] are state
//! machines (`handle(input) -> Result<Vec<Output>>`) whose outputs the caller carries; the noise
//! is injected through [`NoiseSource`]. See `docs/threat-model.md` for what is proved and what
//! each party learns.
//!
//! Flow for one job: site → [`share`] → one [`ReportShare`] to each aggregator; leader →
//! [`LeaderMessage::Prepare`] → helper → [`HelperMessage::Prepared`] → leader →
//! [`LeaderMessage::Decide`] → helper; at the end [`Leader::finish`] → [`CollectRequest`] →
//! [`Helper::finish`]; collector → [`unshard`].

mod aggregate;
mod codec;
mod error;
mod helper;
mod leader;
mod messages;
mod params;
mod report;
#[cfg(test)]
mod tests;

pub use aggregate::{AggregateShare, NoiseSource, unshard};
pub use error::{Result, SecaggError};
pub use helper::{Helper, HelperInput, HelperOutput};
pub use leader::{Leader, LeaderInput, LeaderOutput};
pub use messages::{CollectRequest, HelperMessage, LeaderMessage, RejectReason, Rejection};
pub use params::{AGGREGATORS, AggregationParams, MAX_BITS, TotalBound};
pub use report::{ReportId, ReportShare, Role, VerifyKey, share};
