//! One simulated patient: enrolment, latent traits, first stroke, treatments, death, events
//! during follow-up and organ damage, turned into a dictionary row.

use super::labs::{Baseline, Donor, Reported, Treatment, round1};
use super::site::{SiteProfile, logistic, logit};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, Poisson, StandardNormal};
use table::{Date, Value};

/// Sickle-cell genotype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Genotype {
    Ss,
    Sc,
    Sbeta0,
    SbetaPlus,
}

impl Genotype {
    /// All genotypes, in the order of every per-genotype parameter table.
    pub const ALL: [Genotype; 4] = [Genotype::Ss, Genotype::Sc, Genotype::Sbeta0, Genotype::SbetaPlus];

    /// Position in [`Genotype::ALL`].
    pub fn index(self) -> usize {
        match self {
            Genotype::Ss => 0,
            Genotype::Sc => 1,
            Genotype::Sbeta0 => 2,
            Genotype::SbetaPlus => 3,
        }
    }

    /// The dictionary level.
    pub fn label(self) -> &'static str {
        match self {
            Genotype::Ss => "HbSS",
            Genotype::Sc => "HbSC",
            Genotype::Sbeta0 => "HbSbeta0",
            Genotype::SbetaPlus => "HbSbeta+",
        }
    }

    /// HbSS and HbSβ⁰: no HbA, the severe phenotype.
    pub fn is_severe(self) -> bool {
        matches!(self, Genotype::Ss | Genotype::Sbeta0)
    }
}

/// What a patient is born with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Constitution {
    pub genotype: Genotype,
    pub male: bool,
    pub alpha_thal: bool,
}

/// Clinical parameters of one genotype (sources in docs/simulator-scd.md).
struct GenotypeParams {
    /// Prevalence of co-inherited alpha-thalassaemia.
    alpha_thal: f64,
    /// Relative VOC rate (HbSS = 1; Platt 1991: SS 0.8, Sβ⁰ 1.0, SC 0.4, Sβ⁺ 0.2 per year).
    voc: f64,
    /// ACS per patient-year in an untreated 10–20-year-old (Castro 1994).
    acs: f64,
    /// First-stroke hazard relative to HbSS (Ohene-Frempong 1998).
    stroke: f64,
    /// Median age at death of men and women (Platt 1994).
    median_death_male: f64,
    median_death_female: f64,
    /// Probability of ever starting hydroxyurea at a typical site.
    hydroxyurea: f64,
    /// Lifetime plateaus of priapism (males), leg ulcer, avascular necrosis, retinopathy.
    priapism: f64,
    leg_ulcer: f64,
    avn: f64,
    retinopathy: f64,
    /// Log-odds of nephropathy at age 0 (rises 0.07 per year of age).
    nephropathy: f64,
}

const GENOTYPE_PARAMS: [GenotypeParams; 4] = [
    GenotypeParams {
        alpha_thal: 0.30,
        voc: 1.0,
        acs: 0.128,
        stroke: 1.0,
        median_death_male: 42.0,
        median_death_female: 48.0,
        hydroxyurea: 0.45,
        priapism: 0.35,
        leg_ulcer: 0.25,
        avn: 0.30,
        retinopathy: 0.12,
        nephropathy: -3.4,
    },
    GenotypeParams {
        alpha_thal: 0.30,
        voc: 0.35,
        acs: 0.052,
        stroke: 0.25,
        median_death_male: 60.0,
        median_death_female: 68.0,
        hydroxyurea: 0.07,
        priapism: 0.15,
        leg_ulcer: 0.03,
        avn: 0.30,
        retinopathy: 0.45,
        nephropathy: -4.2,
    },
    GenotypeParams {
        alpha_thal: 0.15,
        voc: 1.0,
        acs: 0.094,
        stroke: 0.5,
        median_death_male: 42.0,
        median_death_female: 48.0,
        hydroxyurea: 0.45,
        priapism: 0.30,
        leg_ulcer: 0.20,
        avn: 0.30,
        retinopathy: 0.12,
        nephropathy: -3.6,
    },
    GenotypeParams {
        alpha_thal: 0.15,
        voc: 0.2,
        acs: 0.039,
        stroke: 0.15,
        median_death_male: 60.0,
        median_death_female: 68.0,
        hydroxyurea: 0.05,
        priapism: 0.12,
        leg_ulcer: 0.03,
        avn: 0.25,
        retinopathy: 0.25,
        nephropathy: -4.4,
    },
];

