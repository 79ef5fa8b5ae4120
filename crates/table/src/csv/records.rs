//! Raw records of a CSV file (no dictionary): for drafting a dictionary from data. Same
//! dialects, encodings and located errors as the dictionary-checked reader.

use super::decode::{DecodingReader, InputFault};
use super::options::CsvOptions;
use super::scan::{csv_reader, options_error};
use crate::error::{Error, Result};
use std::io::Read;

/// The records after the header, each as its raw fields.
pub struct Records<R: Read> {
    source_name: String,
    csv: ::csv::Reader<DecodingReader<R>>,
    record: ::csv::StringRecord,
    width: usize,
    done: bool,
}

/// Opens a CSV file and reads its header. A ragged record, bad quoting or invalid encoding
/// ends the iteration with an [`Error::Data`] naming the line.
pub fn read_records<R: Read>(reader: R, source_name: &str, opts: &CsvOptions) -> Result<(Vec<String>, Records<R>)> {
    if let Some(e) = options_error(source_name, opts) {
        return Err(e);
    }
    let csv = csv_reader(reader, opts);
    let mut records = Records {
        source_name: source_name.into(),
        csv,
        record: ::csv::StringRecord::new(),
        width: 0,
        done: false,
    };
    let header = match records.next_raw() {
        Some(Ok((_, fields))) => fields,
        Some(Err(e)) => return Err(e),
        None => {
            return Err(Error::Data {
                source_name: source_name.into(),
                line: 1,
                message: "the file is empty: it has no header line".into(),
            });
        }
    };
    records.width = header.len();
    Ok((header, records))
}

impl<R: Read> Records<R> {
    fn next_raw(&mut self) -> Option<Result<(u64, Vec<String>)>> {
        if self.done {
            return None;
        }
        match self.csv.read_record(&mut self.record) {
            Ok(true) => {
                let fallback = self.record.position().map_or(0, |p| p.line());
                let line = self.csv.get_mut().next_record_line().unwrap_or(fallback);
                Some(Ok((line, self.record.iter().map(String::from).collect())))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                let line = e.position().map_or(0, |p| p.line());
                let text = e.to_string();
                let (line, message) = match e.into_kind() {
                    ::csv::ErrorKind::Io(io) => match io.get_ref().and_then(|e| e.downcast_ref::<InputFault>()) {
                        Some(fault) => (fault.line, fault.message.clone()),
                        None => (line, io.to_string()),
                    },
                    _ => (line, text),
                };
                Some(Err(Error::Data {
                    source_name: self.source_name.clone(),
                    line,
                    message,
                }))
            }
        }
    }
}

impl<R: Read> Iterator for Records<R> {
    type Item = Result<Vec<String>>;

    fn next(&mut self) -> Option<Result<Vec<String>>> {
        Some(self.next_raw()?.and_then(|(line, fields)| {
            if fields.len() == self.width {
                Ok(fields)
            } else {
                self.done = true;
                Err(Error::Data {
                    source_name: self.source_name.clone(),
                    line,
                    message: format!("row has {} fields, header has {}", fields.len(), self.width),
                })
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_records_and_ragged_rows() {
        let data = "a;b\n1;2\n\"x\ny\";3\n4\n";
        let opts = CsvOptions {
            delimiter: b';',
            ..CsvOptions::default()
        };
        let (header, mut records) = read_records(data.as_bytes(), "t.csv", &opts).unwrap();
        assert_eq!(header, ["a", "b"]);
        assert_eq!(records.next().unwrap().unwrap(), ["1", "2"]);
        assert_eq!(records.next().unwrap().unwrap(), ["x\ny", "3"]);
        let err = records.next().unwrap().unwrap_err().to_string();
        assert!(err.starts_with("t.csv:5:"), "{err}");
        assert!(err.contains("row has 1 fields, header has 2"), "{err}");
        assert!(records.next().is_none());
    }

    #[test]
    fn latin1_and_empty_files() {
        let opts = CsvOptions {
            encoding: super::super::TextEncoding::Latin1,
            ..CsvOptions::default()
        };
        let (header, mut records) = read_records(&b"nom\ncaf\xe9\n"[..], "l.csv", &opts).unwrap();
        assert_eq!(header, ["nom"]);
        assert_eq!(records.next().unwrap().unwrap(), ["café"]);
        assert!(read_records(&b""[..], "e.csv", &CsvOptions::default()).is_err());
    }
}
