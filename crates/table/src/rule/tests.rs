//! Tests of the rule language: lexing, parsing, precedence, type checking with positions,
//! three-valued evaluation and the dictionary integration.

use super::ast::{Expr, ExprKind};
use super::{Rule, RuleError, Truth, parser};
use crate::date::Date;
use crate::error::Error;
use crate::schema::Dictionary;
use crate::value::Value;

pub(super) const DICTIONARY: &str = r#"
format_version = 1
name = "rules-test"

[[column]]
name = "EFS_TIME"
type = "real"
missing = "allowed"

[[column]]
name = "OS_TIME"
type = "real"
missing = "allowed"

[[column]]
name = "TP53"
type = "boolean"
missing = "allowed"

[[column]]
name = "ELN2022"
type = "categorical"
levels = ["favorable", "intermediate", "adverse"]
missing = "allowed"

[[column]]
name = "ELN 2022"
type = "categorical"
levels = ["favorable", "intermediate", "adverse"]
missing = "allowed"

[[column]]
name = "Allogeneic HSCT"
type = "integer"
min = 0
max = 1
missing = "allowed"

[[column]]
name = "TIME TO HSCT"
type = "real"
missing = "allowed"

[[column]]
name = "GENOTYPE"
type = "categorical"
levels = ["HbSS", "HbSC", "HbSB0", "HbSB+"]
missing = "allowed"

[[column]]
name = "HBS"
type = "real"
missing = "allowed"

[[column]]
name = "HBA"
type = "real"
missing = "allowed"

[[column]]
name = "HBA2"
type = "real"
missing = "allowed"

[[column]]
name = "HBF"
type = "real"
missing = "allowed"

[[column]]
name = "HBC"
type = "real"
missing = "allowed"

[[column]]
name = "COMPLEX"
type = "integer"
missing = "allowed"

[[column]]
name = "NORMAL_KARYOTYPE"
type = "integer"
missing = "allowed"

[[column]]
name = "DENOVO"
type = "boolean"
missing = "allowed"

[[column]]
name = "SAML"
type = "boolean"
missing = "allowed"

[[column]]
name = "TAML"
type = "boolean"
missing = "allowed"

[[column]]
name = "DEATH_DATE"
type = "date"
missing = "allowed"

[[column]]
name = "BIRTH_DATE"
type = "date"
missing = "allowed"

[[column]]
name = "AGE"
type = "integer"
missing = "allowed"

[[column]]
name = "PATIENT_ID"
type = "identifier"
missing = "allowed"

[[column]]
name = "NOTES"
type = "text"
missing = "allowed"
"#;

pub(super) fn dict() -> Dictionary {
    Dictionary::from_toml(DICTIONARY, "rules-test.toml").expect("the test dictionary is valid")
}

fn rule(source: &str) -> Rule {
    Rule::parse("r", source, "", &dict()).unwrap_or_else(|e| panic!("{source:?} should parse: {e}"))
}

fn error(source: &str) -> RuleError {
    match Rule::parse("r", source, "", &dict()) {
        Ok(_) => panic!("{source:?} should not parse"),
        Err(e) => e,
    }
}

/// A row with the given cells set and every other cell missing.
fn row(cells: &[(&str, Value)]) -> Vec<Value> {
    let d = dict();
    let mut row = vec![Value::Missing; d.columns.len()];
    for (name, value) in cells {
        let i = d.index_of(name).unwrap_or_else(|| panic!("no column {name}"));
        row[i] = value.clone();
    }
    row
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn date(s: &str) -> Value {
    Value::Date(Date::parse(s, "%Y-%m-%d").expect("test date"))
}

use Truth::{False as F, True as T, Unknown as U};

/// Evaluates `source` on a row built from `cells`.
fn eval(source: &str, cells: &[(&str, Value)]) -> Truth {
    rule(source).eval(&row(cells))
}

/// Prints the tree fully parenthesised, as an s-expression, to test grouping.
pub(super) fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Neg(x) => format!("(neg {})", sexpr(x)),
        ExprKind::Not(x) => format!("(not {})", sexpr(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), sexpr(a), sexpr(b)),
        ExprKind::In { value, list, negated } => {
            let items: Vec<String> = list.iter().map(sexpr).collect();
            let op = if *negated { "not-in" } else { "in" };
            format!("({op} {} [{}])", sexpr(value), items.join(" "))
        }
        ExprKind::IsMissing { column, negated } => {
            let op = if *negated { "is-not-missing" } else { "is-missing" };
            format!("({op} {})", sexpr(column))
        }
        ExprKind::Call(f, args) => {
            let items: Vec<String> = args.iter().map(sexpr).collect();
            format!("({} {})", f.name(), items.join(" "))
        }
        _ => e.to_string(),
    }
}