impl Genotype {
    fn params(self) -> &'static GenotypeParams {
        &GENOTYPE_PARAMS[self.index()]
    }
}

/// VOC per patient-year of an untreated HbSS patient of average frailty aged 10–20 (calibrated
/// so that the HbSS cohort, with its treatments and age mix, shows ≈ 0.8 per patient-year).
const VOC_RATE_SS: f64 = 1.09;
/// Log-scale spread of the VOC frailty (≈ 5 % of patients have a third of the crises).
const VOC_FRAILTY_SIGMA: f64 = 1.0;
/// Scale of the published ACS rates (they are cohort averages; this makes them so here, after
/// treatment and the age mix).
const ACS_SCALE: f64 = 1.36;
/// Log-scale spread of the ACS frailty and its correlation with the VOC frailty.
const ACS_FRAILTY_SIGMA: f64 = 1.2;
const ACS_VOC_CORRELATION: f64 = 0.5;
/// Rate ratios of hydroxyurea (≈ halves crises and ACS, MSH trial), chronic transfusion and a
/// transplant.
const HU_VOC: f64 = 0.5;
const HU_ACS: f64 = 0.5;
const TRANSFUSION_VOC: f64 = 0.6;
const TRANSFUSION_ACS: f64 = 0.4;
const HSCT_EVENTS: f64 = 0.02;
/// First-stroke hazard of HbSS per patient-year by age band (lower edges; CSSCD).
const STROKE_BANDS: [(f64, f64); 8] = [
    (0.0, 0.0013),
    (2.0, 0.0102),
    (6.0, 0.0079),
    (10.0, 0.0041),
    (20.0, 0.0034),
    (30.0, 0.0050),
    (40.0, 0.0080),
    (50.0, 0.0130),
];
/// Gompertz slope of the death hazard per year of age.
const GOMPERTZ_SLOPE: f64 = 0.055;
/// Overall scale of the death hazard (calibrates the cohort's median ages at death).
const MORTALITY_SCALE: f64 = 1.0;
/// Data cut-off: 2025-06-30, in days since 1970-01-01.
const CUTOFF_DAYS: i32 = 20_269;
const DAYS_PER_YEAR: f64 = 365.25;

