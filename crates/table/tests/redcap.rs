//! REDCap data dictionary import: the mapping of every field type of a hand-written AML-style
//! REDCap dictionary, dialects (semicolons, latin-1, short headers, BOM) and malformed input.

use table::redcap::{RedcapImport, import_redcap};
use table::{Date, Dictionary, Error, Kind, Missing};

const AML: &[u8] = include_bytes!("fixtures/redcap/aml_dictionary.csv");
const LATIN1: &[u8] = include_bytes!("fixtures/redcap/semicolon_latin1.csv");

fn aml() -> RedcapImport {
    import_redcap(AML, "aml_dictionary.csv").expect("the fixture imports")
}

fn kind<'a>(imp: &'a RedcapImport, name: &str) -> &'a Kind {
    &imp.dictionary
        .column(name)
        .unwrap_or_else(|| panic!("column {name} is missing"))
        .kind
}

fn missing(imp: &RedcapImport, name: &str) -> Missing {
    imp.dictionary.column(name).unwrap().missing
}

fn reasons(imp: &RedcapImport, variable: &str) -> Vec<String> {
    imp.unmapped
        .iter()
        .filter(|u| u.variable == variable)
        .map(|u| u.reason.clone())
        .collect()
}

fn boolean01() -> Kind {
    Kind::Boolean {
        true_token: "1".into(),
        false_token: "0".into(),
    }
}

fn levels(l: &[&str]) -> Kind {
    Kind::Categorical {
        levels: l.iter().map(|s| s.to_string()).collect(),
        groups: vec![],
    }
}

#[test]
fn column_order_with_checkbox_expansion_and_form_status() {
    let imp = aml();
    let names: Vec<&str> = imp.dictionary.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "record_id",
            "mrn",
            "initials",
            "sex",
            "age_dx",
            "dx_date",
            "ecog",
            "aml_type",
            "prior_tx___1",
            "prior_tx___2",
            "prior_tx___3",
            "prior_tx____99",
            "prior_malignancy",
            "email_contact",
            "phone",
            "zip",
            "baseline_complete",
            "wbc",
            "hb",
            "plt",
            "bm_blasts",
            "npm1",
            "flt3_itd",
            "tp53",
            "eln2022",
            "karyotype",
            "wbc_log",
            "sample_time",
            "sample_dt",
            "labs_complete",
            "induction",
            "cr1",
            "hsct",
            "hsct_date",
            "os_days",
            "os_status",
            "comments",
            "treatment_outcome_complete",
        ]
    );
    assert_eq!(imp.dictionary.name, "aml_dictionary");
    assert!(imp.notes.iter().any(|n| n.contains("3 form status column")));
}

#[test]
fn identifiers_and_record_id() {
    let imp = aml();
    for v in ["record_id", "mrn", "initials"] {
        assert_eq!(kind(&imp, v), &Kind::Identifier, "{v}");
    }
    assert!(reasons(&imp, "record_id")[0].contains("record ID"));
    assert_eq!(
        missing(&imp, "record_id"),
        Missing::Forbidden,
        "every exported row has a record ID"
    );
    assert_eq!(missing(&imp, "mrn"), Missing::Allowed, "not required");
    // `mrn` is a plain text field flagged `Identifier? = y`.
    assert!(reasons(&imp, "mrn")[0].contains("marked as an identifier"));
}

#[test]
fn radio_and_dropdown_are_categorical_codes_with_labels_described() {
    let imp = aml();
    assert_eq!(kind(&imp, "sex"), &levels(&["1", "2"]));
    let sex = imp.dictionary.column("sex").unwrap();
    assert!(sex.description.contains("1 = Male; 2 = Female"), "{}", sex.description);
    assert!(sex.description.starts_with("Sex at birth"));
    assert_eq!(sex.missing, Missing::Forbidden, "required field");
    assert_eq!(kind(&imp, "ecog"), &levels(&["0", "1", "2", "3", "4"]));
    assert_eq!(missing(&imp, "ecog"), Missing::Allowed, "not required");
    // A label with a comma keeps its comma (only the first comma splits).
    let ecog = imp.dictionary.column("ecog").unwrap();
    assert!(ecog.description.contains("2 = 2 - Ambulatory, capable of self-care"));
    assert_eq!(kind(&imp, "eln2022"), &levels(&["1", "2", "3"]));
    assert_eq!(kind(&imp, "induction"), &levels(&["1", "2", "3", "4"]));
}