fn shape(source: &str) -> String {
    sexpr(&parser::parse(source).unwrap_or_else(|e| panic!("{source:?}: {e}")))
}

#[test]
fn brief_examples_parse_and_behave() {
    let r = |x: f64| Value::Real(x);
    assert_eq!(
        eval("EFS_TIME <= OS_TIME", &[("EFS_TIME", r(3.0)), ("OS_TIME", r(5.0))]),
        T
    );
    assert_eq!(
        eval("EFS_TIME <= OS_TIME", &[("EFS_TIME", r(6.0)), ("OS_TIME", r(5.0))]),
        F
    );
    assert_eq!(eval("EFS_TIME <= OS_TIME", &[("OS_TIME", r(5.0))]), U);

    let eln = "TP53 == 1 => ELN2022 != 'favorable'";
    assert_eq!(
        eval(eln, &[("TP53", Value::Bool(true)), ("ELN2022", text("favorable"))]),
        F
    );
    assert_eq!(
        eval(eln, &[("TP53", Value::Bool(true)), ("ELN2022", text("adverse"))]),
        T
    );
    assert_eq!(
        eval(eln, &[("TP53", Value::Bool(false)), ("ELN2022", text("favorable"))]),
        T
    );
    assert_eq!(eval(eln, &[("ELN2022", text("favorable"))]), U);
    assert_eq!(eval(eln, &[("ELN2022", text("adverse"))]), T);

    let hsct = "`Allogeneic HSCT` == 0 => `TIME TO HSCT` is missing";
    assert_eq!(eval(hsct, &[("Allogeneic HSCT", Value::Int(0))]), T);
    assert_eq!(
        eval(hsct, &[("Allogeneic HSCT", Value::Int(0)), ("TIME TO HSCT", r(12.0))]),
        F
    );
    assert_eq!(
        eval(hsct, &[("Allogeneic HSCT", Value::Int(1)), ("TIME TO HSCT", r(12.0))]),
        T
    );

    let scd = "GENOTYPE in ['HbSS', 'HbSB0'] => HBA == 0";
    assert_eq!(eval(scd, &[("GENOTYPE", text("HbSS")), ("HBA", r(0.0))]), T);
    assert_eq!(eval(scd, &[("GENOTYPE", text("HbSB0")), ("HBA", r(3.1))]), F);
    assert_eq!(eval(scd, &[("GENOTYPE", text("HbSC")), ("HBA", r(3.1))]), T);

    let sum = "abs(HBS + HBA + HBA2 + HBF + HBC - 100) <= 2";
    let hb = |s: f64| {
        vec![
            ("HBS", r(s)),
            ("HBA", r(0.0)),
            ("HBA2", r(3.0)),
            ("HBF", r(10.0)),
            ("HBC", r(0.0)),
        ]
    };
    assert_eq!(eval(sum, &hb(86.0)), T);
    assert_eq!(eval(sum, &hb(89.5)), F);
    assert_eq!(eval(sum, &hb(84.5)), F);
    assert_eq!(eval(sum, &hb(85.0)), T);

    let karyotype = "not (COMPLEX == 1 and NORMAL_KARYOTYPE == 1)";
    let k = |c, n| vec![("COMPLEX", Value::Int(c)), ("NORMAL_KARYOTYPE", Value::Int(n))];
    assert_eq!(eval(karyotype, &k(1, 1)), F);
    assert_eq!(eval(karyotype, &k(1, 0)), T);
    assert_eq!(eval(karyotype, &[("COMPLEX", Value::Int(0))]), T);
    assert_eq!(eval(karyotype, &[("COMPLEX", Value::Int(1))]), U);

    let origin = "(DENOVO + SAML + TAML) == 1";
    let o = |a, b, c| {
        vec![
            ("DENOVO", Value::Bool(a)),
            ("SAML", Value::Bool(b)),
            ("TAML", Value::Bool(c)),
        ]
    };
    assert_eq!(eval(origin, &o(true, false, false)), T);
    assert_eq!(eval(origin, &o(true, true, false)), F);
    assert_eq!(eval(origin, &o(false, false, false)), F);

    let death = "DEATH_DATE - BIRTH_DATE >= 0";
    assert_eq!(
        eval(
            death,
            &[("DEATH_DATE", date("2020-01-31")), ("BIRTH_DATE", date("1950-06-01"))]
        ),
        T
    );
    assert_eq!(
        eval(
            death,
            &[("DEATH_DATE", date("1950-05-31")), ("BIRTH_DATE", date("1950-06-01"))]
        ),
        F
    );
    assert_eq!(eval(death, &[("BIRTH_DATE", date("1950-06-01"))]), U);
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("a => b => c", "(=> a (=> b c))"),
        ("a or b => c", "(=> (or a b) c)"),
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("a or b or c", "(or (or a b) c)"),
        ("a and b and c", "(and (and a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not not a", "(not (not a))"),
        ("not a == b", "(not (== a b))"),
        ("not a in ['x']", "(not (in a ['x']))"),
        ("a == 1 and b != 2", "(and (== a 1) (!= b 2))"),
        ("a + b * c == d", "(== (+ a (* b c)) d)"),
        ("a - b - c", "(- (- a b) c)"),
        ("a / b / c", "(/ (/ a b) c)"),
        ("a - b + c", "(+ (- a b) c)"),
        ("-a * b", "(* (neg a) b)"),
        ("- -a", "(neg (neg a))"),
        ("a * -b", "(* a (neg b))"),
        ("(a + b) * c", "(* (+ a b) c)"),
        (
            "a is not missing or b is missing",
            "(or (is-not-missing a) (is-missing b))",
        ),
        ("a not in [1, -2] => b", "(=> (not-in a [1 (neg 2)]) b)"),
        ("abs(a - b) <= max(a, b, 3)", "(<= (abs (- a b)) (max a b 3))"),
        ("A AND B Or NOT C", "(or (and A B) (not C))"),
        ("x == date('2020-01-31')", "(== x date('2020-01-31'))"),
    ];
    for (source, expected) in cases {
        assert_eq!(shape(source), expected, "{source}");
    }
}

