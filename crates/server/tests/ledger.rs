//! The SQLite privacy ledger: limits, settlement, durability, crash recovery, two writers.

use dp::Rho;
use federation::{FederationError, JobId, PrivacyLedger, Reservation};
use server::ledger::{EntryState, SqliteLedger};

fn rho(x: f64) -> Rho {
    Rho::new(x).unwrap()
}

fn job(name: &str) -> JobId {
    JobId(name.into())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn the_limit_is_enforced_per_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.db")).unwrap();
    let a = ledger.reserve("aml", &job("j1"), rho(0.4), rho(1.0)).unwrap();
    let _b = ledger.reserve("aml", &job("j2"), rho(0.4), rho(1.0)).unwrap();
    match ledger.reserve("aml", &job("j3"), rho(0.3), rho(1.0)) {
        Err(FederationError::BudgetExceeded {
            dataset,
            requested,
            remaining,
            limit,
        }) => {
            assert_eq!(dataset, "aml");
            assert!(close(requested, 0.3) && close(remaining, 0.2) && close(limit, 1.0));
        }
        other => panic!("expected BudgetExceeded, got {other:?}"),
    }
    assert!(
        close(ledger.reserved("aml"), 0.8),
        "a refused reservation reserves nothing"
    );
    // Exactly filling the budget is refused too: sums round up, never under-count.
    assert!(ledger.reserve("aml", &job("j3"), rho(0.2), rho(1.0)).is_err());
    assert!(ledger.reserve("aml", &job("j3"), rho(0.19), rho(1.0)).is_ok());
    // Another dataset has its own budget.
    ledger.reserve("scd", &job("j1"), rho(0.9), rho(1.0)).unwrap();
    ledger.commit(a).unwrap();
    assert!(
        ledger.reserve("aml", &job("j4"), rho(0.05), rho(1.0)).is_err(),
        "committed still counts"
    );
}

#[test]
fn commit_and_release_settle_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.db")).unwrap();
    let j = job("j");
    let a = ledger.reserve("aml", &j, rho(0.25), rho(1.0)).unwrap();
    let b = ledger.reserve("aml", &j, rho(0.5), rho(1.0)).unwrap();
    let (a_id, b_id) = (a.id(), b.id());
    assert_ne!(a_id, b_id);
    ledger.commit(a).unwrap();
    ledger.release(b).unwrap();
    assert!(close(ledger.committed("aml"), 0.25));
    assert_eq!(ledger.reserved("aml"), 0.0);
    assert!(close(ledger.committed_for_job("aml", &j), 0.25));
    assert_eq!(ledger.committed_for_job("aml", &job("other")), 0.0);
    assert_eq!(ledger.committed("scd"), 0.0);

    // Settling twice, or a forged handle, is refused.
    for forged in [
        Reservation::new(a_id, "aml", &j, rho(0.25)),
        Reservation::new(b_id, "aml", &j, rho(0.5)),
        Reservation::new(999, "aml", &j, rho(0.25)),
    ] {
        assert!(matches!(
            ledger.commit(forged),
            Err(FederationError::UnknownReservation { .. })
        ));
    }
    // A handle that does not match its row (another dataset or ρ) is refused.
    let c = ledger.reserve("aml", &j, rho(0.1), rho(1.0)).unwrap();
    let mismatched = Reservation::new(c.id(), "aml", &j, rho(0.01));
    assert!(matches!(
        ledger.release(mismatched),
        Err(FederationError::UnknownReservation { .. })
    ));
    ledger.release(c).unwrap();

    let history = ledger.history("aml").unwrap();
    let states: Vec<EntryState> = history.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [EntryState::Committed, EntryState::Released, EntryState::Released]
    );
    assert!(
        history
            .iter()
            .all(|e| e.job == j && e.settled.is_some() && !e.recovered)
    );
    assert!(close(history[1].rho, 0.5));
}

