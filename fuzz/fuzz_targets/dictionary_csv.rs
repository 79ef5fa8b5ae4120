//! Fuzzes the dictionary parser and the CSV checker together: the input is a dictionary in
//! TOML, a NUL byte, then CSV bytes. If the dictionary parses, the CSV is checked against it in
//! every encoding and with both decimal separators. Nothing may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use table::Dictionary;
use table::csv::{CsvOptions, DecimalSeparator, TextEncoding, read_table};
use table::validate::check;

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let Ok(toml) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let Ok(dict) = Dictionary::from_toml(toml, "fuzz.toml") else {
        return;
    };
    let dict = Arc::new(dict);
    let csv = &data[split + 1..];
    let dialects = [
        CsvOptions::default(),
        CsvOptions::redcap_eu(),
        CsvOptions {
            delimiter: b'\t',
            quote: b'\'',
            decimal: DecimalSeparator::Point,
            encoding: TextEncoding::Windows1252,
        },
    ];
    for opts in dialects {
        let report = check(csv, "fuzz.csv", Arc::clone(&dict), &opts, 5);
        let table = read_table(csv, "fuzz.csv", Arc::clone(&dict), &opts);
        // The strict reader fails exactly when the check finds a problem.
        if let (Ok(report), Ok(table)) = (&report, &table) {
            assert!(report.is_ok(), "read_table accepted what check refused: {report}");
            assert_eq!(report.rows, table.n_rows() as u64);
        }
        if let (Ok(report), Err(e)) = (&report, &table) {
            assert!(!report.is_ok(), "check accepted what read_table refused: {e}");
        }
    }
});
