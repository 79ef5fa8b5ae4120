//! The anonymisation config: a TOML file (format in `docs/anonymization.md`), parsed with
//! located errors into checked types.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// Version of the config format this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// A checked anonymisation config.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// What happens to columns typed `identifier`.
    pub identifiers: IdentifierAction,
    /// Optional per-patient date shifting of every date column.
    pub date_shift: Option<DateShift>,
    /// Quasi-identifiers with their generalisation hierarchies, in lattice order.
    pub quasi_identifiers: Vec<QuasiIdentifier>,
    /// Sensitive attributes (for l-diversity and t-closeness).
    pub sensitive: Vec<Sensitive>,
    /// The privacy models to satisfy.
    pub privacy: Privacy,
    /// Largest share of records that may be suppressed, in `[0, 1]`.
    pub suppression_limit: f64,
    /// The information-loss metric the search minimises.
    pub metric: Metric,
    /// What happens to suppressed records in the output.
    pub suppressed_records: SuppressedRecords,
    /// Prosecutor risk above which a record is counted as "at risk" in the report.
    pub risk_threshold: f64,
    /// Lattices with more nodes than this are searched by the greedy heuristic (not optimal).
    pub lattice_limit: u64,
}

/// Treatment of direct identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierAction {
    /// Drop identifier columns.
    Remove,
    /// Replace each value by its keyed pseudonym of `hex_chars` hex characters.
    Pseudonymize { hex_chars: usize },
}

/// Per-patient date shifting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateShift {
    /// Column holding the patient identifier (whose original value keys the offset).
    pub patient: String,
    /// Offsets are uniform in `-max_days..=max_days`.
    pub max_days: u32,
}

/// One quasi-identifier and how to generalise it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuasiIdentifier {
    pub column: String,
    pub hierarchy: HierarchySpec,
}

/// A generalisation hierarchy as declared; level 0 is the value itself, the top level `*` is
/// always added.
#[derive(Debug, Clone, PartialEq)]
pub enum HierarchySpec {
    /// Derived from the dictionary: numeric bins then doubling, dates month then year,
    /// categorical groups, otherwise value then `*`.
    Dictionary,
    /// Numbers: intervals `[anchor + i·w, anchor + (i+1)·w)` for each width `w` (each a multiple
    /// of the previous one). `anchor` defaults to the dictionary minimum, else 0.
    Intervals { widths: Vec<f64>, anchor: Option<f64> },
    /// Dates: truncation to these units, in increasing order.
    Dates(Vec<DateUnit>),
    /// Codes: number of trailing characters masked by `*` at each level (increasing).
    Mask(Vec<usize>),
    /// Categories: each level maps group names to the labels of the level below.
    Groups(Vec<BTreeMap<String, Vec<String>>>),
}

/// A date truncation unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateUnit {
    Month,
    Year,
}

/// A sensitive attribute and the ground distance of its t-closeness.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitive {
    pub column: String,
    /// `None`: ordered for numbers and dates, equal for the rest.
    pub distance: Option<Distance>,
}

/// Ground distance of t-closeness (Li, Li & Venkatasubramanian 2007).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distance {
    /// Every two values are at distance 1: EMD = ½ Σ |pᵢ − qᵢ|.
    Equal,
    /// Values in order (numbers, dates, or categorical level order):
    /// EMD = (1/(m−1)) Σᵢ |Σ_{j≤i} (pⱼ − qⱼ)|.
    Ordered,
}

/// The privacy models; at least `k` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Privacy {
    pub k: u32,
    pub l_diversity: Option<LDiversity>,
    /// Largest allowed EMD between a class and the whole input, per sensitive attribute.
    pub t_closeness: Option<f64>,
}

/// l-diversity variant and parameter (Machanavajjhala et al. 2007).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LDiversity {
    /// At least `l` distinct sensitive values per class.
    Distinct { l: u32 },
    /// Entropy of the sensitive values per class at least `ln l`.
    Entropy { l: f64 },
    /// Recursive (c,l): r₁ < c·(r_l + … + r_m), counts sorted in decreasing order.
    Recursive { c: f64, l: u32 },
}

impl LDiversity {
    /// Records a class needs at least to satisfy the model (`l` distinct values).
    pub fn min_class_size(&self) -> u32 {
        match *self {
            LDiversity::Distinct { l } | LDiversity::Recursive { l, .. } => l,
            LDiversity::Entropy { l } => l.ceil().max(1.0) as u32,
        }
    }
}

/// The information-loss metric minimised by the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Iyengar's loss metric (ARX "Loss"), in `[0, 1]`.
    Loss,
    /// Discernibility (Bayardo & Agrawal 2005): Σ |E|² over kept classes + n per suppressed record.
    Discernibility,
}

