//! The AML cohort simulator: adult AML at diagnosis with the variables of a European AML
//! registry (the SYNTHEMA eCRF), calibrated to published intensively treated cohorts.
//!
//! Per patient: age (a two-component mixture, shifted per site), sex, ECOG, AML type by age,
//! genetics ([`genetics`]), blood counts driven by the genetics, ELN 2017 and 2022 derived by
//! the published rules ([`eln`]), then induction, response, HSCT and survival with
//! administrative censoring ([`outcome`]). The model, every parameter, its source and the
//! measured calibration are in `docs/simulator-aml.md`; the embedded dictionary `aml.toml` holds
//! the columns and the clinical rules every simulated row satisfies.

mod eln;
mod genetics;
mod outcome;

use crate::{Cohort, Config, rng_for, site_sizes};
use genetics::{Balanced, Genetics};
use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution, StandardNormal};
use std::sync::{Arc, OnceLock};
use table::{Dictionary, Table, Value};

/// The embedded dictionary file.
const DICTIONARY_TOML: &str = include_str!("aml.toml");

/// The columns in the order [`simulate`] writes them; must equal the dictionary's order (a
/// unit test checks it).
const COLUMNS: [&str; 58] = [
    "ID",
    "AGE",
    "SEX",
    "ECOG",
    "AML_TYPE",
    "WBC",
    "HB",
    "PLT",
    "LDH",
    "BM BLASTS",
    "PB BLASTS",
    "NORMAL_KARYOTYPE",
    "complex",
    "t_8_21",
    "inv16_t16_16",
    "t_6_9",
    "inv3_t3_3",
    "t_9_22",
    "MLL_REARRANGED",
    "minus5_5q",
    "mono7",
    "mono17_17p_abn17p",
    "plus8_8q",
    "NPM1",
    "FLT3_ITD",
    "FLT3_TKD",
    "CEBPA_bi",
    "DNMT3A",
    "TET2",
    "IDH1",
    "IDH2",
    "NRAS",
    "KRAS",
    "PTPN11",
    "KIT",
    "WT1",
    "RUNX1",
    "ASXL1",
    "TP53",
    "SRSF2",
    "SF3B1",
    "U2AF1",
    "ZRSR2",
    "BCOR",
    "EZH2",
    "STAG2",
    "ELN 2017",
    "ELN 2022",
    "Intensive chemotherapy induction",
    "RESPONSE TO INDUCTION",
    "TIME TO CR",
    "Allogeneic HSCT",
    "TIME TO HSCT",
    "Overall survival",
    "STATUS_OS",
    "TIME TO EFS",
    "STATUS_EFS",
    "EFS EVENT",
];

/// The AML simulator's data dictionary (parsed once from the embedded `aml.toml`).
pub fn dictionary() -> Arc<Dictionary> {
    static DICTIONARY: OnceLock<Arc<Dictionary>> = OnceLock::new();
    DICTIONARY
        .get_or_init(|| {
            let d = Dictionary::from_toml(DICTIONARY_TOML, "aml.toml")
                .expect("the embedded aml.toml is a valid dictionary (checked by the crate's tests)");
            Arc::new(d)
        })
        .clone()
}

/// AML type (`AML_TYPE`): de novo, secondary to MDS/MPN, therapy-related.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AmlType {
    DeNovo,
    Secondary,
    TherapyRelated,
}

impl AmlType {
    fn label(self) -> &'static str {
        match self {
            AmlType::DeNovo => "de_novo",
            AmlType::Secondary => "sAML",
            AmlType::TherapyRelated => "tAML",
        }
    }
}

/// How one site differs from the reference cohort; every shift is 0 at heterogeneity 0.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SiteProfile {
    /// Years added to both age components.
    pub age_shift: f64,
    /// Log-odds added to intensive induction.
    pub intensity: f64,
    /// Log-odds added to every HSCT decision.
    pub hsct: f64,
    /// Log-odds added to adverse lesions (and, halved, subtracted from favourable ones).
    pub adverse_mix: f64,
    /// Accrual period in days (potential follow-up beyond the minimum).
    pub accrual_days: f64,
}

