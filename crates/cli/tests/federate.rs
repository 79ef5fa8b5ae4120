//! `synthema federate` end to end: a simulated three-site AML cohort, federated MST in one
//! process, the output checked against its own dictionary; site drops above and below the
//! minimum; malformed fault specs.

mod common;

use common::{simulate, synthema, text};
use std::path::Path;
use std::process::Output;

/// A temporary directory holding `d/site-{1,2,3}.csv` and `d/dictionary.toml`.
fn cohort() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(dir.path(), "aml", 900, 3, "1", "d");
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

/// `synthema federate` over the three sites with MST at ε = 1, plus `extra` arguments.
fn federate(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "federate",
        "--site",
        "d/site-1.csv",
        "--site",
        "d/site-2.csv",
        "--site",
        "d/site-3.csv",
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
        out,
        "--seed",
        "2",
    ];
    args.extend_from_slice(extra);
    synthema(&args, dir)
}

#[test]
fn federated_mst_writes_rows_that_pass_their_dictionary() {
    let dir = cohort();
    let out = federate(dir.path(), "s.csv", &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    // Every site spent exactly the job's ρ (ε = 1, δ = 1e-9 → ρ ≈ 0.014973) of a policy of ρ.
    for site in ["site-1", "site-2", "site-3"] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(site))
            .unwrap_or_else(|| panic!("no line for {site}:\n{stdout}"));
        assert!(
            line.contains("spent ρ 0.01497") && line.contains("of its policy's 0.01497"),
            "{line}"
        );
        assert!(line.contains("active") && !line.contains("dropped"), "{line}");
    }
    assert!(stdout.contains("3 of 3 still active"), "{stdout}");
    assert!(stdout.contains("rejected      0 contributions"), "{stdout}");
    assert!(stdout.contains("wrote         300 rows to s.csv"), "{stdout}");
    let check = synthema(
        &["schema", "check", "s.csv", "--schema", "s.dictionary.toml"],
        dir.path(),
    );
    assert!(check.status.success(), "{}{}", text(&check.stdout), text(&check.stderr));
    assert!(text(&check.stdout).contains("300 rows, no problems"));
}

#[test]
fn a_site_dropping_above_the_minimum_leaves_the_job_to_finish() {
    let dir = cohort();
    let out = federate(dir.path(), "s.csv", &["--fault", "drop:3@5"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    assert!(stdout.contains("2 of 3 still active"), "{stdout}");
    assert!(stdout.contains("faults        1 injected"), "{stdout}");
    assert!(stdout.contains("site-3 dropped at round 5"), "{stdout}");
    let site3 = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("site-3"))
        .unwrap_or_else(|| panic!("no line for site-3:\n{stdout}"));
    assert!(site3.contains("dropped out"), "{site3}");
    assert!(
        !site3.contains("(100.0%)"),
        "site-3 left early and cannot have spent all: {site3}"
    );
    assert!(dir.path().join("s.csv").exists() && dir.path().join("s.dictionary.toml").exists());
}

#[test]
fn a_hub_restart_is_survived_and_a_helper_timeout_fails_the_job() {
    let dir = cohort();
    let out = federate(dir.path(), "s.csv", &["--fault", "hub-restart@3:helper-share"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    assert!(
        stdout.contains("the hub restarted from its checkpoint in round 3"),
        "{stdout}"
    );
    assert!(dir.path().join("s.csv").exists());

    let dir = cohort();
    let out = federate(dir.path(), "t.csv", &["--fault", "helper-timeout@2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("helper aggregator timed out"), "{stderr}");
    assert!(!dir.path().join("t.csv").exists());
}

#[test]
fn a_site_dropping_below_the_minimum_fails_the_job_and_writes_nothing() {
    let dir = cohort();
    let out = federate(dir.path(), "s.csv", &["--min-sites", "3", "--fault", "drop:site-2@2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("job failed in round 2"), "{stderr}");
    assert!(stderr.contains("at least 3"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!dir.path().join("s.csv").exists());
    assert!(!dir.path().join("s.dictionary.toml").exists());
}

#[test]
fn malformed_fault_specs_exit_2_naming_the_spec() {
    let dir = cohort();
    for spec in ["drop:3", "drop:9@1", "melt:1@2", "tamper:1@2:x", "replay:1@zero"] {
        let out = federate(dir.path(), "s.csv", &["--fault", spec]);
        assert_eq!(out.status.code(), Some(2), "{spec}: {}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("malformed fault spec {spec:?}")), "{stderr}");
        assert!(!dir.path().join("s.csv").exists());
    }
}

#[test]
fn help_documents_the_fault_syntax_and_the_test_only_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = synthema(&["federate", "--help"], dir.path());
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in [
        "drop:SITE@ROUND",
        "replay:SITE@ROUND",
        "out-of-range:SITE@ROUND",
        "tamper:SITE@ROUND",
        "FOR TESTING ONLY",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}