/// What the output does with suppressed records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressedRecords {
    /// Suppressed records are left out of the output.
    Remove,
    /// Suppressed records are kept with every quasi-identifier replaced by `*`.
    Mask,
}

// ---- file format ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDto {
    format_version: u32,
    suppression_limit: f64,
    #[serde(default = "default_metric")]
    metric: Metric,
    #[serde(default = "default_suppressed")]
    suppressed_records: SuppressedRecords,
    #[serde(default = "default_threshold")]
    risk_threshold: f64,
    #[serde(default = "default_lattice_limit")]
    lattice_limit: u64,
    identifiers: toml::Spanned<IdentifiersDto>,
    #[serde(default)]
    date_shift: Option<toml::Spanned<DateShiftDto>>,
    privacy: toml::Spanned<PrivacyDto>,
    #[serde(default)]
    quasi_identifier: Vec<toml::Spanned<QiDto>>,
    #[serde(default)]
    sensitive: Vec<toml::Spanned<SensitiveDto>>,
}

fn default_metric() -> Metric {
    Metric::Loss
}
fn default_suppressed() -> SuppressedRecords {
    SuppressedRecords::Remove
}
fn default_threshold() -> f64 {
    0.2
}
fn default_lattice_limit() -> u64 {
    100_000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentifiersDto {
    action: ActionName,
    #[serde(default)]
    length: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ActionName {
    Remove,
    Pseudonymize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DateShiftDto {
    patient: String,
    max_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyDto {
    k: u32,
    #[serde(default)]
    l: Option<f64>,
    #[serde(default)]
    l_variant: Option<LVariant>,
    #[serde(default)]
    c: Option<f64>,
    #[serde(default)]
    t: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LVariant {
    Distinct,
    Entropy,
    Recursive,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QiDto {
    column: String,
    #[serde(default)]
    intervals: Option<Vec<f64>>,
    #[serde(default)]
    anchor: Option<f64>,
    #[serde(default)]
    dates: Option<Vec<DateUnit>>,
    #[serde(default)]
    mask: Option<Vec<usize>>,
    #[serde(default)]
    groups: Option<Vec<BTreeMap<String, Vec<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SensitiveDto {
    column: String,
    #[serde(default)]
    distance: Option<Distance>,
}

/// Converts a byte offset in `text` to a 1-based (line, column).
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Config {
    /// Parses and checks a config. `source_name` (a file name) is used in error messages.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Config> {
        let err = |span: std::ops::Range<usize>, message: String| {
            let (line, col) = line_col(text, span.start);
            Error::Config {
                source_name: source_name.into(),
                line,
                col,
                message,
            }
        };
        let file: FileDto = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            err(span, e.message().trim().to_string())
        })?;
        if file.format_version != FORMAT_VERSION {
            return Err(err(
                0..0,
                format!(
                    "format_version {} is not supported (this build reads version {FORMAT_VERSION})",
                    file.format_version
                ),
            ));
        }
        if !(0.0..=1.0).contains(&file.suppression_limit) {
            return Err(err(
                0..0,
                format!("suppression_limit must lie in [0, 1], found {}", file.suppression_limit),
            ));
        }
        if !(file.risk_threshold > 0.0 && file.risk_threshold <= 1.0) {
            return Err(err(
                0..0,
                format!("risk_threshold must lie in (0, 1], found {}", file.risk_threshold),
            ));
        }
        let ids_span = file.identifiers.span();
        let ids = file.identifiers.into_inner();
        let identifiers = match (ids.action, ids.length) {
            (ActionName::Remove, None) => IdentifierAction::Remove,
            (ActionName::Remove, Some(_)) => {
                return Err(err(
                    ids_span,
                    "`length` applies only to action = \"pseudonymize\"".into(),
                ));
            }
            (ActionName::Pseudonymize, length) => {
                let hex_chars = length.unwrap_or(32);
                if !(16..=64).contains(&hex_chars) {
                    return Err(err(
                        ids_span,
                        format!("pseudonym length must be 16 to 64 hex characters, found {hex_chars}"),
                    ));
                }
                IdentifierAction::Pseudonymize { hex_chars }
            }
        };
        let date_shift = match file.date_shift {
            None => None,
            Some(d) => {
                let span = d.span();
                let d = d.into_inner();
                if d.max_days == 0 || d.max_days > 36_500 {
                    return Err(err(
                        span,
                        format!("date_shift.max_days must be 1 to 36500, found {}", d.max_days),
                    ));
                }
                Some(DateShift {
                    patient: d.patient,
                    max_days: d.max_days,
                })
            }
        };
        let p_span = file.privacy.span();
        let p = file.privacy.into_inner();
        if p.k == 0 {
            return Err(err(p_span, "privacy.k must be at least 1".into()));
        }
        let l_diversity = match (p.l, p.l_variant, p.c) {
            (None, None, None) => None,
            (Some(l), variant, c) => {
                let whole = |what: &str| -> Result<u32> {
                    if l >= 1.0 && l.fract() == 0.0 && l <= f64::from(u32::MAX) {
                        Ok(l as u32)
                    } else {
                        Err(err(
                            p_span.clone(),
                            format!("{what} l-diversity needs a whole l ≥ 1, found {l}"),
                        ))
                    }
                };
                match (variant.unwrap_or(LVariant::Distinct), c) {
                    (LVariant::Distinct, None) => Some(LDiversity::Distinct { l: whole("distinct")? }),
                    (LVariant::Entropy, None) => {
                        if !(l >= 1.0 && l.is_finite()) {
                            return Err(err(p_span, format!("entropy l-diversity needs l ≥ 1, found {l}")));
                        }
                        Some(LDiversity::Entropy { l })
                    }
                    (LVariant::Recursive, Some(c)) => {
                        if !(c > 0.0 && c.is_finite()) {
                            return Err(err(p_span, format!("recursive (c,l)-diversity needs c > 0, found {c}")));
                        }
                        let l = whole("recursive (c,l)")?;
                        if l < 2 {
                            return Err(err(p_span, "recursive (c,l)-diversity needs l ≥ 2".into()));
                        }
                        Some(LDiversity::Recursive { c, l })
                    }
                    (LVariant::Recursive, None) => {
                        return Err(err(p_span, "l_variant = \"recursive\" needs `c`".into()));
                    }
                    (_, Some(_)) => {
                        return Err(err(p_span, "`c` applies only to l_variant = \"recursive\"".into()));
                    }
                }
            }
            (None, _, _) => return Err(err(p_span, "`l_variant` and `c` need `l`".into())),
        };
        if let Some(t) = p.t
            && !(t > 0.0 && t <= 1.0)
        {
            return Err(err(p_span, format!("privacy.t must lie in (0, 1], found {t}")));
        }
        if file.quasi_identifier.is_empty() {
            return Err(err(0..0, "at least one [[quasi_identifier]] is required".into()));
        }
        let mut seen = HashSet::new();
        let mut quasi_identifiers = Vec::new();
        for q in file.quasi_identifier {
            let span = q.span();
            let q = q.into_inner();
            if !seen.insert(q.column.clone()) {
                return Err(err(span, format!("quasi-identifier {:?} is declared twice", q.column)));
            }
            let hierarchy = q
                .hierarchy()
                .map_err(|m| err(span, format!("quasi-identifier {:?}: {m}", q.column)))?;
            quasi_identifiers.push(QuasiIdentifier {
                column: q.column,
                hierarchy,
            });
        }
        let mut sensitive = Vec::new();
        let mut seen_sa = HashSet::new();
        for s in file.sensitive {
            let span = s.span();
            let s = s.into_inner();
            if seen.contains(&s.column) {
                return Err(Error::SensitiveIsQuasiIdentifier { column: s.column });
            }
            if !seen_sa.insert(s.column.clone()) {
                return Err(err(
                    span,
                    format!("sensitive attribute {:?} is declared twice", s.column),
                ));
            }
            sensitive.push(Sensitive {
                column: s.column,
                distance: s.distance,
            });
        }
        if (l_diversity.is_some() || p.t.is_some()) && sensitive.is_empty() {
            return Err(err(
                p_span,
                "l-diversity and t-closeness need at least one [[sensitive]] attribute".into(),
            ));
        }
        Ok(Config {
            identifiers,
            date_shift,
            quasi_identifiers,
            sensitive,
            privacy: Privacy {
                k: p.k,
                l_diversity,
                t_closeness: p.t,
            },
            suppression_limit: file.suppression_limit,
            metric: file.metric,
            suppressed_records: file.suppressed_records,
            risk_threshold: file.risk_threshold,
            lattice_limit: file.lattice_limit,
        })
    }
}

impl QiDto {
    fn hierarchy(&self) -> std::result::Result<HierarchySpec, String> {
        let given = [
            self.intervals.is_some(),
            self.dates.is_some(),
            self.mask.is_some(),
            self.groups.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given > 1 {
            return Err("give at most one of `intervals`, `dates`, `mask`, `groups`".into());
        }
        if self.anchor.is_some() && self.intervals.is_none() {
            return Err("`anchor` applies only with `intervals`".into());
        }
        if let Some(widths) = &self.intervals {
            if widths.is_empty() {
                return Err("`intervals` needs at least one width".into());
            }
            if widths.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
                return Err("interval widths must be positive numbers".into());
            }
            for w in widths.windows(2) {
                let ratio = w[1] / w[0];
                if w[1] <= w[0] || (ratio - ratio.round()).abs() > 1e-9 {
                    return Err(format!(
                        "each interval width must be a multiple of the previous one ({} then {})",
                        w[0], w[1]
                    ));
                }
            }
            if let Some(a) = self.anchor
                && !a.is_finite()
            {
                return Err("`anchor` must be finite".into());
            }
            return Ok(HierarchySpec::Intervals {
                widths: widths.clone(),
                anchor: self.anchor,
            });
        }
        if let Some(units) = &self.dates {
            if units.is_empty() || units.windows(2).any(|u| u[0] >= u[1]) {
                return Err("`dates` lists units in increasing order, e.g. [\"month\", \"year\"]".into());
            }
            return Ok(HierarchySpec::Dates(units.clone()));
        }
        if let Some(mask) = &self.mask {
            if mask.is_empty() || mask[0] == 0 || mask.windows(2).any(|m| m[0] >= m[1]) {
                return Err("`mask` lists increasing positive numbers of trailing characters".into());
            }
            return Ok(HierarchySpec::Mask(mask.clone()));
        }
        if let Some(groups) = &self.groups {
            if groups.is_empty() || groups.iter().any(|g| g.is_empty()) {
                return Err("`groups` lists one non-empty table of groups per level".into());
            }
            return Ok(HierarchySpec::Groups(groups.clone()));
        }
        Ok(HierarchySpec::Dictionary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "format_version = 1\nsuppression_limit = 0.0\n[identifiers]\naction = \"remove\"\n";

    fn parse(rest: &str) -> Result<Config> {
        Config::from_toml(&format!("{BASE}{rest}"), "c.toml")
    }

    fn message(rest: &str) -> String {
        match parse(rest) {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn models_are_parsed_into_their_variants() {
        let qi = "[[quasi_identifier]]\ncolumn = \"a\"\n[[sensitive]]\ncolumn = \"s\"\n";
        let c = parse(&format!(
            "[privacy]\nk = 3\nl = 2.5\nl_variant = \"entropy\"\nt = 0.3\n{qi}"
        ))
        .unwrap();
        assert_eq!(c.privacy.l_diversity, Some(LDiversity::Entropy { l: 2.5 }));
        assert_eq!(c.privacy.t_closeness, Some(0.3));
        assert_eq!(c.metric, Metric::Loss);
        assert_eq!(c.lattice_limit, 100_000);
        let c = parse(&format!(
            "[privacy]\nk = 3\nl = 3\nl_variant = \"recursive\"\nc = 2\n{qi}"
        ))
        .unwrap();
        assert_eq!(c.privacy.l_diversity, Some(LDiversity::Recursive { c: 2.0, l: 3 }));
        assert_eq!(c.privacy.l_diversity.map(|l| l.min_class_size()), Some(3));
    }

    #[test]
    fn inconsistent_configs_are_refused_with_a_reason() {
        let qi = "[[quasi_identifier]]\ncolumn = \"a\"\n";
        assert!(message(&format!("[privacy]\nk = 2\nl = 2\n{qi}")).contains("[[sensitive]]"));
        assert!(
            message(&format!(
                "[privacy]\nk = 2\nl = 2\nc = 1\n{qi}[[sensitive]]\ncolumn = \"s\"\n"
            ))
            .contains("`c`")
        );
        assert!(
            message(&format!(
                "[privacy]\nk = 2\nl = 2.5\n{qi}[[sensitive]]\ncolumn = \"s\"\n"
            ))
            .contains("whole l")
        );
        assert!(message(&format!("[privacy]\nk = 0\n{qi}")).contains("k must be at least 1"));
        assert!(message("[privacy]\nk = 2\n").contains("quasi_identifier"));
        let bad = "[privacy]\nk = 2\n[[quasi_identifier]]\ncolumn = \"a\"\nintervals = [5, 7]\n";
        assert!(message(bad).contains("multiple"));
        let two = "[privacy]\nk = 2\n[[quasi_identifier]]\ncolumn = \"a\"\nmask = [1]\ngroups = [{ x = [\"1\"] }]\n";
        assert!(message(two).contains("at most one"));
        let unknown = format!("[privacy]\nk = 2\nkk = 3\n{qi}");
        match parse(&unknown) {
            Err(Error::Config { line, message, .. }) => {
                assert_eq!(line, 7);
                assert!(message.contains("kk"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let both = format!("[privacy]\nk = 2\n{qi}[[sensitive]]\ncolumn = \"a\"\n");
        assert_eq!(
            parse(&both).unwrap_err(),
            Error::SensitiveIsQuasiIdentifier { column: "a".into() }
        );
    }
}
