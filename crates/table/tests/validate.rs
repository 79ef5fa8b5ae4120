//! One test per class of bad input: each asserts the exact line, column, field, value and
//! message of the problem reported, through `validate::check` (every problem) and
//! `csv::read_table` (the first problem as an error).

use std::sync::Arc;
use table::csv::{CsvOptions, DecimalSeparator, TextEncoding, read_table};
use table::validate::{CheckReport, MISSING_FORBIDDEN, check};
use table::{Dictionary, Error, Problem, Value};

const HEADER: &str = "patient_id,age,sex,eln_risk,wbc,diagnosis_date,tp53_mutated,OS_TIME,EFS_TIME,comment";
const GOOD: &str = "P001,67,F,adverse,12.5,03/02/2021,yes,14.25,6.5,ok";

fn dict() -> Arc<Dictionary> {
    let text = include_str!("fixtures/aml_small.toml");
    Arc::new(Dictionary::from_toml(text, "aml_small.toml").expect("the test dictionary is valid"))
}

fn check_bytes(bytes: &[u8], opts: CsvOptions) -> CheckReport {
    check(bytes, "data.csv", dict(), &opts, 100).expect("no I/O error on a byte slice")
}

/// Checks a file made of the header, then `rows`, one per line.
fn check_rows(rows: &[&str]) -> CheckReport {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    check_bytes(text.as_bytes(), CsvOptions::default())
}

fn problem(line: u64, column: Option<&str>, field: Option<usize>, value: Option<&str>, rule: &str) -> Problem {
    Problem {
        source_name: "data.csv".into(),
        line,
        column: column.map(String::from),
        field,
        value: value.map(String::from),
        rule: rule.into(),
    }
}

/// A field's problem: the column named and its 1-based field index in the file.
fn field_problem(line: u64, column: &str, field: usize, value: &str, rule: &str) -> Problem {
    problem(line, Some(column), Some(field), Some(value), rule)
}

/// `GOOD` with field `index` (0-based) replaced by `value`.
fn good_with(index: usize, value: &str) -> String {
    let mut fields: Vec<&str> = GOOD.split(',').collect();
    fields[index] = value;
    fields.join(",")
}

#[test]
fn a_valid_file_has_no_problem() {
    let report = check_rows(&[GOOD, "P002,45,M,NA,,17/11/2019,no,60,60,"]);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.rows, 2);
}

#[test]
fn ragged_row() {
    let report = check_rows(&[GOOD, "P002,45,M,NA,,17/11/2019,no,60,60", GOOD]);
    assert_eq!(
        report.problems,
        vec![problem(3, None, None, None, "row has 9 fields, header has 10")]
    );
    assert_eq!(report.rows, 3, "reading goes on after a ragged row");
    let text = format!("{HEADER}\n{GOOD},extra\n");
    let err = read_table(text.as_bytes(), "data.csv", dict(), &CsvOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "data.csv:2: row has 11 fields, header has 10");
}

#[test]
fn text_after_a_closing_quote() {
    let report = check_rows(&[GOOD, "P002,45,\"M\"x,NA,,17/11/2019,no,60,60,", GOOD]);
    assert_eq!(
        report.problems,
        vec![problem(
            3,
            Some("sex"),
            Some(3),
            None,
            "bad quoting: text after the closing quote of a quoted field (a \" inside a quoted field must be \
             doubled: \"\")"
        )]
    );
    assert_eq!(report.rows, 1, "reading stops at bad quoting");
}

#[test]
fn unterminated_quote() {
    let report = check_rows(&[GOOD, "P002,45,M,NA,,17/11/2019,no,60,60,\"never closed", GOOD, GOOD]);
    assert_eq!(
        report.problems,
        vec![problem(
            3,
            Some("comment"),
            Some(10),
            None,
            "bad quoting: the quoted field opened on line 3 is never closed (unterminated \")"
        )]
    );
    assert_eq!(report.rows, 1);
    let text = format!("{HEADER}\n\"P001");
    let err = read_table(text.as_bytes(), "data.csv", dict(), &CsvOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Data { line: 2, .. }), "{err}");
}

