//! Parquet: write → read is the identity on tables with every kind of column, and reading
//! validates the file against the dictionary with located errors.
#![cfg(feature = "parquet")]

use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use table::parquet::{read_parquet, write_parquet};
use table::{Date, Dictionary, Error, Table, Value};

const DICT: &str = r#"
format_version = 1
name = "every-kind"

[[column]]
name = "id"
type = "identifier"

[[column]]
name = "sex"
type = "categorical"
levels = ["M", "F"]
missing = "allowed"

[[column]]
name = "age"
type = "integer"
min = 0
max = 120
missing = "allowed"

[[column]]
name = "wbc"
type = "real"
min = 0
max = 500
missing = "allowed"

[[column]]
name = "dx date"
type = "date"
min = "2000-01-01"
max = "2030-12-31"
missing = "allowed"

[[column]]
name = "npm1"
type = "boolean"
missing = "allowed"

[[column]]
name = "note"
type = "text"
missing = "allowed"

[[column]]
name = "Overall survival"
type = "integer"
min = 0
max = 7300
"#;

fn dict(text: &str) -> Arc<Dictionary> {
    Arc::new(Dictionary::from_toml(text, "dict.toml").expect("test dictionary is valid"))
}

/// Writes `bytes` to a fresh temporary file and reads it back with `dict`.
fn read_back(bytes: &[u8], dict: Arc<Dictionary>) -> table::Result<Table> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("synthema-parquet-test-{}-{n}.parquet", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let result = read_parquet(file, "data.parquet", dict);
    std::fs::remove_file(&path).unwrap();
    result
}

fn write(table: &Table) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_parquet(&mut bytes, table).unwrap();
    bytes
}

fn table_of(dict: &Arc<Dictionary>, rows: Vec<Vec<Value>>) -> Table {
    let mut t = Table::new(dict.clone());
    for r in rows {
        t.push_row(r).unwrap();
    }
    t
}

fn opt<T: std::fmt::Debug + Clone + 'static>(s: impl Strategy<Value = T> + 'static) -> BoxedStrategy<Option<T>> {
    prop::option::weighted(0.8, s).boxed()
}

