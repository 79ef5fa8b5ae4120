//! The dictionary format: every documented key parses, every broken rule of the format is
//! reported with its location, and writing then reading a dictionary is the identity.

use table::{Dictionary, Error, Kind, Missing};

const GOOD: &str = r#"
format_version = 1
name = "mini"
description = "test"
missing_tokens = ["", "NA"]

[[column]]
name = "ID"
type = "identifier"

[[column]]
name = "AGE"
type = "real"
unit = "years"
min = 18
max = 100
bins = [30, 60.5]

[[column]]
name = "ELN 2022"
type = "categorical"
levels = ["favorable", "intermediate", "adverse"]
groups = { "not adverse" = ["favorable", "intermediate"] }

[[column]]
name = "TP53"
type = "boolean"

[[column]]
name = "DIAG"
type = "date"
format = "%d/%m/%Y"
min = "2000-01-01"
max = "2030-12-31"

[[column]]
name = "OS"
type = "integer"
unit = "days"
min = 0
max = 7300
missing = "allowed"
missing_tokens = ["."]

[[column]]
name = "STATUS_OS"
type = "integer"
min = 0
max = 1

[[column]]
name = "NOTES"
type = "text"
missing = "allowed"

[[time_to_event]]
name = "overall survival"
time = "OS"
status = "STATUS_OS"
"#;

fn err(text: &str) -> (usize, usize, String) {
    match Dictionary::from_toml(text, "d.toml") {
        Err(Error::Dictionary {
            source_name,
            line,
            col,
            message,
        }) => {
            assert_eq!(source_name, "d.toml");
            (line, col, message)
        }
        other => panic!("expected a dictionary error, got {other:?}"),
    }
}