#[test]
fn invalid_utf8_with_utf8_declared() {
    let mut bytes = format!("{HEADER}\n{GOOD}\n").into_bytes();
    bytes.extend_from_slice(b"P002,45,M,NA,,17/11/2019,no,60,60,caf\xE9 cr\xE8me\n");
    let report = check_bytes(&bytes, CsvOptions::default());
    assert_eq!(
        report.problems,
        vec![problem(
            3,
            Some("comment"),
            Some(10),
            None,
            "invalid UTF-8 at byte 38 of the line (byte 174 of the file): 0xE9 is not a valid UTF-8 sequence; \
             if the file is latin-1 or windows-1252, declare that encoding"
        )]
    );
    assert_eq!(bytes[173], 0xE9, "byte 174 of the file, counted from 1");
    // The same bytes declared latin-1 read fine.
    let latin1 = CsvOptions {
        encoding: TextEncoding::Latin1,
        ..CsvOptions::default()
    };
    assert!(check_bytes(&bytes, latin1).is_ok());
}

#[test]
fn unknown_category() {
    let report = check_rows(&[&good_with(3, "favourable")]);
    assert_eq!(
        report.problems,
        vec![field_problem(
            2,
            "eln_risk",
            4,
            "favourable",
            "\"favourable\" is not a level (levels: favorable, intermediate, adverse)"
        )]
    );
}

#[test]
fn out_of_bounds() {
    let report = check_rows(&[&good_with(1, "130"), &good_with(5, "31/12/1999"), &good_with(4, "-0.5")]);
    assert_eq!(
        report.problems,
        vec![
            field_problem(2, "age", 2, "130", "value 130 is above max 120 (years)"),
            field_problem(
                3,
                "diagnosis_date",
                6,
                "31/12/1999",
                "date 1999-12-31 is before min 2000-01-01"
            ),
            field_problem(4, "wbc", 5, "-0.5", "value -0.5 is below min 0 (10^9/L)"),
        ]
    );
}

#[test]
fn unparsable_numbers_and_dates() {
    let report = check_rows(&[
        &good_with(1, "67.0"),
        &good_with(4, "12,5").replace("12,5", "\"12,5\""),
        &good_with(4, "inf"),
        &good_with(1, "99999999999999999999"),
        &good_with(5, "2021-02-03"),
        &good_with(5, "30/02/2021"),
        &good_with(6, "true"),
    ]);
    assert_eq!(
        report.problems,
        vec![
            field_problem(2, "age", 2, "67.0", "\"67.0\" is not an integer"),
            field_problem(
                3,
                "wbc",
                5,
                "12,5",
                "\"12,5\" is not a number (the decimal separator is a point)"
            ),
            field_problem(
                4,
                "wbc",
                5,
                "inf",
                "\"inf\" is not a number (the decimal separator is a point)"
            ),
            field_problem(
                5,
                "age",
                2,
                "99999999999999999999",
                "\"99999999999999999999\" is outside the range of a 64-bit integer"
            ),
            field_problem(
                6,
                "diagnosis_date",
                6,
                "2021-02-03",
                "\"2021-02-03\" does not match date format \"%d/%m/%Y\""
            ),
            field_problem(
                7,
                "diagnosis_date",
                6,
                "30/02/2021",
                "\"30/02/2021\" is not a calendar date"
            ),
            field_problem(
                8,
                "tp53_mutated",
                7,
                "true",
                "\"true\" is not a boolean token (true: \"yes\", false: \"no\")"
            ),
        ]
    );
}

