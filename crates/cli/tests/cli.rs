//! The `synthema` binary end to end, in a temporary directory (whole-output tests).

mod common;

use common::{simulate, synthema, text};
use std::path::Path;

#[test]
fn simulate_then_check_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(dir.path(), "aml", 600, 3, "1", "d");
    assert!(out.status.success(), "{}", text(&out.stderr));
    for f in ["site-1.csv", "site-2.csv", "site-3.csv", "dictionary.toml"] {
        assert!(dir.path().join("d").join(f).exists(), "{f} missing");
    }
    assert!(!dir.path().join("d/site-4.csv").exists());
    let out = synthema(
        &["schema", "check", "d/site-1.csv", "--schema", "d/dictionary.toml"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("no problems"));
}

#[test]
fn same_seed_same_files() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, d) in [("7", "a"), ("7", "b"), ("8", "c")] {
        let out = simulate(dir.path(), "scd", 300, 2, seed, d);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let read = |d: &str| std::fs::read(dir.path().join(d).join("site-1.csv")).unwrap();
    assert_eq!(read("a"), read("b"));
    assert_ne!(read("a"), read("c"));
}

#[test]
fn check_lists_every_injected_error_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(dir.path(), "aml", 200, 1, "3", "d");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = dir.path().join("d/site-1.csv");
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (age, sex) = (col("AGE"), col("SEX"));
    // Line 3 (data row 2): age out of bounds. Line 6: sex not a level/token. Line 9: ragged row.
    let mut set = |line: usize, c: usize, v: &str| {
        let mut f: Vec<String> = lines[line - 1].split(',').map(String::from).collect();
        f[c] = v.to_string();
        lines[line - 1] = f.join(",");
    };
    set(3, age, "250");
    set(6, sex, "X");
    lines[8] = lines[8].rsplit_once(',').unwrap().0.to_string();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let out = synthema(
        &["schema", "check", "d/site-1.csv", "--schema", "d/dictionary.toml"],
        dir.path(),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("d/site-1.csv:3:{}: column \"AGE\": value \"250\"", age + 1)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("d/site-1.csv:6:{}: column \"SEX\": value \"X\"", sex + 1)),
        "{stdout}"
    );
    assert!(stdout.contains("d/site-1.csv:9"), "{stdout}");
    assert!(stdout.contains("3 problems"), "{stdout}");
}

