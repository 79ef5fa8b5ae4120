use super::*;
use crate::date::Date;
use crate::table::Table;
use crate::value::Value;
use rand::SeedableRng;
use rand::rngs::StdRng;

const DICTIONARY: &str = r#"
format_version = 1
name = "test"

[[column]]
name = "ID"
type = "identifier"

[[column]]
name = "SEX"
type = "categorical"
levels = ["F", "M"]

[[column]]
name = "RISK"
type = "categorical"
levels = ["favourable", "intermediate", "adverse"]
missing = "allowed"

[[column]]
name = "RELAPSE"
type = "boolean"

[[column]]
name = "ECOG"
type = "integer"
min = 0
max = 4

[[column]]
name = "AGE"
type = "integer"
min = 0
max = 100
bins = [0, 18, 40, 65, 100]

[[column]]
name = "WBC"
type = "real"
min = 0
max = 500
bins = [4, 11, 100]
missing = "allowed"

[[column]]
name = "DIAGNOSIS"
type = "date"
min = "2000-01-01"
max = "2024-12-31"

[[column]]
name = "NOTES"
type = "text"
"#;

fn dictionary(text: &str) -> Dictionary {
    Dictionary::from_toml(text, "test.toml").expect("the test dictionary is valid")
}

fn domain() -> Domain {
    Domain::from_dictionary(&dictionary(DICTIONARY), &EncodeOptions::default()).expect("the test domain builds")
}

fn date(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).expect("a valid date")
}

fn row(values: Vec<Value>) -> Vec<Value> {
    values
}

fn table(rows: Vec<Vec<Value>>) -> Table {
    let d = domain();
    let mut t = Table::new(d.dictionary().clone());
    for r in rows {
        t.push_row(r).expect("the test row fits");
    }
    t
}

fn good_row() -> Vec<Value> {
    row(vec![
        Value::Text("P1".into()),
        Value::Text("M".into()),
        Value::Missing,
        Value::Bool(true),
        Value::Int(3),
        Value::Int(40),
        Value::Real(11.0),
        Value::Date(date(2024, 12, 31)),
        Value::Text("note".into()),
    ])
}

#[test]
fn attributes_follow_the_dictionary() {
    let d = domain();
    let names: Vec<&str> = d.attributes().iter().map(Attribute::name).collect();
    assert_eq!(names, ["SEX", "RISK", "RELAPSE", "ECOG", "AGE", "WBC", "DIAGNOSIS"]);
    let columns: Vec<usize> = d.attributes().iter().map(Attribute::column_index).collect();
    assert_eq!(columns, [1, 2, 3, 4, 5, 6, 7]);
    // SEX 2; RISK 3 + missing; RELAPSE 2; ECOG one per integer; AGE 4 bins (0 and 100 are the
    // bounds); WBC 4 bins + missing; DIAGNOSIS 9131 days → 16 default bins.
    assert_eq!(d.sizes(), [2, 4, 2, 5, 4, 5, 16]);
    assert_eq!(d.attribute("RISK").and_then(Attribute::missing_code), Some(3));
    assert_eq!(d.attribute("SEX").and_then(Attribute::missing_code), None);
    assert_eq!(d.index_of("AGE"), Some(4));
    assert_eq!(d.index_of("ID"), None);
}

#[test]
fn integer_bins_from_dictionary_edges() {
    let d = domain();
    let Some(Mapping::Integer(bins)) = d.attribute("AGE").map(Attribute::mapping) else {
        panic!("AGE is an integer attribute")
    };
    assert_eq!(bins.starts(), [0, 18, 40, 65]);
    assert_eq!(bins.bin(0), Some(0..=17));
    assert_eq!(bins.bin(3), Some(65..=100));
    assert_eq!(bins.bin(4), None);
    assert_eq!(bins.code_of(17), Some(0));
    assert_eq!(bins.code_of(18), Some(1));
    assert_eq!(bins.code_of(100), Some(3));
    assert_eq!(bins.code_of(101), None);
    assert_eq!(bins.code_of(-1), None);
}

#[test]
fn integer_default_bins_have_integer_edges_and_cover_the_range() {
    let bins = IntegerBins::equal_width(0, 99, 16).expect("valid bins");
    assert_eq!(bins.len(), 16);
    let mut next = 0;
    for code in 0..bins.len() {
        let bin = bins.bin(code).expect("bin exists");
        assert_eq!(*bin.start(), next, "bins are contiguous");
        assert!(bin.start() <= bin.end(), "bin {code} holds an integer");
        next = bin.end() + 1;
    }
    assert_eq!(next, 100);
    // Fewer integers than bins: one bin per integer.
    let narrow = IntegerBins::equal_width(5, 7, 16).expect("valid bins");
    assert_eq!(narrow.starts(), [5, 6, 7]);
    // Extreme bounds do not overflow.
    let wide = IntegerBins::equal_width(i64::MIN, i64::MAX, 4).expect("valid bins");
    assert_eq!(wide.code_of(i64::MIN), Some(0));
    assert_eq!(wide.code_of(i64::MAX), Some(3));
    assert_eq!(wide.code_of(0), Some(2));
}