#[test]
fn yesno_truefalse_and_checkbox_are_boolean() {
    let imp = aml();
    for v in [
        "prior_malignancy",
        "npm1",
        "flt3_itd",
        "tp53",
        "cr1",
        "hsct",
        "os_status",
    ] {
        assert_eq!(kind(&imp, v), &boolean01(), "{v}");
    }
    for v in ["prior_tx___1", "prior_tx___2", "prior_tx___3", "prior_tx____99"] {
        assert_eq!(kind(&imp, v), &boolean01(), "{v}");
        assert_eq!(missing(&imp, v), Missing::Forbidden, "checkbox options are always 0/1");
    }
    let d = &imp.dictionary.column("prior_tx____99").unwrap().description;
    assert!(d.contains("-99 = Unknown"), "{d}");
}

#[test]
fn text_validations() {
    let imp = aml();
    assert_eq!(
        kind(&imp, "age_dx"),
        &Kind::Integer {
            unit: None,
            min: Some(18),
            max: Some(100),
            bins: vec![]
        }
    );
    assert_eq!(
        kind(&imp, "plt"),
        &Kind::Integer {
            unit: None,
            min: Some(0),
            max: Some(2000),
            bins: vec![]
        }
    );
    assert_eq!(
        kind(&imp, "wbc"),
        &Kind::Real {
            unit: None,
            min: Some(0.0),
            max: Some(500.0),
            bins: vec![]
        }
    );
    assert!(imp.dictionary.column("wbc").unwrap().description.contains("x10^9/L"));
    // Decimal-comma bounds are read, and the comma is flagged for data reading.
    assert_eq!(
        kind(&imp, "hb"),
        &Kind::Real {
            unit: None,
            min: Some(3.0),
            max: Some(20.0),
            bins: vec![]
        }
    );
    assert!(reasons(&imp, "hb")[0].contains("decimal comma"));
    // date_dmy is exported as YYYY-MM-DD.
    assert_eq!(
        kind(&imp, "dx_date"),
        &Kind::Date {
            format: "%Y-%m-%d".into(),
            min: Date::from_ymd(2000, 1, 1),
            max: Date::from_ymd(2030, 12, 31)
        }
    );
    // `today` is not a public bound.
    assert_eq!(
        kind(&imp, "hsct_date"),
        &Kind::Date {
            format: "%Y-%m-%d".into(),
            min: Date::from_ymd(2000, 1, 1),
            max: None
        }
    );
    assert!(reasons(&imp, "hsct_date").iter().any(|r| r.contains("\"today\"")));
    for v in ["email_contact", "phone", "zip", "karyotype", "comments"] {
        assert_eq!(kind(&imp, v), &Kind::Text, "{v}");
        assert!(reasons(&imp, v).is_empty(), "{v}: {:?}", reasons(&imp, v));
    }
    for v in ["sample_time", "sample_dt"] {
        assert_eq!(kind(&imp, v), &Kind::Text, "{v}");
        assert!(reasons(&imp, v)[0].contains("imported as text"), "{v}");
    }
}

#[test]
fn slider_calc_and_skipped_fields() {
    let imp = aml();
    assert_eq!(
        kind(&imp, "bm_blasts"),
        &Kind::Integer {
            unit: None,
            min: Some(0),
            max: Some(100),
            bins: vec![]
        }
    );
    assert_eq!(
        kind(&imp, "wbc_log"),
        &Kind::Real {
            unit: None,
            min: None,
            max: None,
            bins: vec![]
        }
    );
    assert!(reasons(&imp, "wbc_log")[0].contains("without bounds"));
    for (v, word) in [
        ("lab_intro", "descriptive"),
        ("lab_report", "file"),
        ("consent_sig", "signature"),
    ] {
        assert!(imp.dictionary.column(v).is_none(), "{v}");
        let r = reasons(&imp, v);
        assert_eq!(r.len(), 1);
        assert!(r[0].starts_with("skipped") && r[0].contains(word), "{v}: {r:?}");
    }
    let lab_report = imp.unmapped.iter().find(|u| u.variable == "lab_report").unwrap();
    assert_eq!(lab_report.line, 28, "line of the variable in the file (header = 1)");
}

