//! CSV reading and writing with a configurable dialect ([`CsvOptions`]: delimiter, quote,
//! decimal separator, text encoding), streaming over `Read`/`Write`.
//!
//! Reading checks every field against the dictionary and every clinical rule on every row;
//! [`read_table`] stops at the first problem, [`crate::validate::check`] lists them all.
//! The user documentation is `docs/data-files.md`.

mod decode;
mod options;
mod records;
pub(crate) mod scan;
mod write;

pub use options::{CsvOptions, DecimalSeparator, InvalidCsvOptions, TextEncoding};
pub use records::{Records, read_records};
pub use write::write_table;

use crate::error::{Error, Result};
use crate::schema::Dictionary;
use crate::table::Table;
use scan::{Next, Opened, Scanner, structural_error};
use std::io::Read;
use std::sync::Arc;

/// Reads a CSV file into a table, strictly: the first problem is an error.
///
/// The header must name every dictionary column exactly once (in any order) and no other
/// column. Header, quoting, encoding and ragged-row problems are [`Error::Data`]; a value that
/// breaks its column's domain or a row that breaks a rule is [`Error::Invalid`] with the
/// located [`crate::Problem`]. `source_name` names the file in messages.
pub fn read_table<R: Read>(reader: R, source_name: &str, dict: Arc<Dictionary>, opts: &CsvOptions) -> Result<Table> {
    let mut scanner = match Scanner::open(reader, source_name, dict, opts)? {
        Opened::Ready(scanner) => scanner,
        Opened::Refused(problems) => {
            return Err(problems.into_iter().next().map_or_else(
                || Error::Data {
                    source_name: source_name.into(),
                    line: 1,
                    message: "the header does not match the dictionary".into(),
                },
                structural_error,
            ));
        }
    };
    let mut table = Table::new(Arc::clone(scanner.dictionary()));
    loop {
        match scanner.next_row()? {
            Next::End => return Ok(table),
            Next::Fatal(p) | Next::Ragged(p) => return Err(structural_error(p)),
            Next::Row {
                line,
                values,
                mut problems,
            } => {
                if !problems.is_empty() {
                    return Err(Error::Invalid(Box::new(problems.swap_remove(0))));
                }
                table.push_row(values).map_err(|e| {
                    Error::Invalid(Box::new(crate::Problem {
                        source_name: source_name.into(),
                        line,
                        column: Some(e.column.clone()),
                        field: None,
                        value: Some(e.value.clone()),
                        rule: e.to_string(),
                    }))
                })?;
            }
        }
    }
}
