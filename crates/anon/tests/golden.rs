//! Our measured k, l and t against pycanon's (golden values in `golden/pycanon.json`, made by
//! `golden/make_golden.py`), and our outputs against the models they were asked to reach.

use anon::{Config, Key, anonymize, measure};
use std::sync::Arc;
use table::csv::{CsvOptions, read_table, write_table};
use table::{Dictionary, Table};

const GOLDEN: &str = include_str!("../golden/pycanon.json");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn read(csv_name: &str, dict: Dictionary) -> Table {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{csv_name}")).unwrap();
    read_table(text.as_bytes(), csv_name, Arc::new(dict), &CsvOptions::default()).unwrap()
}

fn dictionary(name: &str) -> Dictionary {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
    Dictionary::from_toml(&text, name).unwrap()
}

/// The runs whose outputs are committed: (input, dictionary, config, output).
const RUNS: [(&str, &str, &str, &str); 3] = [
    (
        "adult-sample.csv",
        "adult-dictionary.toml",
        "adult-sample-k5l2.toml",
        "adult-sample-anon-k5l2.csv",
    ),
    (
        "adult-sample.csv",
        "adult-dictionary.toml",
        "adult-sample-k5t.toml",
        "adult-sample-anon-k5t.csv",
    ),
    (
        "inpatient.csv",
        "inpatient-dictionary.toml",
        "inpatient-l3.toml",
        "inpatient-anon-l3.csv",
    ),
];

fn run(input: &str, dict: &str, config: &str) -> anon::Outcome {
    let table = read(input, dictionary(dict));
    let text = std::fs::read_to_string(format!("{FIXTURES}/{config}")).unwrap();
    let config = Config::from_toml(&text, config).unwrap();
    let key = Key::from_bytes(b"golden-fixture-key-not-a-secret-0123456789").unwrap();
    anonymize(&table, &config, Some(&key)).unwrap()
}

fn csv_of(t: &Table) -> String {
    let mut out = Vec::new();
    write_table(&mut out, t, &CsvOptions::default()).unwrap();
    String::from_utf8(out).unwrap()
}

/// Writes the committed outputs (run once, then `python golden/make_golden.py`).
#[test]
#[ignore = "writes fixture files; run by hand when the anonymiser changes"]
fn write_outputs() {
    for (input, dict, config, output) in RUNS {
        let o = run(input, dict, config);
        std::fs::write(format!("{FIXTURES}/{output}"), csv_of(&o.output)).unwrap();
        std::fs::write(
            format!("{FIXTURES}/{}", output.replace(".csv", "-dictionary.toml")),
            o.output.dictionary().to_toml(),
        )
        .unwrap();
    }
}

#[test]
fn outputs_are_reproduced() {
    for (input, dict, config, output) in RUNS {
        let o = run(input, dict, config);
        let committed = std::fs::read_to_string(format!("{FIXTURES}/{output}")).unwrap();
        assert_eq!(
            csv_of(&o.output),
            committed,
            "{output} is no longer what the anonymiser writes"
        );
    }
}

#[test]
fn measures_equal_pycanon_and_outputs_reach_the_requested_models() {
    let golden: serde_json::Value = serde_json::from_str(GOLDEN).unwrap();
    let cases = golden["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let dict_name = case["dictionary"].as_str().unwrap();
        let qi: Vec<&str> = case["qi"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let sa: Vec<&str> = case["sa"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let table = read(file, dictionary(dict_name));
        let m = measure(&table, &qi, &sa).unwrap();
        let what = format!("{file} qi={qi:?} sa={sa:?}");
        assert_eq!(u64::from(m.k), case["k"].as_u64().unwrap(), "k of {what}");
        assert_eq!(
            u64::from(m.l_distinct.unwrap()),
            case["l"].as_u64().unwrap(),
            "l of {what}"
        );
        let py_entropy = case["entropy_l"].as_u64().unwrap() as f64;
        let ours = m.l_entropy.unwrap();
        assert!(
            (ours + 1e-9).floor() == py_entropy || (ours - 1e-9).floor() == py_entropy,
            "entropy l of {what}: ours {ours}, pycanon {py_entropy}"
        );
        let t = case["t"].as_f64().unwrap();
        assert!(
            (m.t.unwrap() - t).abs() < 1e-9,
            "t of {what}: ours {:?}, pycanon {t}",
            m.t
        );
        if let Some(req) = case.get("requested") {
            if let Some(k) = req.get("k").and_then(|v| v.as_u64()) {
                assert!(
                    case["k"].as_u64().unwrap() >= k,
                    "pycanon k of {what} below the requested {k}"
                );
            }
            if let Some(l) = req.get("l").and_then(|v| v.as_u64()) {
                assert!(
                    case["l"].as_u64().unwrap() >= l,
                    "pycanon l of {what} below the requested {l}"
                );
            }
            if let Some(tr) = req.get("t").and_then(|v| v.as_f64()) {
                assert!(t <= tr + 1e-12, "pycanon t of {what} above the requested {tr}");
            }
        }
    }
}
