//! ELN 2017 and ELN 2022 genetic risk, derived from the genetics by the published rules
//! (Döhner et al., Blood 2017;129:424 and Blood 2022;140:1345), never sampled.
//!
//! Conventions where the registry's columns do not carry what the classification needs:
//! - The FLT3-ITD allelic ratio is not recorded: ELN 2017 counts every FLT3-ITD as high ratio
//!   (NPM1 + FLT3-ITD is intermediate, wild-type NPM1 + FLT3-ITD adverse).
//! - `MLL_REARRANGED` stands for KMT2A rearrangements other than t(9;11) (adverse).
//! - `CEBPA_bi` stands for biallelic (2017) and bZIP in-frame (2022) CEBPA mutation.
//! - Precedence: t(8;21)/inv(16) are favourable whatever else is present; then adverse
//!   karyotype or TP53 makes adverse (also over NPM1 and CEBPA); then NPM1 without FLT3-ITD or
//!   CEBPA makes favourable; then the version's adverse genes (2022: the myelodysplasia-related
//!   genes; 2017: wild-type NPM1 with FLT3-ITD, RUNX1, ASXL1) make adverse; the rest is
//!   intermediate. The dictionary's `eln2017_*` and `eln2022_*` rules state exactly this.

use super::genetics::Genetics;

/// An ELN genetic risk class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Risk {
    Favorable,
    Intermediate,
    Adverse,
}

impl Risk {
    /// The dictionary level of the class.
    pub fn label(self) -> &'static str {
        match self {
            Risk::Favorable => "favorable",
            Risk::Intermediate => "intermediate",
            Risk::Adverse => "adverse",
        }
    }

    /// Index 0, 1, 2 for favourable, intermediate, adverse (for parameter tables).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The part both versions share: `Some` when CBF, adverse karyotype, TP53, NPM1 without
/// FLT3-ITD or CEBPA decide the class.
fn shared(g: &Genetics) -> Option<Risk> {
    if g.cbf() {
        Some(Risk::Favorable)
    } else if g.adverse_karyotype() || g.tp53 {
        Some(Risk::Adverse)
    } else if (g.npm1 && !g.flt3_itd) || g.cebpa {
        Some(Risk::Favorable)
    } else {
        None
    }
}

/// ELN 2022 genetic risk.
pub(crate) fn eln2022(g: &Genetics) -> Risk {
    shared(g).unwrap_or(if g.mr_gene() { Risk::Adverse } else { Risk::Intermediate })
}

/// ELN 2017 genetic risk (every FLT3-ITD counted as high allelic ratio).
pub(crate) fn eln2017(g: &Genetics) -> Risk {
    shared(g).unwrap_or(if (!g.npm1 && g.flt3_itd) || g.runx1 || g.asxl1 {
        Risk::Adverse
    } else {
        Risk::Intermediate
    })
}

#[cfg(test)]
mod tests {
    use super::super::genetics::Balanced;
    use super::*;

    fn with(f: impl FnOnce(&mut Genetics)) -> Genetics {
        let mut g = Genetics::default();
        f(&mut g);
        g
    }

    #[test]
    fn published_examples() {
        // NPM1 without FLT3-ITD: favourable in both.
        let g = with(|g| g.npm1 = true);
        assert_eq!((eln2017(&g), eln2022(&g)), (Risk::Favorable, Risk::Favorable));
        // NPM1 with FLT3-ITD: intermediate in both (2017: high ratio assumed).
        let g = with(|g| {
            g.npm1 = true;
            g.flt3_itd = true
        });
        assert_eq!((eln2017(&g), eln2022(&g)), (Risk::Intermediate, Risk::Intermediate));
        // Wild-type NPM1 with FLT3-ITD: adverse in 2017 (high ratio), intermediate in 2022.
        let g = with(|g| g.flt3_itd = true);
        assert_eq!((eln2017(&g), eln2022(&g)), (Risk::Adverse, Risk::Intermediate));
        // SRSF2 alone: adverse only in 2022.
        let g = with(|g| g.srsf2 = true);
        assert_eq!((eln2017(&g), eln2022(&g)), (Risk::Intermediate, Risk::Adverse));
        // RUNX1: adverse in both; with NPM1 (favourable subtype) not adverse.
        let g = with(|g| g.runx1 = true);
        assert_eq!((eln2017(&g), eln2022(&g)), (Risk::Adverse, Risk::Adverse));
        let g = with(|g| {
            g.runx1 = true;
            g.npm1 = true
        });
        assert_eq!((eln2017(&g), eln2022(&g)), (Risk::Favorable, Risk::Favorable));
        // NPM1 with adverse karyotype: adverse (ELN 2022 footnote).
        let g = with(|g| {
            g.npm1 = true;
            g.complex = true
        });
        assert_eq!(eln2022(&g), Risk::Adverse);
        // t(8;21) with KIT and -7: favourable.
        let g = with(|g| {
            g.balanced = Some(Balanced::T8_21);
            g.kit = true;
            g.mono7 = true
        });
        assert_eq!((eln2017(&g), eln2022(&g)), (Risk::Favorable, Risk::Favorable));
        // TP53: adverse; inv(3): adverse; +8 alone: intermediate; normal karyotype, no
        // mutation: intermediate.
        assert_eq!(eln2022(&with(|g| g.tp53 = true)), Risk::Adverse);
        assert_eq!(eln2017(&with(|g| g.balanced = Some(Balanced::Inv3))), Risk::Adverse);
        assert_eq!(eln2022(&with(|g| g.plus8 = true)), Risk::Intermediate);
        assert_eq!(eln2022(&Genetics::default()), Risk::Intermediate);
        // CEBPA with an MR gene: favourable in 2022.
        let g = with(|g| {
            g.cebpa = true;
            g.bcor = true
        });
        assert_eq!(eln2022(&g), Risk::Favorable);
    }
}
