//! Steady-state laboratory values: a patient's untreated (latent) values by genotype, and the
//! values reported at last follow-up once hydroxyurea, chronic transfusion or a stem-cell
//! transplant have acted on them.

use super::patient::{Constitution, Genotype};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// Untreated steady-state values of one genotype (adult medians unless said otherwise).
struct LabParams {
    /// Mean haemoglobin, g/dL (female; males add `hb_male`).
    hb: f64,
    hb_male: f64,
    /// Median HbF %, its log-scale spread and the cap of untreated HbF.
    hbf_median: f64,
    hbf_sigma: f64,
    hbf_max: f64,
    /// Mean and standard deviation of MCV, fL.
    mcv: f64,
    mcv_sd: f64,
    /// Medians of reticulocytes %, LDH U/L, WBC ×10⁹/L and platelets ×10⁹/L.
    retic: f64,
    ldh: f64,
    wbc: f64,
    plt: f64,
    /// Median rise of HbF (percentage points) and mean rise of Hb (g/dL) on hydroxyurea.
    hu_hbf_gain: f64,
    hu_hb_gain: f64,
}

/// Parameters in [`Genotype::ALL`] order: HbSS, HbSC, HbSβ⁰, HbSβ⁺ (clinical.md, SCD table).
const LAB_PARAMS: [LabParams; 4] = [
    LabParams {
        hb: 8.1,
        hb_male: 0.3,
        hbf_median: 6.0,
        hbf_sigma: 0.6,
        hbf_max: 25.0,
        mcv: 89.0,
        mcv_sd: 5.0,
        retic: 10.0,
        ldh: 450.0,
        wbc: 10.5,
        plt: 400.0,
        hu_hbf_gain: 9.0,
        hu_hb_gain: 0.8,
    },
    LabParams {
        hb: 10.8,
        hb_male: 0.7,
        hbf_median: 2.0,
        hbf_sigma: 0.5,
        hbf_max: 8.0,
        mcv: 81.0,
        mcv_sd: 3.5,
        retic: 3.5,
        ldh: 270.0,
        wbc: 7.5,
        plt: 270.0,
        hu_hbf_gain: 4.0,
        hu_hb_gain: 0.4,
    },
    LabParams {
        hb: 8.2,
        hb_male: 0.3,
        hbf_median: 7.0,
        hbf_sigma: 0.5,
        hbf_max: 18.0,
        mcv: 74.0,
        mcv_sd: 4.5,
        retic: 8.0,
        ldh: 380.0,
        wbc: 10.0,
        plt: 380.0,
        hu_hbf_gain: 8.0,
        hu_hb_gain: 0.8,
    },
    LabParams {
        hb: 10.2,
        hb_male: 0.6,
        hbf_median: 4.0,
        hbf_sigma: 0.45,
        hbf_max: 10.0,
        mcv: 70.0,
        mcv_sd: 3.0,
        retic: 3.5,
        ldh: 260.0,
        wbc: 7.5,
        plt: 300.0,
        hu_hbf_gain: 4.0,
        hu_hb_gain: 0.4,
    },
];

fn params(g: Genotype) -> &'static LabParams {
    &LAB_PARAMS[g.index()]
}

fn normal(rng: &mut impl Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// A patient's untreated steady-state values (the latent values the event and death models use).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Baseline {
    pub hb: f64,
    pub hbf: f64,
    pub mcv: f64,
    pub retic: f64,
    pub ldh: f64,
    pub wbc: f64,
    pub plt: f64,
}

impl Baseline {
    /// Draws untreated values. `haemolysis` is the patient's standard-normal haemolysis trait:
    /// it lowers Hb and raises reticulocytes and LDH together.
    pub fn draw(who: &Constitution, haemolysis: f64, rng: &mut impl Rng) -> Baseline {
        let Constitution {
            genotype,
            male,
            alpha_thal,
        } = *who;
        let p = params(genotype);
        let hbf = (p.hbf_median * (p.hbf_sigma * normal(rng)).exp()).clamp(0.3, p.hbf_max);
        let alpha_hb = if alpha_thal { 0.5 } else { 0.0 };
        let male_hb = if male { p.hb_male } else { 0.0 };
        let hb = (p.hb + male_hb + alpha_hb - 0.5 * haemolysis + 0.05 * (hbf - p.hbf_median) + 0.6 * normal(rng))
            .clamp(5.0, 14.0);
        let alpha_mcv = if alpha_thal { -7.0 } else { 0.0 };
        let mcv = (p.mcv + alpha_mcv + p.mcv_sd * normal(rng)).clamp(55.0, 115.0);
        let alpha_retic = if alpha_thal { 0.85 } else { 1.0 };
        let retic = (p.retic * alpha_retic * (0.35 * haemolysis + 0.2 * normal(rng)).exp()).clamp(0.5, 35.0);
        let ldh = (p.ldh * (0.25 * haemolysis + 0.15 * normal(rng)).exp()).clamp(100.0, 2800.0);
        let wbc = (p.wbc * (0.25 * normal(rng)).exp()).clamp(2.0, 40.0);
        let plt = (p.plt * (0.28 * normal(rng)).exp()).clamp(40.0, 1400.0);
        Baseline {
            hb,
            hbf,
            mcv,
            retic,
            ldh,
            wbc,
            plt,
        }
    }

