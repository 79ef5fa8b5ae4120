//! CSV writing: exact output for a small table, refusals that name row and column, and the
//! property that writing then reading gives the same table back, for the default dialect and
//! the REDCap EU dialect (`;`, latin-1, decimal comma).

use proptest::prelude::*;
use std::sync::Arc;
use table::csv::{CsvOptions, TextEncoding, read_table, write_table};
use table::{Date, Dictionary, Error, Table, Value};

/// One column of every kind; levels and tokens with delimiters, quotes and line breaks.
const DICTIONARY: &str = r#"
format_version = 1
name = "every_kind"

[[column]]
name = "id"
type = "identifier"

[[column]]
name = "group"
type = "categorical"
levels = ["a", "b;c", "d\"e", "f,g", "é ü", "two\nlines"]
missing = "allowed"
missing_tokens = ["NA"]

[[column]]
name = "count"
type = "integer"
min = -1000000
max = 1000000
missing = "allowed"

[[column]]
name = "big"
type = "integer"

[[column]]
name = "x"
type = "real"
missing = "allowed"

[[column]]
name = "visit"
type = "date"
format = "%d.%m.%Y"
missing = "allowed"

[[column]]
name = "treated"
type = "boolean"
true = "oui"
false = "non"
missing = "allowed"
missing_tokens = ["?"]

[[column]]
name = "note"
type = "text"
missing = "allowed"
"#;

fn dict() -> Arc<Dictionary> {
    Arc::new(Dictionary::from_toml(DICTIONARY, "every_kind.toml").expect("the test dictionary is valid"))
}

fn table(rows: Vec<Vec<Value>>) -> Table {
    let mut t = Table::new(dict());
    for row in rows {
        t.push_row(row).expect("the generated row fits the dictionary");
    }
    t
}

fn write(table: &Table, opts: CsvOptions) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_table(&mut out, table, &opts)?;
    Ok(out)
}

fn date(y: i32, m: u32, d: u32) -> Value {
    Value::Date(Date::from_ymd(y, m, d).expect("a calendar date"))
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn sample() -> Table {
    table(vec![
        vec![
            text("P1"),
            text("b;c"),
            Value::Int(-3),
            Value::Int(i64::MAX),
            Value::Real(0.1 + 0.2),
            date(2021, 2, 3),
            Value::Bool(true),
            text("fièvre, \"forte\""),
        ],
        vec![
            text("P2"),
            Value::Missing,
            Value::Missing,
            Value::Int(0),
            Value::Real(-0.0),
            Value::Missing,
            Value::Missing,
            Value::Missing,
        ],
    ])
}

#[test]
fn exact_output_in_the_default_dialect() {
    let out = write(&sample(), CsvOptions::default()).expect("writable");
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        "id,group,count,big,x,visit,treated,note\n\
         P1,b;c,-3,9223372036854775807,0.30000000000000004,03.02.2021,oui,\"fièvre, \"\"forte\"\"\"\n\
         P2,NA,,0,-0,,?,\n"
    );
}

#[test]
fn exact_output_in_the_redcap_eu_dialect() {
    let out = write(&sample(), CsvOptions::redcap_eu()).expect("writable");
    let expected = "id;group;count;big;x;visit;treated;note\n\
                    P1;\"b;c\";-3;9223372036854775807;0,30000000000000004;03.02.2021;oui;\"fièvre, \"\"forte\"\"\"\n\
                    P2;NA;;0;-0;;?;\n";
    let latin1: Vec<u8> = expected
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
        .collect();
    assert_eq!(out, latin1);
    assert!(out.contains(&0xE8));
}

#[test]
fn a_character_outside_latin1_is_refused_with_row_and_column() {
    let mut t = sample();
    t.push_row(vec![
        text("P3"),
        text("a"),
        Value::Int(1),
        Value::Int(1),
        Value::Real(1.0),
        date(2020, 1, 1),
        Value::Bool(false),
        text("dose 5 µg → 10 µg"),
    ])
    .expect("fits");
    let err = write(&t, CsvOptions::redcap_eu()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CSV output:4:8: column \"note\": value \"dose 5 µg → 10 µg\": row 3: character '→' (U+2192) \
         cannot be written in latin-1"
    );
    let windows = CsvOptions {
        encoding: TextEncoding::Windows1252,
        ..CsvOptions::redcap_eu()
    };
    assert!(write(&t, windows).is_err(), "→ is not in windows-1252 either");
}