#[test]
fn comparisons_do_not_chain() {
    for (source, position) in [
        ("a < b < c", 7),
        ("a == b != c", 8),
        ("a is missing == true", 14),
        ("a in ['x'] in ['y']", 12),
        ("a < b is missing", 7),
    ] {
        let e = parser::parse(source).expect_err(source);
        assert_eq!(e.position, position, "{source}: {e}");
        assert!(e.message.contains("do not chain"), "{source}: {e}");
    }
    assert_eq!(shape("(a < b) == (c < d)"), "(== (< a b) (< c d))");
}

#[test]
fn three_valued_truth_tables() {
    let value = |t: Truth| match t {
        T => Value::Bool(true),
        F => Value::Bool(false),
        U => Value::Missing,
    };
    let all = [T, F, U];
    let and = [[T, F, U], [F, F, F], [U, F, U]];
    let or = [[T, T, T], [T, F, U], [T, U, U]];
    let implies = [[T, F, U], [T, T, T], [T, U, U]];
    let same = [[T, F, U], [F, T, U], [U, U, U]];
    for (i, a) in all.iter().enumerate() {
        let not = eval("not TP53", &[("TP53", value(*a))]);
        assert_eq!(not, [F, T, U][i]);
        for (j, b) in all.iter().enumerate() {
            let cells = [("DENOVO", value(*a)), ("SAML", value(*b))];
            assert_eq!(eval("DENOVO and SAML", &cells), and[i][j], "{a:?} and {b:?}");
            assert_eq!(eval("DENOVO or SAML", &cells), or[i][j], "{a:?} or {b:?}");
            assert_eq!(eval("DENOVO => SAML", &cells), implies[i][j], "{a:?} => {b:?}");
            assert_eq!(eval("not DENOVO or SAML", &cells), implies[i][j], "not {a:?} or {b:?}");
            assert_eq!(eval("DENOVO == SAML", &cells), same[i][j], "{a:?} == {b:?}");
            assert_eq!(eval("DENOVO != SAML", &cells), !same[i][j], "{a:?} != {b:?}");
        }
    }
}

