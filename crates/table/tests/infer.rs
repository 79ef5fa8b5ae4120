//! Dictionary inference on small in-memory tables: each type, the edge cases and the disclosure
//! warning.

use table::csv::DecimalSeparator;
use table::infer::{InferOptions, Inferred, infer};
use table::{Date, Dictionary, Error, Kind, Missing};

/// Infers from columns given as (name, values).
fn run(cols: &[(&str, &[&str])], opts: &InferOptions) -> table::Result<Inferred> {
    let header: Vec<String> = cols.iter().map(|(n, _)| n.to_string()).collect();
    let n = cols.first().map_or(0, |(_, v)| v.len());
    let rows: Vec<table::Result<Vec<String>>> = (0..n)
        .map(|r| Ok(cols.iter().map(|(_, v)| v[r].to_string()).collect()))
        .collect();
    infer(&header, rows.into_iter(), "test.csv", opts)
}

fn kind_of(cols: &[(&str, &[&str])]) -> Kind {
    run(cols, &InferOptions::default()).unwrap().dictionary.columns[0]
        .kind
        .clone()
}

#[test]
fn boolean_columns() {
    assert_eq!(
        kind_of(&[("tp53", &["0", "1", "1", "0"])]),
        Kind::Boolean {
            true_token: "1".into(),
            false_token: "0".into()
        }
    );
    assert_eq!(
        kind_of(&[("hsct", &["true", "false", "true"])]),
        Kind::Boolean {
            true_token: "true".into(),
            false_token: "false".into()
        }
    );
    // Mixed spellings are not one boolean column.
    assert!(matches!(
        kind_of(&[("x", &["true", "FALSE"])]),
        Kind::Categorical { .. }
    ));
}

#[test]
fn integer_real_and_mixed() {
    assert_eq!(
        kind_of(&[("age", &["34", "71", "-2", "50"])]),
        Kind::Integer {
            unit: None,
            min: Some(-2),
            max: Some(71),
            bins: vec![]
        }
    );
    assert_eq!(
        kind_of(&[("wbc", &["3", "12.5", "0.4"])]),
        Kind::Real {
            unit: None,
            min: Some(0.4),
            max: Some(12.5),
            bins: vec![]
        }
    );
    // Leading zeros are codes, not numbers.
    assert!(matches!(kind_of(&[("code", &["007", "12"])]), Kind::Categorical { .. }));
}

#[test]
fn decimal_comma_option() {
    let opts = InferOptions {
        decimal: DecimalSeparator::Comma,
        ..InferOptions::default()
    };
    let d = run(&[("hb", &["9,5", "12", "7,25"])], &opts).unwrap().dictionary;
    assert_eq!(
        d.columns[0].kind,
        Kind::Real {
            unit: None,
            min: Some(7.25),
            max: Some(12.0),
            bins: vec![]
        }
    );
    // Without the option the same values are not numbers.
    assert!(matches!(
        kind_of(&[("hb", &["9,5", "12", "7,25"])]),
        Kind::Categorical { .. }
    ));
}

#[test]
fn dates_in_three_formats() {
    for (values, format) in [
        (["2020-01-31", "2019-12-01"], "%Y-%m-%d"),
        (["31/01/2020", "01/12/2019"], "%d/%m/%Y"),
        (["31.01.2020", "1.12.2019"], "%d.%m.%Y"),
    ] {
        assert_eq!(
            kind_of(&[("dx_date", &values)]),
            Kind::Date {
                format: format.into(),
                min: Date::from_ymd(2019, 12, 1),
                max: Date::from_ymd(2020, 1, 31)
            }
        );
    }
    // One value that is not a calendar date makes the column non-date.
    assert!(!matches!(
        kind_of(&[("d", &["2020-02-30", "2020-01-01"])]),
        Kind::Date { .. }
    ));
}

#[test]
fn categorical_levels_sorted_naturally() {
    let k = kind_of(&[("grade", &["grade 10", "grade 2", "grade 1", "grade 2"])]);
    assert_eq!(
        k,
        Kind::Categorical {
            levels: vec!["grade 1".into(), "grade 2".into(), "grade 10".into()],
            groups: vec![]
        }
    );
}

#[test]
fn identifiers_by_name_and_by_distinctness() {
    assert_eq!(kind_of(&[("patient_id", &["1", "2", "3"])]), Kind::Identifier);
    assert_eq!(kind_of(&[("MRN", &["0001", "0002"])]), Kind::Identifier);
    let opts = InferOptions {
        max_levels: 3,
        ..InferOptions::default()
    };
    let codes = ["a1x", "b2y", "c3z", "d4w", "e5v"];
    let inferred = run(&[("sample", &codes)], &opts).unwrap();
    assert_eq!(inferred.dictionary.columns[0].kind, Kind::Identifier);
    assert!(inferred.warnings.iter().any(|w| w.contains("all distinct")));
    // Many values with repeats: free text.
    let notes = ["x", "y", "z", "w", "x"];
    let inferred = run(&[("comment", &notes)], &opts).unwrap();
    assert_eq!(inferred.dictionary.columns[0].kind, Kind::Text);
}