#[test]
fn every_kind_parses() {
    let d = Dictionary::from_toml(GOOD, "d.toml").unwrap();
    assert_eq!(d.columns.len(), 8);
    assert_eq!(d.index_of("TP53"), Some(3));
    match &d.column("AGE").unwrap().kind {
        Kind::Real { unit, min, max, bins } => {
            assert_eq!(unit.as_deref(), Some("years"));
            assert_eq!((*min, *max), (Some(18.0), Some(100.0)));
            assert_eq!(bins, &vec![30.0, 60.5]);
        }
        k => panic!("{k:?}"),
    }
    match &d.column("ELN 2022").unwrap().kind {
        Kind::Categorical { levels, groups } => {
            assert_eq!(levels.len(), 3);
            assert_eq!(groups[0].name, "not adverse");
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(
        d.column("TP53").unwrap().kind,
        Kind::Boolean {
            true_token: "1".into(),
            false_token: "0".into()
        }
    );
    assert_eq!(
        d.column("TP53").unwrap().missing_tokens,
        vec!["".to_string(), "NA".to_string()]
    );
    assert_eq!(d.column("OS").unwrap().missing, Missing::Allowed);
    assert_eq!(d.column("OS").unwrap().missing_tokens, vec![".".to_string()]);
    assert_eq!(d.time_to_event[0].time, "OS");
}

#[test]
fn write_then_read_is_identity() {
    let d = Dictionary::from_toml(GOOD, "d.toml").unwrap();
    let text = d.to_toml();
    let back = Dictionary::from_toml(&text, "written.toml").unwrap();
    assert_eq!(back.columns, d.columns);
    assert_eq!(back.time_to_event, d.time_to_event);
    assert_eq!(back.name, d.name);
}

#[test]
fn toml_syntax_error_is_located() {
    let (line, _col, msg) = err("format_version = 1\nname = \"x\"\n[[column]\nname = \"a\"\n");
    assert_eq!(line, 3, "{msg}");
}

#[test]
fn unknown_key_is_an_error() {
    let (line, _, msg) =
        err("format_version = 1\nname = \"x\"\n[[column]]\nname = \"a\"\ntype = \"categorical\"\nlevles = [\"a\"]\n");
    assert_eq!(line, 6);
    assert!(msg.contains("levles"), "{msg}");
}

#[test]
fn unknown_type_is_an_error() {
    let (line, _, msg) = err("format_version = 1\nname = \"x\"\n[[column]]\nname = \"a\"\ntype = \"float\"\n");
    assert_eq!(line, 5);
    assert!(msg.contains("float"), "{msg}");
}

#[test]
fn semantic_errors_name_the_column_and_line() {
    let head = "format_version = 1\nname = \"x\"\n";
    let cases = [
        (
            "[[column]]\nname = \"AGE\"\ntype = \"real\"\nmin = 100\nmax = 18\n",
            "min 100 is greater than max 18",
        ),
        ("[[column]]\nname = \"E\"\ntype = \"categorical\"\n", "needs `levels`"),
        (
            "[[column]]\nname = \"E\"\ntype = \"categorical\"\nlevels = [\"a\", \"a\"]\n",
            "listed twice",
        ),
        (
            "[[column]]\nname = \"E\"\ntype = \"categorical\"\nlevels = [\"a\"]\ngroups = { g = [\"b\"] }\n",
            "not a level",
        ),
        (
            "[[column]]\nname = \"N\"\ntype = \"integer\"\nmin = 0\nmax = 10\nbins = [5, 3]\n",
            "increase strictly",
        ),
        (
            "[[column]]\nname = \"N\"\ntype = \"integer\"\nmin = 0\nmax = 10\nbins = [11]\n",
            "outside [0, 10]",
        ),
        (
            "[[column]]\nname = \"N\"\ntype = \"integer\"\nmin = 1.5\n",
            "must be an integer",
        ),
        (
            "[[column]]\nname = \"N\"\ntype = \"integer\"\nlevels = [\"x\"]\n",
            "only to categorical",
        ),
        (
            "[[column]]\nname = \"D\"\ntype = \"date\"\nformat = \"%Y-%m\"\n",
            "%Y, %m and %d",
        ),
        (
            "[[column]]\nname = \"D\"\ntype = \"date\"\nmin = \"2020-02-30\"\n",
            "not a calendar date",
        ),
        (
            "[[column]]\nname = \"B\"\ntype = \"boolean\"\ntrue = \"x\"\nfalse = \"x\"\n",
            "both",
        ),
        (
            "[[column]]\nname = \"C\"\ntype = \"categorical\"\nlevels = [\"\", \"a\"]\n",
            "both a level and a missing token",
        ),
        ("[[column]]\nname = \"\"\ntype = \"text\"\n", "must not be empty"),
    ];
    for (body, expected) in cases {
        let (line, _, msg) = err(&format!("{head}{body}"));
        assert_eq!(line, 3, "{body}: {msg}");
        assert!(msg.contains(expected), "{body}: expected {expected:?} in {msg:?}");
    }
}

#[test]
fn duplicate_column_points_at_the_second() {
    let (line, _, msg) = err(
        "format_version = 1\nname = \"x\"\n[[column]]\nname = \"a\"\ntype = \"text\"\n[[column]]\nname = \"a\"\ntype = \"text\"\n",
    );
    assert_eq!(line, 6);
    assert!(msg.contains("declared twice"), "{msg}");
}

#[test]
fn time_to_event_must_name_suitable_columns() {
    let base = "format_version = 1\nname = \"x\"\n[[column]]\nname = \"T\"\ntype = \"integer\"\nmin = 0\nmax = 9\n[[column]]\nname = \"S\"\ntype = \"boolean\"\n[[column]]\nname = \"L\"\ntype = \"text\"\n";
    let (_, _, msg) = err(&format!(
        "{base}[[time_to_event]]\nname = \"os\"\ntime = \"X\"\nstatus = \"S\"\n"
    ));
    assert!(msg.contains("\"X\" is not in the dictionary"), "{msg}");
    let (_, _, msg) = err(&format!(
        "{base}[[time_to_event]]\nname = \"os\"\ntime = \"L\"\nstatus = \"S\"\n"
    ));
    assert!(msg.contains("is text, not integer or real"), "{msg}");
    let (_, _, msg) = err(&format!(
        "{base}[[time_to_event]]\nname = \"os\"\ntime = \"T\"\nstatus = \"T\"\n"
    ));
    assert!(msg.contains("not boolean or integer 0..1"), "{msg}");
    assert!(
        Dictionary::from_toml(
            &format!("{base}[[time_to_event]]\nname = \"os\"\ntime = \"T\"\nstatus = \"S\"\n"),
            "d"
        )
        .is_ok()
    );
}

#[test]
fn wrong_format_version_and_empty_dictionary() {
    let (_, _, msg) = err("format_version = 2\nname = \"x\"\n[[column]]\nname = \"a\"\ntype = \"text\"\n");
    assert!(msg.contains("format_version 2 is not supported"), "{msg}");
    let (_, _, msg) = err("format_version = 1\nname = \"x\"\n");
    assert!(msg.contains("at least one"), "{msg}");
}

#[test]
fn modelled_drops_identifiers_text_and_their_rules() {
    let text = format!(
        "{GOOD}\n[[rule]]\nname = \"age\"\nexpr = \"AGE >= 18\"\n[[rule]]\nname = \"notes\"\nexpr = \"NOTES is missing => OS >= 0\"\n"
    );
    let d = Dictionary::from_toml(&text, "d.toml").unwrap();
    let m = d.modelled();
    let names: Vec<&str> = m.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["AGE", "ELN 2022", "TP53", "DIAG", "OS", "STATUS_OS"]);
    assert_eq!(m.rules.len(), 1);
    assert_eq!(m.rules[0].name, "age");
    assert_eq!(m.rules[0].columns(), &[0]);
    assert_eq!(m.time_to_event.len(), 1);
}
