//! Karyotype lesions and gene mutations at diagnosis.
//!
//! One class-defining balanced lesion at most (t(8;21), inv(16), t(6;9), inv(3), t(9;22), KMT2A-r)
//! is drawn first; then NPM1 (only without such a lesion), the complex karyotype and the
//! unbalanced lesions, then every gene mutation with a probability that depends on the class,
//! the age, the AML type and the site's case mix. The parameters and their sources are listed in
//! `docs/simulator-aml.md`.

use super::{AmlType, bernoulli, logistic};
use rand::{Rng, RngExt};

/// The class-defining balanced lesion of a patient, if any (they exclude one another).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Balanced {
    T8_21,
    Inv16,
    T6_9,
    Inv3,
    T9_22,
    Kmt2a,
}

/// The genetics of one patient: the karyotype flags and mutations of the dictionary.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Genetics {
    pub balanced: Option<Balanced>,
    pub normal_karyotype: bool,
    pub complex: bool,
    pub minus5_5q: bool,
    pub mono7: bool,
    pub mono17: bool,
    pub plus8: bool,
    pub npm1: bool,
    pub flt3_itd: bool,
    pub flt3_tkd: bool,
    pub cebpa: bool,
    pub dnmt3a: bool,
    pub tet2: bool,
    pub idh1: bool,
    pub idh2: bool,
    pub nras: bool,
    pub kras: bool,
    pub ptpn11: bool,
    pub kit: bool,
    pub wt1: bool,
    pub runx1: bool,
    pub asxl1: bool,
    pub tp53: bool,
    pub srsf2: bool,
    pub sf3b1: bool,
    pub u2af1: bool,
    pub zrsr2: bool,
    pub bcor: bool,
    pub ezh2: bool,
    pub stag2: bool,
}

impl Genetics {
    /// t(8;21) or inv(16)/t(16;16): core-binding-factor AML.
    pub fn cbf(&self) -> bool {
        matches!(self.balanced, Some(Balanced::T8_21 | Balanced::Inv16))
    }

    /// Any karyotype lesion ELN 2017 and 2022 count as adverse.
    pub fn adverse_karyotype(&self) -> bool {
        self.complex
            || self.minus5_5q
            || self.mono7
            || self.mono17
            || matches!(
                self.balanced,
                Some(Balanced::T6_9 | Balanced::Inv3 | Balanced::T9_22 | Balanced::Kmt2a)
            )
    }

    /// A myelodysplasia-related gene mutation (ELN 2022 adverse list).
    pub fn mr_gene(&self) -> bool {
        self.asxl1
            || self.bcor
            || self.ezh2
            || self.runx1
            || self.sf3b1
            || self.srsf2
            || self.stag2
            || self.u2af1
            || self.zrsr2
    }

    pub fn is(&self, b: Balanced) -> bool {
        self.balanced == Some(b)
    }
}

/// What the genetics depend on besides chance.
pub(crate) struct Context {
    /// Age in years.
    pub age: f64,
    pub aml_type: AmlType,
    /// The site's case-mix shift (log-odds added to adverse lesions, subtracted at half weight
    /// from favourable ones); 0 at heterogeneity 0.
    pub adverse_mix: f64,
}

