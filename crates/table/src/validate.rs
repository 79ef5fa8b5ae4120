//! Validation of data against its dictionary: parsing one raw field by its column's kind,
//! checking a typed value against its column's domain, finding the rules a row breaks, and
//! [`check`], which reads a whole CSV file and lists every problem it finds.

use crate::Problem;
use crate::csv::scan::{Next, Opened, Scanner};
use crate::csv::{CsvOptions, DecimalSeparator};
use crate::date::Date;
use crate::error::Result;
use crate::rule::{Rule, Truth};
use crate::schema::{Column, Dictionary, Kind, Missing};
use crate::value::Value;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

/// How many levels a "not a level" message lists before eliding the rest.
const LEVELS_SHOWN: usize = 12;

/// The message for a missing value in a column that forbids it.
pub const MISSING_FORBIDDEN: &str = "missing value, but missing = \"forbidden\"";

/// Every problem [`check`] found in one file (up to its limit).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckReport {
    /// Data rows read (the header excluded), up to where reading stopped.
    pub rows: u64,
    /// The problems listed, in file order.
    pub problems: Vec<Problem>,
    /// How many more problems were found but not listed, because of the limit.
    pub not_listed: u64,
}

impl CheckReport {
    /// Whether the file has no problem at all.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.not_listed == 0
    }

    /// The number of problems found, listed or not.
    pub fn total(&self) -> u64 {
        self.problems.len() as u64 + self.not_listed
    }

    fn add(&mut self, problem: Problem, limit: usize) {
        if self.problems.len() < limit {
            self.problems.push(problem);
        } else {
            self.not_listed += 1;
        }
    }
}

impl fmt::Display for CheckReport {
    /// One problem per line, then a line for the problems not listed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.problems {
            writeln!(f, "{p}")?;
        }
        if self.not_listed > 0 {
            writeln!(f, "… and {} more problems not listed", self.not_listed)?;
        }
        Ok(())
    }
}

/// Reads a CSV file against `dict` and lists every problem: header, quoting, encoding,
/// ragged rows, values outside their column's domain and broken rules.
///
/// At most `limit` problems are listed; the others are counted in
/// [`CheckReport::not_listed`]. A problem that stops reading (header mismatch, bad quoting,
/// invalid encoding) ends the check and is always listed, even past the limit. The error case
/// is for I/O failures of `reader` and invalid `opts`.
pub fn check<R: Read>(
    reader: R,
    source_name: &str,
    dict: Arc<Dictionary>,
    opts: &CsvOptions,
    limit: usize,
) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let mut scanner = match Scanner::open(reader, source_name, dict, opts)? {
        Opened::Ready(scanner) => scanner,
        Opened::Refused(problems) => {
            let n = problems.len();
            for (i, p) in problems.into_iter().enumerate() {
                // The last header problem stands for the stop and is always listed.
                if i + 1 == n && report.problems.len() >= limit {
                    report.problems.push(p);
                } else {
                    report.add(p, limit);
                }
            }
            return Ok(report);
        }
    };
    loop {
        match scanner.next_row()? {
            Next::End => return Ok(report),
            Next::Fatal(p) => {
                report.problems.push(p);
                return Ok(report);
            }
            Next::Ragged(p) => {
                report.rows += 1;
                report.add(p, limit);
            }
            Next::Row { problems, .. } => {
                report.rows += 1;
                for p in problems {
                    report.add(p, limit);
                }
            }
        }
    }
}

/// Parses one raw field by its column: a missing token is [`Value::Missing`] (an error if the
/// column forbids missing values), anything else must parse by the column's kind and lie in
/// its domain. Categorical cells come back as [`Value::Text`] with the level label. The error
/// is the rule broken, in words.
pub fn parse_field(column: &Column, raw: &str, decimal: DecimalSeparator) -> Result<Value, String> {
    if column.missing_tokens.iter().any(|t| t == raw) {
        return match column.missing {
            Missing::Allowed => Ok(Value::Missing),
            Missing::Forbidden => Err(MISSING_FORBIDDEN.into()),
        };
    }
    let value = match &column.kind {
        Kind::Categorical { .. } | Kind::Identifier | Kind::Text => Value::Text(raw.to_string()),
        Kind::Integer { .. } => Value::Int(parse_integer(raw)?),
        Kind::Real { .. } => Value::Real(parse_real(raw, decimal)?),
        Kind::Date { format, .. } => Value::Date(Date::parse(raw, format)?),
        Kind::Boolean {
            true_token,
            false_token,
        } => {
            if raw == true_token {
                Value::Bool(true)
            } else if raw == false_token {
                Value::Bool(false)
            } else {
                return Err(format!(
                    "{raw:?} is not a boolean token (true: {true_token:?}, false: {false_token:?})"
                ));
            }
        }
    };
    check_value(column, &value)?;
    Ok(value)
}

fn parse_integer(raw: &str) -> Result<i64, String> {
    use std::num::IntErrorKind;
    raw.parse::<i64>().map_err(|e| match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => {
            format!("{raw:?} is outside the range of a 64-bit integer")
        }
        _ => format!("{raw:?} is not an integer"),
    })
}