/// Site-level spread (standard deviation at heterogeneity 1) of each profile component.
const SD_AGE_SHIFT: f64 = 6.0;
const SD_INTENSITY: f64 = 1.0;
const SD_HSCT: f64 = 0.8;
const SD_ADVERSE_MIX: f64 = 0.35;
const SD_LOG_ACCRUAL: f64 = 0.3;
/// Reference accrual period: six years.
const ACCRUAL_DAYS: f64 = 6.0 * 365.25;
/// Bounds of a site's accrual period: one to eighteen years, so that every time stays below
/// the dictionary's 7300-day maximum.
const MIN_ACCRUAL_DAYS: f64 = 365.25;
const MAX_ACCRUAL_DAYS: f64 = 18.0 * 365.25;

impl SiteProfile {
    fn draw(rng: &mut impl Rng, heterogeneity: f64) -> SiteProfile {
        let mut z = || -> f64 { heterogeneity * standard_normal(rng) };
        SiteProfile {
            age_shift: SD_AGE_SHIFT * z(),
            intensity: SD_INTENSITY * z(),
            hsct: SD_HSCT * z(),
            adverse_mix: SD_ADVERSE_MIX * z(),
            accrual_days: (ACCRUAL_DAYS * (SD_LOG_ACCRUAL * z()).exp()).clamp(MIN_ACCRUAL_DAYS, MAX_ACCRUAL_DAYS),
        }
    }
}

/// Simulates an AML cohort: one table per site (stream 0 draws the site sizes and profiles,
/// stream `k + 1` the patients of site `k`).
pub fn simulate(config: &Config) -> Cohort {
    let dictionary = dictionary();
    let mut rng = rng_for(config.seed, 0);
    let sizes = site_sizes(config.patients, config.sites, config.heterogeneity, &mut rng);
    let profiles: Vec<SiteProfile> = (0..config.sites)
        .map(|_| SiteProfile::draw(&mut rng, config.heterogeneity))
        .collect();
    let sites = sizes
        .iter()
        .zip(&profiles)
        .enumerate()
        .map(|(k, (&n, profile))| simulate_site(&dictionary, k, n, profile, config.seed))
        .collect();
    Cohort { dictionary, sites }
}

fn simulate_site(dictionary: &Arc<Dictionary>, site: usize, n: usize, profile: &SiteProfile, seed: u64) -> Table {
    let mut rng = rng_for(seed, site as u64 + 1);
    let mut table = Table::new(dictionary.clone());
    for i in 0..n {
        let row = simulate_patient(&mut rng, profile, format!("S{:02}-{:06}", site + 1, i + 1));
        table
            .push_row(row)
            .expect("simulated rows hold only declared levels and values of the column types (tested)");
    }
    table
}

/// The mixture components of age at diagnosis: (weight, mean, sd) in years.
const AGE_MIXTURE: [(f64, f64, f64); 2] = [(0.30, 40.0, 11.0), (0.70, 62.0, 9.5)];
const AGE_MIN: f64 = 18.0;
const AGE_MAX: f64 = 90.0;
/// Share of men.
const MALE: f64 = 0.54;

fn sample_age(rng: &mut impl Rng, shift: f64) -> f64 {
    let young = rng.random::<f64>() < AGE_MIXTURE[0].0;
    let (_, mean, sd) = if young { AGE_MIXTURE[0] } else { AGE_MIXTURE[1] };
    // Redraw outside the registry's bounds (a truncated normal); clamp after 20 tries.
    let mut age = mean + shift;
    for _ in 0..20 {
        let z = standard_normal(rng);
        age = mean + shift + sd * z;
        if (AGE_MIN..=AGE_MAX).contains(&age) {
            break;
        }
    }
    round1(age.clamp(AGE_MIN, AGE_MAX))
}