#[test]
fn branching_logic_is_noted_and_allows_missing() {
    let imp = aml();
    // cr1 is required but only shown when induction is not supportive care.
    assert_eq!(missing(&imp, "cr1"), Missing::Allowed);
    let r = reasons(&imp, "cr1");
    assert!(r.iter().any(|x| x.contains("required only when shown")));
    let b = r
        .iter()
        .find(|x| x.starts_with("branching logic not translated"))
        .unwrap();
    assert!(b.contains("[induction] <> '4'"));
    assert!(b.contains("`induction` == '4' => `cr1` is missing"), "{b}");
    let hsct = reasons(&imp, "hsct");
    assert!(hsct[0].contains("`cr1` != 1 => `hsct` is missing"), "{hsct:?}");
    // Compound logic is not guessed at.
    let date = reasons(&imp, "hsct_date");
    assert!(date.iter().any(|x| x.contains("by hand")), "{date:?}");
    // prior_tx is a checkbox with branching logic: still imported.
    assert!(imp.dictionary.column("prior_tx___1").is_some());
    let prior = &reasons(&imp, "prior_tx")[0];
    assert!(prior.starts_with("branching logic not translated"), "{prior}");
    assert!(
        prior.contains("`aml_type` == '1' => `prior_tx___1` == 0 and `prior_tx___2` == 0"),
        "{prior}"
    );
}

#[test]
fn every_variable_is_mapped_or_reported() {
    let imp = aml();
    let text = std::str::from_utf8(AML).unwrap();
    for line in text.lines().skip(1) {
        let var = line.split(',').next().unwrap();
        let mapped = imp
            .dictionary
            .columns
            .iter()
            .any(|c| c.name == var || c.name.starts_with(&format!("{var}___")));
        let reported = imp.unmapped.iter().any(|u| u.variable == var);
        assert!(mapped || reported, "{var} vanished");
    }
}

#[test]
fn result_passes_dictionary_checks_and_round_trips() {
    let imp = aml();
    let toml = imp.dictionary.to_toml();
    let back = Dictionary::from_toml(&toml, "generated.toml").expect("generated TOML passes the checks");
    assert_eq!(back.columns, imp.dictionary.columns);
    assert_eq!(back.name, imp.dictionary.name);
}

#[test]
fn semicolons_latin1_and_short_headers() {
    let imp = import_redcap(LATIN1, "site_b.csv").unwrap();
    assert!(imp.notes.iter().any(|n| n.contains("latin-1")), "{:?}", imp.notes);
    assert!(imp.notes.iter().any(|n| n.contains("';'")), "{:?}", imp.notes);
    let sexe = imp.dictionary.column("sexe").unwrap();
    assert!(sexe.description.contains("2 = Féminin"), "{}", sexe.description);
    assert!(imp.dictionary.column("hémoglobine_ok").is_some());
    assert!(imp.dictionary.column("identité_complete").is_some());
    assert_eq!(imp.dictionary.column("patient_id").unwrap().kind, Kind::Identifier);
}

#[test]
fn utf8_bom_is_accepted() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(AML);
    let imp = import_redcap(bytes.as_slice(), "bom.csv").unwrap();
    assert_eq!(imp.dictionary.columns.len(), aml().dictionary.columns.len());
    assert!(!imp.notes.iter().any(|n| n.contains("latin-1")));
}

const SHORT: &str = "field_name,form_name,field_type,field_label,select_choices_or_calculations,\
text_validation_type_or_show_slider_number,text_validation_min,text_validation_max,identifier,\
branching_logic,required_field\n";

fn import_str(body: &str) -> table::Result<RedcapImport> {
    import_redcap(format!("{SHORT}{body}").as_bytes(), "t.csv")
}

fn data_error(e: Error) -> (u64, String) {
    match e {
        Error::Data { line, message, .. } => (line, message),
        other => panic!("expected a data error, got {other}"),
    }
}

#[test]
fn missing_header_column_is_refused() {
    let e = import_redcap("field_name,form_name,field_type\nid,f,text\n".as_bytes(), "t.csv").unwrap_err();
    let (line, m) = data_error(e);
    assert_eq!(line, 1);
    assert!(
        m.contains("field label") && m.contains("not a REDCap data dictionary"),
        "{m}"
    );
}