#[test]
fn a_value_that_would_not_read_back_is_refused() {
    let t = table(vec![vec![
        text("P1"),
        text("a"),
        Value::Int(1),
        Value::Int(1),
        Value::Real(1.0),
        date(2020, 1, 1),
        Value::Bool(false),
        text(""),
    ]]);
    let err = write(&t, CsvOptions::default()).unwrap_err();
    let Error::Invalid(p) = err else {
        panic!("expected a located problem, got {err}")
    };
    assert_eq!((p.line, p.column.as_deref(), p.field), (2, Some("note"), Some(8)));
    assert_eq!(
        p.rule,
        "row 1: \"\" is a missing token of the column: it would read back as missing"
    );

    let t = table(vec![vec![
        Value::Missing,
        text("a"),
        Value::Int(1),
        Value::Int(1),
        Value::Real(1.0),
        date(2020, 1, 1),
        Value::Bool(false),
        text("x"),
    ]]);
    let err = write(&t, CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CSV output:2:1: column \"id\": row 1: missing value, but missing = \"forbidden\""
    );
}

#[test]
fn a_date_its_format_cannot_hold_is_refused() {
    let t = table(vec![vec![
        text("P1"),
        text("a"),
        Value::Int(1),
        Value::Int(1),
        Value::Real(1.0),
        Value::Date(Date::from_days(-800_000)),
        Value::Bool(false),
        text("x"),
    ]]);
    let err = write(&t, CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CSV output:2:6: column \"visit\": value \"-800000 days from 1970-01-01\": row 1: date -800000 days from \
         1970-01-01 is outside the years 0000 to 9999"
    );
    // Far outside the calendar: refused, not a panic or an overflow.
    let t = table(vec![vec![
        text("P1"),
        text("a"),
        Value::Int(1),
        Value::Int(1),
        Value::Real(1.0),
        Value::Date(Date::from_days(i32::MAX)),
        Value::Bool(false),
        text("x"),
    ]]);
    assert!(write(&t, CsvOptions::default()).is_err());
}

// ---- the round-trip property ----

/// Text: any character (or only latin-1 ones), with delimiters, quotes and line breaks
/// frequent; never empty, as "" is the text column's missing token.
fn text_strategy(latin1: bool) -> impl Strategy<Value = String> {
    let any_char = if latin1 {
        proptest::char::range('\0', '\u{ff}').boxed()
    } else {
        any::<char>().boxed()
    };
    let c = prop_oneof![
        3 => any_char,
        1 => prop::sample::select(vec![',', ';', '"', '\n', '\r', ' ', 'é', '\u{a0}']),
    ];
    prop::collection::vec(c, 1..12).prop_map(|cs| cs.into_iter().collect())
}

fn real_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        prop::sample::select(vec![
            1e-300,
            -0.0,
            0.0,
            0.1 + 0.2,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -1.5,
            123456789.125,
        ]),
    ]
}

fn missing_or<S: Strategy<Value = Value> + 'static>(s: S) -> BoxedStrategy<Value> {
    prop_oneof![1 => Just(Value::Missing), 4 => s].boxed()
}

fn row_strategy(latin1: bool) -> impl Strategy<Value = Vec<Value>> {
    let levels: Vec<String> = ["a", "b;c", "d\"e", "f,g", "é ü", "two\nlines"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    (
        text_strategy(latin1).prop_map(Value::Text),
        missing_or(prop::sample::select(levels).prop_map(Value::Text)),
        missing_or((-1_000_000i64..=1_000_000).prop_map(Value::Int)),
        any::<i64>().prop_map(Value::Int),
        missing_or(real_strategy().prop_map(Value::Real)),
        // Years 1000 to 9999: what a four-digit %Y holds.
        missing_or((-354_285i32..=2_932_896).prop_map(|d| Value::Date(Date::from_days(d)))),
        missing_or(any::<bool>().prop_map(Value::Bool)),
        missing_or(text_strategy(latin1).prop_map(Value::Text)),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| vec![a, b, c, d, e, f, g, h])
}

fn assert_round_trip(rows: Vec<Vec<Value>>, opts: CsvOptions) -> Result<(), TestCaseError> {
    let original = table(rows);
    let bytes = write(&original, opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let read = read_table(&bytes[..], "written.csv", dict(), &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(read.n_rows(), original.n_rows());
    for r in 0..original.n_rows() {
        prop_assert_eq!(read.row(r), original.row(r), "row {}", r);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn write_then_read_is_identity_in_the_default_dialect(rows in prop::collection::vec(row_strategy(false), 0..12)) {
        assert_round_trip(rows, CsvOptions::default())?;
    }

    #[test]
    fn write_then_read_is_identity_in_the_redcap_eu_dialect(rows in prop::collection::vec(row_strategy(true), 0..12)) {
        assert_round_trip(rows, CsvOptions::redcap_eu())?;
    }
}
