//! The hash-chained audit log: every kind of tampering is caught at the right line.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use server::audit::{AuditLog, GENESIS, entry_hash, verify};

/// A log of `n` entries; returns its path (inside `dir`).
fn log_of(dir: &Path, n: u64) -> PathBuf {
    let path = dir.join("audit.log");
    let mut log = AuditLog::open(&path).unwrap();
    for i in 1..=n {
        log.append("job.step", json!({"step": i, "site": "hospital-a"}))
            .unwrap();
    }
    path
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

fn verify_error(path: &Path) -> String {
    format!("{:#}", verify(path).unwrap_err())
}

#[test]
fn a_fresh_log_chains_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 3);
    let summary = verify(&path).unwrap();
    assert_eq!(summary.entries, 3);
    let entries: Vec<Value> = lines(&path).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(entries[0]["prev"], GENESIS);
    assert_eq!(entries[0]["seq"], 1);
    assert_eq!(entries[1]["prev"], entries[0]["hash"]);
    assert_eq!(entries[2]["prev"], entries[1]["hash"]);
    assert_eq!(summary.head, entries[2]["hash"].as_str().unwrap());
    // The stored hash is the documented function of the stored fields.
    let e = &entries[1];
    assert_eq!(
        e["hash"].as_str().unwrap(),
        entry_hash(
            2,
            e["time"].as_str().unwrap(),
            "job.step",
            &json!({"site": "hospital-a", "step": 2}),
            e["prev"].as_str().unwrap()
        )
    );
    let time = e["time"].as_str().unwrap();
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{time}"
    );
}

#[test]
fn an_edited_field_fails_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 4);
    let mut l = lines(&path);
    l[2] = l[2].replace("hospital-a", "hospital-b");
    write_lines(&path, &l);
    let err = verify_error(&path);
    assert!(err.contains("audit.log: line 3:") && err.contains("edited"), "{err}");
}

#[test]
fn a_deleted_middle_line_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 4);
    let mut l = lines(&path);
    l.remove(1);
    write_lines(&path, &l);
    let err = verify_error(&path);
    assert!(err.contains("line 2:") && err.contains("deleted"), "{err}");
}

#[test]
fn swapped_lines_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 4);
    let mut l = lines(&path);
    l.swap(1, 2);
    write_lines(&path, &l);
    let err = verify_error(&path);
    assert!(err.contains("line 2:") && err.contains("reordered"), "{err}");
}

#[test]
fn a_rehashed_edit_still_breaks_the_chain_at_the_next_line() {
    // An attacker who edits an entry and recomputes its hash breaks the next entry's prev.
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 3);
    let mut l = lines(&path);
    let mut e: Value = serde_json::from_str(&l[1]).unwrap();
    e["detail"]["site"] = json!("hospital-z");
    let hash = entry_hash(
        2,
        e["time"].as_str().unwrap(),
        e["event"].as_str().unwrap(),
        &e["detail"],
        e["prev"].as_str().unwrap(),
    );
    l[1] = format!(
        r#"{{"seq":2,"time":{},"event":{},"detail":{},"prev":{},"hash":"{hash}"}}"#,
        e["time"],
        e["event"],
        server::audit::canonical_json(&e["detail"]),
        e["prev"]
    );
    write_lines(&path, &l);
    let err = verify_error(&path);
    assert!(err.contains("line 3:") && err.contains("prev does not match"), "{err}");
}

#[test]
fn floats_survive_verification_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let tricky = [
        0.1 + 0.2,
        1e-300,
        2.225_073_858_507_201e-308,
        5e-324,
        f64::MAX,
        123_456_789.123_456_79,
        -0.0,
    ];
    let mut log = AuditLog::open(&path).unwrap();
    for (i, x) in tricky.iter().enumerate() {
        log.append(
            "ledger.commit",
            json!({"rho": x, "i": i, "nested": [{"z": x, "a": -x}]}),
        )
        .unwrap();
    }
    drop(log);
    assert_eq!(verify(&path).unwrap().entries, tricky.len() as u64);
}