fn simulate_patient(rng: &mut impl Rng, profile: &SiteProfile, id: String) -> Vec<Value> {
    let age = sample_age(rng, profile.age_shift);
    let a = (age - 56.0) / 10.0;
    let male = bernoulli(rng, MALE);
    // ECOG: an ordinal latent that rises with age.
    let latent = 0.3 * a + standard_normal(rng);
    let ecog: u8 = match latent {
        x if x < -0.35 => 0,
        x if x < 0.95 => 1,
        x if x < 1.65 => 2,
        x if x < 2.2 => 3,
        _ => 4,
    };
    let u: f64 = rng.random();
    let p_secondary = logistic(-2.1 + 0.45 * a);
    let p_therapy = logistic(-3.2 + 0.2 * a);
    let aml_type = if u < p_secondary {
        AmlType::Secondary
    } else if u < p_secondary + p_therapy {
        AmlType::TherapyRelated
    } else {
        AmlType::DeNovo
    };
    let g = genetics::sample(
        rng,
        &genetics::Context {
            age,
            aml_type,
            adverse_mix: profile.adverse_mix,
        },
    );
    let labs = sample_labs(rng, &g, aml_type);
    let eln2017 = eln::eln2017(&g);
    let eln2022 = eln::eln2022(&g);
    let course = outcome::simulate_course(
        rng,
        &outcome::Patient {
            age,
            ecog,
            secondary_or_therapy: aml_type != AmlType::DeNovo,
            tp53: g.tp53,
            eln2022,
        },
        &outcome::Care {
            intensity: profile.intensity,
            hsct: profile.hsct,
            accrual_days: profile.accrual_days,
        },
    );
    // ECOG is not recorded for some patients.
    let ecog = if bernoulli(rng, 0.04) {
        Value::Missing
    } else {
        Value::Int(i64::from(ecog))
    };

    let text = |s: &str| Value::Text(s.to_string());
    let flag = Value::Bool;
    let opt_int = |x: Option<i64>| x.map_or(Value::Missing, Value::Int);
    let mut row = Vec::with_capacity(COLUMNS.len());
    row.extend([
        Value::Text(id),
        Value::Real(age),
        text(if male { "1" } else { "0" }),
        ecog,
        text(aml_type.label()),
        Value::Real(labs.wbc),
        Value::Real(labs.hb),
        Value::Real(labs.plt),
        labs.ldh.map_or(Value::Missing, Value::Real),
        Value::Real(labs.bm_blasts),
        labs.pb_blasts.map_or(Value::Missing, Value::Real),
        flag(g.normal_karyotype),
        flag(g.complex),
        flag(g.is(Balanced::T8_21)),
        flag(g.is(Balanced::Inv16)),
        flag(g.is(Balanced::T6_9)),
        flag(g.is(Balanced::Inv3)),
        flag(g.is(Balanced::T9_22)),
        flag(g.is(Balanced::Kmt2a)),
        flag(g.minus5_5q),
        flag(g.mono7),
        flag(g.mono17),
        flag(g.plus8),
    ]);
    row.extend(
        [
            g.npm1, g.flt3_itd, g.flt3_tkd, g.cebpa, g.dnmt3a, g.tet2, g.idh1, g.idh2, g.nras, g.kras, g.ptpn11, g.kit,
            g.wt1, g.runx1, g.asxl1, g.tp53, g.srsf2, g.sf3b1, g.u2af1, g.zrsr2, g.bcor, g.ezh2, g.stag2,
        ]
        .map(flag),
    );
    row.extend([
        text(eln2017.label()),
        text(eln2022.label()),
        flag(course.intensive),
        text(course.response.label()),
        opt_int(course.time_to_cr),
        flag(course.time_to_hsct.is_some()),
        opt_int(course.time_to_hsct),
        Value::Int(course.os_days),
        flag(course.os_status),
        Value::Int(course.efs_days),
        flag(course.efs_status),
        course.efs_event.map_or(Value::Missing, |e| text(e.label())),
    ]);
    row
}

