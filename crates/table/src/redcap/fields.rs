//! Parsing of single REDCap dictionary cells: choices, validation bounds, labels, and rule
//! suggestions for branching logic.

use crate::date::Date;
use crate::schema::{Column, Kind};

/// One choice of a radio, dropdown or checkbox field.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Choice {
    pub(super) code: String,
    pub(super) label: String,
}

/// Parses `1, Male | 2, Female`: choices separated by `|`, code and label by the first comma.
pub(super) fn parse_choices(text: &str) -> Result<Vec<Choice>, String> {
    if text.trim().is_empty() {
        return Err("the field has no choices (expected \"1, Label | 2, Label\")".into());
    }
    let mut choices: Vec<Choice> = Vec::new();
    for item in text.split('|') {
        let item = item.trim();
        let Some((code, label)) = item.split_once(',') else {
            return Err(format!(
                "choice {item:?} has no comma between code and label (expected \"1, Label | 2, Label\")"
            ));
        };
        let code = code.trim();
        if code.is_empty() || code.chars().any(char::is_whitespace) {
            return Err(format!("choice {item:?} has an empty code or a code with spaces"));
        }
        if choices.iter().any(|c| c.code == code) {
            return Err(format!("choice code {code:?} is listed twice"));
        }
        choices.push(Choice {
            code: code.to_string(),
            label: label.trim().to_string(),
        });
    }
    Ok(choices)
}

/// The export column REDCap writes for checkbox option `code` of `var`: `var___code`, lowercased,
/// with characters other than letters, digits and `_` (a minus, a dot) turned into `_`.
pub(super) fn checkbox_column(var: &str, code: &str) -> String {
    let code: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{var}___{code}")
}

/// Removes HTML tags and collapses whitespace in a field label.
pub(super) fn plain_label(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    let mut in_tag = false;
    for c in label.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn describe_choices(choices: &[Choice]) -> String {
    choices
        .iter()
        .map(|c| format!("{} = {}", c.code, c.label))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn parse_int_bound(text: &str, what: &str) -> Result<Option<i64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("validation {what} {text:?} is not an integer"))
}

pub(super) fn parse_real_bound(text: &str, what: &str, decimal_comma: bool) -> Result<Option<f64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let normal = if decimal_comma {
        text.replace(',', ".")
    } else {
        text.to_string()
    };
    match normal.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(format!("validation {what} {text:?} is not a finite number")),
    }
}

pub(super) enum DateBound {
    /// `today`, `now`: not a fixed public bound.
    Relative,
    Bad(String),
}

/// Date bounds are stored as `YYYY-MM-DD`; some exports write them in the display order
/// (`dmy`, `mdy`) instead, which is accepted too.
pub(super) fn parse_date_bound(text: &str, display: &str) -> Result<Option<Date>, DateBound> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.eq_ignore_ascii_case("today") || text.eq_ignore_ascii_case("now") {
        return Err(DateBound::Relative);
    }
    if let Ok(d) = Date::parse(text, "%Y-%m-%d") {
        return Ok(Some(d));
    }
    let format = match display {
        "dmy" => "%d-%m-%Y",
        "mdy" => "%m-%d-%Y",
        _ => "%Y-%m-%d",
    };
    Date::parse(text, format)
        .map(Some)
        .map_err(|_| DateBound::Bad(format!("{text:?} is not a date (expected YYYY-MM-DD)")))
}

/// A rule suggestion for simple branching logic `[x] = 'v'` (or `<>`, or a checkbox `[x(c)]`).
/// `consequence` is what holds when the field is hidden (in the rule language).
pub(super) fn suggest_rule(logic: &str, consequence: &str, columns: &[Column]) -> String {
    let manual = "Write the condition as a [[rule]] by hand if it matters for the data.".to_string();
    let Some((lhs, op, rhs)) = split_comparison(logic) else {
        return manual;
    };
    let Some(var) = lhs.strip_prefix('[').and_then(|s| s.strip_suffix(']')) else {
        return manual;
    };
    let column = match var.split_once('(') {
        Some((v, code)) => match code.strip_suffix(')') {
            Some(code) => checkbox_column(v, code),
            None => return manual,
        },
        None => var.to_string(),
    };
    let value = rhs.trim_matches(|c| c == '\'' || c == '"');
    let Some(col) = columns.iter().find(|c| c.name == column) else {
        return manual;
    };
    let literal = match &col.kind {
        Kind::Categorical { levels, .. } if levels.iter().any(|l| l == value) => format!("'{value}'"),
        Kind::Boolean { .. } | Kind::Integer { .. } | Kind::Real { .. } if is_rule_number(value) => value.to_string(),
        _ => return manual,
    };
    let negated = if op == "=" { "!=" } else { "==" };
    format!("Suggested rule (check it): `{column}` {negated} {literal} => {consequence}")
}

/// A number the rule language reads: `-?digits(.digits)?`.
pub(super) fn is_rule_number(v: &str) -> bool {
    let body = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && digits(frac)
}

/// Splits `lhs op rhs` for a single comparison with `=` or `<>` (no `and`/`or`).
pub(super) fn split_comparison(logic: &str) -> Option<(&str, &str, &str)> {
    let lower = logic.to_lowercase();
    if lower.contains(" and ") || lower.contains(" or ") || logic.contains(['<', '>']) && !logic.contains("<>") {
        return None;
    }
    let (op, at) = if let Some(i) = logic.find("<>") {
        ("<>", i)
    } else if let Some(i) = logic.find("!=") {
        ("<>", i)
    } else {
        ("=", logic.find('=')?)
    };
    let width = if logic[at..].starts_with('=') { 1 } else { 2 };
    let (lhs, rhs) = (logic[..at].trim(), logic[at + width..].trim());
    if lhs.is_empty() || rhs.is_empty() || rhs.contains(['=', '[']) {
        return None;
    }
    Some((lhs, op, rhs))
}