#[test]
fn wide_integer_without_bins_gets_default_bins() {
    let text = "format_version = 1\nname = \"t\"\n[[column]]\nname = \"X\"\ntype = \"integer\"\nmin = 1\nmax = 65\n";
    let options = EncodeOptions {
        default_bins: 8,
        max_exact_integer_levels: 64,
    };
    let d = Domain::from_dictionary(&dictionary(text), &options).expect("domain");
    assert_eq!(d.sizes(), [8]);
    let exact = EncodeOptions {
        default_bins: 8,
        max_exact_integer_levels: 65,
    };
    let d = Domain::from_dictionary(&dictionary(text), &exact).expect("domain");
    assert_eq!(d.sizes(), [65]);
}

#[test]
fn real_bins_are_half_open_except_the_last() {
    let d = domain();
    let Some(Mapping::Real(bins)) = d.attribute("WBC").map(Attribute::mapping) else {
        panic!("WBC is a real attribute")
    };
    assert_eq!(bins.edges(), [0.0, 4.0, 11.0, 100.0, 500.0]);
    assert_eq!(bins.code_of(0.0), Some(0));
    assert_eq!(bins.code_of(3.999), Some(0));
    assert_eq!(bins.code_of(4.0), Some(1));
    assert_eq!(bins.code_of(500.0), Some(3));
    assert_eq!(bins.code_of(500.1), None);
    assert_eq!(bins.code_of(f64::NAN), None);
    let equal = RealBins::equal_width(0.0, 1.0, 4).expect("valid bins");
    assert_eq!(equal.edges(), [0.0, 0.25, 0.5, 0.75, 1.0]);
    let point = RealBins::equal_width(2.0, 2.0, 4).expect("valid bins");
    assert_eq!(point.len(), 1);
    assert_eq!(point.code_of(2.0), Some(0));
}

#[test]
fn numeric_column_without_bounds_is_an_error() {
    for (kind, bound) in [
        ("integer", "min = 0"),
        ("real", "max = 1.5"),
        ("date", "min = \"2000-01-01\""),
    ] {
        let text = format!("format_version = 1\nname = \"t\"\n[[column]]\nname = \"X\"\ntype = \"{kind}\"\n{bound}\n");
        let err = Domain::from_dictionary(&dictionary(&text), &EncodeOptions::default())
            .expect_err("a column without both bounds cannot be encoded");
        match err {
            Error::Domain { column, message } => {
                assert_eq!(column, "X");
                assert!(message.contains("public dictionary"), "{message}");
            }
            other => panic!("unexpected error {other}"),
        }
    }
}

#[test]
fn zero_default_bins_is_an_error() {
    let text = "format_version = 1\nname = \"t\"\n[[column]]\nname = \"X\"\ntype = \"real\"\nmin = 0\nmax = 1\n";
    let options = EncodeOptions {
        default_bins: 0,
        max_exact_integer_levels: 64,
    };
    assert!(matches!(
        Domain::from_dictionary(&dictionary(text), &options),
        Err(Error::Domain { column, .. }) if column == "X"
    ));
}

#[test]
fn select_keeps_the_order_given() {
    let d = domain();
    let s = d.select(&["WBC", "SEX"]).expect("both are attributes");
    assert_eq!(s.sizes(), [5, 2]);
    assert_eq!(s.attributes()[0].column_index(), 6);
    assert!(matches!(d.select(&["ID"]), Err(Error::Domain { column, .. }) if column == "ID"));
    assert!(matches!(d.select(&["NOPE"]), Err(Error::Domain { .. })));
    assert!(matches!(d.select(&["SEX", "SEX"]), Err(Error::Domain { .. })));
}

#[test]
fn encode_gives_the_expected_codes() {
    let d = domain();
    let mut second = good_row();
    second[1] = Value::Text("F".into());
    second[2] = Value::Text("adverse".into());
    second[3] = Value::Bool(false);
    second[4] = Value::Int(0);
    second[5] = Value::Int(17);
    second[6] = Value::Missing;
    second[7] = Value::Date(date(2000, 1, 1));
    let t = table(vec![good_row(), second]);
    let e = d.encode(&t).expect("valid rows encode");
    assert_eq!(e.n_rows(), 2);
    let codes = |row| {
        (0..d.len())
            .map(|a| e.code(row, a).expect("in range"))
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(0), [1, 3, 1, 3, 2, 2, 15]);
    assert_eq!(codes(1), [0, 2, 0, 0, 0, 4, 0]);
    assert_eq!(e.code(2, 0), None);
}