/// Parses a real number written with `decimal` as its separator (no thousands separators).
pub fn parse_real(raw: &str, decimal: DecimalSeparator) -> Result<f64, String> {
    let other = match decimal {
        DecimalSeparator::Point => ',',
        DecimalSeparator::Comma => '.',
    };
    let not_a_number = || {
        format!(
            "{raw:?} is not a number (the decimal separator is a {})",
            decimal.name()
        )
    };
    if raw.contains(other) {
        return Err(not_a_number());
    }
    let parsed = match decimal {
        DecimalSeparator::Point => raw.parse::<f64>(),
        DecimalSeparator::Comma => raw.replace(',', ".").parse::<f64>(),
    };
    // Rust also parses "inf", "infinity" and "nan": they are not data.
    let x = parsed.map_err(|_| not_a_number())?;
    if !x.is_finite() {
        return Err(if raw.bytes().any(|b| b.is_ascii_digit()) {
            format!("{raw:?} is outside the range of a 64-bit float")
        } else {
            not_a_number()
        });
    }
    Ok(x)
}

/// Checks a typed value against its column's domain: missing policy, level, bounds. The
/// error is the rule broken, in words (e.g. `value 130 is above max 120 (years)`).
pub fn check_value(column: &Column, value: &Value) -> Result<(), String> {
    match (&column.kind, value) {
        (_, Value::Missing) => match column.missing {
            Missing::Allowed => Ok(()),
            Missing::Forbidden => Err(MISSING_FORBIDDEN.into()),
        },
        (Kind::Categorical { levels, .. }, Value::Text(s)) => {
            if levels.iter().any(|l| l == s) {
                Ok(())
            } else {
                Err(format!("{s:?} is not a level (levels: {})", list_levels(levels)))
            }
        }
        (Kind::Integer { unit, min, max, .. }, Value::Int(x)) => check_bounds(*x, *min, *max, unit.as_deref()),
        (Kind::Real { unit, min, max, .. }, Value::Real(x)) => {
            if !x.is_finite() {
                return Err(format!("{x} is not a finite number"));
            }
            check_bounds(*x, *min, *max, unit.as_deref())
        }
        (Kind::Real { unit, min, max, .. }, Value::Int(x)) => check_bounds(*x as f64, *min, *max, unit.as_deref()),
        (Kind::Date { min, max, .. }, Value::Date(d)) => {
            if !is_four_digit_year(*d) {
                return Err(format!(
                    "date {} days from 1970-01-01 is outside the years 0000 to 9999",
                    d.days()
                ));
            }
            if let Some(m) = min
                && d < m
            {
                return Err(format!("date {d} is before min {m}"));
            }
            if let Some(m) = max
                && d > m
            {
                return Err(format!("date {d} is after max {m}"));
            }
            Ok(())
        }
        (Kind::Boolean { .. }, Value::Bool(_)) => Ok(()),
        (Kind::Identifier | Kind::Text, Value::Text(_)) => Ok(()),
        (kind, v) => Err(format!("a {} column cannot hold {v}", kind.name())),
    }
}

/// Whether `d` lies in the years 0000 to 9999, the dates a `%Y` field can hold (and the
/// range in which dates can be shown).
pub fn is_four_digit_year(d: Date) -> bool {
    let first = Date::from_ymd(0, 1, 1);
    let last = Date::from_ymd(9999, 12, 31);
    matches!((first, last), (Some(a), Some(b)) if a <= d && d <= b)
}

fn check_bounds<T: PartialOrd + fmt::Display>(
    x: T,
    min: Option<T>,
    max: Option<T>,
    unit: Option<&str>,
) -> Result<(), String> {
    let unit = unit.map(|u| format!(" ({u})")).unwrap_or_default();
    if let Some(m) = min
        && x < m
    {
        return Err(format!("value {x} is below min {m}{unit}"));
    }
    if let Some(m) = max
        && x > m
    {
        return Err(format!("value {x} is above max {m}{unit}"));
    }
    Ok(())
}

fn list_levels(levels: &[String]) -> String {
    let mut shown = levels.iter().take(LEVELS_SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if levels.len() > LEVELS_SHOWN {
        shown.push_str(&format!(", … and {} more", levels.len() - LEVELS_SHOWN));
    }
    shown
}

/// The dictionary rules that `row` (values in dictionary order) breaks: those that evaluate to
/// [`Truth::False`]; a rule that is `Unknown` (e.g. on a missing value) is not broken.
pub fn broken_rules<'a>(dict: &'a Dictionary, row: &'a [Value]) -> impl Iterator<Item = &'a Rule> + 'a {
    dict.rules.iter().filter(move |r| r.eval(row) == Truth::False)
}

/// The message for a broken rule: `rule efs_le_os broken: EFS_TIME <= OS_TIME`.
pub fn rule_broken(rule: &Rule) -> String {
    format!("rule {} broken: {}", rule.name, rule.source)
}
