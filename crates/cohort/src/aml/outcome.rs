//! Treatment and outcome: induction intensity, response to induction, relapse, allogeneic HSCT
//! as a time-dependent event, death, and administrative censoring.
//!
//! The course is simulated in continuous time (days from diagnosis) as a multi-state process:
//! induction ends at the response assessment (or early death); a patient in CR relapses after a
//! Weibull time unless cured (a cure fraction by ELN 2022 × age × TP53) or dies in CR of
//! non-relapse mortality; a planned HSCT happens only if the patient is alive (and, in CR1,
//! relapse-free) on its date, and changes the hazards from that date on; relapsed and
//! refractory patients die after a Weibull time unless a salvage HSCT cures them. Every
//! parameter is listed in `docs/simulator-aml.md`.

use super::eln::Risk;
use super::{bernoulli, logistic};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Gamma, Weibull};

/// Response to induction, as in the registry (`RESPONSE TO INDUCTION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Response {
    Cr,
    Pr,
    Rd,
    Ed,
}

impl Response {
    pub fn label(self) -> &'static str {
        match self {
            Response::Cr => "CR",
            Response::Pr => "PR",
            Response::Rd => "RD",
            Response::Ed => "ED",
        }
    }
}

/// The event that ends event-free survival (`EFS EVENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EfsEvent {
    DeathInInduction,
    Refractory,
    Partial,
    Relapse,
    DeathInCr,
}

impl EfsEvent {
    pub fn label(self) -> &'static str {
        match self {
            EfsEvent::DeathInInduction => "Death in Induction",
            EfsEvent::Refractory => "RD after Ind1",
            EfsEvent::Partial => "PR after Ind1",
            EfsEvent::Relapse => "Relapse",
            EfsEvent::DeathInCr => "Death in CR",
        }
    }
}

/// What the course depends on.
pub(crate) struct Patient {
    pub age: f64,
    pub ecog: u8,
    pub secondary_or_therapy: bool,
    pub tp53: bool,
    pub eln2022: Risk,
}

/// Site-level treatment shifts (log-odds), 0 at heterogeneity 0.
pub(crate) struct Care {
    pub intensity: f64,
    pub hsct: f64,
    /// Potential follow-up after the minimum: the accrual period in days.
    pub accrual_days: f64,
}

/// The observed course of one patient, in whole days from diagnosis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub intensive: bool,
    pub response: Response,
    pub time_to_cr: Option<i64>,
    pub time_to_hsct: Option<i64>,
    pub os_days: i64,
    pub os_status: bool,
    pub efs_days: i64,
    pub efs_status: bool,
    pub efs_event: Option<EfsEvent>,
}

/// Minimum potential follow-up (days): every patient was diagnosed at least this long before
/// the data cut-off, so induction outcomes are always observed.
pub(crate) const MIN_FOLLOW_UP: f64 = 180.0;

/// Base log-odds of CR after intensive induction by ELN 2022 (favourable, intermediate,
/// adverse), at age 56, ECOG < 2, de novo.
const CR_LOGIT: [f64; 3] = [1.35, 0.9, 0.35];
/// Log-odds of cure (no relapse) once in CR1 without HSCT, by ELN 2022, at age 56.
const CURE_LOGIT: [f64; 3] = [0.65, -1.15, -1.8];
/// Weibull scale (days) of time from CR to relapse, by ELN 2022; shape [`RELAPSE_SHAPE`].
const RELAPSE_SCALE: [f64; 3] = [960.0, 720.0, 540.0];
const RELAPSE_SHAPE: f64 = 1.5;
/// Log-odds of HSCT in CR1, by ELN 2022, at age 56 with intensive induction.
const HSCT_CR1_LOGIT: [f64; 3] = [-2.2, 0.3, 0.7];
/// Log-odds gain of cure from an allogeneic HSCT in CR1.
const HSCT_CURE_GAIN: f64 = 1.5;