#[test]
fn missing_required_value() {
    let report = check_rows(&[&good_with(1, ""), &good_with(3, "")]);
    assert_eq!(report.problems, vec![field_problem(2, "age", 2, "", MISSING_FORBIDDEN)]);
    assert_eq!(MISSING_FORBIDDEN, "missing value, but missing = \"forbidden\"");
    let text = format!("{HEADER}\n{}\n", good_with(1, ""));
    let err = read_table(text.as_bytes(), "data.csv", dict(), &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "data.csv:2:2: column \"age\": value \"\": missing value, but missing = \"forbidden\""
    );
}

#[test]
fn duplicate_column() {
    let header = HEADER.replace(",comment", ",age");
    let report = check_bytes(format!("{header}\n{GOOD}\n").as_bytes(), CsvOptions::default());
    assert_eq!(
        report.problems,
        vec![
            problem(
                1,
                Some("age"),
                Some(10),
                None,
                "column appears twice in the header (fields 2 and 10)"
            ),
            problem(
                1,
                Some("comment"),
                None,
                None,
                "column of the dictionary is missing from the header"
            ),
        ]
    );
    assert_eq!(report.rows, 0, "a bad header stops the check");
}

#[test]
fn missing_and_unknown_columns() {
    let header = HEADER.replace("wbc", "WBC ");
    let report = check_bytes(format!("{header}\n{GOOD}\n").as_bytes(), CsvOptions::default());
    assert_eq!(
        report.problems,
        vec![
            problem(
                1,
                Some("WBC "),
                Some(5),
                None,
                "column is not in the dictionary (did you mean \"wbc\"?)"
            ),
            problem(
                1,
                Some("wbc"),
                None,
                None,
                "column of the dictionary is missing from the header"
            ),
        ]
    );
    let err = read_table(
        format!("{header}\n").as_bytes(),
        "data.csv",
        dict(),
        &CsvOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "data.csv:1: column \"WBC \" (field 5): column is not in the dictionary (did you mean \"wbc\"?)"
    );
}

#[test]
fn rule_broken() {
    let report = check_rows(&[GOOD, &good_with(8, "20"), &good_with(8, "")]);
    assert_eq!(
        report.problems,
        vec![
            problem(3, None, None, None, "rule efs_le_os broken: EFS_TIME <= OS_TIME"),
            field_problem(4, "EFS_TIME", 9, "", MISSING_FORBIDDEN),
        ],
        "a missing value makes the rule unknown, not broken"
    );
}

#[test]
fn columns_in_another_order_and_quoted_lines() {
    // The header in another order; a quoted field spanning lines; CRLF line ends; blank lines.
    let text = "comment,EFS_TIME,OS_TIME,tp53_mutated,diagnosis_date,wbc,eln_risk,sex,age,patient_id\r\n\
                \"two\r\nlines\",6.5,14.25,yes,03/02/2021,12.5,adverse,F,67,P001\r\n\
                \r\n\
                ,1,2,no,01/01/2020,,NA,M,150,P002\r\n";
    let report = check_bytes(text.as_bytes(), CsvOptions::default());
    assert_eq!(
        report.problems,
        vec![field_problem(5, "age", 9, "150", "value 150 is above max 120 (years)")]
    );
    let table = read_table(
        text.replace("150", "15").replace(",15,", ",51,").as_bytes(),
        "data.csv",
        dict(),
        &CsvOptions::default(),
    )
    .expect("valid");
    assert_eq!(table.n_rows(), 2);
    assert_eq!(table.value(0, 9), Value::Text("two\r\nlines".into()));
    assert_eq!(table.value(1, 1), Value::Int(51));
    assert_eq!(table.value(1, 3), Value::Missing);
}

