//! Import of REDCap "Data Dictionary" CSV exports into a synthema [`Dictionary`].
//!
//! REDCap raw data exports hold choice *codes* (`1`, `2`), `0`/`1` for yes/no, true/false and
//! every checkbox option (one column `var___code` per option), dates as `YYYY-MM-DD` whatever the
//! field's display format, and one `form_complete` status column per instrument. The mapping
//! below describes such an export; the table of field types is in `docs/schema-tools.md`.
//!
//! Every variable of the REDCap dictionary either becomes one or more columns or is listed in
//! [`RedcapImport::unmapped`] with the reason; a variable that is imported but only in part
//! (branching logic, a calculated field without bounds, a date-time kept as text) is imported
//! *and* listed there, so that nothing is lost silently.

mod fields;
mod file;

use crate::date::Date;
use crate::error::{Error, Result};
use crate::schema::{Column, Dictionary, Kind, Missing};
use fields::{
    DateBound, checkbox_column, describe_choices, parse_choices, parse_date_bound, parse_int_bound, parse_real_bound,
    plain_label, suggest_rule,
};
use file::{Field, HeaderMap, Row, csv_line, decode, detect_delimiter};
use std::collections::{HashMap, HashSet};
use std::io::Read;

/// The result of importing a REDCap data dictionary.
#[derive(Debug, Clone)]
pub struct RedcapImport {
    /// The data dictionary describing a REDCap raw data export.
    pub dictionary: Dictionary,
    /// Variables that were skipped, or imported with something not translated, with the reason.
    pub unmapped: Vec<Unmapped>,
    /// Remarks about the file as a whole (encoding, added status columns, ignored header columns).
    pub notes: Vec<String>,
}

/// A REDCap variable, or a part of it, that the import could not translate.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmapped {
    /// 1-based line of the variable in the REDCap file (the header is line 1).
    pub line: u64,
    /// The REDCap variable (field) name.
    pub variable: String,
    /// What was not translated and why; starts with "skipped" when no column was made.
    pub reason: String,
}

/// Imports a REDCap data dictionary export (CSV, delimiter `,` or `;` detected from the header,
/// UTF-8 with or without BOM, or latin-1/Windows-1252 which is decoded and noted).
///
/// `source_name` names the file in error messages and gives the dictionary its name.
/// Malformed input (a missing header column, a ragged row, bad choice syntax, unparsable
/// validation bounds, a variable declared twice) is an [`Error::Data`] naming the line.
pub fn import_redcap(mut reader: impl Read, source_name: &str) -> Result<RedcapImport> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|error| Error::Io {
        source_name: source_name.into(),
        error,
    })?;
    let mut notes = Vec::new();
    // csv reports the line of a record that follows a CRLF one line too early: count on LF only.
    let text = decode(&bytes, source_name, &mut notes).replace("\r\n", "\n");
    let delimiter = detect_delimiter(&text);
    if delimiter != b',' {
        notes.push(format!("fields are separated by {:?}", char::from(delimiter)));
    }
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let data_err = |line: u64, message: String| Error::Data {
        source_name: source_name.into(),
        line,
        message,
    };
    let mut records = csv.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(data_err(csv_line(&e), format!("malformed CSV: {e}"))),
        None => return Err(data_err(1, "the file is empty: no REDCap header line".into())),
    };
    let columns = HeaderMap::new(&header, &mut notes).map_err(|m| data_err(1, m))?;

    let mut importer = Importer {
        source_name,
        columns: Vec::new(),
        unmapped: Vec::new(),
        notes,
        seen: HashMap::new(),
        forms: Vec::new(),
        fields: 0,
    };
    let mut blank_rows = 0usize;
    for record in records {
        let record = record.map_err(|e| data_err(csv_line(&e), format!("malformed CSV: {e}")))?;
        let line = record.position().map_or(0, ::csv::Position::line);
        if record.iter().all(|f| f.trim().is_empty()) {
            blank_rows += 1;
            continue;
        }
        if record.len() != header.len() {
            return Err(data_err(
                line,
                format!(
                    "ragged row: {} fields, but the header has {} (a stray {:?} or an unclosed quote?)",
                    record.len(),
                    header.len(),
                    char::from(delimiter)
                ),
            ));
        }
        let row = Row {
            line,
            record: &record,
            columns: &columns,
        };
        importer.variable(&row)?;
    }
    if blank_rows > 0 {
        importer
            .notes
            .push(format!("{blank_rows} empty row(s) of the REDCap file were ignored"));
    }
    importer.finish()
}

