//! Drafting a data dictionary from a data file (`synthema schema infer`).
//!
//! The draft is a starting point for a data steward, never a public dictionary as it stands:
//! the bounds and levels it holds are read from the data, so they are themselves disclosive
//! (the minimum age of a small cohort can single a patient out). The dictionary's description
//! and the returned warnings say so; the steward must replace them with public values before the
//! dictionary is used for private synthesis.

use crate::csv::DecimalSeparator;
use crate::date::Date;
use crate::error::{Error, Result};
use crate::schema::{Column, Dictionary, Kind, Missing};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// The warning every inferred dictionary carries (in its description and in the warnings).
pub const DISCLOSURE_WARNING: &str = "bounds and levels were read from the data and are themselves disclosive: \
replace them with public values (clinical ranges, code lists) before using this dictionary for private synthesis";

/// Tokens read as "missing", in the order a drafted column lists them (the first one seen is
/// the one written for missing values).
pub const MISSING_TOKENS: [&str; 5] = ["", "NA", "N/A", "NULL", "NaN"];

/// Date formats tried, in this order.
pub const DATE_FORMATS: [&str; 3] = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"];

/// Options of [`infer`].
#[derive(Debug, Clone, PartialEq)]
pub struct InferOptions {
    /// A text column with at most this many distinct values is categorical.
    pub max_levels: usize,
    /// The decimal separator of real numbers: with [`DecimalSeparator::Comma`], `3,5` is the
    /// real number 3.5 and `3.5` is not a number.
    pub decimal: DecimalSeparator,
}

impl Default for InferOptions {
    fn default() -> InferOptions {
        InferOptions {
            max_levels: 30,
            decimal: DecimalSeparator::Point,
        }
    }
}

/// A drafted dictionary and what the reader must know about it.
#[derive(Debug, Clone)]
pub struct Inferred {
    pub dictionary: Dictionary,
    /// The disclosure warning first, then remarks per column (empty columns, guesses).
    pub warnings: Vec<String>,
}

