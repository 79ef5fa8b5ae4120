//! The data dictionary: the public contract that describes every column of a table, its
//! time-to-event pairs and its clinical rules. The file format is TOML and is documented in
//! `docs/dictionary.md`; this module parses it (with located errors), checks it and writes it.

use crate::date::Date;
use crate::error::{Error, Result};
use crate::rule::Rule;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Version of the dictionary file format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A checked data dictionary.
#[derive(Debug, Clone)]
pub struct Dictionary {
    pub name: String,
    pub description: String,
    pub columns: Vec<Column>,
    pub time_to_event: Vec<TimeToEvent>,
    pub rules: Vec<Rule>,
}

/// One column of the dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub missing: Missing,
    /// Tokens that mean "missing" in a data file. The first one is written for missing values.
    pub missing_tokens: Vec<String>,
    pub description: String,
}

/// Whether a column may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Every row must have a value.
    Forbidden,
    /// Rows may lack a value; missing is kept as its own state (it is information).
    Allowed,
}

/// A named group of categorical levels (one level of a generalisation hierarchy).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub levels: Vec<String>,
}

/// The type of a column, with its public domain.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Categorical {
        levels: Vec<String>,
        groups: Vec<Group>,
    },
    Integer {
        unit: Option<String>,
        min: Option<i64>,
        max: Option<i64>,
        bins: Vec<i64>,
    },
    Real {
        unit: Option<String>,
        min: Option<f64>,
        max: Option<f64>,
        bins: Vec<f64>,
    },
    Date {
        format: String,
        min: Option<Date>,
        max: Option<Date>,
    },
    Boolean {
        true_token: String,
        false_token: String,
    },
    /// A direct identifier: validated for presence only, never modelled or synthesised.
    Identifier,
    /// Free text: excluded from modelling.
    Text,
}

impl Kind {
    /// The name of the kind as written in the dictionary file.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Categorical { .. } => "categorical",
            Kind::Integer { .. } => "integer",
            Kind::Real { .. } => "real",
            Kind::Date { .. } => "date",
            Kind::Boolean { .. } => "boolean",
            Kind::Identifier => "identifier",
            Kind::Text => "text",
        }
    }

    /// Whether a synthesizer models this column (identifiers and free text are excluded).
    pub fn is_modelled(&self) -> bool {
        !matches!(self, Kind::Identifier | Kind::Text)
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Kind::Integer { .. } | Kind::Real { .. })
    }
}

/// A time-to-event pair: a time column and a 0/1 status column (1 = event observed).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeToEvent {
    pub name: String,
    pub time: String,
    pub status: String,
    pub description: String,
}

impl Dictionary {
    /// Parses and checks a dictionary. `source_name` (a file name) is used in error messages.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Dictionary> {
        let file: FileDto = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            Error::Dictionary {
                source_name: source_name.into(),
                line,
                col,
                message: e.message().trim().to_string(),
            }
        })?;
        file.check(text, source_name)
    }

    /// Writes the dictionary in the TOML format [`Dictionary::from_toml`] reads.
    pub fn to_toml(&self) -> String {
        let file = FileDto::from_dictionary(self);
        toml::to_string(&file).expect("a dictionary DTO of strings, numbers and arrays always serialises")
    }

    /// Index of the column named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The dictionary of what a synthesizer produces: only the columns `keep` accepts (in
    /// dictionary order), with the time-to-event pairs and rules that use only those columns.
    /// Rules are re-resolved against the new column positions.
    pub fn restrict(&self, keep: impl Fn(&Column) -> bool) -> Dictionary {
        let columns: Vec<Column> = self.columns.iter().filter(|c| keep(c)).cloned().collect();
        let names: HashSet<String> = columns.iter().map(|c| c.name.clone()).collect();
        let kept = |name: &str| names.contains(name);
        let time_to_event = self
            .time_to_event
            .iter()
            .filter(|t| kept(&t.time) && kept(&t.status))
            .cloned()
            .collect();
        let mut out = Dictionary {
            name: self.name.clone(),
            description: self.description.clone(),
            columns,
            time_to_event,
            rules: Vec::new(),
        };
        out.rules = self
            .rules
            .iter()
            .filter(|r| r.columns().iter().all(|&i| kept(&self.columns[i].name)))
            .filter_map(|r| Rule::parse(&r.name, &r.source, &r.description, &out).ok())
            .collect();
        out
    }

    /// [`Dictionary::restrict`] to the columns a synthesizer models (no identifiers, no free text).
    pub fn modelled(&self) -> Dictionary {
        self.restrict(|c| c.kind.is_modelled())
    }
}