    /// HbF relative to the genotype's median, in percentage points (negative = low).
    pub fn hbf_excess(&self, genotype: Genotype) -> f64 {
        self.hbf - params(genotype).hbf_median
    }

    /// Hb relative to the genotype's mean, g/dL.
    pub fn hb_excess(&self, genotype: Genotype) -> f64 {
        self.hb - params(genotype).hb
    }
}

/// The haemoglobin of a stem-cell donor, which replaces the patient's after a transplant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Donor {
    /// HbAA donor.
    Normal,
    /// HbAS (sickle-trait) donor, often a sibling.
    Trait,
}

/// Treatment state at last follow-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Treatment {
    pub on_hydroxyurea: bool,
    /// Years on a chronic transfusion programme, when on one at last follow-up.
    pub transfusion_years: Option<f64>,
    /// The donor, after a stem-cell transplant.
    pub donor: Option<Donor>,
}

/// Laboratory values reported at last follow-up, rounded as a laboratory reports them.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reported {
    pub hb: f64,
    pub hbf: f64,
    pub hbs: f64,
    pub hba: f64,
    pub hba2: f64,
    pub hbc: f64,
    pub mcv: f64,
    pub retic: f64,
    pub ldh: i64,
    pub wbc: f64,
    pub plt: i64,
    pub ferritin: i64,
    pub creatinine: i64,
}

/// HPLC fractions in percent: F, A, A2, C (S is the rest of 100).
#[derive(Debug, Clone, Copy)]
struct Fractions {
    f: f64,
    a: f64,
    a2: f64,
    c: f64,
}

impl Reported {
    /// The values at last follow-up (age `age`, years) of a patient with untreated values
    /// `base` under `treatment`. HbS is computed as 100 minus the other rounded fractions, so
    /// the five fractions add up to 100 exactly up to floating-point rounding.
    pub fn at_last_followup(
        who: &Constitution,
        age: f64,
        nephropathy: bool,
        base: &Baseline,
        treatment: Treatment,
        rng: &mut impl Rng,
    ) -> Reported {
        let Constitution {
            genotype,
            male,
            alpha_thal,
        } = *who;
        let p = params(genotype);
        // HbF falls from birth to its steady level over the first years of life.
        let infant = 1.0 + 2.0 * (-age / 1.5).exp();
        let mut hbf = (base.hbf * infant).min(45.0);
        let (mut hb, mut mcv, mut retic, mut ldh, mut wbc, mut plt) =
            (base.hb, base.mcv, base.retic, base.ldh, base.wbc, base.plt);
        if treatment.on_hydroxyurea {
            hbf = (hbf + p.hu_hbf_gain * (0.4 * normal(rng)).exp()).min(40.0);
            hb += p.hu_hb_gain + 0.3 * normal(rng);
            mcv += 10.0 + 3.0 * normal(rng);
            wbc *= 0.75;
            retic *= 0.75;
            ldh *= 0.8;
            plt *= 0.85;
        }
        let mut fr = own_fractions(genotype, alpha_thal, hbf, rng);
        let mut ferritin = if genotype.is_severe() { 150.0 } else { 90.0 } * (0.6 * normal(rng)).exp();
        if let Some(years) = treatment.transfusion_years {
            // Pre-transfusion sample: 45–75 % of red cells are donor (HbA) cells.
            let d = rng.random_range(0.45..0.75);
            fr = Fractions {
                f: fr.f * (1.0 - d) + 0.5 * d,
                a: fr.a * (1.0 - d) + 97.0 * d,
                a2: fr.a2 * (1.0 - d) + 2.5 * d,
                c: fr.c * (1.0 - d),
            };
            hb = hb.max(9.6 + 0.6 * normal(rng));
            mcv = (1.0 - d) * mcv + d * 89.0;
            retic *= 0.5;
            ldh *= 0.7;
            ferritin += 400.0 * years * (0.4 * normal(rng)).exp();
        }
        if let Some(donor) = treatment.donor {
            fr = donor_fractions(donor, rng);
            hb = if male { 13.6 } else { 12.6 } + normal(rng);
            mcv = 86.0 + 4.0 * normal(rng);
            retic = 1.3 * (0.3 * normal(rng)).exp();
            ldh = 200.0 * (0.15 * normal(rng)).exp();
            wbc = 6.5 * (0.25 * normal(rng)).exp();
            plt = 260.0 * (0.25 * normal(rng)).exp();
            ferritin = 600.0 * (0.6 * normal(rng)).exp();
        }
        let f = round1(fr.f);
        let a = round1(fr.a);
        let a2 = round1(fr.a2);
        let c = round1(fr.c);
        let s = round1(100.0 - (f + a + a2 + c)).max(0.0);
        Reported {
            hb: round1(hb.clamp(4.0, 17.0)),
            hbf: f,
            hbs: s,
            hba: a,
            hba2: a2,
            hbc: c,
            mcv: round1(mcv.clamp(55.0, 125.0)),
            retic: round1(retic.clamp(0.3, 38.0)),
            ldh: ldh.clamp(100.0, 2900.0).round() as i64,
            wbc: round1(wbc.clamp(1.5, 45.0)),
            plt: plt.clamp(30.0, 1450.0).round() as i64,
            ferritin: ferritin.clamp(5.0, 14_500.0).round() as i64,
            creatinine: creatinine(genotype, male, age, nephropathy, rng),
        }
    }
}

