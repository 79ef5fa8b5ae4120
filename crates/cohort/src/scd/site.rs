//! Site profiles: what differs between hospitals (case mix, care, registry history).

use super::patient::Genotype;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// Genotype mix of US newborn screening, in [`Genotype::ALL`] order (HbSS, HbSC, HbSβ⁰, HbSβ⁺).
const GENOTYPE_MIX: [f64; 4] = [0.65, 0.25, 0.02, 0.08];
/// Share of patients enrolled as children (< 16 years) at a typical site.
const CHILD_SHARE: f64 = 0.45;
/// Share of HbSS/HbSβ⁰ patients who have a brain MRI at a typical site.
const MRI_RATE: f64 = 0.5;
/// Yearly rate of loss to follow-up at a typical site.
const LOSS_RATE: f64 = 0.03;
/// Registry opening of a typical site, in years since 1970 (2008-01-01).
const OPENED: f64 = 38.0;

/// The characteristics of one site. At heterogeneity 0 every site has the typical profile.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SiteProfile {
    /// Genotype probabilities in [`Genotype::ALL`] order (they add up to 1).
    pub genotype_mix: [f64; 4],
    /// Probability that a patient is enrolled as a child.
    pub child_share: f64,
    /// Shift of the log-odds of starting hydroxyurea (treatment intensity).
    pub hydroxyurea_shift: f64,
    /// Shift of the log-odds of starting a chronic transfusion programme.
    pub transfusion_shift: f64,
    /// Probability that a patient of a severe genotype has a brain MRI.
    pub mri_rate: f64,
    /// Yearly rate of loss to follow-up.
    pub loss_rate: f64,
    /// Registry opening, in years since 1970-01-01 (enrolment dates start there).
    pub opened: f64,
}

impl SiteProfile {
    /// Draws a site profile. Every draw is made whatever the heterogeneity, so the random stream
    /// advances identically and heterogeneity only scales the deviations.
    pub fn draw(heterogeneity: f64, rng: &mut impl Rng) -> SiteProfile {
        let h = heterogeneity;
        let mut z = || -> f64 { StandardNormal.sample(rng) };
        // European sites see more HbSS (migration from West and Central Africa), others less:
        // a log-weight shift per genotype, strongest for HbSS.
        let spread = [0.6, 0.35, 0.35, 0.35];
        let mut genotype_mix = [0.0; 4];
        for (g, w) in genotype_mix.iter_mut().enumerate() {
            *w = GENOTYPE_MIX[g] * (h * spread[g] * z()).exp();
        }
        let total: f64 = genotype_mix.iter().sum();
        genotype_mix.iter_mut().for_each(|w| *w /= total);
        let child_share = logistic(logit(CHILD_SHARE) + h * 1.5 * z());
        let hydroxyurea_shift = h * 0.8 * z();
        let transfusion_shift = h * 0.5 * z();
        let mri_rate = logistic(logit(MRI_RATE) + h * z());
        let loss_rate = LOSS_RATE * (h * 0.4 * z()).exp();
        let opened = (OPENED + h * 3.0 * z()).clamp(31.0, 50.0);
        SiteProfile {
            genotype_mix,
            child_share,
            hydroxyurea_shift,
            transfusion_shift,
            mri_rate,
            loss_rate,
            opened,
        }
    }

    /// Draws a genotype from the site's mix.
    pub fn genotype(&self, rng: &mut impl Rng) -> Genotype {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        for (g, p) in Genotype::ALL.iter().zip(self.genotype_mix) {
            acc += p;
            if u < acc {
                return *g;
            }
        }
        Genotype::ALL[Genotype::ALL.len() - 1]
    }
}

pub(super) fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

pub(super) fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng_for;

    #[test]
    fn no_heterogeneity_gives_the_typical_site() {
        let mut rng = rng_for(3, 0);
        let a = SiteProfile::draw(0.0, &mut rng);
        let b = SiteProfile::draw(0.0, &mut rng);
        assert_eq!(a, b);
        assert!((a.genotype_mix[0] - 0.65).abs() < 1e-12);
        assert!((a.child_share - CHILD_SHARE).abs() < 1e-12);
    }

    #[test]
    fn heterogeneity_moves_the_mix_and_keeps_it_a_distribution() {
        let mut rng = rng_for(3, 0);
        let sites: Vec<SiteProfile> = (0..20).map(|_| SiteProfile::draw(1.0, &mut rng)).collect();
        for s in &sites {
            assert!((s.genotype_mix.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        let ss: Vec<f64> = sites.iter().map(|s| s.genotype_mix[0]).collect();
        let spread = ss.iter().cloned().fold(f64::MIN, f64::max) - ss.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread > 0.1, "HbSS shares {ss:?}");
    }
}