/// Converts a byte offset in `text` to a 1-based (line, column in characters).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

// ---- the file format (serde DTOs), kept private: the checked types above are the API ----

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDto {
    format_version: u32,
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    /// Default missing tokens for every column that does not set its own.
    #[serde(default = "default_missing_tokens")]
    missing_tokens: Vec<String>,
    #[serde(default)]
    column: Vec<toml::Spanned<ColumnDto>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    time_to_event: Vec<toml::Spanned<TteDto>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rule: Vec<toml::Spanned<RuleDto>>,
}

fn default_missing_tokens() -> Vec<String> {
    vec![String::new()]
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnDto {
    name: String,
    #[serde(rename = "type")]
    kind: KindName,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(default = "missing_forbidden")]
    missing: Missing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    missing_tokens: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    bins: Vec<toml::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    levels: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "true")]
    true_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "false")]
    false_token: Option<String>,
}

fn missing_forbidden() -> Missing {
    Missing::Forbidden
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KindName {
    Categorical,
    Integer,
    Real,
    Date,
    Boolean,
    Identifier,
    Text,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TteDto {
    name: String,
    time: String,
    status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDto {
    name: String,
    expr: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
}

struct Ctx<'a> {
    text: &'a str,
    source: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> Error {
        let (line, col) = line_col(self.text, span.start);
        Error::Dictionary {
            source_name: self.source.into(),
            line,
            col,
            message: message.into(),
        }
    }
}

impl FileDto {
    fn check(self, text: &str, source: &str) -> Result<Dictionary> {
        let cx = Ctx { text, source };
        if self.format_version != FORMAT_VERSION {
            return Err(cx.err(
                0..0,
                format!(
                    "format_version {} is not supported (this build reads version {FORMAT_VERSION})",
                    self.format_version
                ),
            ));
        }
        if self.column.is_empty() {
            return Err(cx.err(0..0, "a dictionary needs at least one [[column]]"));
        }
        let mut columns = Vec::with_capacity(self.column.len());
        let mut seen = HashSet::new();
        for c in self.column {
            let span = c.span();
            let c = c.into_inner();
            let name = c.name.clone();
            if name.is_empty() {
                return Err(cx.err(span, "a column name must not be empty"));
            }
            if !seen.insert(name.clone()) {
                return Err(cx.err(span, format!("column {name:?} is declared twice")));
            }
            let col = c
                .check(&self.missing_tokens)
                .map_err(|m| cx.err(span.clone(), format!("column {name:?}: {m}")))?;
            columns.push(col);
        }
        let mut time_to_event = Vec::new();
        for t in self.time_to_event {
            let span = t.span();
            let t = t.into_inner();
            let find = |n: &str| columns.iter().find(|c| c.name == n);
            match find(&t.time).map(|c| &c.kind) {
                Some(Kind::Integer { .. } | Kind::Real { .. }) => {}
                Some(k) => {
                    return Err(cx.err(
                        span,
                        format!(
                            "time-to-event {:?}: time column {:?} is {}, not integer or real",
                            t.name,
                            t.time,
                            k.name()
                        ),
                    ));
                }
                None => {
                    return Err(cx.err(
                        span,
                        format!(
                            "time-to-event {:?}: time column {:?} is not in the dictionary",
                            t.name, t.time
                        ),
                    ));
                }
            }
            match find(&t.status).map(|c| &c.kind) {
                Some(Kind::Boolean { .. }) => {}
                Some(Kind::Integer {
                    min: Some(0),
                    max: Some(1),
                    ..
                }) => {}
                Some(k) => {
                    return Err(cx.err(
                        span,
                        format!(
                            "time-to-event {:?}: status column {:?} is {}, not boolean or integer 0..1",
                            t.name,
                            t.status,
                            k.name()
                        ),
                    ));
                }
                None => {
                    return Err(cx.err(
                        span,
                        format!(
                            "time-to-event {:?}: status column {:?} is not in the dictionary",
                            t.name, t.status
                        ),
                    ));
                }
            }
            time_to_event.push(TimeToEvent {
                name: t.name,
                time: t.time,
                status: t.status,
                description: t.description,
            });
        }
        let mut rules = Vec::new();
        let mut dict = Dictionary {
            name: self.name,
            description: self.description,
            columns,
            time_to_event: Vec::new(),
            rules: Vec::new(),
        };
        for r in self.rule {
            let span = r.span();
            let r = r.into_inner();
            let rule = Rule::parse(&r.name, &r.expr, &r.description, &dict).map_err(|e| {
                let (line, col) = line_col(text, span.start);
                Error::Rule {
                    source_name: format!("{source}:{line}:{col}"),
                    rule: r.name.clone(),
                    position: e.position,
                    message: e.message,
                }
            })?;
            rules.push(rule);
        }
        dict.time_to_event = time_to_event;
        dict.rules = rules;
        Ok(dict)
    }

    fn from_dictionary(d: &Dictionary) -> FileDto {
        let spanned = |v| toml::Spanned::new(0..0, v);
        FileDto {
            format_version: FORMAT_VERSION,
            name: d.name.clone(),
            description: d.description.clone(),
            missing_tokens: default_missing_tokens(),
            column: d.columns.iter().map(|c| spanned(ColumnDto::from_column(c))).collect(),
            time_to_event: d
                .time_to_event
                .iter()
                .map(|t| {
                    toml::Spanned::new(
                        0..0,
                        TteDto {
                            name: t.name.clone(),
                            time: t.time.clone(),
                            status: t.status.clone(),
                            description: t.description.clone(),
                        },
                    )
                })
                .collect(),
            rule: d
                .rules
                .iter()
                .map(|r| {
                    toml::Spanned::new(
                        0..0,
                        RuleDto {
                            name: r.name.clone(),
                            expr: r.source.clone(),
                            description: r.description.clone(),
                        },
                    )
                })
                .collect(),
        }
    }
}

fn int_value(v: &toml::Value, what: &str) -> Result<i64, String> {
    v.as_integer()
        .ok_or_else(|| format!("{what} must be an integer, found {v}"))
}

fn real_value(v: &toml::Value, what: &str) -> Result<f64, String> {
    let x = match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        other => return Err(format!("{what} must be a number, found {other}")),
    };
    if !x.is_finite() {
        return Err(format!("{what} must be finite, found {x}"));
    }
    Ok(x)
}

impl ColumnDto {
    fn check(self, default_tokens: &[String]) -> Result<Column, String> {
        let k = self.kind;
        let only = |present: bool, field: &str, kinds: &str| -> Result<(), String> {
            if present {
                Err(format!("`{field}` applies only to {kinds} columns, not {k:?}").to_lowercase())
            } else {
                Ok(())
            }
        };
        let numeric = matches!(k, KindName::Integer | KindName::Real);
        only(self.unit.is_some() && !numeric, "unit", "integer and real")?;
        only(!self.bins.is_empty() && !numeric, "bins", "integer and real")?;
        only(
            (self.min.is_some() || self.max.is_some()) && !numeric && k != KindName::Date,
            "min/max",
            "integer, real and date",
        )?;
        only(
            !self.levels.is_empty() && k != KindName::Categorical,
            "levels",
            "categorical",
        )?;
        only(
            !self.groups.is_empty() && k != KindName::Categorical,
            "groups",
            "categorical",
        )?;
        only(self.format.is_some() && k != KindName::Date, "format", "date")?;
        only(
            (self.true_token.is_some() || self.false_token.is_some()) && k != KindName::Boolean,
            "true/false",
            "boolean",
        )?;
        let kind = match k {
            KindName::Categorical => {
                if self.levels.is_empty() {
                    return Err("a categorical column needs `levels`".into());
                }
                let mut seen = HashSet::new();
                for l in &self.levels {
                    if !seen.insert(l) {
                        return Err(format!("level {l:?} is listed twice"));
                    }
                }
                let mut grouped = HashSet::new();
                let mut groups = Vec::new();
                for (g, members) in self.groups {
                    for m in &members {
                        if !seen.contains(m) {
                            return Err(format!("group {g:?} names {m:?}, which is not a level"));
                        }
                        if !grouped.insert(m.clone()) {
                            return Err(format!("level {m:?} is in more than one group"));
                        }
                    }
                    groups.push(Group {
                        name: g,
                        levels: members,
                    });
                }
                Kind::Categorical {
                    levels: self.levels,
                    groups,
                }
            }
            KindName::Integer => {
                let min = self.min.as_ref().map(|v| int_value(v, "min")).transpose()?;
                let max = self.max.as_ref().map(|v| int_value(v, "max")).transpose()?;
                let bins = self
                    .bins
                    .iter()
                    .map(|v| int_value(v, "a bin edge"))
                    .collect::<Result<Vec<_>, _>>()?;
                check_bounds(min, max, &bins)?;
                Kind::Integer {
                    unit: self.unit,
                    min,
                    max,
                    bins,
                }
            }
            KindName::Real => {
                let min = self.min.as_ref().map(|v| real_value(v, "min")).transpose()?;
                let max = self.max.as_ref().map(|v| real_value(v, "max")).transpose()?;
                let bins = self
                    .bins
                    .iter()
                    .map(|v| real_value(v, "a bin edge"))
                    .collect::<Result<Vec<_>, _>>()?;
                check_bounds(min, max, &bins)?;
                Kind::Real {
                    unit: self.unit,
                    min,
                    max,
                    bins,
                }
            }
            KindName::Date => {
                let format = self.format.unwrap_or_else(|| "%Y-%m-%d".to_string());
                Date::check_format(&format).map_err(|e| format!("format {format:?}: {e}"))?;
                let parse = |v: &Option<toml::Value>, what: &str| -> Result<Option<Date>, String> {
                    match v {
                        None => Ok(None),
                        Some(toml::Value::String(s)) => Date::parse(s, "%Y-%m-%d")
                            .map(Some)
                            .map_err(|e| format!("{what}: {e} (write bounds as \"YYYY-MM-DD\")")),
                        Some(toml::Value::Datetime(d)) => Date::parse(&d.to_string(), "%Y-%m-%d")
                            .map(Some)
                            .map_err(|e| format!("{what}: {e} (write bounds as \"YYYY-MM-DD\")")),
                        Some(o) => Err(format!("{what} must be a date \"YYYY-MM-DD\", found {o}")),
                    }
                };
                let min = parse(&self.min, "min")?;
                let max = parse(&self.max, "max")?;
                if let (Some(a), Some(b)) = (min, max)
                    && a > b
                {
                    return Err(format!("min {a} is after max {b}"));
                }
                Kind::Date { format, min, max }
            }
            KindName::Boolean => {
                let t = self.true_token.unwrap_or_else(|| "1".into());
                let f = self.false_token.unwrap_or_else(|| "0".into());
                if t == f {
                    return Err(format!("true and false tokens are both {t:?}"));
                }
                Kind::Boolean {
                    true_token: t,
                    false_token: f,
                }
            }
            KindName::Identifier => Kind::Identifier,
            KindName::Text => Kind::Text,
        };
        let missing_tokens = self.missing_tokens.unwrap_or_else(|| default_tokens.to_vec());
        if self.missing == Missing::Allowed && missing_tokens.is_empty() {
            return Err("missing = \"allowed\" needs at least one missing token".into());
        }
        if let Kind::Categorical { levels, .. } = &kind
            && let Some(t) = missing_tokens.iter().find(|t| levels.contains(t))
        {
            return Err(format!("{t:?} is both a level and a missing token"));
        }
        if let Kind::Boolean {
            true_token,
            false_token,
        } = &kind
            && let Some(t) = missing_tokens.iter().find(|t| *t == true_token || *t == false_token)
        {
            return Err(format!("{t:?} is both a boolean token and a missing token"));
        }
        Ok(Column {
            name: self.name,
            kind,
            missing: self.missing,
            missing_tokens,
            description: self.description,
        })
    }

    fn from_column(c: &Column) -> ColumnDto {
        let mut dto = ColumnDto {
            name: c.name.clone(),
            kind: KindName::Text,
            description: c.description.clone(),
            missing: c.missing,
            missing_tokens: Some(c.missing_tokens.clone()),
            unit: None,
            min: None,
            max: None,
            bins: Vec::new(),
            levels: Vec::new(),
            groups: BTreeMap::new(),
            format: None,
            true_token: None,
            false_token: None,
        };
        match &c.kind {
            Kind::Categorical { levels, groups } => {
                dto.kind = KindName::Categorical;
                dto.levels = levels.clone();
                dto.groups = groups.iter().map(|g| (g.name.clone(), g.levels.clone())).collect();
            }
            Kind::Integer { unit, min, max, bins } => {
                dto.kind = KindName::Integer;
                dto.unit = unit.clone();
                dto.min = min.map(toml::Value::Integer);
                dto.max = max.map(toml::Value::Integer);
                dto.bins = bins.iter().map(|b| toml::Value::Integer(*b)).collect();
            }
            Kind::Real { unit, min, max, bins } => {
                dto.kind = KindName::Real;
                dto.unit = unit.clone();
                dto.min = min.map(toml::Value::Float);
                dto.max = max.map(toml::Value::Float);
                dto.bins = bins.iter().map(|b| toml::Value::Float(*b)).collect();
            }
            Kind::Date { format, min, max } => {
                dto.kind = KindName::Date;
                dto.format = Some(format.clone());
                dto.min = min.map(|d| toml::Value::String(d.to_string()));
                dto.max = max.map(|d| toml::Value::String(d.to_string()));
            }
            Kind::Boolean {
                true_token,
                false_token,
            } => {
                dto.kind = KindName::Boolean;
                dto.true_token = Some(true_token.clone());
                dto.false_token = Some(false_token.clone());
            }
            Kind::Identifier => dto.kind = KindName::Identifier,
            Kind::Text => dto.kind = KindName::Text,
        }
        dto
    }
}

fn check_bounds<T: PartialOrd + Copy + std::fmt::Display>(
    min: Option<T>,
    max: Option<T>,
    bins: &[T],
) -> Result<(), String> {
    if let (Some(a), Some(b)) = (min, max)
        && a > b
    {
        return Err(format!("min {a} is greater than max {b}"));
    }
    for w in bins.windows(2) {
        if w[0] >= w[1] {
            return Err(format!("bin edges must increase strictly ({} then {})", w[0], w[1]));
        }
    }
    if !bins.is_empty() && (min.is_none() || max.is_none()) {
        return Err("bin edges need both min and max".into());
    }
    if let (Some(a), Some(b)) = (min, max)
        && let Some(e) = bins.iter().find(|e| **e < a || **e > b)
    {
        return Err(format!("bin edge {e} lies outside [{a}, {b}]"));
    }
    Ok(())
}