#[test]
fn reordered_fields_or_extra_fields_are_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 2);
    let mut l = lines(&path);
    let e: Value = serde_json::from_str(&l[1]).unwrap();
    // The same fields, re-serialised by serde_json (alphabetical order).
    l[1] = serde_json::to_string(&e).unwrap();
    write_lines(&path, &l);
    let err = verify_error(&path);
    assert!(err.contains("line 2: malformed"), "{err}");
    let mut extra = e.clone();
    extra["note"] = json!("x");
    l[1] = serde_json::to_string(&extra).unwrap();
    write_lines(&path, &l);
    assert!(verify_error(&path).contains("line 2: malformed"));
}

#[test]
fn a_truncated_last_line_and_malformed_json_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 3);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, &text[..text.len() - 10]).unwrap();
    let err = verify_error(&path);
    assert!(err.contains("line 3:") && err.contains("truncated"), "{err}");

    let other = tempfile::tempdir().unwrap();
    let path = log_of(other.path(), 3);
    let mut l = lines(&path);
    l[0] = "{not json".into();
    write_lines(&path, &l);
    let err = verify_error(&path);
    assert!(err.contains("line 1:") && err.contains("malformed"), "{err}");

    l[0] = r#"{"seq":1}"#.into();
    write_lines(&path, &l);
    assert!(verify_error(&path).contains("line 1: malformed"));
}

#[test]
fn reopening_continues_the_chain_and_a_broken_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 2);
    let before = verify(&path).unwrap();
    {
        let mut log = AuditLog::open(&path).unwrap();
        assert_eq!(log.head(), (2, before.head.clone()));
        log.append("job.done", json!(null)).unwrap();
        assert_eq!(log.head().0, 3);
    }
    let after = verify(&path).unwrap();
    assert_eq!(after.entries, 3);
    let third: Value = serde_json::from_str(&lines(&path)[2]).unwrap();
    assert_eq!(third["prev"], before.head.as_str());
    assert_eq!(third["event"], "job.done");

    let mut l = lines(&path);
    l[0] = l[0].replace("job.step", "job.stop");
    write_lines(&path, &l);
    let size = fs::metadata(&path).unwrap().len();
    let err = format!("{:#}", AuditLog::open(&path).unwrap_err());
    assert!(err.contains("refusing to append") && err.contains("line 1:"), "{err}");
    assert_eq!(fs::metadata(&path).unwrap().len(), size, "nothing appended");
}

#[test]
fn a_second_writer_is_refused_and_an_empty_log_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&path).unwrap();
    assert_eq!(log.head(), (0, GENESIS.to_owned()));
    assert_eq!(verify(&path).unwrap().entries, 0);
    let err = format!("{:#}", AuditLog::open(&path).unwrap_err());
    assert!(err.contains("already open"), "{err}");
    drop(log);
    let mut log = AuditLog::open(&path).unwrap();
    assert!(log.append("", json!({})).is_err(), "empty event names are refused");
    assert!(log.append("a\nb", json!({})).is_err(), "control characters are refused");
    assert!(verify_error(&dir.path().join("missing.log")).contains("missing.log"));
}

#[test]
fn a_crash_mid_append_leaves_a_tail_that_open_sets_aside_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 3);
    let text = fs::read_to_string(&path).unwrap();
    let cut = text.len() - 10;
    let tail = text[text[..cut].rfind('\n').unwrap() + 1..cut].to_string();
    fs::write(&path, &text[..cut]).unwrap();
    // `verify` alone still reports the truncation: it never repairs anything.
    assert!(verify_error(&path).contains("truncated"));
    let mut log = AuditLog::open(&path).unwrap();
    // Entries 1 and 2 survive; entry 3 never completed; the set-aside is entry 3.
    assert_eq!(log.head().0, 3);
    log.append("after.crash", json!({})).unwrap();
    drop(log);
    assert_eq!(verify(&path).unwrap().entries, 4);
    let entries = lines(&path);
    let recorded: serde_json::Value = serde_json::from_str(&entries[2]).unwrap();
    assert_eq!(recorded["event"], "truncated tail set aside");
    assert_eq!(recorded["detail"]["bytes"].as_u64(), Some(tail.len() as u64));
    let aside = recorded["detail"]["file"].as_str().unwrap();
    assert_eq!(fs::read_to_string(aside).unwrap(), tail);
}