fn boolean() -> Kind {
    Kind::Boolean {
        true_token: "1".into(),
        false_token: "0".into(),
    }
}

/// Validation types whose values are direct identifiers even when `Identifier?` is not set.
fn is_identifying_validation(v: &str) -> bool {
    v == "ssn" || v == "vmrn" || v.starts_with("mrn")
}

/// Validation types kept as free text without remark.
fn is_plain_text_validation(v: &str) -> bool {
    matches!(v, "email" | "alpha_only" | "letters_only" | "zipcode")
        || v.starts_with("phone")
        || v.starts_with("postalcode")
}

/// Accumulates the columns of the dictionary being built.
struct Importer<'a> {
    source_name: &'a str,
    columns: Vec<Column>,
    unmapped: Vec<Unmapped>,
    notes: Vec<String>,
    /// Column name → line of the REDCap variable that made it.
    seen: HashMap<String, u64>,
    /// Forms in order of first appearance, with the index after their last column so far.
    forms: Vec<(String, usize)>,
    /// Number of REDCap variables read.
    fields: usize,
}

/// What one REDCap variable becomes before its common attributes are applied.
struct Mapped {
    /// (column name suffix or full name, kind, extra description, missing override)
    columns: Vec<(String, Kind, String, Option<Missing>)>,
    remarks: Vec<String>,
}

