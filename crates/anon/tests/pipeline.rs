//! The pipeline on the simulated AML cohort (with the example config) and date shifting.

use anon::{Config, Error, Key, anonymize};
use std::sync::Arc;
use table::csv::{CsvOptions, read_table, write_table};
use table::{Date, Dictionary, Table, Value};

const AML_CONFIG: &str = include_str!("../../../examples/anonymize/aml.toml");
const ADULT_CONFIG: &str = include_str!("../../../examples/anonymize/adult.toml");

fn key() -> Key {
    Key::from_bytes(&[0x5a; 32]).unwrap()
}

#[test]
fn example_aml_config_anonymises_a_simulated_cohort() {
    let cohort = cohort::simulate(
        cohort::Disease::Aml,
        &cohort::Config {
            patients: 600,
            sites: 3,
            heterogeneity: 0.3,
            seed: 11,
        },
    )
    .unwrap();
    let mut table = Table::new(Arc::clone(&cohort.dictionary));
    for site in &cohort.sites {
        table.append(site).unwrap();
    }
    let config = Config::from_toml(AML_CONFIG, "aml.toml").unwrap();
    let o = anonymize(&table, &config, Some(&key())).unwrap();
    let r = &o.report;
    assert!(r.search.optimal);
    assert!(r.reached.k.unwrap() >= 5);
    assert!(r.reached.l_distinct.unwrap() >= 2);
    assert!(r.suppressed as f64 <= 0.05 * 600.0);
    assert_eq!(o.output.n_rows(), 600 - r.suppressed);
    assert!(r.risk_after.prosecutor_highest <= 0.2);
    assert!(r.risk_before.sample_uniques > 0);
    // The output and its dictionary round-trip through CSV (rules still hold on every row).
    let mut csv = Vec::new();
    write_table(&mut csv, &o.output, &CsvOptions::default()).unwrap();
    let dict_text = o.output.dictionary().to_toml();
    let dict = Dictionary::from_toml(&dict_text, "out.toml").unwrap();
    let back = read_table(csv.as_slice(), "out.csv", Arc::new(dict), &CsvOptions::default()).unwrap();
    assert_eq!(back.n_rows(), o.output.n_rows());
    // IDs are pseudonyms of the originals.
    let id = o.output.dictionary().index_of("ID").unwrap();
    let Value::Text(first) = o.output.value(0, id) else {
        panic!("ID is text")
    };
    assert_eq!(first.len(), 32);
    let originals: Vec<String> = (0..table.n_rows())
        .map(|r| match table.value(r, 0) {
            Value::Text(s) => key().pseudonym(&s, 32),
            _ => String::new(),
        })
        .collect();
    assert!(originals.contains(&first));
}

#[test]
fn example_adult_config_parses() {
    let config = Config::from_toml(ADULT_CONFIG, "adult.toml").unwrap();
    assert_eq!(config.quasi_identifiers.len(), 8);
    assert_eq!(config.privacy.k, 5);
}

const DATES: &str = r#"
format_version = 1
name = "visits"
[[column]]
name = "patient"
type = "identifier"
[[column]]
name = "diagnosis"
type = "date"
min = "2020-01-01"
max = "2024-12-31"
[[column]]
name = "visit"
type = "date"
[[column]]
name = "sex"
type = "categorical"
levels = ["F", "M"]
"#;

const DATE_CONFIG: &str = r#"
format_version = 1
suppression_limit = 0.0
[identifiers]
action = "remove"
[date_shift]
patient = "patient"
max_days = 30
[privacy]
k = 2
[[quasi_identifier]]
column = "diagnosis"
dates = ["month", "year"]
[[quasi_identifier]]
column = "sex"
"#;

#[test]
fn dates_shift_by_one_offset_per_patient() {
    let dict = Arc::new(Dictionary::from_toml(DATES, "visits.toml").unwrap());
    let mut t = Table::new(Arc::clone(&dict));
    let d = |y, m, day| Value::Date(Date::from_ymd(y, m, day).unwrap());
    let rows = [
        ("A", d(2021, 5, 15), d(2021, 6, 1), "F"),
        ("A", d(2021, 5, 15), d(2021, 9, 1), "F"),
        ("B", d(2021, 5, 20), d(2022, 1, 1), "F"),
        ("C", d(2022, 7, 1), d(2022, 8, 1), "M"),
        ("D", d(2022, 7, 3), d(2022, 8, 9), "M"),
    ];
    for (p, a, b, s) in rows.iter().cloned() {
        t.push_row(vec![Value::Text(p.into()), a, b, Value::Text(s.into())])
            .unwrap();
    }
    let config = Config::from_toml(DATE_CONFIG, "shift.toml").unwrap();
    assert_eq!(
        anonymize(&t, &config, None).unwrap_err(),
        Error::KeyRequired {
            operation: "date shifting"
        }
    );
    let o = anonymize(&t, &config, Some(&key())).unwrap();
    assert!(o.output.dictionary().index_of("patient").is_none());
    let visit = o.output.dictionary().index_of("visit").unwrap();
    for (r, (p, _, b, _)) in rows.iter().enumerate() {
        let (Value::Date(shifted), Value::Date(orig)) = (o.output.value(r, visit), b) else {
            panic!("dates")
        };
        let offset = shifted.days() - orig.days();
        assert_eq!(offset, key().date_offset(p, 30), "row {r}");
        assert!((-30..=30).contains(&offset));
    }
    // The diagnosis QI is generalised after shifting (month or coarser), and the shifted
    // date column's public bounds widen by the maximum shift.
    let diagnosis = o.output.dictionary().index_of("diagnosis").unwrap();
    assert!(matches!(o.output.value(0, diagnosis), Value::Text(ref s) if s.len() == 7 || s.len() == 4 || s == "*"));
    match &o.output.dictionary().columns[visit].kind {
        table::Kind::Date { .. } => {}
        other => panic!("visit stays a date, got {other:?}"),
    }
    assert!(o.report.notes.iter().any(|n| n.contains("shifted")));
}

#[test]
fn date_shifting_needs_every_patient_identifier() {
    let dict = Arc::new(
        Dictionary::from_toml(
            &DATES.replace("type = \"identifier\"", "type = \"identifier\"\nmissing = \"allowed\""),
            "visits.toml",
        )
        .unwrap(),
    );
    let mut t = Table::new(dict);
    let d = Value::Date(Date::from_ymd(2021, 5, 15).unwrap());
    t.push_row(vec![
        Value::Text("A".into()),
        d.clone(),
        d.clone(),
        Value::Text("F".into()),
    ])
    .unwrap();
    t.push_row(vec![Value::Missing, d.clone(), d, Value::Text("F".into())])
        .unwrap();
    let config = Config::from_toml(DATE_CONFIG, "shift.toml").unwrap();
    assert_eq!(
        anonymize(&t, &config, Some(&key())).unwrap_err(),
        Error::MissingPatient {
            row: 2,
            column: "patient".into()
        }
    );
}