fn normal(rng: &mut impl Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn exp1(rng: &mut impl Rng) -> f64 {
    Exp1.sample(rng)
}

/// Probability of a condition by age `age` that starts at `onset` and reaches `plateau` with
/// time constant `scale` years.
fn ramp(plateau: f64, age: f64, onset: f64, scale: f64) -> f64 {
    plateau * (1.0 - (-(age - onset).max(0.0) / scale).exp())
}

/// Gompertz death hazard `b·e^(g·age)` times a piecewise-constant multiplier.
struct Gompertz {
    b: f64,
    g: f64,
}

impl Gompertz {
    /// The hazard whose survival from birth has median `median` years (multiplier 1).
    fn with_median(median: f64) -> Gompertz {
        let g = GOMPERTZ_SLOPE;
        Gompertz {
            b: MORTALITY_SCALE * g * std::f64::consts::LN_2 / ((g * median).exp() - 1.0),
            g,
        }
    }

    fn survival(&self, age: f64) -> f64 {
        (-self.b / self.g * ((self.g * age).exp() - 1.0)).exp()
    }

    /// Age at death of someone alive at `from`, whose hazard multiplier is `multiplier(age)`,
    /// constant between consecutive `breaks`.
    fn death_age(&self, from: f64, breaks: &[f64], multiplier: impl Fn(f64) -> f64, rng: &mut impl Rng) -> f64 {
        let mut budget = exp1(rng);
        let mut start = from;
        for &end in breaks.iter().filter(|&&b| b > from) {
            let m = multiplier(start);
            let h = m * self.b / self.g * ((self.g * end).exp() - (self.g * start).exp());
            if h >= budget {
                return ((self.g * start).exp() + budget * self.g / (m * self.b)).ln() / self.g;
            }
            budget -= h;
            start = end;
        }
        let m = multiplier(start);
        ((self.g * start).exp() + budget * self.g / (m * self.b)).ln() / self.g
    }
}

/// Sorted change points strictly inside `(from, to)`, with `to` last.
fn segments(from: f64, to: f64, points: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = points.iter().copied().filter(|&p| p > from && p < to).collect();
    v.push(to);
    v.sort_by(f64::total_cmp);
    v
}

/// ∫ rate over `[from, to]` for a rate constant between consecutive `points`.
fn integrate(from: f64, to: f64, points: &[f64], rate: impl Fn(f64) -> f64) -> f64 {
    let mut start = from;
    let mut total = 0.0;
    for end in segments(from, to, points) {
        total += rate(0.5 * (start + end)) * (end - start);
        start = end;
    }
    total
}

/// First time in `[from, to)` of an event with hazard `rate`, constant between `points`.
fn first_event(from: f64, to: f64, points: &[f64], rate: impl Fn(f64) -> f64, rng: &mut impl Rng) -> Option<f64> {
    let mut budget = exp1(rng);
    let mut start = from;
    for end in segments(from, to, points) {
        let r = rate(0.5 * (start + end));
        let h = r * (end - start);
        if h >= budget {
            return Some(start + budget / r);
        }
        budget -= h;
        start = end;
    }
    None
}

/// A Poisson count of mean `mean` (0 when the mean is 0).
fn poisson(mean: f64, rng: &mut impl Rng) -> i64 {
    if mean <= 0.0 {
        return 0;
    }
    let d = Poisson::new(mean)
        .unwrap_or_else(|e| panic!("an event mean is finite, positive and far below Poisson's limit: {mean} ({e})"));
    let n: f64 = d.sample(rng);
    n as i64
}

fn uniform(lo: f64, hi: f64, rng: &mut impl Rng) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Ages are reported in tenths of a year; working in integer tenths keeps every ordering rule
/// exact after rounding.
fn tenths(age: f64) -> i64 {
    (age * 10.0).round() as i64
}

/// One simulated patient, as reported at last follow-up.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Patient {
    who: Constitution,
    birth: Date,
    enrolment: Date,
    /// Age at last follow-up or death and follow-up length, in tenths of a year.
    age: i64,
    followup: i64,
    labs: Reported,
    tcd_velocity: Option<f64>,
    voc: i64,
    acs: i64,
    stroke_age: Option<i64>,
    silent_infarct: Option<bool>,
    priapism: Option<bool>,
    leg_ulcer: bool,
    nephropathy: bool,
    avn: bool,
    retinopathy: bool,
    hydroxyurea_start: Option<i64>,
    transfused: bool,
    hsct_age: Option<i64>,
    died: bool,
}