/// Draws the whole course of a patient and censors it at the follow-up end.
pub(crate) fn simulate_course(rng: &mut impl Rng, p: &Patient, care: &Care) -> Outcome {
    let a = (p.age - 56.0) / 10.0;
    let old = (p.age - 60.0).max(0.0) / 10.0;
    let poor_ps = p.ecog >= 2;
    let risk = p.eln2022.index();

    // Induction intensity: by age beyond 60, performance status and the site's practice.
    let intensive_logit = 3.4 - 1.6 * old - 0.9 * f64::from(p.ecog.saturating_sub(1)) + care.intensity;
    let intensive = bernoulli(rng, logistic(intensive_logit));

    // Early death, then CR / PR / RD.
    let ed_logit = -3.5 + 0.5 * a + if poor_ps { 0.9 } else { 0.0 } + if intensive { 0.0 } else { 0.6 };
    let response = if bernoulli(rng, logistic(ed_logit)) {
        Response::Ed
    } else {
        let cr_logit = CR_LOGIT[risk]
            - 0.25 * a
            - if poor_ps { 0.4 } else { 0.0 }
            - if p.secondary_or_therapy { 0.35 } else { 0.0 }
            - if p.tp53 { 0.8 } else { 0.0 }
            - if intensive { 0.0 } else { 1.3 };
        if bernoulli(rng, logistic(cr_logit)) {
            Response::Cr
        } else if bernoulli(rng, 0.25) {
            Response::Pr
        } else {
            Response::Rd
        }
    };

    let gamma = |rng: &mut _, shape: f64, scale: f64| -> f64 {
        Gamma::new(shape, scale).map_or(shape * scale, |d| d.sample(rng))
    };
    let weibull =
        |rng: &mut _, scale: f64, shape: f64| -> f64 { Weibull::new(scale, shape).map_or(scale, |d| d.sample(rng)) };
    // Background (non-relapse) mortality of a patient out of induction, per day.
    let background_rate = 0.018 / 365.25 * (0.6 * a).exp();
    let background = |rng: &mut _| -> f64 { exponential(rng, background_rate) };

    let mut time_to_cr = None;
    let mut hsct = None;
    let death;
    let efs;
    match response {
        Response::Ed => {
            // Death during induction, within 60 days, earlier rather than later.
            let u: f64 = rng.random();
            death = 1.0 + 59.0 * u.powf(1.4);
            efs = (death, EfsEvent::DeathInInduction);
        }
        Response::Pr | Response::Rd => {
            let assessed = 21.0 + gamma(rng, 2.0, 9.0).min(99.0);
            let event = if response == Response::Pr {
                EfsEvent::Partial
            } else {
                EfsEvent::Refractory
            };
            efs = (assessed, event);
            let die = assessed + weibull(rng, 250.0 * (-0.1 * a).exp() * if p.tp53 { 0.6 } else { 1.0 }, 1.1);
            let salvage_logit =
                -0.4 - 0.6 * a + care.hsct - if intensive { 0.0 } else { 1.5 } - if p.tp53 { 1.0 } else { 0.0 };
            death = salvage(rng, assessed, die, salvage_logit, 0.28, &background, &mut hsct, weibull);
        }
        Response::Cr => {
            let cr = 21.0 + gamma(rng, 2.0, 9.0).min(99.0);
            time_to_cr = Some(cr);
            let tp53 = if p.tp53 { 1.0 } else { 0.0 };
            let cure_logit = CURE_LOGIT[risk] - 0.1 * a - 2.5 * tp53 - if intensive { 0.0 } else { 1.0 };
            let relapse_scale = RELAPSE_SCALE[risk] * if p.tp53 { 0.5 } else { 1.0 };
            let relapse_after = |rng: &mut _, start: f64, cure_logit: f64| -> f64 {
                if bernoulli(rng, logistic(cure_logit)) {
                    f64::INFINITY
                } else {
                    start + 1.0 + weibull(rng, relapse_scale, RELAPSE_SHAPE)
                }
            };
            let mut relapse = relapse_after(rng, cr, cure_logit);
            let mut death_in_cr = cr + 1.0 + background(rng);
            // HSCT in CR1: planned after consolidation, happens only if alive and in CR then.
            let hsct_logit = HSCT_CR1_LOGIT[risk] - 0.35 * a - 1.2 * (p.age - 70.0).max(0.0) / 5.0 + care.hsct
                - if intensive { 0.0 } else { 1.8 };
            if bernoulli(rng, logistic(hsct_logit)) {
                let planned = cr + 50.0 + gamma(rng, 3.0, 25.0);
                if planned < relapse.min(death_in_cr) {
                    hsct = Some(planned);
                    relapse = relapse_after(rng, planned, cure_logit + HSCT_CURE_GAIN);
                    // Transplant-related mortality, front-loaded, rising with age.
                    if bernoulli(rng, logistic(-2.1 + 0.35 * a)) {
                        death_in_cr = death_in_cr.min(planned + 1.0 + gamma(rng, 1.5, 80.0));
                    }
                }
            }
            if death_in_cr < relapse {
                death = death_in_cr;
                efs = (death_in_cr, EfsEvent::DeathInCr);
            } else {
                efs = (relapse, EfsEvent::Relapse);
                // Death after relapse, or earlier from the competing background mortality.
                let die = (relapse + weibull(rng, 150.0 * (-0.1 * a).exp() * if p.tp53 { 0.6 } else { 1.0 }, 1.1))
                    .min(death_in_cr);
                let salvage_logit = if hsct.is_some() {
                    f64::NEG_INFINITY
                } else {
                    -0.6 - 0.6 * a + care.hsct - if intensive { 0.0 } else { 1.5 } - 1.5 * tp53
                };
                death = salvage(rng, relapse, die, salvage_logit, 0.35, &background, &mut hsct, weibull);
            }
        }
    }

    // Administrative censoring at the data cut-off.
    let follow_up = MIN_FOLLOW_UP + care.accrual_days * rng.random::<f64>();
    let day = |t: f64| (t.ceil() as i64).max(1);
    let os_status = death <= follow_up;
    let os = if os_status { death } else { follow_up };
    let efs_status = efs.0 <= follow_up;
    let efs_days = if efs_status { efs.0 } else { follow_up };
    let hsct = hsct.filter(|&t| t <= follow_up);
    Outcome {
        intensive,
        response,
        time_to_cr: time_to_cr.map(day),
        time_to_hsct: hsct.map(day),
        os_days: day(os),
        os_status,
        efs_days: day(efs_days),
        efs_status,
        efs_event: efs_status.then_some(efs.1),
    }
}

/// A salvage HSCT after refractory disease or relapse at `start`: with probability
/// `logistic(logit)` it is planned, happens if the patient is still alive on its date, and
/// cures with probability `cure` (death then comes from background mortality only). Returns
/// the time of death; records the HSCT time in `hsct`.
#[allow(clippy::too_many_arguments)]
fn salvage<R: Rng>(
    rng: &mut R,
    start: f64,
    death: f64,
    logit: f64,
    cure: f64,
    background: &impl Fn(&mut R) -> f64,
    hsct: &mut Option<f64>,
    weibull: impl Fn(&mut R, f64, f64) -> f64,
) -> f64 {
    if !bernoulli(rng, logistic(logit)) {
        return death;
    }
    let planned = start + 45.0 + Gamma::new(2.0, 25.0).map_or(50.0, |d| d.sample(rng));
    if planned >= death {
        return death;
    }
    *hsct = Some(planned);
    if bernoulli(rng, cure) {
        planned + 1.0 + background(rng)
    } else {
        planned + 1.0 + weibull(rng, 180.0, 1.1)
    }
}

/// An exponential waiting time with `rate` per day.
fn exponential(rng: &mut impl Rng, rate: f64) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln() / rate
}