#[test]
fn is_missing_is_never_unknown() {
    for v in [Value::Missing, Value::Real(1.0)] {
        let missing = v.is_missing();
        let cells = [("EFS_TIME", v)];
        assert_eq!(eval("EFS_TIME is missing", &cells), Truth::from_bool(missing));
        assert_eq!(eval("EFS_TIME is not missing", &cells), Truth::from_bool(!missing));
        assert_eq!(eval("EFS_TIME IS NOT MISSING", &cells), Truth::from_bool(!missing));
    }
    assert_eq!(eval("PATIENT_ID is missing", &[("PATIENT_ID", text("P-1"))]), F);
    assert_eq!(eval("GENOTYPE is missing", &[]), T);
}

#[test]
fn arithmetic() {
    let int = |a: i64| vec![("AGE", Value::Int(a))];
    assert_eq!(eval("AGE + 2 * 3 == 10", &int(4)), T);
    assert_eq!(eval("(AGE + 2) * 3 == 18", &int(4)), T);
    assert_eq!(eval("AGE - 10 == -6", &int(4)), T);
    assert_eq!(eval("-AGE == 0 - 4", &int(4)), T);
    assert_eq!(eval("AGE / 8 == 0.5", &int(4)), T, "'/' divides exactly");
    assert_eq!(eval("AGE / 0 == 1", &int(4)), U, "division by zero is unknown");
    assert_eq!(eval("AGE / 0 == 1 or AGE == 4", &int(4)), T);
    assert_eq!(eval("AGE * 4611686018427387904 > 0", &int(4)), U, "overflow is unknown");
    assert_eq!(eval("AGE * 4611686018427387904 > 0", &int(1)), T);
    assert_eq!(
        eval("-AGE < 0", &[("AGE", Value::Int(i64::MIN))]),
        U,
        "negation overflow"
    );
    assert_eq!(
        eval("abs(AGE) == 9223372036854775807", &[("AGE", Value::Int(i64::MIN))]),
        U
    );
    assert_eq!(eval("AGE * 1.5 == 6", &int(4)), T, "mixed arithmetic is real");
    assert_eq!(eval("abs(AGE - 10) == 6", &int(4)), T);
    assert_eq!(eval("min(AGE, 10, 7) == 4 and max(AGE, 10, 7) == 10", &int(4)), T);
    assert_eq!(eval("min(AGE, 3.5) == 3.5", &int(4)), T);
    assert_eq!(eval("min(AGE, EFS_TIME) < 100", &int(4)), U, "a missing argument");
    assert_eq!(eval("AGE + 1 > 0", &[]), U);
    // Exact integer comparison, where f64 would round both sides to the same value.
    assert_eq!(
        eval("AGE == 9007199254740993", &[("AGE", Value::Int(9_007_199_254_740_992))]),
        F
    );
    let days = [("DEATH_DATE", date("2020-03-01")), ("BIRTH_DATE", date("2020-02-01"))];
    assert_eq!(eval("DEATH_DATE - BIRTH_DATE == 29", &days), T, "2020 is a leap year");
    assert_eq!(eval("(DEATH_DATE - BIRTH_DATE) / 29 == 1", &days), T);
}