/// Drafts a dictionary named `name` from a header and raw string records (one `Vec` per row,
/// fields in header order), so that any CSV dialect can feed it.
///
/// Per column, the first type that fits every non-missing value wins: identifier by name (`id`,
/// `*_id`, `mrn`, `patient`, `patient_id`/`patientid`/`patient_no`/`patient_nr`/`patient_number`),
/// boolean (`0`/`1` or `true`/`false` in one spelling), integer (no leading zeros), real, date
/// (formats of [`DATE_FORMATS`]), categorical (at most `max_levels` distinct values, sorted
/// naturally), identifier (more distinct values than `max_levels`, all different), text.
/// Observed minimum and maximum become bounds. Missing is allowed when one of [`MISSING_TOKENS`]
/// was seen, with the tokens seen.
///
/// A record whose length differs from the header's is an [`Error::Data`]; record `n` (1-based)
/// is reported at line `n + 1`, the header being line 1.
pub fn infer(
    header: &[String],
    records: impl Iterator<Item = Result<Vec<String>>>,
    name: &str,
    opts: &InferOptions,
) -> Result<Inferred> {
    let err = |line: u64, message: String| Error::Data {
        source_name: name.into(),
        line,
        message,
    };
    if header.is_empty() {
        return Err(err(1, "the header has no columns".into()));
    }
    let mut seen_names = HashSet::new();
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            return Err(err(1, format!("column {} has an empty name", i + 1)));
        }
        if !seen_names.insert(h.as_str()) {
            return Err(err(1, format!("column {h:?} appears twice in the header")));
        }
    }
    let mut stats: Vec<ColumnStats> = header.iter().map(|_| ColumnStats::default()).collect();
    let mut rows = 0u64;
    for record in records {
        let record = record?;
        rows += 1;
        if record.len() != header.len() {
            return Err(err(
                rows + 1,
                format!(
                    "record {rows} has {} fields, but the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
        }
        for (s, value) in stats.iter_mut().zip(record) {
            s.observe(value);
        }
    }
    let mut warnings = vec![format!("{name}: {DISCLOSURE_WARNING}")];
    let mut columns = Vec::with_capacity(header.len());
    for (column_name, s) in header.iter().zip(stats) {
        let (column, warning) = s.into_column(column_name, rows, opts);
        if let Some(w) = warning {
            warnings.push(format!("column {column_name:?}: {w}"));
        }
        columns.push(column);
    }
    Ok(Inferred {
        dictionary: Dictionary {
            name: name.into(),
            description: format!(
                "Drafted from {rows} rows of {name} by `synthema schema infer`. WARNING: {DISCLOSURE_WARNING}."
            ),
            columns,
            time_to_event: Vec::new(),
            rules: Vec::new(),
        },
        warnings,
    })
}

/// What was seen in one column.
#[derive(Debug, Default)]
struct ColumnStats {
    /// Missing tokens seen (a subset of [`MISSING_TOKENS`]).
    missing_seen: HashSet<String>,
    n_missing: u64,
    /// Distinct non-missing values and how often each was seen.
    distinct: HashMap<String, u64>,
    n_values: u64,
}

impl ColumnStats {
    fn observe(&mut self, value: String) {
        if MISSING_TOKENS.contains(&value.as_str()) {
            self.n_missing += 1;
            self.missing_seen.insert(value);
        } else {
            self.n_values += 1;
            *self.distinct.entry(value).or_insert(0) += 1;
        }
    }

    fn into_column(self, name: &str, rows: u64, opts: &InferOptions) -> (Column, Option<String>) {
        let (missing, missing_tokens) = if self.n_missing > 0 {
            let tokens: Vec<String> = MISSING_TOKENS
                .iter()
                .filter(|t| self.missing_seen.contains(**t))
                .map(|t| t.to_string())
                .collect();
            (Missing::Allowed, tokens)
        } else {
            (Missing::Forbidden, vec![String::new()])
        };
        let values: Vec<&str> = self.distinct.keys().map(String::as_str).collect();
        let mut warning = None;
        let (kind, how) = if self.n_values == 0 {
            warning = Some(if rows == 0 {
                "no rows: typed as text; set its type by hand".to_string()
            } else {
                format!("all {rows} values are missing: typed as text; set its type by hand")
            });
            (Kind::Text, "no values seen".to_string())
        } else if is_identifier_name(name) {
            (Kind::Identifier, "identifier by its name".to_string())
        } else if let Some(kind) = boolean(&values) {
            (kind, "boolean tokens".to_string())
        } else if let Some(kind) = integer(&values) {
            (kind, "observed min and max".to_string())
        } else if let Some(kind) = real(&values, opts.decimal == DecimalSeparator::Comma) {
            (kind, "observed min and max".to_string())
        } else if let Some(kind) = date(&values) {
            (kind, "observed first and last date".to_string())
        } else if values.len() <= opts.max_levels {
            let mut levels: Vec<String> = values.iter().map(|s| s.to_string()).collect();
            levels.sort_by(|a, b| natural_cmp(a, b));
            (
                Kind::Categorical {
                    levels,
                    groups: Vec::new(),
                },
                "levels seen in the data".to_string(),
            )
        } else if values.len() as u64 == self.n_values {
            warning = Some(format!(
                "{} different values, all distinct: typed as identifier (never modelled)",
                values.len()
            ));
            (Kind::Identifier, "all values distinct".to_string())
        } else {
            warning = Some(format!(
                "{} distinct values (more than {}): typed as free text, excluded from modelling",
                values.len(),
                opts.max_levels
            ));
            (Kind::Text, "too many distinct values for a categorical".to_string())
        };
        let description = format!(
            "Inferred as {} from {} values ({} missing): {how}; review before use.",
            kind.name(),
            self.n_values,
            self.n_missing
        );
        (
            Column {
                name: name.into(),
                kind,
                missing,
                missing_tokens,
                description,
            },
            warning,
        )
    }
}

/// `id`, `mrn`, `*_id` (also `* id`, `*-id`), `patient`, and `patient` followed by an id-like
/// suffix (`patient_id`, `patientid`, `patient_no`, `patient_nr`, `patient_number`).
fn is_identifier_name(name: &str) -> bool {
    let n = name.trim().to_lowercase();
    if n == "id" || n == "mrn" || n.ends_with("_id") || n.ends_with(" id") || n.ends_with("-id") {
        return true;
    }
    match n.strip_prefix("patient") {
        Some(rest) => {
            let rest = rest.trim_start_matches(['_', ' ', '-', '.']);
            matches!(rest, "" | "id" | "no" | "nr" | "number" | "num")
        }
        None => false,
    }
}

fn boolean(values: &[&str]) -> Option<Kind> {
    const PAIRS: [(&str, &str); 4] = [("1", "0"), ("true", "false"), ("TRUE", "FALSE"), ("True", "False")];
    PAIRS
        .iter()
        .find(|(t, f)| values.iter().all(|v| v == t || v == f))
        .map(|(t, f)| Kind::Boolean {
            true_token: (*t).into(),
            false_token: (*f).into(),
        })
}

/// Digits with an optional minus and no leading zero (`007` is a code, not the number 7).
fn parse_integer(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    v.parse().ok()
}

fn integer(values: &[&str]) -> Option<Kind> {
    let parsed: Option<Vec<i64>> = values.iter().map(|v| parse_integer(v)).collect();
    let parsed = parsed?;
    Some(Kind::Integer {
        unit: None,
        min: parsed.iter().min().copied(),
        max: parsed.iter().max().copied(),
        bins: Vec::new(),
    })
}

/// A plain decimal number: `-?digits(sep digits)?(e-?digits)?` with `.` or `,` as separator and
/// no leading zero in the integer part.
fn parse_real(v: &str, decimal_comma: bool) -> Option<f64> {
    let sep = if decimal_comma { b',' } else { b'.' };
    let body = v.strip_prefix('-').unwrap_or(v);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.bytes().position(|b| b == sep) {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || (int.len() > 1 && int.starts_with('0')) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    if let Some(e) = exponent
        && !all_digits(e.strip_prefix(['-', '+']).unwrap_or(e))
    {
        return None;
    }
    let normal = if decimal_comma {
        v.replace(',', ".")
    } else {
        v.to_string()
    };
    normal.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn real(values: &[&str], decimal_comma: bool) -> Option<Kind> {
    let parsed: Option<Vec<f64>> = values.iter().map(|v| parse_real(v, decimal_comma)).collect();
    let parsed = parsed?;
    let min = parsed.iter().copied().reduce(f64::min);
    let max = parsed.iter().copied().reduce(f64::max);
    Some(Kind::Real {
        unit: None,
        min,
        max,
        bins: Vec::new(),
    })
}

fn date(values: &[&str]) -> Option<Kind> {
    DATE_FORMATS.iter().find_map(|format| {
        let parsed: Option<Vec<Date>> = values.iter().map(|v| Date::parse(v, format).ok()).collect();
        let parsed = parsed?;
        Some(Kind::Date {
            format: (*format).to_string(),
            min: parsed.iter().min().copied(),
            max: parsed.iter().max().copied(),
        })
    })
}

/// Natural order: runs of digits compare as numbers (`grade 2` < `grade 10`), the rest by text.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return a.cmp(b),
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let dx = x.bytes().take_while(u8::is_ascii_digit).count();
        let dy = y.bytes().take_while(u8::is_ascii_digit).count();
        let ord = if dx > 0 && dy > 0 {
            let (nx, ny) = (x[..dx].trim_start_matches('0'), y[..dy].trim_start_matches('0'));
            let o = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
            x = &x[dx..];
            y = &y[dy..];
            o
        } else {
            let cx = x.chars().next().unwrap_or_default();
            let cy = y.chars().next().unwrap_or_default();
            x = &x[cx.len_utf8()..];
            y = &y[cy.len_utf8()..];
            cx.cmp(&cy)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["grade 10", "grade 2", "Grade 1", "b", "a10", "a9"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["Grade 1", "a9", "a10", "b", "grade 2", "grade 10"]);
        assert_eq!(natural_cmp("007", "7"), Ordering::Less, "ties broken by text");
    }

    #[test]
    fn number_syntax() {
        assert_eq!(parse_integer("-12"), Some(-12));
        assert_eq!(parse_integer("012"), None);
        assert_eq!(parse_integer("+1"), None);
        assert_eq!(parse_real("3,5", true), Some(3.5));
        assert_eq!(parse_real("3.5", true), None);
        assert_eq!(parse_real("1e3", false), Some(1000.0));
        assert_eq!(parse_real("inf", false), None);
        assert_eq!(parse_real(".5", false), None);
    }

    #[test]
    fn identifier_names() {
        for n in [
            "id",
            "ID",
            "patient_id",
            "Patient ID",
            "mrn",
            "sample-id",
            "patientid",
            "patient",
        ] {
            assert!(is_identifier_name(n), "{n}");
        }
        for n in ["patient_age", "idea", "valid", "sex"] {
            assert!(!is_identifier_name(n), "{n}");
        }
    }
}