/// Blood counts and blasts at diagnosis.
struct Labs {
    wbc: f64,
    hb: f64,
    plt: f64,
    ldh: Option<f64>,
    bm_blasts: f64,
    pb_blasts: Option<f64>,
}

/// WBC: log-normal, median ≈ 9 ×10⁹/L without driver, raised by FLT3-ITD and NPM1, lowered in
/// complex karyotype and sAML; σ of log WBC.
const WBC_LOG_MEDIAN: f64 = 2.45;
const WBC_LOG_SD: f64 = 1.25;

fn sample_labs(rng: &mut impl Rng, g: &Genetics, aml_type: AmlType) -> Labs {
    let mut normal = || standard_normal(rng);
    let log_wbc = WBC_LOG_MEDIAN
        + if g.flt3_itd { 1.0 } else { 0.0 }
        + if g.npm1 { 0.75 } else { 0.0 }
        + if g.is(Balanced::Inv16) { 0.6 } else { 0.0 }
        + if g.is(Balanced::Kmt2a) { 0.5 } else { 0.0 }
        - if g.complex { 0.6 } else { 0.0 }
        - if aml_type == AmlType::Secondary { 0.5 } else { 0.0 }
        + WBC_LOG_SD * normal();
    let wbc = round1(log_wbc.exp().clamp(0.3, 450.0));
    let hb = round1((9.4 + 1.6 * normal()).clamp(4.0, 16.0));
    let plt = (50.0 * (0.85 * normal()).exp()).clamp(3.0, 900.0).round();
    let ldh = (420.0 * (wbc / 15.0).powf(0.25) * (0.55 * normal()).exp())
        .clamp(100.0, 8000.0)
        .round();
    let blast_latent = normal();
    let ldh_missing = bernoulli(rng, 0.08);
    let pb_missing = bernoulli(rng, 0.05);
    let beta = |rng: &mut _, a: f64, b: f64| Beta::new(a, b).map_or(a / (a + b), |d| d.sample(rng));
    let bm_blasts = if g.cbf() {
        (12.0 + 86.0 * beta(rng, 2.0, 1.8)).round()
    } else {
        let (a, b) = if g.npm1 { (2.6, 1.4) } else { (2.0, 1.8) };
        (20.0 + 78.0 * beta(rng, a, b)).round()
    };
    // Peripheral blasts: a share of the marrow blasts that grows with the WBC.
    let share = logistic(0.9 * (wbc / 8.0).ln() + 0.8 * blast_latent - 0.3);
    let pb_blasts = (bm_blasts * share).round().clamp(0.0, 100.0);
    Labs {
        wbc,
        hb,
        plt,
        ldh: (!ldh_missing).then_some(ldh),
        bm_blasts,
        pb_blasts: (!pb_missing).then_some(pb_blasts),
    }
}

/// A Bernoulli draw with probability `p` (clamped to [0, 1]).
pub(crate) fn bernoulli(rng: &mut impl Rng, p: f64) -> bool {
    rng.random::<f64>() < p.clamp(0.0, 1.0)
}

/// A standard normal draw.
pub(crate) fn standard_normal(rng: &mut impl Rng) -> f64 {
    StandardNormal.sample(rng)
}

pub(crate) fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_parses_with_the_written_column_order() {
        let d = dictionary();
        let names: Vec<&str> = d.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, COLUMNS);
        assert_eq!(d.time_to_event.len(), 2);
        assert!(d.rules.len() >= 30);
    }

    #[test]
    fn site_profiles_are_zero_without_heterogeneity() {
        let mut rng = rng_for(3, 0);
        let p = SiteProfile::draw(&mut rng, 0.0);
        assert_eq!(p.age_shift, 0.0);
        assert_eq!(p.intensity, 0.0);
        assert_eq!(p.hsct, 0.0);
        assert_eq!(p.adverse_mix, 0.0);
        assert_eq!(p.accrual_days, ACCRUAL_DAYS);
    }
}