#[test]
fn missing_tokens_seen_are_kept() {
    let d = run(&[("os", &["12", "", "NA", "40"])], &InferOptions::default())
        .unwrap()
        .dictionary;
    let c = &d.columns[0];
    assert_eq!(c.missing, Missing::Allowed);
    assert_eq!(c.missing_tokens, vec!["".to_string(), "NA".to_string()]);
    assert_eq!(
        c.kind,
        Kind::Integer {
            unit: None,
            min: Some(12),
            max: Some(40),
            bins: vec![]
        }
    );
    let d = run(&[("os", &["12", "40"])], &InferOptions::default())
        .unwrap()
        .dictionary;
    assert_eq!(d.columns[0].missing, Missing::Forbidden);
}

#[test]
fn all_missing_and_empty_columns() {
    let inferred = run(&[("x", &["", "NA"])], &InferOptions::default()).unwrap();
    assert_eq!(inferred.dictionary.columns[0].kind, Kind::Text);
    assert_eq!(inferred.dictionary.columns[0].missing, Missing::Allowed);
    assert!(inferred.warnings.iter().any(|w| w.contains("all 2 values are missing")));
    let inferred = run(&[("x", &[])], &InferOptions::default()).unwrap();
    assert_eq!(inferred.dictionary.columns[0].kind, Kind::Text);
    assert!(inferred.warnings.iter().any(|w| w.contains("no rows")));
}

#[test]
fn ragged_record_and_bad_header() {
    let header = vec!["a".to_string(), "b".to_string()];
    let rows = vec![Ok(vec!["1".to_string(), "2".to_string()]), Ok(vec!["3".to_string()])];
    match infer(&header, rows.into_iter(), "t.csv", &InferOptions::default()) {
        Err(Error::Data { line, message, .. }) => {
            assert_eq!(line, 3);
            assert!(
                message.contains("record 2 has 1 fields, but the header has 2"),
                "{message}"
            );
        }
        other => panic!("expected a data error, got {other:?}"),
    }
    let dup = vec!["a".to_string(), "a".to_string()];
    assert!(matches!(
        infer(&dup, std::iter::empty(), "t.csv", &InferOptions::default()),
        Err(Error::Data { line: 1, .. })
    ));
    // A reading error from the source is passed on.
    let failing = vec![Err(Error::Data {
        source_name: "t.csv".into(),
        line: 7,
        message: "unclosed quote".into(),
    })];
    assert!(matches!(
        infer(&header, failing.into_iter(), "t.csv", &InferOptions::default()),
        Err(Error::Data { line: 7, .. })
    ));
}

#[test]
fn disclosure_warning_and_valid_dictionary() {
    let inferred = run(
        &[
            ("patient_id", &["p1", "p2", "p3"]),
            ("age", &["61", "", "45"]),
            ("sex", &["M", "F", "F"]),
            ("dx", &["2020-01-01", "2021-06-30", "NA"]),
            ("wbc", &["1.5", "80", "12"]),
            ("npm1", &["1", "0", ""]),
        ],
        &InferOptions::default(),
    )
    .unwrap();
    assert!(inferred.warnings[0].contains("disclosive"));
    assert!(inferred.dictionary.description.contains("disclosive"));
    assert!(inferred.dictionary.description.contains("public values"));
    let back = Dictionary::from_toml(&inferred.dictionary.to_toml(), "inferred.toml").expect("passes the checks");
    assert_eq!(back.columns, inferred.dictionary.columns);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("NA".to_string()),
            "-?[0-9]{1,4}",
            "-?[0-9]{1,3}[.,][0-9]{1,2}",
            "(0|1)",
            "[1-9][.,]?[0-9]?[eE]-?[0-9]{1,2}",
            "[0-9]{19,21}",
            "20[0-2][0-9]-0[1-9]-[12][0-9]",
            "[0-3][0-9]/[01][0-9]/19[5-9][0-9]",
            "\\PC{0,6}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever the data, the draft is a dictionary that passes the dictionary checks and
        /// every inferred column accepts the values it was drafted from.
        #[test]
        fn drafts_always_pass_dictionary_checks(
            columns in prop::collection::vec(prop::collection::vec(cell(), 4), 1..5),
            comma in any::<bool>(),
            max_levels in 1usize..5,
        ) {
            let header: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
            let rows: Vec<table::Result<Vec<String>>> =
                (0..4).map(|r| Ok(columns.iter().map(|c| c[r].clone()).collect())).collect();
            let opts = InferOptions {
                max_levels,
                decimal: if comma { DecimalSeparator::Comma } else { DecimalSeparator::Point },
            };
            let inferred = infer(&header, rows.into_iter(), "p.csv", &opts).unwrap();
            let back = Dictionary::from_toml(&inferred.dictionary.to_toml(), "p.toml");
            prop_assert!(back.is_ok(), "{:?}", back.err());
            for (column, values) in inferred.dictionary.columns.iter().zip(&columns) {
                for v in values {
                    let parsed = table::validate::parse_field(column, v, opts.decimal);
                    prop_assert!(parsed.is_ok(), "column {} rejects {:?}: {:?}", column.name, v, parsed);
                }
            }
        }
    }
}
