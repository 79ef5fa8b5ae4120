//! The record-by-record reader shared by [`super::read_table`] and [`crate::validate::check`]:
//! header matching, per-field parsing against the dictionary and rule evaluation, with every
//! problem located.

use super::decode::{DecodingReader, InputFault};
use super::options::CsvOptions;
use crate::Problem;
use crate::error::{Error, Result};
use crate::schema::Dictionary;
use crate::validate;
use crate::value::Value;
use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;

/// What reading the next record gave.
pub(crate) enum Next {
    /// A data record: its values in dictionary order (a field with a problem is
    /// [`Value::Missing`]) and its problems.
    Row {
        line: u64,
        values: Vec<Value>,
        problems: Vec<Problem>,
    },
    /// A record whose number of fields differs from the header's: its fields cannot be
    /// matched to columns, so they are not checked.
    Ragged(Problem),
    /// A fault that stops reading (bad quoting, invalid encoding).
    Fatal(Problem),
    /// The end of the file.
    End,
}

/// Opening a file: either ready to read records, or stopped by header problems.
pub(crate) enum Opened<R: Read> {
    Ready(Box<Scanner<R>>),
    Refused(Vec<Problem>),
}

/// Reads the records of one CSV file against a dictionary.
pub(crate) struct Scanner<R: Read> {
    source_name: String,
    dict: Arc<Dictionary>,
    opts: CsvOptions,
    csv: ::csv::Reader<DecodingReader<R>>,
    record: ::csv::StringRecord,
    /// The file's column names, in file order.
    header: Vec<String>,
    /// For each field of the file, the index of its dictionary column.
    to_dict: Vec<usize>,
}

/// The error for options that cannot be used.
pub(crate) fn options_error(source_name: &str, opts: &CsvOptions) -> Option<Error> {
    opts.check().err().map(|e| Error::Io {
        source_name: source_name.into(),
        error: io::Error::new(io::ErrorKind::InvalidInput, e),
    })
}

/// A `csv` reader over the decoded stream, in the dialect of `opts`, that leaves ragged rows
/// and header handling to us.
pub(crate) fn csv_reader<R: Read>(reader: R, opts: &CsvOptions) -> ::csv::Reader<DecodingReader<R>> {
    let decoder = DecodingReader::new(reader, opts.encoding, opts.delimiter, opts.quote);
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(opts.delimiter)
        .quote(opts.quote)
        .double_quote(true)
        .from_reader(decoder)
}

impl<R: Read> Scanner<R> {
    /// Reads and matches the header.
    pub(crate) fn open(reader: R, source_name: &str, dict: Arc<Dictionary>, opts: &CsvOptions) -> Result<Opened<R>> {
        if let Some(e) = options_error(source_name, opts) {
            return Err(e);
        }
        let csv = csv_reader(reader, opts);
        let mut scanner = Scanner {
            source_name: source_name.into(),
            dict,
            opts: *opts,
            csv,
            record: ::csv::StringRecord::new(),
            header: Vec::new(),
            to_dict: Vec::new(),
        };
        let line = match scanner.read_record()? {
            Ok(Some(line)) => line,
            Ok(None) => {
                return Ok(Opened::Refused(vec![scanner.problem(
                    1,
                    None,
                    None,
                    "the file is empty: it has no header line".into(),
                )]));
            }
            Err(fatal) => return Ok(Opened::Refused(vec![fatal])),
        };
        scanner.header = scanner.record.iter().map(String::from).collect();
        let problems = scanner.match_header(line);
        if problems.is_empty() {
            Ok(Opened::Ready(Box::new(scanner)))
        } else {
            Ok(Opened::Refused(problems))
        }
    }

    pub(crate) fn dictionary(&self) -> &Arc<Dictionary> {
        &self.dict
    }

    fn problem(&self, line: u64, column: Option<String>, field: Option<usize>, rule: String) -> Problem {
        Problem {
            source_name: self.source_name.clone(),
            line,
            column,
            field,
            value: None,
            rule,
        }
    }