#[test]
fn several_errors_are_all_listed() {
    let rows = [
        GOOD.to_string(),
        good_with(1, "130"),
        good_with(2, "X"),
        "P004,50,F".to_string(),
        good_with(8, "99"),
        good_with(5, "1/1/1990").replace("ok", "\"a, b\""),
        GOOD.to_string(),
    ];
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let report = check_rows(&rows);
    let expected = vec![
        field_problem(3, "age", 2, "130", "value 130 is above max 120 (years)"),
        field_problem(4, "sex", 3, "X", "\"X\" is not a level (levels: F, M)"),
        problem(5, None, None, None, "row has 3 fields, header has 10"),
        problem(6, None, None, None, "rule efs_le_os broken: EFS_TIME <= OS_TIME"),
        field_problem(
            7,
            "diagnosis_date",
            6,
            "1/1/1990",
            "date 1990-01-01 is before min 2000-01-01",
        ),
    ];
    assert_eq!(report.problems, expected);
    assert_eq!((report.rows, report.not_listed, report.total()), (7, 0, 5));

    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    let limited = check(text.as_bytes(), "data.csv", dict(), &CsvOptions::default(), 2).expect("no I/O error");
    assert_eq!(limited.problems, expected[..2]);
    assert_eq!(limited.not_listed, 3);
    assert!(limited.to_string().ends_with("… and 3 more problems not listed\n"));
    assert_eq!(
        limited.to_string().lines().next(),
        Some("data.csv:3:2: column \"age\": value \"130\": value 130 is above max 120 (years)")
    );
}

#[test]
fn the_stopping_problem_is_listed_past_the_limit() {
    let text = format!("{HEADER}\n{}\n{}\n\"open\n", good_with(1, "1"), good_with(1, "2"));
    let report = check(text.as_bytes(), "data.csv", dict(), &CsvOptions::default(), 1).expect("no I/O error");
    assert_eq!(report.problems.len(), 2);
    assert_eq!(report.not_listed, 1);
    assert_eq!(report.problems[1].line, 4);
    assert!(report.problems[1].rule.contains("never closed"));
}

#[test]
fn byte_order_mark() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(format!("{HEADER}\n{GOOD}\n").as_bytes());
    assert!(check_bytes(&bytes, CsvOptions::default()).is_ok(), "skipped in UTF-8");
    let latin1 = CsvOptions {
        encoding: TextEncoding::Latin1,
        ..CsvOptions::default()
    };
    let report = check_bytes(&bytes, latin1);
    assert_eq!(
        report.problems[0],
        problem(
            1,
            Some("\u{EF}\u{BB}\u{BF}patient_id"),
            Some(1),
            None,
            "column is not in the dictionary (it starts with a UTF-8 byte-order mark read as latin-1: is the file \
             UTF-8?)"
        )
    );
}

#[test]
fn empty_file() {
    let report = check_bytes(b"", CsvOptions::default());
    assert_eq!(
        report.problems,
        vec![problem(1, None, None, None, "the file is empty: it has no header line")]
    );
}

#[test]
fn latin1_with_decimal_comma() {
    let bytes = include_bytes!("fixtures/redcap_eu_latin1.csv");
    assert!(bytes.contains(&0xE8), "the fixture is latin-1 (è is one byte)");
    let table = read_table(&bytes[..], "redcap_eu_latin1.csv", dict(), &CsvOptions::redcap_eu()).expect("valid");
    assert_eq!(table.n_rows(), 3);
    let d = dict();
    let col = |name: &str| d.index_of(name).expect("column");
    assert_eq!(table.value(0, col("wbc")), Value::Real(12.5));
    assert_eq!(table.value(0, col("OS_TIME")), Value::Real(14.25));
    assert_eq!(table.value(0, col("comment")), Value::Text("fièvre; transfusé".into()));
    assert_eq!(table.value(1, col("comment")), Value::Text("Gérard à l'hôpital".into()));
    assert_eq!(table.value(1, col("eln_risk")), Value::Missing);
    assert_eq!(table.value(1, col("wbc")), Value::Missing);
    assert_eq!(table.value(2, col("wbc")), Value::Real(0.75));
    assert_eq!(table.value(2, col("age")), Value::Int(80));
    assert_eq!(table.value(2, col("tp53_mutated")), Value::Bool(false));
    assert_eq!(
        table.value(2, col("diagnosis_date")),
        Value::Date(table::Date::from_ymd(2024, 1, 1).expect("a date"))
    );
    // Read as UTF-8, the same file stops at its first latin-1 byte.
    let report = check(
        &bytes[..],
        "redcap_eu_latin1.csv",
        dict(),
        &CsvOptions {
            encoding: TextEncoding::Utf8,
            ..CsvOptions::redcap_eu()
        },
        10,
    )
    .expect("no I/O error");
    assert_eq!(report.problems.len(), 1);
    assert_eq!((report.problems[0].line, report.problems[0].field), (2, Some(10)));
    // With a decimal point declared, "12,5" is not a number.
    let point = CsvOptions {
        decimal: DecimalSeparator::Point,
        ..CsvOptions::redcap_eu()
    };
    let report = check(&bytes[..], "redcap_eu_latin1.csv", dict(), &point, 10).expect("no I/O error");
    assert_eq!(
        report.problems[0],
        Problem {
            source_name: "redcap_eu_latin1.csv".into(),
            line: 2,
            column: Some("wbc".into()),
            field: Some(5),
            value: Some("12,5".into()),
            rule: "\"12,5\" is not a number (the decimal separator is a point)".into(),
        }
    );
}