#[test]
fn commitments_persist_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    {
        let mut ledger = SqliteLedger::open(&path).unwrap();
        let r = ledger.reserve("aml", &job("j"), rho(0.7), rho(1.0)).unwrap();
        ledger.commit(r).unwrap();
        let r = ledger.reserve("aml", &job("j"), rho(0.2), rho(1.0)).unwrap();
        ledger.release(r).unwrap();
    }
    let mut ledger = SqliteLedger::open(&path).unwrap();
    assert_eq!(ledger.recovered(), 0);
    assert!(close(ledger.committed("aml"), 0.7));
    assert!(ledger.reserve("aml", &job("k"), rho(0.4), rho(1.0)).is_err());
    assert!(ledger.reserve("aml", &job("k"), rho(0.25), rho(1.0)).is_ok());
}

#[test]
fn a_reservation_outstanding_at_a_crash_is_committed_at_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let lost_id = {
        let mut ledger = SqliteLedger::open(&path).unwrap();
        let settled = ledger.reserve("aml", &job("a"), rho(0.1), rho(1.0)).unwrap();
        ledger.release(settled).unwrap();
        let lost = ledger.reserve("aml", &job("b"), rho(0.3), rho(1.0)).unwrap();
        lost.id()
        // The process "crashes": neither commit nor release.
    };
    let mut ledger = SqliteLedger::open(&path).unwrap();
    assert_eq!(ledger.recovered(), 1);
    assert!(close(ledger.committed("aml"), 0.3));
    assert_eq!(ledger.reserved("aml"), 0.0);
    assert!(close(ledger.committed_for_job("aml", &job("b")), 0.3));
    let entry = ledger
        .history("aml")
        .unwrap()
        .into_iter()
        .find(|e| e.id == lost_id)
        .unwrap();
    assert_eq!(entry.state, EntryState::Committed);
    assert!(entry.recovered);
    // The stale handle can no longer be released.
    assert!(
        ledger
            .release(Reservation::new(lost_id, "aml", &job("b"), rho(0.3)))
            .is_err()
    );
    drop(ledger);
    assert_eq!(SqliteLedger::open(&path).unwrap().recovered(), 0, "recovered once");
}

#[test]
fn an_open_ledger_does_not_lose_its_reservations_to_another_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let mut first = SqliteLedger::open(&path).unwrap();
    let r = first.reserve("aml", &job("a"), rho(0.3), rho(1.0)).unwrap();
    // A second ledger on the same file while the first is alive: no recovery.
    let second = SqliteLedger::open(&path).unwrap();
    assert_eq!(second.recovered(), 0);
    assert!(close(second.reserved("aml"), 0.3));
    first.release(r).unwrap();
    assert_eq!(second.reserved("aml"), 0.0);
    assert_eq!(second.committed("aml"), 0.0);
}

#[test]
fn two_ledgers_on_one_file_cannot_together_overspend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let mut a = SqliteLedger::open(&path).unwrap();
    let mut b = SqliteLedger::open(&path).unwrap();
    let limit = rho(1.0);
    let mut granted = Vec::new();
    for i in 0..6 {
        let ledger = if i % 2 == 0 { &mut a } else { &mut b };
        if let Ok(r) = ledger.reserve("aml", &job(&format!("j{i}")), rho(0.3), limit) {
            granted.push((i % 2, r));
        }
    }
    assert_eq!(granted.len(), 3, "0.3 fits three times under 1.0, whoever asks");
    assert!(close(a.reserved("aml"), 0.9) && close(b.reserved("aml"), 0.9));

    // From two threads at once, the same holds.
    let (r_a, r_b) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.reserve("scd", &job("x"), rho(0.6), limit).is_ok());
        let hb = s.spawn(|| b.reserve("scd", &job("y"), rho(0.6), limit).is_ok());
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert!(
        r_a ^ r_b,
        "exactly one of two concurrent 0.6 reservations fits under 1.0"
    );
    assert!(close(a.reserved("scd"), 0.6));

    // Settling through either connection is seen by the other.
    for (owner, r) in granted {
        if owner == 0 {
            b.commit(r).unwrap();
        } else {
            a.commit(r).unwrap();
        }
    }
    assert!(close(a.committed("aml"), 0.9));
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    std::fs::write(
        &path,
        b"this is not an SQLite database, just some text that is long enough",
    )
    .unwrap();
    let err = format!("{:#}", SqliteLedger::open(&path).unwrap_err());
    assert!(err.contains("ledger.db"), "{err}");
}