impl Patient {
    /// Simulates one patient of a site.
    pub fn simulate(site: &SiteProfile, rng: &mut impl Rng) -> Patient {
        let male = rng.random_bool(0.5);
        let genotype = site.genotype(rng);
        let p = genotype.params();
        let who = Constitution {
            genotype,
            male,
            alpha_thal: rng.random_bool(p.alpha_thal),
        };
        let severe = genotype.is_severe();
        let gompertz = Gompertz::with_median(if male {
            p.median_death_male
        } else {
            p.median_death_female
        });

        let Enrolment {
            days: enrolment_days,
            age: a0,
            horizon,
        } = Enrolment::draw(site, &gompertz, rng);

        // Latent traits and untreated laboratory values.
        let haemolysis = normal(rng);
        let z_voc = normal(rng);
        let z_acs = ACS_VOC_CORRELATION * z_voc + (1.0 - ACS_VOC_CORRELATION.powi(2)).sqrt() * normal(rng);
        let z_renal = normal(rng);
        let base = Baseline::draw(&who, haemolysis, rng);
        let tcd = 140.0 * (0.26 * normal(rng) - 0.04 * base.hb_excess(genotype)).exp();

        // Treatments decided ahead of the stroke and death draws (their start ages are change
        // points of those hazards).
        let tcd_transfusion =
            (severe && tcd >= 200.0 && rng.random_bool(logistic(logit(0.85) + site.transfusion_shift)))
                .then(|| uniform(2.0, 6.0, rng));
        let hsct = if severe && rng.random_bool(logistic(logit(0.015) + 1.5 * f64::from(tcd >= 200.0) + 0.5 * z_voc)) {
            let (lo, hi) = (a0.max(2.0), horizon.min(25.0));
            (hi - lo > 0.2).then(|| uniform(lo, hi, rng))
        } else {
            None
        };
        let after = |t: Option<f64>, age: f64| t.is_some_and(|t| age >= t);

        // First stroke over the whole life, then truncated at last follow-up.
        let tcd_factor = if tcd >= 200.0 {
            6.0
        } else if tcd >= 170.0 {
            2.0
        } else {
            0.45
        };
        let stroke_rate = |age: f64| {
            let band = STROKE_BANDS
                .iter()
                .rev()
                .find(|(lo, _)| age >= *lo)
                .map_or(0.0, |b| b.1);
            let mut r = band * p.stroke * (0.2 * haemolysis).exp();
            if severe && (2.0..16.0).contains(&age) {
                r *= tcd_factor;
                if after(tcd_transfusion, age) {
                    r *= 0.1;
                }
            }
            if after(hsct, age) {
                r *= 0.05;
            }
            r
        };
        let mut stroke_points: Vec<f64> = STROKE_BANDS.iter().map(|b| b.0).collect();
        stroke_points.extend([2.0, 16.0]);
        stroke_points.extend(tcd_transfusion.iter().chain(hsct.iter()));
        let stroke = first_event(0.0, 110.0, &stroke_points, stroke_rate, rng);

        // Chronic transfusion: after abnormal TCD, after a stroke, or for other indications.
        let after_stroke = stroke
            .filter(|_| severe && rng.random_bool(logistic(logit(0.9) + site.transfusion_shift)))
            .or_else(|| stroke.filter(|_| !severe && rng.random_bool(0.5)));
        let other_odds = if severe { 0.04 } else { 0.01 };
        let other = rng
            .random_bool(logistic(logit(other_odds) + site.transfusion_shift))
            .then(|| uniform(a0, horizon.max(a0 + 0.1), rng));
        let transfusion = [tcd_transfusion, after_stroke, other]
            .into_iter()
            .flatten()
            .min_by(f64::total_cmp);

        // Hydroxyurea, more likely with frequent crises, started before any transplant: 60 % of
        // users are already on it at enrolment, the others start during follow-up.
        let hydroxyurea = if rng.random_bool(logistic(logit(p.hydroxyurea) + 0.25 * z_voc + site.hydroxyurea_shift)) {
            let lo = (a0 - 10.0).max(0.75);
            let (lo, hi) = if lo < a0 && rng.random_bool(0.6) {
                (lo, a0)
            } else {
                (lo.max(a0), horizon)
            };
            (hi > lo)
                .then(|| uniform(lo, hi, rng))
                .filter(|&t| hsct.is_none_or(|h| t < h))
        } else {
            None
        };

        // Death, conditional on being alive at enrolment.
        let base_multiplier =
            (0.35 * z_acs + 0.5 * f64::from(base.wbc > 15.0) - 0.04 * base.hbf_excess(genotype) + 0.25 * z_renal).exp();
        let death_multiplier = |age: f64| {
            let mut m = base_multiplier;
            if after(hydroxyurea, age) {
                m *= 0.6;
            }
            if after(stroke, age) {
                m *= 2.0;
            }
            if after(hsct, age) {
                m *= 0.5;
            }
            m
        };
        let mut death_points: Vec<f64> = [hydroxyurea, stroke, hsct].into_iter().flatten().collect();
        death_points.sort_by(f64::total_cmp);
        let death = gompertz.death_age(a0, &death_points, death_multiplier, rng);
        let exit = death.min(horizon);
        let died = death <= horizon;

        // Reported ages in tenths; events after last follow-up are not observed.
        let age = tenths(exit);
        let followup = tenths(exit - a0).min(age);
        let enrol_tenths = age - followup;
        let hsct = hsct.filter(|&h| h <= exit && followup >= 1);
        let hsct_age = hsct.map(|h| tenths(h).clamp(enrol_tenths + 1, age));
        let stroke_age = stroke.filter(|&s| s <= exit).map(|s| tenths(s).min(age));
        let hydroxyurea = hydroxyurea.filter(|&t| t <= exit);
        let hydroxyurea_start = hydroxyurea.map(|t| tenths(t).min(age));
        let transfusion = transfusion.filter(|&t| t <= exit);
        let transfused = transfusion.is_some() && hsct.is_none();

        // Events during follow-up.
        let voc_frailty = (VOC_FRAILTY_SIGMA * z_voc - 0.5 * VOC_FRAILTY_SIGMA.powi(2)).exp();
        let acs_frailty = (ACS_FRAILTY_SIGMA * z_acs - 0.5 * ACS_FRAILTY_SIGMA.powi(2)).exp();
        let lab_factor = (0.15 * base.hb_excess(genotype) - 0.04 * base.hbf_excess(genotype)).exp();
        let treated = |age: f64, hu: f64, transf: f64| {
            let mut r = 1.0;
            if after(hydroxyurea, age) {
                r *= hu;
            }
            if after(transfusion, age) {
                r *= transf;
            }
            if after(hsct, age) {
                r *= HSCT_EVENTS;
            }
            r
        };
        let mut event_points: Vec<f64> = vec![5.0, 10.0, 20.0, 40.0];
        event_points.extend([hydroxyurea, transfusion, hsct].into_iter().flatten());
        let voc_mean = integrate(a0, exit, &event_points, |age| {
            VOC_RATE_SS * p.voc * voc_frailty * lab_factor * voc_age(age) * treated(age, HU_VOC, TRANSFUSION_VOC)
        });
        let acs_mean = integrate(a0, exit, &event_points, |age| {
            ACS_SCALE
                * p.acs
                * acs_frailty
                * (-0.03 * base.hbf_excess(genotype)).exp()
                * acs_age(age)
                * treated(age, HU_ACS, TRANSFUSION_ACS)
        });
        let voc = poisson(voc_mean, rng);
        let acs = poisson(acs_mean, rng);

        // Organ damage by last follow-up.
        let haem = haemolysis.exp();
        let priapism = male.then(|| rng.random_bool((ramp(p.priapism, exit, 6.0, 12.0) * haem.powf(0.3)).min(0.95)));
        let leg_ulcer = rng.random_bool((ramp(p.leg_ulcer, exit, 12.0, 25.0) * haem.powf(0.5)).min(0.95));
        let alpha_avn = if who.alpha_thal { 1.3 } else { 1.0 };
        let avn_p = ramp(p.avn, exit, 5.0, 30.0) * alpha_avn * (0.15 * base.hb_excess(genotype)).exp();
        let avn = rng.random_bool(avn_p.min(0.95));
        let retinopathy = rng.random_bool(ramp(p.retinopathy, exit, 10.0, 25.0));
        let nephropathy = rng.random_bool(logistic(p.nephropathy + 0.07 * exit + 0.8 * z_renal + 0.3 * haemolysis));
        let mri = stroke_age.is_some() || rng.random_bool(if severe { site.mri_rate } else { 0.2 * site.mri_rate });
        let silent_infarct = mri.then(|| {
            let tcd_raised = if severe && tcd >= 170.0 { 0.7 } else { 0.0 };
            let milder = if severe { 0.0 } else { -1.2 };
            rng.random_bool(logistic(-2.5 + 0.035 * exit + tcd_raised + milder + 0.3 * haemolysis))
        });

        // Transcranial Doppler: recorded for severe genotypes followed between ages 2 and 16.
        let tcd_velocity = (severe && enrol_tenths <= 159 && age >= 20).then(|| round1(tcd.clamp(40.0, 350.0)));

        let treatment = Treatment {
            on_hydroxyurea: hydroxyurea.is_some() && hsct.is_none(),
            transfusion_years: transfusion.filter(|_| transfused).map(|t| exit - t),
            donor: hsct.map(|_| {
                if rng.random_bool(0.3) {
                    Donor::Trait
                } else {
                    Donor::Normal
                }
            }),
        };
        let labs = Reported::at_last_followup(&who, exit, nephropathy, &base, treatment, rng);
        let birth_days = enrolment_days - (a0 * DAYS_PER_YEAR).round() as i32;
        Patient {
            who,
            birth: Date::from_days(birth_days),
            enrolment: Date::from_days(enrolment_days),
            age,
            followup,
            labs,
            tcd_velocity,
            voc,
            acs,
            stroke_age,
            silent_infarct,
            priapism,
            leg_ulcer,
            nephropathy,
            avn,
            retinopathy,
            hydroxyurea_start,
            transfused,
            hsct_age,
            died,
        }
    }