#[test]
fn comparisons_of_every_type() {
    let real = |a: f64, b: f64| vec![("EFS_TIME", Value::Real(a)), ("OS_TIME", Value::Real(b))];
    for (op, expected) in [
        ("==", [F, T, F]),
        ("!=", [T, F, T]),
        ("<", [T, F, F]),
        ("<=", [T, T, F]),
    ] {
        for (k, (a, b)) in [(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)].into_iter().enumerate() {
            assert_eq!(
                eval(&format!("EFS_TIME {op} OS_TIME"), &real(a, b)),
                expected[k],
                "{a} {op} {b}"
            );
        }
    }
    for (op, expected) in [(">", [F, F, T]), (">=", [F, T, T])] {
        for (k, (a, b)) in [(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)].into_iter().enumerate() {
            assert_eq!(
                eval(&format!("EFS_TIME {op} OS_TIME"), &real(a, b)),
                expected[k],
                "{a} {op} {b}"
            );
        }
    }
    let death = [("DEATH_DATE", date("2020-01-31"))];
    assert_eq!(eval("DEATH_DATE == date('2020-01-31')", &death), T);
    assert_eq!(eval("DEATH_DATE < date(\"2020-02-01\")", &death), T);
    assert_eq!(eval("date('2019-12-31') >= DEATH_DATE", &death), F);
    assert_eq!(
        eval("DEATH_DATE in [date('2019-01-01'), date('2020-01-31')]", &death),
        T
    );
    assert_eq!(eval("DEATH_DATE not in [date('2019-01-01')]", &death), T);

    let eln = [("ELN 2022", text("adverse"))];
    assert_eq!(eval("`ELN 2022` == 'adverse'", &eln), T);
    assert_eq!(eval("'adverse' == `ELN 2022`", &eln), T);
    assert_eq!(eval("`ELN 2022` != \"adverse\"", &eln), F);
    assert_eq!(eval("`ELN 2022` in ['favorable', 'intermediate']", &eln), F);
    assert_eq!(eval("`ELN 2022` not in ['favorable', 'intermediate']", &eln), T);
    assert_eq!(eval("`ELN 2022` not in ['favorable']", &[]), U);

    let id = [("PATIENT_ID", text("P'1")), ("NOTES", text("a \"b\" \\c"))];
    assert_eq!(eval("PATIENT_ID == 'P\\'1'", &id), T);
    assert_eq!(eval("NOTES == \"a \\\"b\\\" \\\\c\"", &id), T);
    assert_eq!(eval("PATIENT_ID in ['x', \"P'1\"]", &id), T);
    assert_eq!(eval("NOTES != 'x'", &id), T);

    let tp53 = |b: bool| vec![("TP53", Value::Bool(b))];
    for (source, when_true, when_false) in [
        ("TP53 == 1", T, F),
        ("TP53 == 0", F, T),
        ("TP53 != 1", F, T),
        ("1 == TP53", T, F),
        ("TP53 == true", T, F),
        ("TP53 == FALSE", F, T),
        ("TP53", T, F),
        ("not TP53", F, T),
        ("TP53 + 0 >= 1", T, F),
    ] {
        assert_eq!(eval(source, &tp53(true)), when_true, "{source} on true");
        assert_eq!(eval(source, &tp53(false)), when_false, "{source} on false");
    }
    assert_eq!(eval("AGE in [1, 2, -3]", &[("AGE", Value::Int(-3))]), T);
    assert_eq!(eval("AGE in [1, 2.5]", &[("AGE", Value::Int(3))]), F);
    assert_eq!(eval("HBA in [2.5]", &[("HBA", Value::Real(2.5))]), T);
    let both = [("TP53", Value::Bool(true)), ("DENOVO", Value::Bool(false))];
    assert_eq!(eval("TP53 == (not DENOVO)", &both), T);
    assert_eq!(
        eval(
            "(AGE < 3) == (HBA < 3)",
            &[("AGE", Value::Int(1)), ("HBA", Value::Real(5.0))]
        ),
        F
    );
    assert_eq!(eval("true", &[]), T);
    assert_eq!(eval("false or true", &[]), T);
}

#[test]
fn cells_of_the_wrong_type_count_as_missing() {
    let r = rule("AGE > 1 and ELN2022 == 'adverse'");
    let mut bad = row(&[("ELN2022", text("adverse"))]);
    let age = dict().index_of("AGE").expect("AGE");
    bad[age] = text("5");
    assert_eq!(r.eval(&bad), U);
    assert_eq!(r.eval(&[]), U, "a short row");
    assert_eq!(rule("TP53").eval(&row(&[("TP53", Value::Int(1))])), U);
}

#[test]
fn holds_is_sql_check_semantics() {
    let r = rule("EFS_TIME <= OS_TIME");
    assert!(r.holds(&row(&[("EFS_TIME", Value::Real(1.0)), ("OS_TIME", Value::Real(2.0))])));
    assert!(!r.holds(&row(&[("EFS_TIME", Value::Real(3.0)), ("OS_TIME", Value::Real(2.0))])));
    assert!(r.holds(&row(&[])), "unknown does not break the rule");
}