fn row() -> impl Strategy<Value = Vec<Value>> {
    let missing = |v: Option<Value>| v.unwrap_or(Value::Missing);
    (
        "[a-z0-9]{1,6}",
        opt(prop::sample::select(vec!["M", "F"])),
        opt(0i64..=120),
        opt(0.0f64..=500.0),
        opt(Date::from_ymd(2000, 1, 1).unwrap().days()..=Date::from_ymd(2030, 12, 31).unwrap().days()),
        opt(any::<bool>()),
        opt("\\PC{0,8}"),
        0i64..=7300,
    )
        .prop_map(move |(id, sex, age, wbc, dx, npm1, note, os)| {
            vec![
                Value::Text(id),
                missing(sex.map(|s| Value::Text(s.into()))),
                missing(age.map(Value::Int)),
                missing(wbc.map(Value::Real)),
                missing(dx.map(|d| Value::Date(Date::from_days(d)))),
                missing(npm1.map(Value::Bool)),
                missing(note.map(Value::Text)),
                Value::Int(os),
            ]
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn write_then_read_is_identity(rows in prop::collection::vec(row(), 0..25)) {
        let d = dict(DICT);
        let table = table_of(&d, rows);
        let back = read_back(&write(&table), d).unwrap();
        prop_assert_eq!(back.n_rows(), table.n_rows());
        prop_assert_eq!(back.columns(), table.columns());
    }
}

fn sample() -> (Arc<Dictionary>, Table) {
    let d = dict(DICT);
    let rows = vec![
        vec![
            Value::Text("p1".into()),
            Value::Text("F".into()),
            Value::Int(61),
            Value::Real(12.5),
            Value::Date(Date::from_ymd(2020, 5, 17).unwrap()),
            Value::Bool(true),
            Value::Text("é".into()),
            Value::Int(400),
        ],
        vec![
            Value::Text("p2".into()),
            Value::Missing,
            Value::Missing,
            Value::Real(300.0),
            Value::Missing,
            Value::Missing,
            Value::Missing,
            Value::Int(20),
        ],
    ];
    let t = table_of(&d, rows);
    (d, t)
}

fn problem(e: Error) -> table::Problem {
    match e {
        Error::Invalid(p) => *p,
        other => panic!("expected a located problem, got {other}"),
    }
}

fn data_message(e: Error) -> (u64, String) {
    match e {
        Error::Data { line, message, .. } => (line, message),
        other => panic!("expected a data error, got {other}"),
    }
}

#[test]
fn values_read_back_as_written() {
    let (d, t) = sample();
    let back = read_back(&write(&t), d).unwrap();
    assert_eq!(back.row(0), t.row(0));
    assert_eq!(back.row(1)[1], Value::Missing);
    assert_eq!(back.value(0, 4), Value::Date(Date::from_ymd(2020, 5, 17).unwrap()));
}

#[test]
fn out_of_bounds_value_names_row_and_column() {
    let (_, t) = sample();
    let strict = dict(&DICT.replace("max = 500", "max = 100"));
    let p = problem(read_back(&write(&t), strict).unwrap_err());
    assert_eq!(p.line, 3, "row 2 is reported at line 3");
    assert_eq!(p.column.as_deref(), Some("wbc"));
    assert_eq!(p.field, Some(4));
    assert_eq!(p.value.as_deref(), Some("300"));
    assert!(
        p.rule.contains("row 2") && p.rule.contains("above max 100"),
        "{}",
        p.rule
    );
    assert_eq!(p.source_name, "data.parquet");
}

#[test]
fn missing_where_forbidden_and_unknown_level() {
    let (_, t) = sample();
    let strict = dict(&DICT.replace(
        "levels = [\"M\", \"F\"]\nmissing = \"allowed\"",
        "levels = [\"M\", \"F\"]",
    ));
    let p = problem(read_back(&write(&t), strict).unwrap_err());
    assert_eq!((p.line, p.column.as_deref()), (3, Some("sex")));
    assert!(p.rule.contains("missing = \"forbidden\""), "{}", p.rule);

    let fewer = dict(&DICT.replace("levels = [\"M\", \"F\"]", "levels = [\"M\", \"X\"]"));
    let p = problem(read_back(&write(&t), fewer).unwrap_err());
    assert_eq!((p.line, p.column.as_deref()), (2, Some("sex")));
    assert!(p.rule.contains("\"F\" is not a level"), "{}", p.rule);
}

#[test]
fn schema_mismatches_are_refused() {
    let (_, t) = sample();
    let bytes = write(&t);
    // A type that does not match.
    let as_text = dict(&DICT.replace(
        "name = \"age\"\ntype = \"integer\"\nmin = 0\nmax = 120",
        "name = \"age\"\ntype = \"text\"",
    ));
    let (line, m) = data_message(read_back(&bytes, as_text).unwrap_err());
    assert_eq!(line, 1);
    assert!(
        m.contains("column \"age\" (text): expected BYTE_ARRAY (STRING), found INT64"),
        "{m}"
    );
    // A dictionary column absent from the file.
    let more = dict(&format!("{DICT}\n[[column]]\nname = \"extra\"\ntype = \"text\"\n"));
    let (_, m) = data_message(read_back(&bytes, more).unwrap_err());
    assert!(m.contains("column \"extra\" is missing"), "{m}");
    // A file column absent from the dictionary.
    let fewer_cols = dict(&DICT.replace(
        "[[column]]\nname = \"note\"\ntype = \"text\"\nmissing = \"allowed\"\n",
        "",
    ));
    let (_, m) = data_message(read_back(&bytes, fewer_cols).unwrap_err());
    assert!(m.contains("column \"note\" is not in the dictionary"), "{m}");
}

#[test]
fn garbage_is_not_a_parquet_file() {
    let (line, m) = data_message(read_back(b"id,sex\n1,M\n", dict(DICT)).unwrap_err());
    assert_eq!(line, 0);
    assert!(m.contains("not a readable Parquet file"), "{m}");
}

#[test]
fn empty_table_round_trips() {
    let d = dict(DICT);
    let t = Table::new(d.clone());
    let back = read_back(&write(&t), d).unwrap();
    assert_eq!(back.n_rows(), 0);
}

#[test]
fn broken_clinical_rule_names_the_row() {
    let (_, t) = sample();
    let with_rule = dict(&format!(
        "{DICT}\n[[rule]]\nname = \"os_over_100\"\nexpr = \"`Overall survival` > 100\"\n"
    ));
    let p = problem(read_back(&write(&t), with_rule).unwrap_err());
    assert_eq!(p.line, 3);
    assert_eq!(p.column, None);
    assert!(p.rule.contains("row 2: rule os_over_100 broken"), "{}", p.rule);
}

#[test]
fn truncated_and_corrupted_files_are_errors() {
    let (d, t) = sample();
    let bytes = write(&t);
    for len in (0..bytes.len()).step_by(7) {
        assert!(read_back(&bytes[..len], d.clone()).is_err(), "truncated at {len}");
    }
    // Flip bytes inside the data pages (the footer stays readable).
    for at in (4..bytes.len().saturating_sub(8)).step_by(5) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5A;
        let _ = read_back(&bad, d.clone());
    }
}