    /// The patient as a row in dictionary column order; `site` and `index` (0-based) make the
    /// identifier.
    pub fn into_row(self, site: usize, index: usize) -> Vec<Value> {
        let years = |t: i64| Value::Real(t as f64 / 10.0);
        let opt_years = |t: Option<i64>| t.map_or(Value::Missing, years);
        let opt_bool = |b: Option<bool>| b.map_or(Value::Missing, Value::Bool);
        let l = self.labs;
        vec![
            Value::Text(format!("S{:02}-{:06}", site + 1, index + 1)),
            Value::Text(if self.who.male { "M" } else { "F" }.into()),
            Value::Date(self.birth),
            Value::Date(self.enrolment),
            years(self.age),
            years(self.followup),
            Value::Text(self.who.genotype.label().into()),
            Value::Bool(self.who.alpha_thal),
            Value::Real(l.hb),
            Value::Real(l.hbf),
            Value::Real(l.hbs),
            Value::Real(l.hba),
            Value::Real(l.hba2),
            Value::Real(l.hbc),
            Value::Real(l.mcv),
            Value::Real(l.retic),
            Value::Int(l.ldh),
            Value::Real(l.wbc),
            Value::Int(l.plt),
            Value::Int(l.ferritin),
            Value::Int(l.creatinine),
            self.tcd_velocity.map_or(Value::Missing, Value::Real),
            Value::Int(self.voc),
            Value::Int(self.acs),
            Value::Bool(self.stroke_age.is_some()),
            opt_years(self.stroke_age),
            opt_bool(self.silent_infarct),
            opt_bool(self.priapism),
            Value::Bool(self.leg_ulcer),
            Value::Bool(self.nephropathy),
            Value::Bool(self.avn),
            Value::Bool(self.retinopathy),
            Value::Bool(self.hydroxyurea_start.is_some()),
            opt_years(self.hydroxyurea_start),
            Value::Bool(self.transfused),
            Value::Bool(self.hsct_age.is_some()),
            opt_years(self.hsct_age),
            Value::Bool(self.died),
        ]
    }
}