impl Importer<'_> {
    fn err(&self, line: u64, message: String) -> Error {
        Error::Data {
            source_name: self.source_name.into(),
            line,
            message,
        }
    }

    fn unmapped(&mut self, line: u64, variable: &str, reason: String) {
        self.unmapped.push(Unmapped {
            line,
            variable: variable.into(),
            reason,
        });
    }

    fn variable(&mut self, row: &Row) -> Result<()> {
        let line = row.line;
        let name = row.get(Field::Name).to_string();
        if name.is_empty() {
            return Err(self.err(line, "empty variable / field name".into()));
        }
        let is_first = self.fields == 0;
        self.fields += 1;
        let form = row.get(Field::Form).to_string();
        if form.is_empty() {
            return Err(self.err(line, format!("variable {name:?} has an empty form name")));
        }
        let field_type = row.get(Field::Type).to_lowercase();
        let label = plain_label(row.get(Field::Label));
        let note = plain_label(row.get(Field::Note));
        let branching = row.get(Field::Branching).to_string();
        let required = row.flag(Field::Required);
        let identifier = row.flag(Field::Identifier);

        let mapped = match self.map_type(row, &name, &field_type)? {
            Some(m) => m,
            None => return Ok(()),
        };
        let mut remarks = mapped.remarks;
        // The record ID (first field) is in every exported row, required or not.
        let mut missing = if required || is_first {
            Missing::Forbidden
        } else {
            Missing::Allowed
        };
        if !branching.is_empty() {
            if required {
                remarks.push("required only when shown: missing allowed because of the branching logic".into());
            }
            missing = Missing::Allowed;
            // A hidden field is exported empty; a hidden checkbox exports 0 for every option.
            let (hidden, consequence) = if field_type == "checkbox" {
                let zeros: Vec<String> = mapped.columns.iter().map(|(c, ..)| format!("`{c}` == 0")).collect();
                ("every option is 0", zeros.join(" and "))
            } else {
                ("the field is empty", format!("`{name}` is missing"))
            };
            remarks.push(format!(
                "branching logic not translated: {branching}; {hidden} when it is hidden. {}",
                suggest_rule(&branching, &consequence, &self.columns)
            ));
        }
        let identifier_reason = if identifier {
            Some("marked as an identifier in REDCap")
        } else if is_first {
            Some("the first REDCap field is the record ID")
        } else {
            None
        };
        if identifier_reason.is_some() && mapped.columns.iter().any(|(_, k, _, _)| *k != Kind::Identifier) {
            remarks.push(format!(
                "imported as identifier ({}): never modelled",
                identifier_reason.unwrap_or_default()
            ));
        }
        let mut description = label.clone();
        if !note.is_empty() {
            description = format!("{description} ({note})");
        }
        let n_columns = mapped.columns.len();
        for (col_name, kind, extra, missing_override) in mapped.columns {
            let kind = if identifier_reason.is_some() {
                Kind::Identifier
            } else {
                kind
            };
            if let Some(first) = self.seen.get(&col_name) {
                return Err(self.err(
                    line,
                    format!("column {col_name:?} (from variable {name:?}) is already declared at line {first}"),
                ));
            }
            self.seen.insert(col_name.clone(), line);
            let mut text = description.clone();
            if !extra.is_empty() {
                text = if text.is_empty() {
                    extra
                } else {
                    format!("{text}. {extra}")
                };
            }
            self.columns.push(Column {
                name: col_name,
                kind,
                missing: missing_override.unwrap_or(missing),
                missing_tokens: vec![String::new()],
                description: format!("{text} [REDCap form {form}, {field_type}]"),
            });
        }
        if n_columns > 0 {
            match self.forms.iter_mut().find(|(f, _)| *f == form) {
                Some(entry) => entry.1 = self.columns.len(),
                None => self.forms.push((form, self.columns.len())),
            }
        }
        for r in remarks {
            self.unmapped(line, &name, r);
        }
        Ok(())
    }

    /// Maps a field type to columns; `None` when the variable is skipped (recorded as unmapped).
    fn map_type(&mut self, row: &Row, name: &str, field_type: &str) -> Result<Option<Mapped>> {
        let line = row.line;
        let one = |kind: Kind, extra: String| Mapped {
            columns: vec![(name.to_string(), kind, extra, None)],
            remarks: Vec::new(),
        };
        let choices = |importer: &Self| {
            parse_choices(row.get(Field::Choices))
                .map_err(|m| importer.err(line, format!("variable {name:?} ({field_type}): {m}")))
        };
        let mapped = match field_type {
            "descriptive" => {
                self.unmapped(line, name, "skipped: descriptive text holds no data".into());
                return Ok(None);
            }
            "file" | "signature" => {
                self.unmapped(
                    line,
                    name,
                    format!("skipped: {field_type} fields hold uploaded documents, not table values"),
                );
                return Ok(None);
            }
            "radio" | "dropdown" => {
                let choices = choices(self)?;
                let levels = choices.iter().map(|c| c.code.clone()).collect();
                one(
                    Kind::Categorical {
                        levels,
                        groups: Vec::new(),
                    },
                    format!("Codes: {}", describe_choices(&choices)),
                )
            }
            "yesno" => one(boolean(), "1 = Yes, 0 = No".into()),
            "truefalse" => one(boolean(), "1 = True, 0 = False".into()),
            "checkbox" => {
                let choices = choices(self)?;
                let columns = choices
                    .iter()
                    .map(|c| {
                        (
                            checkbox_column(name, &c.code),
                            boolean(),
                            format!("Option {} = {} (1 = checked, 0 = unchecked)", c.code, c.label),
                            Some(Missing::Forbidden),
                        )
                    })
                    .collect();
                Mapped {
                    columns,
                    remarks: Vec::new(),
                }
            }
            "text" => self.map_text(row, name)?,
            "notes" => one(Kind::Text, String::new()),
            "calc" => {
                let mut m = one(
                    Kind::Real {
                        unit: None,
                        min: None,
                        max: None,
                        bins: Vec::new(),
                    },
                    format!("Calculated: {}", row.get(Field::Choices)),
                );
                m.remarks.push(
                    "calculated field imported as real without bounds: set public min/max (and bins) before synthesis"
                        .into(),
                );
                m
            }
            "slider" => {
                let min = parse_int_bound(row.get(Field::Min), "min").map_err(|m| self.err(line, m))?;
                let max = parse_int_bound(row.get(Field::Max), "max").map_err(|m| self.err(line, m))?;
                let (min, max) = (min.unwrap_or(0), max.unwrap_or(100));
                if min > max {
                    return Err(self.err(line, format!("slider {name:?}: min {min} is greater than max {max}")));
                }
                one(
                    Kind::Integer {
                        unit: None,
                        min: Some(min),
                        max: Some(max),
                        bins: Vec::new(),
                    },
                    format!("Slider {min}-{max}: {}", row.get(Field::Choices)),
                )
            }
            "sql" => {
                let mut m = one(Kind::Text, String::new());
                m.remarks
                    .push("dynamic SQL field imported as text: its choices come from another project".into());
                m
            }
            other => {
                self.unmapped(line, name, format!("skipped: unknown REDCap field type {other:?}"));
                return Ok(None);
            }
        };
        Ok(Some(mapped))
    }

    fn map_text(&self, row: &Row, name: &str) -> Result<Mapped> {
        let line = row.line;
        let validation = row.get(Field::Validation).to_lowercase();
        let (min_text, max_text) = (row.get(Field::Min), row.get(Field::Max));
        let mut remarks = Vec::new();
        let bad = |m: String| self.err(line, format!("variable {name:?} ({validation}): {m}"));
        let kind = match validation.as_str() {
            "" => Kind::Text,
            "integer" => {
                let min = parse_int_bound(min_text, "min").map_err(bad)?;
                let max = parse_int_bound(max_text, "max").map_err(bad)?;
                if let (Some(a), Some(b)) = (min, max)
                    && a > b
                {
                    return Err(bad(format!("validation min {a} is greater than max {b}")));
                }
                if min.is_none() || max.is_none() {
                    remarks.push("integer without validation min and max: set public bounds before synthesis".into());
                }
                Kind::Integer {
                    unit: None,
                    min,
                    max,
                    bins: Vec::new(),
                }
            }
            v if v == "number" || v.starts_with("number_") => {
                let comma = v.contains("comma_decimal");
                let min = parse_real_bound(min_text, "min", comma).map_err(bad)?;
                let max = parse_real_bound(max_text, "max", comma).map_err(bad)?;
                if let (Some(a), Some(b)) = (min, max)
                    && a > b
                {
                    return Err(bad(format!("validation min {a} is greater than max {b}")));
                }
                if comma {
                    remarks.push(
                        "REDCap stores this number with a decimal comma: read the data with the decimal comma (`--decimal comma`)"
                            .into(),
                    );
                }
                if min.is_none() || max.is_none() {
                    remarks.push("number without validation min and max: set public bounds before synthesis".into());
                }
                Kind::Real {
                    unit: None,
                    min,
                    max,
                    bins: Vec::new(),
                }
            }
            "date_ymd" | "date_dmy" | "date_mdy" => {
                let display = &validation[5..];
                let mut bound = |text: &str, what: &str| -> Result<Option<Date>> {
                    match parse_date_bound(text, display) {
                        Ok(d) => Ok(d),
                        Err(DateBound::Relative) => {
                            remarks.push(format!(
                                "validation {what} {text:?} is relative to the entry date: no {what} bound imported"
                            ));
                            Ok(None)
                        }
                        Err(DateBound::Bad(m)) => Err(bad(format!("validation {what}: {m}"))),
                    }
                };
                let min = bound(min_text, "min")?;
                let max = bound(max_text, "max")?;
                if let (Some(a), Some(b)) = (min, max)
                    && a > b
                {
                    return Err(bad(format!("validation min {a} is after max {b}")));
                }
                Kind::Date {
                    format: "%Y-%m-%d".into(),
                    min,
                    max,
                }
            }
            v if v.starts_with("datetime") || v.starts_with("time") => {
                remarks.push(format!(
                    "{v} imported as text: synthema has no date-time or time-of-day type"
                ));
                Kind::Text
            }
            v if is_identifying_validation(v) => {
                remarks.push(format!(
                    "imported as identifier: validation {v} marks a direct identifier"
                ));
                Kind::Identifier
            }
            v if is_plain_text_validation(v) => Kind::Text,
            other => {
                remarks.push(format!("unknown text validation {other:?}: imported as text"));
                Kind::Text
            }
        };
        Ok(Mapped {
            columns: vec![(name.to_string(), kind, String::new(), None)],
            remarks,
        })
    }

    /// Adds one `form_complete` status column after each form and builds the dictionary.
    fn finish(mut self) -> Result<RedcapImport> {
        if self.columns.is_empty() {
            return Err(self.err(1, "the REDCap dictionary has no variable that maps to a column".into()));
        }
        let mut status: Vec<(usize, Column)> = Vec::new();
        for (form, end) in &self.forms {
            let name = format!("{form}_complete");
            if self.seen.contains_key(&name) {
                self.notes.push(format!(
                    "a variable is already named {name:?}: no status column added for form {form:?}"
                ));
                continue;
            }
            let column = Column {
                name,
                kind: Kind::Categorical {
                    levels: vec!["0".into(), "1".into(), "2".into()],
                    groups: Vec::new(),
                },
                missing: Missing::Allowed,
                missing_tokens: vec![String::new()],
                description: format!(
                    "Status of REDCap form {form}: 0 = Incomplete, 1 = Unverified, 2 = Complete (added by the importer)"
                ),
            };
            status.push((*end, column));
        }
        if !status.is_empty() {
            self.notes.push(format!(
                "added {} form status column(s) (`<form>_complete`), which REDCap raw exports contain; delete them if your export leaves them out",
                status.len()
            ));
        }
        // Each status column goes right after the last column of its form.
        status.sort_by_key(|(end, _)| *end);
        let mut columns = Vec::with_capacity(self.columns.len() + status.len());
        let mut pending = status.into_iter().peekable();
        for (i, column) in std::mem::take(&mut self.columns).into_iter().enumerate() {
            columns.push(column);
            while let Some((_, c)) = pending.next_if(|(end, _)| *end == i + 1) {
                columns.push(c);
            }
        }
        columns.extend(pending.map(|(_, c)| c));
        self.columns = columns;
        let name = dictionary_name(self.source_name);
        let forms: HashSet<&str> = self.forms.iter().map(|(f, _)| f.as_str()).collect();
        let description = format!(
            "Imported from the REDCap data dictionary {}: {} variables over {} forms, describing a raw (coded) REDCap export. Bounds come from REDCap validation min/max; review them.",
            self.source_name,
            self.fields,
            forms.len()
        );
        Ok(RedcapImport {
            dictionary: Dictionary {
                name,
                description,
                columns: self.columns,
                time_to_event: Vec::new(),
                rules: Vec::new(),
            },
            unmapped: self.unmapped,
            notes: self.notes,
        })
    }
}