#[test]
fn ragged_row_names_its_line() {
    let e = import_str("id,f,text,ID,,,,,,,\nsex,f,radio,Sex,\"1, M | 2, F\",,,\n").unwrap_err();
    let (line, m) = data_error(e);
    assert_eq!(line, 3);
    assert!(m.contains("ragged row: 8 fields, but the header has 11"), "{m}");
}

#[test]
fn bad_choices_are_refused() {
    let e = import_str("id,f,text,ID,,,,,,,\nsex,f,radio,Sex,1 M | 2 F,,,,,,\n").unwrap_err();
    let (line, m) = data_error(e);
    assert_eq!(line, 3);
    assert!(m.contains("\"sex\"") && m.contains("no comma"), "{m}");
    let e = import_str("id,f,text,ID,,,,,,,\nsex,f,dropdown,Sex,,,,,,,\n").unwrap_err();
    assert!(data_error(e).1.contains("no choices"));
}

#[test]
fn bad_bounds_and_duplicates_are_refused() {
    let e = import_str("id,f,text,ID,,,,,,,\nage,f,text,Age,,integer,ten,100,,,\n").unwrap_err();
    assert!(data_error(e).1.contains("\"ten\" is not an integer"));
    let e = import_str("id,f,text,ID,,,,,,,\nage,f,text,Age,,integer,100,10,,,\n").unwrap_err();
    assert!(data_error(e).1.contains("greater than max"));
    let e = import_str("id,f,text,ID,,,,,,,\nid,f,text,Again,,,,,,,\n").unwrap_err();
    let (line, m) = data_error(e);
    assert_eq!(line, 3);
    assert!(m.contains("already declared at line 2"), "{m}");
}

#[test]
fn unknown_types_and_validations_are_reported() {
    let imp = import_str("id,f,text,ID,,,,,,,\nx,f,matrixthing,X,,,,,,,\ny,f,text,Y,,ipv6,,,,,\n").unwrap();
    assert!(imp.dictionary.column("x").is_none());
    assert!(
        imp.unmapped
            .iter()
            .any(|u| u.variable == "x" && u.reason.contains("unknown REDCap field type"))
    );
    assert_eq!(imp.dictionary.column("y").unwrap().kind, Kind::Text);
    assert!(
        imp.unmapped
            .iter()
            .any(|u| u.variable == "y" && u.reason.contains("unknown text validation"))
    );
}

#[test]
fn suggested_rules_parse_against_the_imported_dictionary() {
    let imp = aml();
    let rules: Vec<String> = imp
        .unmapped
        .iter()
        .filter_map(|u| u.reason.split_once("Suggested rule (check it): "))
        .map(|(_, rule)| rule.to_string())
        .collect();
    assert_eq!(rules.len(), 3, "prior_tx, cr1 and hsct have simple logic: {rules:?}");
    let mut toml = imp.dictionary.to_toml();
    for (i, r) in rules.iter().enumerate() {
        toml.push_str(&format!("\n[[rule]]\nname = \"branching_{i}\"\nexpr = {r:?}\n"));
    }
    let d = Dictionary::from_toml(&toml, "with_rules.toml").expect("suggested rules parse and type-check");
    assert_eq!(d.rules.len(), 3);
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Arbitrary bytes after a valid header never panic: they import or give an error.
        #[test]
        fn arbitrary_rows_do_not_panic(body in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut input = SHORT.as_bytes().to_vec();
            input.extend_from_slice(&body);
            let _ = import_redcap(input.as_slice(), "fuzz.csv");
        }

        /// Rows built from REDCap-like pieces never panic either.
        #[test]
        fn redcap_like_rows_do_not_panic(
            rows in prop::collection::vec(
                (
                    "[a-z_]{1,6}",
                    prop::sample::select(vec!["text", "radio", "checkbox", "calc", "slider", "yesno", "x"]),
                    "[0-9a-z ,|-]{0,20}",
                    prop::sample::select(vec!["", "integer", "number_comma_decimal", "date_dmy", "time"]),
                    "[0-9a-z,.-]{0,8}",
                    "[\\[\\]a-z0-9 ='<>()]{0,20}",
                ),
                1..8,
            )
        ) {
            let mut text = String::from(SHORT);
            for (name, ty, choices, val, bound, logic) in rows {
                text.push_str(&format!("{name},f,{ty},L,\"{choices}\",{val},\"{bound}\",,,\"{logic}\",\n"));
            }
            let _ = import_redcap(text.as_bytes(), "fuzz.csv");
        }
    }
}