#[test]
fn columns_read_by_a_rule() {
    let d = dict();
    let r = rule("abs(HBS + HBA - HBS) <= 2 or `ELN 2022` == 'adverse' or NOTES is missing");
    let mut expected: Vec<usize> = ["HBS", "HBA", "ELN 2022", "NOTES"]
        .iter()
        .map(|n| d.index_of(n).expect("column"))
        .collect();
    expected.sort_unstable();
    assert_eq!(r.columns(), expected.as_slice());
    assert_eq!(rule("true").columns(), &[] as &[usize]);
    let r = rule("DEATH_DATE - BIRTH_DATE > 0 and DENOVO == SAML and AGE in [1]");
    assert_eq!(r.columns().len(), 5);
}

#[test]
fn canonical_form() {
    assert_eq!(rule("  AGE==1  ").canonical(), "AGE == 1");
    assert_eq!(
        rule("NOT (`ELN 2022`=='adverse')").canonical(),
        "not `ELN 2022` == 'adverse'"
    );
    assert_eq!(
        rule("(AGE + 1) * 2 > -(3) Or (TP53 => (DENOVO => SAML))").canonical(),
        "(AGE + 1) * 2 > -3 or (TP53 => DENOVO => SAML)"
    );
    assert_eq!(rule("(TP53 => DENOVO) => SAML").canonical(), "(TP53 => DENOVO) => SAML");
    assert_eq!(rule("NOTES == \"it\\'s\"").canonical(), "NOTES == 'it\\'s'");
    assert_eq!(rule("HBA == 2.50").canonical(), "HBA == 2.5");
    assert_eq!(rule("HBA == 2.0").canonical(), "HBA == 2.0");
}

/// Asserts that `source` fails at `position` with a message containing `message`.
#[track_caller]
fn fails(source: &str, position: usize, message: &str) {
    let e = error(source);
    assert_eq!(
        (e.position, e.message.contains(message)),
        (position, true),
        "{source:?} gave {e}, expected character {position}: …{message}…"
    );
}

#[test]
fn lexical_errors_have_positions() {
    fails("NOTES == 'abc", 10, "unterminated string");
    fails("NOTES == \"abc'", 10, "unterminated string");
    fails("NOTES == 'a\\nb'", 12, "unknown escape '\\n'");
    fails("AGE # 3", 5, "unexpected character '#'");
    fails("AGE = 3", 5, "write '=='");
    fails("AGE == 3 && TP53", 10, "write 'and'");
    fails("AGE == 3 || TP53", 10, "write 'or'");
    fails("!TP53", 1, "'not'");
    fails("AGE <> 3", 5, "'!='");
    fails("`ELN 2022 == 'x'", 1, "unterminated column name");
    fails("`` == 1", 1, "empty column name");
    fails("AGE == 3.", 9, "decimal point");
    fails("AGE == 99999999999999999999", 8, "out of range");
    // Positions count characters, not bytes.
    fails("NOTES == 'é' and AGE é 1", 22, "unexpected character 'é'");
}

#[test]
fn syntax_errors_have_positions() {
    fails("", 1, "empty");
    fails("   ", 1, "empty");
    fails("(AGE == 1", 10, "expected ')' but found end of rule");
    fails("AGE == 1)", 9, "unmatched ')'");
    fails("AGE ==", 7, "expected a value but found end of rule");
    fails(
        "AGE == 1 AGE",
        10,
        "expected an operator or end of rule but found 'AGE'",
    );
    fails("AGE in 1", 8, "expected '['");
    fails("AGE in []", 9, "at least one value");
    fails("AGE in [1, 2", 13, "expected ',' or ']'");
    fails("AGE is 1", 8, "expected 'missing'");
    fails("AGE == not TP53", 8, "'not' cannot stand here");
    fails("and == 1", 1, "keyword 'and'");
    fails("sqrt(AGE) > 1", 1, "unknown function 'sqrt'");
    fails("abs(AGE, 1) > 1", 1, "abs() takes one argument");
    fails("min(AGE) > 1", 1, "min() takes at least two arguments");
    fails("DEATH_DATE > date('2020-02-30')", 19, "not a calendar date");
    fails("DEATH_DATE > date(2020)", 19, "takes a string");
}