#[test]
fn decimal_comma_refuses_a_point() {
    let text = "patient_id;age;sex;eln_risk;wbc;diagnosis_date;tp53_mutated;OS_TIME;EFS_TIME;comment\n\
                P001;67;F;adverse;12.5;03/02/2021;yes;14,25;6,5;ok\n";
    let opts = CsvOptions {
        encoding: TextEncoding::Utf8,
        ..CsvOptions::redcap_eu()
    };
    let report = check_bytes(text.as_bytes(), opts);
    assert_eq!(
        report.problems,
        vec![field_problem(
            2,
            "wbc",
            5,
            "12.5",
            "\"12.5\" is not a number (the decimal separator is a comma)"
        )]
    );
}

#[test]
fn windows_1252_reads_the_euro_sign() {
    let mut bytes = format!("{HEADER}\n").into_bytes();
    bytes.extend_from_slice(&GOOD.as_bytes()[..GOOD.len() - 2]);
    bytes.extend_from_slice(b"co\xFBt 5 \x80\n");
    let opts = CsvOptions {
        encoding: TextEncoding::Windows1252,
        ..CsvOptions::default()
    };
    let table = read_table(&bytes[..], "data.csv", dict(), &opts).expect("valid");
    assert_eq!(table.value(0, 9), Value::Text("coût 5 €".into()));
}

#[test]
fn invalid_options_are_refused_when_reading() {
    let opts = CsvOptions {
        decimal: DecimalSeparator::Comma,
        ..CsvOptions::default()
    };
    let err = check(&b""[..], "data.csv", dict(), &opts, 10).unwrap_err();
    assert!(err.to_string().contains("ambiguous"), "{err}");
}

/// Regression (review finding D1): with CR-only line endings, problems were all reported on
/// line 1.
#[test]
fn cr_only_line_endings_are_counted() {
    let dict = std::sync::Arc::new(
        table::Dictionary::from_toml(
            "format_version = 1\nname = \"t\"\n[[column]]\nname = \"x\"\ntype = \"integer\"\n",
            "t.toml",
        )
        .unwrap(),
    );
    for (data, ending) in [
        ("x\r1\r2\rbad\r", "CR"),
        ("x\r\n1\r\n2\r\nbad\r\n", "CR LF"),
        ("x\n1\n2\nbad\n", "LF"),
    ] {
        let report = table::validate::check(
            data.as_bytes(),
            "t.csv",
            dict.clone(),
            &table::csv::CsvOptions::default(),
            10,
        )
        .unwrap();
        assert_eq!(report.problems.len(), 1, "{ending}: {:?}", report.problems);
        assert_eq!(report.problems[0].line, 4, "{ending}");
    }
}