#[test]
fn out_of_bounds_value_is_an_error_naming_row_and_column() {
    let d = domain();
    let mut bad = good_row();
    bad[6] = Value::Real(500.5);
    let t = table(vec![good_row(), bad]);
    match d.encode(&t) {
        Err(Error::Domain { column, message }) => {
            assert_eq!(column, "WBC");
            assert!(message.contains("row 2"), "{message}");
            assert!(message.contains("500.5"), "{message}");
        }
        other => panic!("expected a domain error, got {other:?}"),
    }
    let mut early = good_row();
    early[7] = Value::Date(date(1999, 12, 31));
    match d.encode(&table(vec![early])) {
        Err(Error::Domain { column, message }) => {
            assert_eq!(column, "DIAGNOSIS");
            assert!(message.contains("1999-12-31"), "{message}");
        }
        other => panic!("expected a domain error, got {other:?}"),
    }
}

#[test]
fn missing_value_in_a_forbidden_column_is_an_error() {
    let d = domain();
    let mut bad = good_row();
    bad[4] = Value::Missing;
    match d.encode(&table(vec![bad])) {
        Err(Error::Domain { column, message }) => {
            assert_eq!(column, "ECOG");
            assert!(message.contains("row 1") && message.contains("forbids"), "{message}");
        }
        other => panic!("expected a domain error, got {other:?}"),
    }
}

#[test]
fn decode_round_trips_codes_and_leaves_identifiers_missing() {
    let d = domain();
    let t = table(vec![good_row()]);
    let e = d.encode(&t).expect("encodes");
    let mut rng = StdRng::seed_from_u64(7);
    let back = d.decode(&e, &mut rng).expect("decodes");
    assert_eq!(back.n_rows(), 1);
    assert_eq!(back.value(0, 0), Value::Missing, "identifiers are not synthesised");
    assert_eq!(back.value(0, 8), Value::Missing, "free text is not synthesised");
    assert_eq!(back.value(0, 1), Value::Text("M".into()));
    assert_eq!(back.value(0, 2), Value::Missing);
    assert_eq!(back.value(0, 3), Value::Bool(true));
    assert_eq!(back.value(0, 4), Value::Int(3));
    match back.value(0, 5) {
        Value::Int(age) => assert!((40..=64).contains(&age), "{age}"),
        other => panic!("AGE decodes to an integer, got {other}"),
    }
    assert_eq!(d.encode(&back).expect("re-encodes"), e);
}

#[test]
fn from_codes_checks_sizes_and_lengths() {
    let d = domain().select(&["SEX", "ECOG"]).expect("attributes");
    let e = Encoded::from_codes(&d, &[vec![0, 1, 1], vec![4, 0, 2]]).expect("valid codes");
    assert_eq!(e.n_rows(), 3);
    assert_eq!(e.code(2, 1), Some(2));
    assert!(
        Encoded::from_codes(&d, &[vec![0, 2], vec![0, 0]]).is_err(),
        "code 2 of SEX"
    );
    assert!(Encoded::from_codes(&d, &[vec![0, 1], vec![0]]).is_err(), "ragged");
    assert!(
        Encoded::from_codes(&d, &[vec![0, 1]]).is_err(),
        "one column for two attributes"
    );
    let other = domain().select(&["ECOG", "SEX"]).expect("attributes");
    let mut rng = StdRng::seed_from_u64(1);
    assert!(other.decode(&e, &mut rng).is_err(), "decoding over another domain");
    let back = d.decode(&e, &mut rng).expect("decodes over its own domain");
    assert_eq!(back.value(1, 1), Value::Text("M".into()));
    assert_eq!(back.value(1, 4), Value::Int(0));
    assert_eq!(back.value(1, 5), Value::Missing, "AGE is outside the selected domain");
}

#[test]
fn large_categorical_uses_sixteen_bit_codes() {
    let levels: Vec<String> = (0..300).map(|i| format!("\"L{i}\"")).collect();
    let text = format!(
        "format_version = 1\nname = \"t\"\n[[column]]\nname = \"X\"\ntype = \"categorical\"\nlevels = [{}]\n",
        levels.join(", ")
    );
    let d = Domain::from_dictionary(&dictionary(&text), &EncodeOptions::default()).expect("domain");
    let mut t = Table::new(d.dictionary().clone());
    t.push_row(vec![Value::Text("L299".into())]).expect("fits");
    let e = d.encode(&t).expect("encodes");
    assert!(matches!(&e.columns()[0], CodeColumn::U16(c) if c == &[299]));
}