/// When and at what age a patient enters the registry, and how long they could be followed.
struct Enrolment {
    /// Enrolment date, days since 1970-01-01.
    days: i32,
    /// Age at enrolment, years.
    age: f64,
    /// Age at which follow-up ends if the patient is alive: the data cut-off or loss to
    /// follow-up, whichever comes first.
    horizon: f64,
}

impl Enrolment {
    /// Enrolment date uniform from the site's opening to three months before the cut-off; age
    /// at enrolment from the site's age mix, kept with the probability of surviving to it (only
    /// survivors enrol).
    fn draw(site: &SiteProfile, gompertz: &Gompertz, rng: &mut impl Rng) -> Enrolment {
        let cutoff = f64::from(CUTOFF_DAYS) / DAYS_PER_YEAR;
        let enrolled = uniform(site.opened, cutoff - 0.25, rng);
        let days = (enrolled * DAYS_PER_YEAR).round() as i32;
        let administrative = f64::from(CUTOFF_DAYS - days) / DAYS_PER_YEAR;
        let mut age = enrolment_age(site, rng);
        for _ in 0..100 {
            if rng.random::<f64>() < gompertz.survival(age) {
                break;
            }
            age = enrolment_age(site, rng);
        }
        let lost = age + exp1(rng) / site.loss_rate;
        Enrolment {
            days,
            age,
            horizon: (age + administrative).min(lost),
        }
    }
}