    /// Matches the header against the dictionary: every dictionary column exactly once, no
    /// other column, in any order.
    fn match_header(&mut self, line: u64) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        let mut to_dict = Vec::with_capacity(self.header.len());
        for (i, name) in self.header.iter().enumerate() {
            let rule = match (self.dict.index_of(name), first_seen.get(name.as_str())) {
                (Some(_), Some(first)) => Some(format!(
                    "column appears twice in the header (fields {} and {})",
                    first + 1,
                    i + 1
                )),
                (Some(d), None) => {
                    first_seen.insert(name, i);
                    to_dict.push(d);
                    None
                }
                (None, _) => Some(format!(
                    "column is not in the dictionary{}",
                    self.unknown_column_hint(name)
                )),
            };
            if let Some(rule) = rule {
                problems.push(self.problem(line, Some(name.clone()), Some(i + 1), rule));
            }
        }
        for column in &self.dict.columns {
            if !first_seen.contains_key(column.name.as_str()) {
                problems.push(self.problem(
                    line,
                    Some(column.name.clone()),
                    None,
                    "column of the dictionary is missing from the header".into(),
                ));
            }
        }
        self.to_dict = to_dict;
        problems
    }

    /// A hint for a header name that is not in the dictionary.
    fn unknown_column_hint(&self, name: &str) -> String {
        if self.opts.encoding != super::TextEncoding::Utf8 && name.starts_with("\u{EF}\u{BB}\u{BF}") {
            return format!(
                " (it starts with a UTF-8 byte-order mark read as {}: is the file UTF-8?)",
                self.opts.encoding.name()
            );
        }
        let folded = name.trim().to_lowercase();
        match self.dict.columns.iter().find(|c| c.name.to_lowercase() == folded) {
            Some(c) => format!(" (did you mean {:?}?)", c.name),
            None => String::new(),
        }
    }

    /// Reads the next record into `self.record`: its start line, `None` at the end, or the
    /// fatal problem that stops reading.
    fn read_record(&mut self) -> Result<Result<Option<u64>, Problem>> {
        match self.csv.read_record(&mut self.record) {
            Ok(true) => {
                let fallback = self.record.position().map_or(0, |p| p.line());
                Ok(Ok(Some(self.csv.get_mut().next_record_line().unwrap_or(fallback))))
            }
            Ok(false) => Ok(Ok(None)),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let text = e.to_string();
                match e.into_kind() {
                    ::csv::ErrorKind::Io(io) => match io.get_ref().and_then(|e| e.downcast_ref::<InputFault>()) {
                        Some(fault) => Ok(Err(self.fault_problem(fault))),
                        None => Err(Error::Io {
                            source_name: self.source_name.clone(),
                            error: io,
                        }),
                    },
                    _ => Ok(Err(self.problem(line, None, None, text))),
                }
            }
        }
    }

    fn fault_problem(&self, fault: &InputFault) -> Problem {
        let column = fault
            .field
            .and_then(|f| f.checked_sub(1))
            .and_then(|i| self.header.get(i).cloned());
        self.problem(fault.line, column, fault.field, fault.message.clone())
    }

    /// Reads and checks the next record.
    pub(crate) fn next_row(&mut self) -> Result<Next> {
        let line = match self.read_record()? {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(Next::End),
            Err(fatal) => return Ok(Next::Fatal(fatal)),
        };
        if self.record.len() != self.header.len() {
            let rule = format!("row has {} fields, header has {}", self.record.len(), self.header.len());
            return Ok(Next::Ragged(self.problem(line, None, None, rule)));
        }
        let mut values = vec![Value::Missing; self.dict.columns.len()];
        let mut problems = Vec::new();
        for (i, raw) in self.record.iter().enumerate() {
            let d = self.to_dict[i];
            let column = &self.dict.columns[d];
            match validate::parse_field(column, raw, self.opts.decimal) {
                Ok(v) => values[d] = v,
                Err(rule) => problems.push(Problem {
                    source_name: self.source_name.clone(),
                    line,
                    column: Some(column.name.clone()),
                    field: Some(i + 1),
                    value: Some(raw.to_string()),
                    rule,
                }),
            }
        }
        for rule in validate::broken_rules(&self.dict, &values) {
            problems.push(self.problem(line, None, None, validate::rule_broken(rule)));
        }
        Ok(Next::Row { line, values, problems })
    }
}

/// The error [`super::read_table`] returns for a problem: [`Error::Data`] for what breaks the
/// file's structure, [`Error::Invalid`] for a value or rule problem.
pub(crate) fn structural_error(p: Problem) -> Error {
    let mut message = String::new();
    if let Some(c) = &p.column {
        message.push_str(&format!("column {c:?}"));
        if let Some(f) = p.field {
            message.push_str(&format!(" (field {f})"));
        }
        message.push_str(": ");
    }
    message.push_str(&p.rule);
    Error::Data {
        source_name: p.source_name,
        line: p.line,
        message,
    }
}
