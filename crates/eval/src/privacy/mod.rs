//! Residual privacy risk of a synthetic release: empirical attacks and distance measures that
//! compare the synthetic data with the real training data and with a holdout of real records
//! that were *not* used for training (the control).
//!
//! What is here, each with its threat model in `docs/evaluation-privacy.md`:
//!
//! - [`distance`]: the Gower distance on the aligned modelled columns, distance to the closest
//!   record (DCR), nearest-neighbour distance ratio (NNDR) and exact matches, each next to the
//!   same measure for the holdout (the reference a release without leakage would show);
//! - [`mia`]: membership inference with train records as members and holdout records as
//!   non-members: a distance attack (score = −DCR to the release) and a shadow-model attack in
//!   the style of Stadler, Oprisanu and Troncoso (USENIX Security 2022);
//! - [`inference`]: attribute inference of declared sensitive columns by nearest synthetic
//!   neighbours, measured as the success on train targets in excess of the success on holdout
//!   controls;
//! - [`roc`]: the AUC (Mann–Whitney, ties counted half) and the TPR at a fixed FPR.
//!
//! These are empirical checks of one release against a few attacks, not proofs: differential
//! privacy is the guarantee, these numbers only show whether something went badly wrong.
//!
//! Every function is deterministic given its options' seed; row caps are applied by seeded
//! sampling without replacement and what was sampled is reported.

pub mod distance;
pub mod inference;
pub mod mia;
pub mod roc;
mod shadow;

pub use distance::{DistanceReport, GowerSpace, Neighbours, Points, Quantiles};
pub use inference::{AttributeInference, InferenceRisk};
pub use mia::{DistanceAttack, RareTargets};
pub use roc::{auc, tpr_at_fpr};
pub use shadow::{ShadowAttack, ShadowOptions, ShadowTarget, TargetSource, shadow_attack};

use crate::align::Aligned;
use crate::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use table::Table;

/// The attacker's copy of a synthesizer: training table and seed in, synthetic table out.
pub type Synthesizer = dyn Fn(&Table, u64) -> Table;

/// Row caps and seed shared by the privacy measures. Not privacy parameters: they only bound
/// the cost of the checks.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivacyOptions {
    /// Synthetic rows used as queries for DCR/NNDR/exact matches (sampled when there are more).
    pub max_synthetic_rows: usize,
    /// Rows of a table used as the reference of a nearest-neighbour search (train for DCR,
    /// the synthetic release for the attacks), sampled when there are more.
    pub max_reference_rows: usize,
    /// Targets per class (members, non-members) of the distance attack and of attribute
    /// inference; also the holdout rows used as DCR reference queries.
    pub max_targets: usize,
    /// Share of the targets called "rare" in the distance attack (the most isolated ones).
    pub rare_fraction: f64,
    /// Seed of every sampling step.
    pub seed: u64,
}

impl Default for PrivacyOptions {
    /// 2,000 synthetic queries, references up to 50,000 rows, 1,000 targets per class, the
    /// 10 % most isolated targets as "rare", seed 0.
    fn default() -> Self {
        PrivacyOptions {
            max_synthetic_rows: 2_000,
            max_reference_rows: 50_000,
            max_targets: 1_000,
            rare_fraction: 0.1,
            seed: 0,
        }
    }
}

impl PrivacyOptions {
    /// Checks the caps: at least one synthetic query and one target, at least 5 reference rows
    /// (the 5-nearest-neighbour vote), a rare fraction in (0, 1].
    pub fn check(&self) -> Result<()> {
        if self.max_synthetic_rows == 0 || self.max_targets == 0 || self.max_reference_rows < 5 {
            return Err(Error::Input(format!(
                "privacy row caps must allow at least 1 synthetic query, 1 target and 5 reference rows, \
                 got {}, {} and {}",
                self.max_synthetic_rows, self.max_targets, self.max_reference_rows
            )));
        }
        if !(self.rare_fraction > 0.0 && self.rare_fraction <= 1.0) {
            return Err(Error::Input(format!(
                "the rare fraction must be in (0, 1], got {}",
                self.rare_fraction
            )));
        }
        Ok(())
    }
}

/// Everything the privacy section of a report shows.
#[derive(Debug, Clone)]
pub struct PrivacyReport {
    pub distance: DistanceReport,
    pub membership: DistanceAttack,
    /// Present when a shadow synthesizer was given.
    pub shadow: Option<ShadowAttack>,
    /// One entry per declared sensitive column.
    pub attribute_inference: Vec<AttributeInference>,
}

impl PrivacyReport {
    /// JSON with the keys `distance`, `membership_distance`, `membership_shadow` (null when not
    /// run) and `attribute_inference` (an array); see `docs/evaluation-privacy.md`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "distance": self.distance.to_json(),
            "membership_distance": self.membership.to_json(),
            "membership_shadow": self.shadow.as_ref().map(ShadowAttack::to_json),
            "attribute_inference": self.attribute_inference.iter().map(AttributeInference::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Runs every privacy measure on aligned tables (`aligned.real` is the training data,
/// `aligned.holdout` is required). The shadow-model attack runs only when `shadow` gives a
/// synthesizer (see [`shadow_attack`]).
pub fn assess(
    aligned: &Aligned,
    sensitive: &[&str],
    shadow: Option<(&Synthesizer, &ShadowOptions)>,
    options: &PrivacyOptions,
) -> Result<PrivacyReport> {
    Ok(PrivacyReport {
        distance: distance::distance_report(aligned, options)?,
        membership: mia::distance_attack(aligned, options)?,
        shadow: shadow.map(|(synth, o)| shadow_attack(aligned, synth, o)).transpose()?,
        attribute_inference: inference::attribute_inference(aligned, sensitive, options)?,
    })
}

/// The holdout of `aligned`, or an error naming the measure that needs it.
pub(crate) fn holdout<'a>(aligned: &'a Aligned, measure: &str) -> Result<&'a Table> {
    aligned.holdout.as_ref().ok_or_else(|| {
        Error::Input(format!(
            "{measure} needs a holdout of real records not used for training"
        ))
    })
}

/// A seeded generator for one measure; `stream` keeps measures independent of each other.
pub(crate) fn rng_for(seed: u64, stream: u64) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// `cap` row indices out of `n` (all of them, in order, when `n <= cap`; otherwise a seeded
/// sample without replacement, sorted).
pub(crate) fn sample_indices(n: usize, cap: usize, rng: &mut ChaCha20Rng) -> Vec<usize> {
    if n <= cap {
        return (0..n).collect();
    }
    let mut picked = rand::seq::index::sample(rng, n, cap).into_vec();
    picked.sort_unstable();
    picked
}

/// The rows `rows` of `table`, in that order, on the same dictionary.
pub(crate) fn subset(table: &Table, rows: &[usize]) -> Result<Table> {
    let mut out = Table::new(table.dictionary().clone());
    for &r in rows {
        out.push_row(table.row(r))
            .map_err(|e| Error::Input(format!("copying row {r}: {e}")))?;
    }
    Ok(out)
}

/// Checks that a table has at least `min` rows.
pub(crate) fn require_rows(table: &Table, min: usize, what: &str) -> Result<()> {
    if table.n_rows() < min {
        return Err(Error::Input(format!(
            "the {what} has {} rows, at least {min} are needed",
            table.n_rows()
        )));
    }
    Ok(())
}