/// The dictionary name: the file name without directories and extension.
fn dictionary_name(source_name: &str) -> String {
    let base = source_name.rsplit(['/', '\\']).next().unwrap_or(source_name);
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    if stem.is_empty() { "redcap".into() } else { stem.into() }
}

#[cfg(test)]
mod tests {
    use super::fields::*;
    use super::file::*;

    #[test]
    fn choices_parse_and_reject() {
        let c = parse_choices("1, Male | 2, Female, other").unwrap();
        assert_eq!(c[1].code, "2");
        assert_eq!(c[1].label, "Female, other");
        assert!(parse_choices("1 Male | 2, Female").unwrap_err().contains("no comma"));
        assert!(parse_choices("1, A | 1, B").unwrap_err().contains("twice"));
        assert!(parse_choices("").is_err());
    }

    #[test]
    fn delimiter_is_read_outside_quotes() {
        assert_eq!(detect_delimiter("a;\"b, c, d\";e\n1,2,3,4"), b';');
        assert_eq!(detect_delimiter("a,\"b; c; d\",e\n"), b',');
    }

    #[test]
    fn checkbox_names_follow_redcap() {
        assert_eq!(checkbox_column("prior_tx", "1"), "prior_tx___1");
        assert_eq!(checkbox_column("prior_tx", "-99"), "prior_tx____99");
        assert_eq!(checkbox_column("prior_tx", "HU"), "prior_tx___hu");
    }

    #[test]
    fn labels_lose_html() {
        assert_eq!(plain_label("<b>WBC</b>  count<br>"), "WBC count");
    }
}