/// The patient's own HPLC fractions (HbS is the rest).
fn own_fractions(genotype: Genotype, alpha_thal: bool, hbf: f64, rng: &mut impl Rng) -> Fractions {
    let alpha_a2 = if alpha_thal { 0.3 } else { 0.0 };
    match genotype {
        Genotype::Ss => Fractions {
            f: hbf,
            a: 0.0,
            a2: (2.9 + alpha_a2 + 0.25 * normal(rng)).clamp(2.0, 3.4),
            c: 0.0,
        },
        Genotype::Sbeta0 => Fractions {
            f: hbf,
            a: 0.0,
            a2: (5.0 + 0.4 * normal(rng)).clamp(4.0, 6.0),
            c: 0.0,
        },
        Genotype::SbetaPlus => Fractions {
            f: hbf,
            a: (15.0 + 6.0 * normal(rng)).clamp(5.0, 30.0),
            a2: (4.6 + 0.4 * normal(rng)).clamp(3.6, 6.0),
            c: 0.0,
        },
        Genotype::Sc => Fractions {
            f: hbf,
            a: 0.0,
            a2: (3.2 + 0.3 * normal(rng)).clamp(2.2, 4.2),
            c: (46.0 + 1.8 * normal(rng)).clamp(40.0, 50.0),
        },
    }
}

/// Fractions after full donor engraftment.
fn donor_fractions(donor: Donor, rng: &mut impl Rng) -> Fractions {
    let a2 = (2.8 + 0.2 * normal(rng)).clamp(2.2, 3.4);
    let f = rng.random_range(0.3..1.5);
    let s = match donor {
        Donor::Normal => 0.0,
        Donor::Trait => (38.0 + 2.0 * normal(rng)).clamp(32.0, 44.0),
    };
    Fractions {
        f,
        a: 100.0 - s - a2 - f,
        a2,
        c: 0.0,
    }
}

/// Serum creatinine, µmol/L: low in children, low in adults with HbSS (hyperfiltration), higher
/// with nephropathy and occasionally in the range of chronic kidney disease.
fn creatinine(genotype: Genotype, male: bool, age: f64, nephropathy: bool, rng: &mut impl Rng) -> i64 {
    let adult = match (genotype.is_severe(), male) {
        (true, true) => 58.0,
        (true, false) => 48.0,
        (false, true) => 72.0,
        (false, false) => 60.0,
    };
    let typical = if age < 16.0 { 15.0 + 2.4 * age.max(0.0) } else { adult };
    let mut value = typical * (0.12 * normal(rng)).exp();
    if nephropathy {
        let excess: f64 = rand_distr::Exp1.sample(rng);
        value *= 1.15 + 0.35 * excess;
        if rng.random_bool(0.08) {
            value *= 3.0;
        }
    }
    value.clamp(12.0, 1150.0).round() as i64
}

/// Rounds to one decimal, as laboratories report these values.
pub(super) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