#[test]
fn type_errors_have_positions() {
    fails(
        "EFS_TIM <= OS_TIME",
        1,
        "unknown column \"EFS_TIM\" (did you mean \"EFS_TIME\"?)",
    );
    fails(
        "efs_time <= OS_TIME",
        1,
        "did you mean \"EFS_TIME\"? column names are case-sensitive",
    );
    fails("ZZZZZZZZ == 1", 1, "unknown column \"ZZZZZZZZ\"");
    fails(
        "`ELN 2022` == 'favourable'",
        15,
        "'favourable' is not a level of \"ELN 2022\" (levels: favorable, intermediate, adverse)",
    );
    fails(
        "GENOTYPE in ['HbSS', 'HbAA']",
        22,
        "'HbAA' is not a level of \"GENOTYPE\"",
    );
    fails("GENOTYPE in ['HbSS', 1]", 22, "must hold quoted level names");
    fails("DEATH_DATE == 'x'", 12, "cannot compare a date with a string");
    fails("DEATH_DATE < AGE", 12, "cannot compare a date with a number");
    fails("ELN2022 < 'adverse'", 9, "has no order");
    fails(
        "ELN2022 == `ELN 2022`",
        9,
        "cannot compare the categorical column \"ELN2022\" with the categorical column \"ELN 2022\"",
    );
    fails("ELN2022 == 1", 9, "cannot compare");
    fails(
        "NOTES == 1",
        7,
        "text or identifier column compares only with quoted strings",
    );
    fails("NOTES < 'a'", 7, "has no order");
    fails(
        "PATIENT_ID + 1 > 0",
        12,
        "'+' needs numbers, found the identifier column \"PATIENT_ID\" and a number",
    );
    fails(
        "TP53 == 2",
        9,
        "the boolean column \"TP53\" compares only with true, false, 0 or 1",
    );
    fails("TP53 == AGE", 9, "compares only with true, false, 0 or 1");
    fails("TP53 < 1", 6, "has no order");
    fails("TP53 < DENOVO", 6, "has no order");
    fails(
        "AGE == 1 and AGE",
        14,
        "'and' needs a condition (true or false), but `AGE` is a number",
    );
    fails("not AGE", 5, "'not' needs a condition");
    fails(
        "AGE + 1",
        1,
        "a rule must be a condition (true or false), but `AGE + 1` is a number",
    );
    fails("ELN2022", 1, "a rule must be a condition");
    fails(
        "DEATH_DATE + BIRTH_DATE > 0",
        12,
        "the only arithmetic on dates is date - date",
    );
    fails("DEATH_DATE - 1 > BIRTH_DATE", 12, "'-' needs two numbers or two dates");
    fails("'a' * 2 > 1", 5, "'*' needs numbers, found a string and a number");
    fails("-DEATH_DATE < 0", 2, "'-' needs a number, but `DEATH_DATE` is a date");
    fails("abs(ELN2022) > 1", 5, "abs() needs a number");
    fails("(AGE + 1) is missing", 2, "'is missing' applies to a column");
    fails("NOSUCH is missing", 1, "unknown column");
    fails("TP53 in [true]", 6, "'in' applies to categorical");
    fails("AGE in [1, AGE]", 12, "number literals");
    fails("DEATH_DATE in ['2020-01-01']", 16, "date literals");
    fails("NOTES in ['a', 2]", 16, "quoted strings");
    fails("'a' == 'b'", 5, "cannot compare a string with a string");
    fails("AGE == 1 => (TP53 and 'x')", 23, "'and' needs a condition");
    fails(
        "`TIME TO HSCT` is missing => `Allogeneic  HSCT` == 0",
        30,
        "did you mean \"Allogeneic HSCT\"?",
    );
}

#[test]
fn keywords_are_case_insensitive_and_names_case_sensitive() {
    let cells = [("TP53", Value::Bool(true)), ("AGE", Value::Missing)];
    assert_eq!(eval("TP53 AND True => AGE IS Missing Or FALSE", &cells), T);
    assert_eq!(eval("TP53 aNd not AGE iS NoT mIsSiNg", &cells), T);
    assert_eq!(eval("ABS(min(1, 2)) == 1 and MAX(1, 2) == 2", &[]), T);
    assert_eq!(eval("`TP53` == TRUE", &cells), T);
    fails("tp53 == true", 1, "case-sensitive");
}