/// Age at enrolment: newborn screening (first year), other children (1–16), or adults (16–70).
fn enrolment_age(site: &SiteProfile, rng: &mut impl Rng) -> f64 {
    if rng.random_bool(site.child_share) {
        if rng.random_bool(0.3) {
            uniform(0.1, 1.0, rng)
        } else {
            uniform(1.0, 16.0, rng)
        }
    } else {
        (16.0 + 15.0 * exp1(rng)).min(70.0)
    }
}

/// Relative VOC rate by age (highest in young adults; Platt 1991).
fn voc_age(age: f64) -> f64 {
    match age {
        a if a < 10.0 => 0.6,
        a if a < 20.0 => 1.0,
        a if a < 40.0 => 1.3,
        _ => 1.0,
    }
}

/// Relative ACS rate by age (highest in young children; Castro 1994).
fn acs_age(age: f64) -> f64 {
    match age {
        a if a < 5.0 => 2.0,
        a if a < 10.0 => 1.5,
        a if a < 20.0 => 1.0,
        _ => 0.65,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_is_2025_06_30() {
        assert_eq!(Date::from_ymd(2025, 6, 30).map(Date::days), Some(CUTOFF_DAYS));
    }

    #[test]
    fn gompertz_median_is_the_target() {
        // S(median) = 1/2 at scale 1; the calibration scale raises the hazard proportionally.
        let g = Gompertz::with_median(42.0);
        assert!((g.survival(42.0) - 0.5f64.powf(MORTALITY_SCALE)).abs() < 1e-12);
        assert!(g.survival(30.0) > g.survival(42.0) && g.survival(42.0) > g.survival(60.0));
    }

    #[test]
    fn death_sampler_matches_the_survival_curve() {
        // Constant multiplier 1 from birth: the sampled median must be the Gompertz median.
        let g = Gompertz {
            b: GOMPERTZ_SLOPE * std::f64::consts::LN_2 / ((GOMPERTZ_SLOPE * 42.0).exp() - 1.0),
            g: GOMPERTZ_SLOPE,
        };
        let mut rng = crate::rng_for(1, 9);
        let mut ages: Vec<f64> = (0..20_000)
            .map(|_| g.death_age(0.0, &[10.0, 30.0], |_| 1.0, &mut rng))
            .collect();
        ages.sort_by(f64::total_cmp);
        let median = ages[ages.len() / 2];
        assert!((median - 42.0).abs() < 0.6, "median {median}");
    }

    #[test]
    fn piecewise_integral_and_first_event_agree() {
        let rate = |a: f64| if a < 10.0 { 0.1 } else { 0.3 };
        assert!((integrate(5.0, 20.0, &[10.0], rate) - (0.5 + 3.0)).abs() < 1e-12);
        let mut rng = crate::rng_for(2, 9);
        let n = 20_000;
        let hits = (0..n)
            .filter(|_| first_event(5.0, 20.0, &[10.0], rate, &mut rng).is_some())
            .count();
        let expected = 1.0 - (-3.5f64).exp();
        assert!((hits as f64 / n as f64 - expected).abs() < 0.01);
    }
}
