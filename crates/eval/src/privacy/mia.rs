//! Membership inference by distance: the attacker holds a target record and the synthetic
//! release and guesses "member" when the release has a record close to the target
//! (score = −DCR of the target to the release).
//!
//! Members are train records, non-members holdout records, equally many of each, so an AUC of
//! 0.5 means the release tells the attacker nothing about membership.

use super::distance::{GowerSpace, share};
use super::roc::{auc, tpr_at_fpr};
use super::{PrivacyOptions, holdout, require_rows, rng_for, sample_indices, subset};
use crate::align::Aligned;
use crate::{Error, Result};

/// Result of the distance-based membership-inference attack.
#[derive(Debug, Clone)]
pub struct DistanceAttack {
    /// Targets per class (members from train, non-members from holdout).
    pub targets_per_class: usize,
    /// Synthetic rows searched / available.
    pub synthetic_rows: usize,
    pub synthetic_total: usize,
    pub seed: u64,
    /// AUC of the score −DCR (members positive).
    pub auc: f64,
    /// Interpolated TPR at FPR = 1 % and 10 %.
    pub tpr_at_fpr_1pct: f64,
    pub tpr_at_fpr_10pct: f64,
    /// Share of members and of non-members with an exact copy in the release.
    pub member_exact_match_rate: f64,
    pub non_member_exact_match_rate: f64,
    /// The same attack restricted to the most isolated targets.
    pub rare: RareTargets,
}

/// The attack on "rare" targets: the `fraction` of all targets (members and non-members
/// pooled) with the largest distance to their nearest other target, i.e. the records in the
/// sparsest regions of the real data, whose presence a release betrays most easily.
#[derive(Debug, Clone)]
pub struct RareTargets {
    pub fraction: f64,
    /// Distance to the nearest other target above which (inclusive) a target is rare.
    pub isolation_threshold: f64,
    pub members: usize,
    pub non_members: usize,
    /// `None` when one class has no rare target.
    pub auc: Option<f64>,
    pub tpr_at_fpr_1pct: Option<f64>,
    pub tpr_at_fpr_10pct: Option<f64>,
}

impl DistanceAttack {
    /// JSON with the field names of this struct as keys (`rare` nested, its `None`s as null).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "targets_per_class": self.targets_per_class,
            "synthetic_rows": self.synthetic_rows,
            "synthetic_total": self.synthetic_total,
            "seed": self.seed,
            "auc": self.auc,
            "tpr_at_fpr_1pct": self.tpr_at_fpr_1pct,
            "tpr_at_fpr_10pct": self.tpr_at_fpr_10pct,
            "member_exact_match_rate": self.member_exact_match_rate,
            "non_member_exact_match_rate": self.non_member_exact_match_rate,
            "rare": {
                "fraction": self.rare.fraction,
                "isolation_threshold": self.rare.isolation_threshold,
                "members": self.rare.members,
                "non_members": self.rare.non_members,
                "auc": self.rare.auc,
                "tpr_at_fpr_1pct": self.rare.tpr_at_fpr_1pct,
                "tpr_at_fpr_10pct": self.rare.tpr_at_fpr_10pct,
            },
        })
    }
}

/// Runs the distance attack on `aligned` (`real` = training data, `holdout` required).
pub fn distance_attack(aligned: &Aligned, options: &PrivacyOptions) -> Result<DistanceAttack> {
    let holdout = holdout(aligned, "the membership-inference attack")?;
    require_rows(&aligned.synthetic, 1, "synthetic table")?;
    require_rows(&aligned.real, 1, "training table")?;
    require_rows(holdout, 1, "holdout")?;
    options.check()?;
    let space = GowerSpace::all(&aligned.dictionary)?;
    let mut rng = rng_for(options.seed, 2);
    let m = aligned.real.n_rows().min(holdout.n_rows()).min(options.max_targets);
    let member_rows = sample_indices(aligned.real.n_rows(), m, &mut rng);
    let non_member_rows = sample_indices(holdout.n_rows(), m, &mut rng);
    let syn_rows = sample_indices(aligned.synthetic.n_rows(), options.max_reference_rows, &mut rng);

    // Targets pooled: members first, then non-members.
    let mut targets = subset(&aligned.real, &member_rows)?;
    targets
        .append(&subset(holdout, &non_member_rows)?)
        .map_err(|e| Error::Input(format!("pooling targets: {e}")))?;
    let targets = space.encode(&targets)?;
    let syn = space.encode(&subset(&aligned.synthetic, &syn_rows)?)?;
    let dcr = space.neighbours(&targets, &syn, 1, false).nearest();
    let score: Vec<f64> = dcr.iter().map(|d| -d).collect();
    let (members, non_members) = score.split_at(m);

    // Isolation: distance to the nearest other target.
    let isolation = space.neighbours(&targets, &targets, 1, true).nearest();
    let n_rare = ((options.rare_fraction * (2 * m) as f64).ceil() as usize).clamp(1, 2 * m);
    let mut order: Vec<usize> = (0..2 * m).collect();
    order.sort_by(|&a, &b| isolation[b].total_cmp(&isolation[a]).then(a.cmp(&b)));
    let rare = &order[..n_rare];
    let rare_members: Vec<f64> = rare.iter().filter(|&&i| i < m).map(|&i| score[i]).collect();
    let rare_non_members: Vec<f64> = rare.iter().filter(|&&i| i >= m).map(|&i| score[i]).collect();
    let (rare_auc, rare_tpr_1, rare_tpr_10) = if rare_members.is_empty() || rare_non_members.is_empty() {
        (None, None, None)
    } else {
        (
            Some(auc(&rare_members, &rare_non_members)?),
            Some(tpr_at_fpr(&rare_members, &rare_non_members, 0.01)?),
            Some(tpr_at_fpr(&rare_members, &rare_non_members, 0.10)?),
        )
    };

    Ok(DistanceAttack {
        targets_per_class: m,
        synthetic_rows: syn_rows.len(),
        synthetic_total: aligned.synthetic.n_rows(),
        seed: options.seed,
        auc: auc(members, non_members)?,
        tpr_at_fpr_1pct: tpr_at_fpr(members, non_members, 0.01)?,
        tpr_at_fpr_10pct: tpr_at_fpr(members, non_members, 0.10)?,
        member_exact_match_rate: share(dcr[..m].iter().map(|&d| f64::from(u8::from(d == 0.0)))),
        non_member_exact_match_rate: share(dcr[m..].iter().map(|&d| f64::from(u8::from(d == 0.0)))),
        rare: RareTargets {
            fraction: options.rare_fraction,
            isolation_threshold: isolation[order[n_rare - 1]],
            members: rare_members.len(),
            non_members: rare_non_members.len(),
            auc: rare_auc,
            tpr_at_fpr_1pct: rare_tpr_1,
            tpr_at_fpr_10pct: rare_tpr_10,
        },
    })
}