#[test]
fn a_bad_rule_in_a_dictionary_file_is_located() {
    let text = format!("{DICTIONARY}\n[[rule]]\nname = \"eln\"\nexpr = \"TP53 == 1 => ELN2022 != 'favourable'\"\n");
    match Dictionary::from_toml(&text, "aml.toml") {
        Err(Error::Rule {
            source_name,
            rule,
            position,
            message,
        }) => {
            assert_eq!(rule, "eln");
            assert_eq!(position, 25);
            assert!(source_name.starts_with("aml.toml:"), "{source_name}");
            assert!(
                message.contains("'favourable' is not a level of \"ELN2022\""),
                "{message}"
            );
        }
        other => panic!("expected a rule error, got {other:?}"),
    }
    let good = format!(
        "{DICTIONARY}\n[[rule]]\nname = \"efs\"\nexpr = \"EFS_TIME <= OS_TIME\"\ndescription = \"EFS ends no later than OS\"\n"
    );
    let d = Dictionary::from_toml(&good, "aml.toml").expect("valid dictionary");
    assert_eq!(d.rules.len(), 1);
    assert_eq!(d.rules[0].name, "efs");
    assert_eq!(d.rules[0].description, "EFS ends no later than OS");
    let again = Dictionary::from_toml(&d.to_toml(), "again.toml").expect("round trip");
    assert_eq!(again.rules[0].source, "EFS_TIME <= OS_TIME");
}

#[test]
fn names_that_look_like_keywords_or_functions() {
    let text = r#"
format_version = 1
name = "names"

[[column]]
name = "date"
type = "date"

[[column]]
name = "min"
type = "integer"

[[column]]
name = "missing"
type = "boolean"
"#;
    let d = Dictionary::from_toml(text, "names.toml").expect("valid dictionary");
    let parse = |s: &str| Rule::parse("n", s, "", &d);
    let row = [date("2020-01-31"), Value::Int(-3), Value::Bool(true)];
    let r = parse("date >= date('2000-01-01') and min + 1 < 0 and `missing` == 1").expect("parses");
    assert_eq!(r.eval(&row), T);
    assert_eq!(r.columns(), &[0, 1, 2]);
    assert_eq!(
        r.canonical(),
        "date >= date('2000-01-01') and min + 1 < 0 and `missing` == 1"
    );
    let e = parse("missing == 1").expect_err("a keyword");
    assert_eq!(e.position, 1);
    assert!(e.message.contains("backquotes"), "{e}");
}

#[test]
fn oversized_rules_are_refused_not_overflowing_the_stack() {
    let deep = format!("{}AGE == 1{}", "(".repeat(65), ")".repeat(65));
    fails(&deep, 65, "more than 64 deep");
    let ok = format!("{}AGE == 1{}", "(".repeat(64), ")".repeat(64));
    assert_eq!(eval(&ok, &[("AGE", Value::Int(1))]), T);
    fails(&format!("{}TP53", "not ".repeat(100)), 257, "more than 64 deep");
    fails(&format!("{}AGE > 0", "-".repeat(100)), 65, "more than 64 deep");
    fails(&format!("{}AGE) > 0", "abs(".repeat(100)), 257, "more than 64 deep");
    let long = vec!["TP53"; 600].join(" and ");
    fails(&long, 500 * "TP53 and ".len() + 1, "too long");
    // 101 conjuncts make a left-leaning tree 101 levels high; the deepest `and` is the first.
    let high = vec!["TP53"; 102].join(" and ");
    fails(&high, 6, "more than 100 levels");
    let fits = vec!["TP53"; 100].join(" and ");
    assert_eq!(eval(&fits, &[("TP53", Value::Bool(true))]), T);
    let implications = vec!["TP53"; 101].join(" => ");
    assert_eq!(eval(&implications, &[("TP53", Value::Bool(false))]), T);
    fails(&vec!["TP53"; 102].join(" => "), 6 + 100 * 8, "more than 100 levels");
}