/// Draws the genetics of one patient.
pub(crate) fn sample(rng: &mut impl Rng, cx: &Context) -> Genetics {
    // Decades from the cohort's median age: the unit of every age effect below.
    let a = (cx.age - 56.0) / 10.0;
    let secondary = cx.aml_type == AmlType::Secondary;
    let therapy = cx.aml_type == AmlType::TherapyRelated;
    let fav_mix = (-0.5 * cx.adverse_mix).exp();
    let adv_mix = cx.adverse_mix;
    let mut g = Genetics::default();

    // Class-defining balanced lesions (rarer with age and in sAML; KMT2A-r frequent in tAML).
    let de_novo_cbf = if secondary { 0.3 } else { 1.0 };
    let weights = [
        (Balanced::T8_21, 0.052 * (-0.5 * a).exp() * de_novo_cbf * fav_mix),
        (Balanced::Inv16, 0.055 * (-0.55 * a).exp() * de_novo_cbf * fav_mix),
        (Balanced::T6_9, 0.010 * (-0.30 * a).exp()),
        (Balanced::Inv3, 0.015 * if secondary { 2.0 } else { 1.0 }),
        (Balanced::T9_22, 0.010),
        (
            Balanced::Kmt2a,
            0.030 * (-0.25 * a).exp() * if therapy { 3.0 } else { 1.0 },
        ),
    ];
    let mut u: f64 = rng.random();
    for (lesion, w) in weights {
        if u < w {
            g.balanced = Some(lesion);
            break;
        }
        u -= w;
    }
    let cbf = g.cbf();

    // NPM1: only without a class-defining lesion; rarer in sAML/tAML and in the very old.
    if g.balanced.is_none() {
        let type_factor = if secondary {
            0.35
        } else if therapy {
            0.6
        } else {
            1.0
        };
        let old = if cx.age >= 75.0 { 0.75 } else { 1.0 };
        g.npm1 = bernoulli(rng, 0.45 * (-0.12 * a).exp() * type_factor * old * fav_mix);
    }
    let other = g.balanced.is_none() && !g.npm1;

    // Complex karyotype: by the ELN 2022 definition never with a class-defining lesion.
    if other {
        let logit = -1.65 + 0.8 * a + if secondary { 0.9 } else { 0.0 } + if therapy { 1.3 } else { 0.0 } + adv_mix;
        g.complex = bernoulli(rng, logistic(logit));
    } else if g.npm1 {
        g.complex = bernoulli(rng, 0.01);
    }

    // TP53: mostly with a complex karyotype; never with NPM1 or CBF lesions.
    if g.complex && !g.npm1 {
        g.tp53 = bernoulli(rng, logistic(-0.4 + 0.25 * a));
    } else if other {
        g.tp53 = bernoulli(rng, 0.015 * (0.3 * a).exp());
    }

    // Unbalanced lesions.
    if g.complex {
        g.minus5_5q = bernoulli(rng, if g.tp53 { 0.85 } else { 0.55 });
        g.mono7 = bernoulli(rng, 0.30);
        g.mono17 = bernoulli(rng, if g.tp53 { 0.50 } else { 0.15 });
        g.plus8 = bernoulli(rng, 0.20);
    } else if !cbf && !g.npm1 {
        g.minus5_5q = bernoulli(rng, 0.012);
        g.mono7 = bernoulli(rng, if g.is(Balanced::Inv3) { 0.45 } else { 0.035 });
        g.mono17 = bernoulli(rng, if g.tp53 { 0.2 } else { 0.004 });
        g.plus8 = bernoulli(rng, 0.09);
    } else {
        g.plus8 = bernoulli(rng, if g.npm1 { 0.05 } else { 0.08 });
    }

    // Signalling and epigenetic mutations.
    g.flt3_itd = bernoulli(
        rng,
        if g.npm1 {
            0.37
        } else if g.is(Balanced::T6_9) {
            0.75
        } else if cbf {
            0.05
        } else if g.complex {
            0.03
        } else {
            0.21
        },
    );
    g.flt3_tkd = bernoulli(
        rng,
        if g.npm1 {
            0.11
        } else if cbf {
            0.06
        } else {
            0.05
        },
    );
    if other && !g.complex && !g.tp53 {
        g.cebpa = bernoulli(rng, 0.085 * (-0.35 * a).exp());
    }
    let by_class = |npm1: f64, cbf_p: f64, complex: f64, rest: f64| {
        if g.npm1 {
            npm1
        } else if cbf {
            cbf_p
        } else if g.complex {
            complex
        } else {
            rest
        }
    };
    let dnmt3a = by_class(0.55, 0.02, 0.10, 0.24 * (0.15 * a).exp());
    let idh1 = by_class(0.14, 0.01, 0.02, 0.075);
    let idh2 = by_class(0.17, 0.01, 0.03, 0.21 * (0.10 * a).exp());
    let tet2 = by_class(0.30, 0.05, 0.07, 0.28 * (0.20 * a).exp());
    g.dnmt3a = bernoulli(rng, dnmt3a);
    g.idh1 = bernoulli(rng, idh1);
    // IDH1 and IDH2 rarely co-occur; IDH and TET2 are nearly exclusive.
    g.idh2 = bernoulli(rng, if g.idh1 { 0.1 * idh2 } else { idh2 });
    g.tet2 = bernoulli(rng, if g.idh1 || g.idh2 { 0.25 * tet2 } else { tet2 });
    let nras = if g.is(Balanced::Inv16) {
        0.40
    } else if g.is(Balanced::T8_21) {
        0.25
    } else if g.is(Balanced::Inv3) {
        0.30
    } else {
        by_class(0.18, 0.0, 0.05, 0.12)
    };
    g.nras = bernoulli(rng, nras);
    g.kras = bernoulli(rng, by_class(0.04, 0.12, 0.03, 0.05));
    g.ptpn11 = bernoulli(rng, by_class(0.13, 0.02, 0.01, 0.03));
    g.kit = bernoulli(rng, by_class(0.0, 0.30, 0.0, 0.004));
    let wt1 = if g.cebpa {
        0.20
    } else if g.flt3_itd {
        0.12
    } else {
        0.04
    };
    g.wt1 = bernoulli(rng, wt1 * (-0.2 * a).exp());

    // Myelodysplasia-related genes: with age and sAML; never RUNX1/ASXL1 with NPM1 or CBF.
    let mr = 0.85 * (0.65 * a).exp() * if secondary { 2.2 } else { 1.0 } * adv_mix.exp();
    let mr_factor = by_class(0.08, 0.01, 0.3, 1.0) * mr;
    if other {
        let ck = if g.complex { 0.3 } else { 1.0 };
        g.runx1 = bernoulli(
            rng,
            0.19 * (0.25 * a).exp() * ck * if secondary { 1.6 } else { 1.0 } * adv_mix.exp(),
        );
        g.asxl1 = bernoulli(
            rng,
            0.17 * (0.35 * a).exp() * ck * if secondary { 1.8 } else { 1.0 } * adv_mix.exp(),
        );
    }
    g.srsf2 = bernoulli(rng, 0.10 * mr_factor);
    g.sf3b1 = bernoulli(rng, 0.035 * mr_factor);
    g.u2af1 = bernoulli(rng, 0.035 * mr_factor);
    g.zrsr2 = bernoulli(rng, 0.02 * mr_factor);
    g.bcor = bernoulli(rng, 0.045 * mr_factor);
    g.ezh2 = bernoulli(rng, 0.035 * mr_factor);
    g.stag2 = bernoulli(rng, 0.06 * mr_factor);

    // Normal karyotype: no flagged lesion and no other clonal abnormality (del(9q), +11, +13,
    // −Y, … are not in the registry's core flags and are drawn only to decide this).
    let any_lesion = g.balanced.is_some() || g.complex || g.minus5_5q || g.mono7 || g.mono17 || g.plus8;
    if !any_lesion {
        let other_abnormality = if g.npm1 { 0.08 } else { 0.22 };
        g.normal_karyotype = !bernoulli(rng, other_abnormality);
    }
    g
}
