//! Writing a table as CSV in a given dialect and encoding.

use super::options::{CsvOptions, DecimalSeparator, TextEncoding};
use super::scan::options_error;
use crate::Problem;
use crate::error::{Error, Result};
use crate::schema::{Column, Kind};
use crate::table::Table;
use crate::value::Value;
use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

/// The name used for the output in error messages.
const OUTPUT: &str = "CSV output";

/// Writes `table` as CSV: the header, then one record per row, columns in dictionary order.
///
/// Missing values are written as the column's first missing token, reals in Rust's shortest
/// round-trip notation (with a decimal comma if asked), dates in the column's format, booleans
/// as their tokens and categorical cells as their level label. Text is encoded as `opts` says.
///
/// Nothing is written that would read back differently or be refused when read: a value
/// outside its column's domain (e.g. missing where `missing = "forbidden"`), a character the
/// encoding lacks, a value equal to one of its column's missing tokens, or a missing value in a
/// column without missing tokens is an [`Error::Invalid`] naming the row and the column.
pub fn write_table<W: Write>(mut writer: W, table: &Table, opts: &CsvOptions) -> Result<()> {
    if let Some(e) = options_error(OUTPUT, opts) {
        return Err(e);
    }
    let io_error = |error: io::Error| Error::Io {
        source_name: OUTPUT.into(),
        error,
    };
    let csv_error = |e: ::csv::Error| io_error(io::Error::other(e));
    let dict = table.dictionary();
    let buffer = Buffer::default();
    let mut csv = ::csv::WriterBuilder::new()
        .delimiter(opts.delimiter)
        .quote(opts.quote)
        .from_writer(buffer.clone());
    let mut line = 1u64;
    let header: Vec<&str> = dict.columns.iter().map(|c| c.name.as_str()).collect();
    for (i, name) in header.iter().enumerate() {
        check_encodable(name, opts.encoding).map_err(|rule| {
            invalid(
                line,
                &dict.columns[i],
                i,
                Some(name.to_string()),
                format!("header: {rule}"),
            )
        })?;
    }
    csv.write_record(&header).map_err(csv_error)?;
    let mut fields = Vec::with_capacity(dict.columns.len());
    for row in 0..table.n_rows() {
        emit(&mut csv, &buffer, &mut writer, opts.encoding, &mut line).map_err(io_error)?;
        fields.clear();
        for (i, column) in dict.columns.iter().enumerate() {
            let value = table.value(row, i);
            let text = format_cell(column, &value, opts.decimal)
                .and_then(|text| check_encodable(&text, opts.encoding).map(|()| text))
                .map_err(|rule| invalid(line, column, i, shown(&value), format!("row {}: {rule}", row + 1)))?;
            fields.push(text);
        }
        csv.write_record(&fields).map_err(csv_error)?;
    }
    emit(&mut csv, &buffer, &mut writer, opts.encoding, &mut line).map_err(io_error)?;
    writer.flush().map_err(io_error)
}

fn invalid(line: u64, column: &Column, index: usize, value: Option<String>, rule: String) -> Error {
    Error::Invalid(Box::new(Problem {
        source_name: OUTPUT.into(),
        line,
        column: Some(column.name.clone()),
        field: Some(index + 1),
        value,
        rule,
    }))
}

/// A value as shown in a problem: text as is, nothing for a missing value.
fn shown(value: &Value) -> Option<String> {
    match value {
        Value::Missing => None,
        Value::Text(s) => Some(s.clone()),
        Value::Date(d) if !crate::validate::is_four_digit_year(*d) => {
            Some(format!("{} days from 1970-01-01", d.days()))
        }
        other => Some(other.to_string()),
    }
}

/// The CSV writer's output, shared so that each record can be encoded and passed on whole.
#[derive(Debug, Clone, Default)]
struct Buffer(Rc<RefCell<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Moves what the CSV writer has produced to `writer`, encoded, and advances `line`.
fn emit<W: Write>(
    csv: &mut ::csv::Writer<Buffer>,
    buffer: &Buffer,
    writer: &mut W,
    encoding: TextEncoding,
    line: &mut u64,
) -> io::Result<()> {
    csv.flush()?;
    let mut buffer = buffer.0.borrow_mut();
    let text = std::str::from_utf8(&buffer).map_err(io::Error::other)?;
    let bytes = encode(text, encoding).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("text not representable in {encoding:?}"),
        )
    })?;
    writer.write_all(&bytes)?;
    *line += buffer.iter().filter(|&&b| b == b'\n').count() as u64;
    buffer.clear();
    Ok(())
}

/// `text` in `encoding`, or `None` if a character is not representable.
fn encode(text: &str, encoding: TextEncoding) -> Option<Cow<'_, [u8]>> {
    match encoding {
        TextEncoding::Utf8 => Some(Cow::Borrowed(text.as_bytes())),
        TextEncoding::Latin1 => {
            if !encoding_rs::mem::is_str_latin1(text) {
                return None;
            }
            let mut out = vec![0; text.len()];
            let written = encoding_rs::mem::convert_utf8_to_latin1_lossy(text.as_bytes(), &mut out);
            out.truncate(written);
            Some(Cow::Owned(out))
        }
        TextEncoding::Windows1252 => {
            let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
            (!unmappable).then_some(bytes)
        }
    }
}

/// Checks that every character of `text` can be written in `encoding`.
fn check_encodable(text: &str, encoding: TextEncoding) -> Result<(), String> {
    if encoding == TextEncoding::Utf8 {
        return Ok(());
    }
    match text.chars().find(|&c| !encoding.can_encode(c)) {
        Some(c) => Err(format!(
            "character {c:?} (U+{:04X}) cannot be written in {}",
            u32::from(c),
            encoding.name()
        )),
        None => Ok(()),
    }
}

/// The text of one cell, or why it cannot be written so that it reads back the same.
fn format_cell(column: &Column, value: &Value, decimal: DecimalSeparator) -> Result<String, String> {
    crate::validate::check_value(column, value)?;
    let text = match (value, &column.kind) {
        (Value::Missing, _) => {
            return column
                .missing_tokens
                .first()
                .cloned()
                .ok_or_else(|| "missing value, but the column has no missing token to write it with".to_string());
        }
        (Value::Real(x), _) if !x.is_finite() => return Err(format!("{x} is not a finite number")),
        (Value::Real(x), _) => {
            let text = x.to_string();
            match decimal {
                DecimalSeparator::Point => text,
                DecimalSeparator::Comma => text.replace('.', ","),
            }
        }
        (Value::Int(i), _) => i.to_string(),
        (Value::Date(d), Kind::Date { format, .. }) => {
            let text = d.format(format);
            if crate::date::Date::parse(&text, format) != Ok(*d) {
                return Err(format!("date {d} cannot be written in the format {format:?}"));
            }
            text
        }
        (Value::Date(d), _) => d.to_string(),
        (
            Value::Bool(b),
            Kind::Boolean {
                true_token,
                false_token,
            },
        ) => if *b { true_token } else { false_token }.clone(),
        (Value::Bool(b), _) => b.to_string(),
        (Value::Text(s), _) => s.clone(),
    };
    if column.missing_tokens.contains(&text) {
        return Err(format!(
            "{text:?} is a missing token of the column: it would read back as missing"
        ));
    }
    Ok(text)
}