#[test]
fn bad_usage_and_missing_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = synthema(&["schema", "check", "nope.csv", "--schema", "nope.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope.toml"), "{}", text(&out.stderr));
    let out = synthema(
        &["simulate", "aml", "--patients", "2", "--sites", "3", "--out", "d"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("at least one patient per site"),
        "{}",
        text(&out.stderr)
    );
    let out = synthema(&["simulate", "flu", "--out", "d"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn infer_warns_that_its_draft_is_disclosive() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.csv"),
        "id;age;eln\np1;61,5;adverse\np2;40;favorable\np3;;adverse\n",
    )
    .unwrap();
    let out = synthema(
        &[
            "schema",
            "infer",
            "x.csv",
            "--delimiter",
            ";",
            "--decimal",
            "comma",
            "--out",
            "draft.toml",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("disclosive"));
    let draft = std::fs::read_to_string(dir.path().join("draft.toml")).unwrap();
    let d = table::Dictionary::from_toml(&draft, "draft.toml").unwrap();
    assert_eq!(d.columns.len(), 3);
    assert_eq!(d.column("age").unwrap().kind.name(), "real");
}

#[test]
fn demo_runs_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = synthema(&["demo", "--patients", "500", "--out", "demo"], dir.path());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("site-5.csv"), "{stdout}");
    assert!(!stdout.contains("problems\n        "), "{stdout}");
    assert!(dir.path().join("demo/dictionary.toml").exists());
    assert!(dir.path().join("demo/synthetic.csv").exists());
    assert!(dir.path().join("demo/report/report.html").exists());
    for log in ["hub", "aggregator", "site-1", "site-5"] {
        let path = dir.path().join(format!("demo/audit/{log}.log"));
        assert!(path.exists(), "{}", path.display());
    }
    assert!(stdout.contains("audit/hub.log: intact"), "{stdout}");
    // Every service was stopped: nothing listens at the hub's address any more.
    let addr = std::fs::read_to_string(dir.path().join("demo/run/hub.addr")).unwrap();
    assert!(
        std::net::TcpStream::connect(addr.trim()).is_err(),
        "the hub still listens at {addr}"
    );
    // A second run replaces the previous demo; another directory is never deleted.
    let again = synthema(&["demo", "--patients", "500", "--out", "demo"], dir.path());
    assert!(again.status.success(), "{}", text(&again.stderr));
    std::fs::create_dir_all(dir.path().join("mine")).unwrap();
    std::fs::write(dir.path().join("mine/notes.txt"), "keep").unwrap();
    let refused = synthema(&["demo", "--patients", "500", "--out", "mine"], dir.path());
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("was not made by `synthema demo`"));
    assert!(dir.path().join("mine/notes.txt").exists());
    let out = synthema(
        &[
            "schema",
            "check",
            "demo/synthetic.csv",
            "--schema",
            "demo/synthetic.dictionary.toml",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

fn simulated(dir: &Path) {
    let out = simulate(dir, "aml", 800, 1, "5", "d");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn synth_check_and_sample_more() {
    let dir = tempfile::tempdir().unwrap();
    simulated(dir.path());
    let args = [
        "synth",
        "--input",
        "d/site-1.csv",
        "--schema",
        "d/dictionary.toml",
        "--method",
        "mst",
        "--epsilon",
        "1",
        "--delta",
        "1e-9",
        "--rows",
        "300",
        "--out",
        "s.csv",
        "--save-model",
        "m.json",
        "--seed",
        "3",
    ];
    let out = synthema(&args, dir.path());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("(1, 0.000000001)-DP"), "{stdout}");
    assert!(stdout.contains("rules"), "{stdout}");
    let out = synthema(
        &["schema", "check", "s.csv", "--schema", "s.dictionary.toml"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = synthema(
        &[
            "sample", "--model", "m.json", "--rows", "200", "--out", "more.csv", "--seed", "4",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = synthema(
        &["schema", "check", "more.csv", "--schema", "more.dictionary.toml"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("200 rows"));
    // The same seed gives the same synthetic file.
    let again: Vec<&str> = args.iter().map(|a| if *a == "s.csv" { "s2.csv" } else { a }).collect();
    assert!(synthema(&again, dir.path()).status.success());
    assert_eq!(
        std::fs::read(dir.path().join("s.csv")).unwrap(),
        std::fs::read(dir.path().join("s2.csv")).unwrap()
    );
}

#[test]
fn synth_refuses_bad_requests_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    simulated(dir.path());
    let base = [
        "synth",
        "--input",
        "d/site-1.csv",
        "--schema",
        "d/dictionary.toml",
        "--rows",
        "100",
        "--out",
        "x.csv",
    ];
    let cases: [(&[&str], &str); 6] = [
        (&["--method", "mst", "--epsilon", "0", "--delta", "1e-9"], "--epsilon 0"),
        (&["--method", "mst", "--epsilon", "1", "--delta", "1.5"], "--delta 1.5"),
        (
            &["--method", "aim", "--epsilon", "1"],
            "give both --epsilon and --delta",
        ),
        (
            &["--method", "copula", "--epsilon", "1", "--delta", "1e-9"],
            "not differentially private",
        ),
        (
            &["--method", "aim", "--epsilon", "1", "--delta", "1e-9", "--rounds", "3"],
            "at least as many rounds",
        ),
        (
            &["--method", "mst", "--epsilon", "-1", "--delta", "1e-9"],
            "--epsilon -1",
        ),
    ];
    for (extra, expected) in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let out = synthema(&args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(expected), "{args:?}: {}", text(&out.stderr));
        assert!(!dir.path().join("x.csv").exists(), "{args:?} wrote output");
    }
}

#[test]
fn anonymize_an_extract_and_reapply_the_strategy() {
    let dir = tempfile::tempdir().unwrap();
    simulated(dir.path());
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/anonymize/aml.toml");
    std::fs::write(dir.path().join("key.bin"), [7u8; 40]).unwrap();
    let args = |out: &str, rep: &str| -> Vec<String> {
        [
            "anonymize",
            "--input",
            "d/site-1.csv",
            "--schema",
            "d/dictionary.toml",
            "--config",
            config,
            "--out",
            out,
            "--report",
            rep,
            "--key-file",
            "key.bin",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |a: &[String]| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        synthema(&a, dir.path())
    };
    let out = run(&args("anon.csv", "rep"));
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let report = std::fs::read_to_string(dir.path().join("rep/report.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert!(json.to_string().contains("AGE"), "{json}");
    assert!(
        std::fs::read_to_string(dir.path().join("rep/report.html"))
            .unwrap()
            .contains("<html")
    );
    let check = synthema(
        &["schema", "check", "anon.csv", "--schema", "anon.dictionary.toml"],
        dir.path(),
    );
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
    // The raw identifiers are gone: pseudonyms only.
    let raw = std::fs::read_to_string(dir.path().join("d/site-1.csv")).unwrap();
    let first_id = raw.lines().nth(1).unwrap().split(',').next().unwrap().to_string();
    assert!(
        !std::fs::read_to_string(dir.path().join("anon.csv"))
            .unwrap()
            .contains(&format!("\n{first_id},"))
    );
    // Re-applying the saved strategy works on the same batch.
    let mut again = args("anon2.csv", "rep2");
    again.extend(["--strategy".to_string(), "rep/strategy.toml".to_string()]);
    let out = run(&again);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    // A key that is too short is refused, and nothing is written.
    std::fs::write(dir.path().join("key.bin"), [7u8; 8]).unwrap();
    let out = run(&args("anon3.csv", "rep3"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!dir.path().join("anon3.csv").exists());
}

#[test]
fn evaluate_writes_the_report_and_skips_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(dir.path(), "aml", 1200, 2, "6", "d");
    assert!(out.status.success());
    let out = synthema(
        &[
            "synth",
            "--input",
            "d/site-1.csv",
            "--schema",
            "d/dictionary.toml",
            "--method",
            "mst",
            "--epsilon",
            "2",
            "--delta",
            "1e-9",
            "--rows",
            "500",
            "--out",
            "s.csv",
            "--seed",
            "1",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = synthema(
        &[
            "evaluate",
            "--real",
            "d/site-1.csv",
            "--synthetic",
            "s.csv",
            "--schema",
            "d/dictionary.toml",
            "--holdout",
            "d/site-2.csv",
            "--target",
            "NOT_A_COLUMN",
            "--sensitive",
            "TP53",
            "--strata",
            "SEX",
            "--out",
            "rep",
        ],
        dir.path(),
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("skipped utility"), "{stderr}");
    assert!(stderr.contains("skipped column ID"), "{stderr}");
    assert!(stdout.contains("rule violations in the synthetic data"), "{stdout}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("rep/metrics.json")).unwrap()).unwrap();
    for key in ["summary", "fidelity", "clinical", "privacy", "skipped"] {
        assert!(!metrics[key].is_null(), "{key} missing");
    }
    let strata: Vec<&str> = metrics["clinical"]["endpoints"][0]["strata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stratum"].as_str().unwrap())
        .collect();
    assert_eq!(strata, ["all", "SEX = 0", "SEX = 1"]);
    let html = std::fs::read_to_string(dir.path().join("rep/report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Summary") && !html.contains("NaN"));
    assert!(
        !html.contains("http://") || html.matches("http://").all(|_| html.contains("xmlns")),
        "no network links"
    );
    // Without a holdout the privacy section is skipped with its reason, and the rest is written.
    let out = synthema(
        &[
            "evaluate",
            "--real",
            "d/site-1.csv",
            "--synthetic",
            "s.csv",
            "--schema",
            "d/dictionary.toml",
            "--out",
            "rep2",
        ],
        dir.path(),
    );
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("skipped privacy"), "{}", text(&out.stderr));
}
