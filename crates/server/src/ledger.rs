//! A site's durable privacy ledger: [`federation::PrivacyLedger`] on SQLite.
//!
//! One row per reservation, never deleted: `reserved`, then `committed` or `released`. Every
//! operation is one `BEGIN IMMEDIATE` transaction, so the limit check and the insert of a
//! reservation cannot interleave with another writer — several [`SqliteLedger`]s (threads or
//! processes) on the same file cannot together overspend. The database runs in WAL mode with
//! `synchronous=FULL`: a committed operation survives a power loss.
//!
//! **Crash recovery.** A reservation still outstanding when its process died may already have
//! let shares leave the site, so it is conservatively *committed* (never released) by the next
//! [`SqliteLedger::open`] that is the only ledger open on the file; [`SqliteLedger::recovered`]
//! reports how many. "Only ledger open" is known from an advisory lock on `<db>.lock`, which
//! every open ledger holds shared; while other ledgers are open, outstanding reservations are
//! left alone (they keep counting against the limit, which is safe).
//!
//! Sums are rounded up (each addition nudged up by one ulp), as in
//! [`federation::InMemoryLedger`]: the ledger never under-counts.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow, bail};
use dp::Rho;
use federation::{FederationError, JobId, PrivacyLedger, Reservation};
use rusqlite::{Connection, TransactionBehavior, params};
use serde::Serialize;

use crate::audit::rfc3339_utc;

/// Version of the schema below, kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reservations (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset   TEXT    NOT NULL,
    job       TEXT    NOT NULL,
    rho       REAL    NOT NULL CHECK (rho >= 0),
    state     TEXT    NOT NULL CHECK (state IN ('reserved', 'committed', 'released')),
    created   TEXT    NOT NULL,
    settled   TEXT,
    recovered INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1))
);
CREATE INDEX IF NOT EXISTS reservations_by_dataset ON reservations (dataset, state);
";

/// How long an operation waits for another writer's transaction before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The state of a ledger entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryState {
    /// Reserved, not yet settled.
    Reserved,
    /// Spent for good.
    Committed,
    /// Cancelled: nothing derived from the data left the site.
    Released,
}

impl EntryState {
    fn as_str(self) -> &'static str {
        match self {
            EntryState::Reserved => "reserved",
            EntryState::Committed => "committed",
            EntryState::Released => "released",
        }
    }

    fn parse(s: &str) -> Option<EntryState> {
        [EntryState::Reserved, EntryState::Committed, EntryState::Released]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}

impl std::fmt::Display for EntryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reservation of a dataset's history, for status and audit display.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedgerEntry {
    /// The reservation id.
    pub id: u64,
    /// The job charged.
    pub job: JobId,
    /// The ρ reserved.
    pub rho: f64,
    /// Its current state.
    pub state: EntryState,
    /// When it was reserved (RFC 3339 UTC).
    pub time: String,
    /// When it was committed or released, if it was.
    pub settled: Option<String>,
    /// Whether it was committed by crash recovery rather than by its job.
    pub recovered: bool,
}

/// The SQLite privacy ledger of one site (see the module documentation).
#[derive(Debug)]
pub struct SqliteLedger {
    path: PathBuf,
    conn: Connection,
    recovered: u64,
    /// Shared advisory lock on `<db>.lock`, held while this ledger is open.
    _lock: File,
}

impl SqliteLedger {
    /// Opens the ledger database at `path`, creating it if missing (WAL, `synchronous=FULL`).
    /// If no other ledger has the file open, reservations left outstanding by a crash are
    /// committed (see [`SqliteLedger::recovered`]).
    pub fn open(path: &Path) -> anyhow::Result<SqliteLedger> {
        let lock_path = lock_path(path);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .with_context(|| format!("opening ledger lock file {}", lock_path.display()))?;
        let sole = lock.try_lock().is_ok();

        let mut conn = Connection::open(path).with_context(|| format!("opening ledger database {}", path.display()))?;
        let context = || format!("setting up ledger database {}", path.display());
        conn.busy_timeout(BUSY_TIMEOUT).with_context(context)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .with_context(context)?;
        if !mode.eq_ignore_ascii_case("wal") {
            bail!(
                "ledger database {}: cannot enable WAL mode (got {mode})",
                path.display()
            );
        }
        conn.pragma_update(None, "synchronous", "FULL").with_context(context)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .with_context(context)?;
        if version > SCHEMA_VERSION {
            bail!(
                "ledger database {} has schema version {version}, newer than this program's {SCHEMA_VERSION}",
                path.display()
            );
        }
        {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .with_context(context)?;
            tx.execute_batch(SCHEMA).with_context(context)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .with_context(context)?;
            tx.commit().with_context(context)?;
        }

        let mut recovered = 0;
        if sole {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .with_context(|| format!("recovering ledger database {}", path.display()))?;
            recovered = tx
                .execute(
                    "UPDATE reservations SET state = 'committed', settled = ?1, recovered = 1 \
                     WHERE state = 'reserved'",
                    params![rfc3339_utc(SystemTime::now())],
                )
                .and_then(|n| tx.commit().map(|()| n))
                .with_context(|| {
                    format!(
                        "committing outstanding reservations of ledger database {}",
                        path.display()
                    )
                })? as u64;
        }
        // From now on, other ledgers may open the file too: hold the lock shared.
        lock.unlock()
            .and_then(|()| lock.lock_shared())
            .with_context(|| format!("locking {}", lock_path.display()))?;
        Ok(SqliteLedger {
            path: path.to_owned(),
            conn,
            recovered,
            _lock: lock,
        })
    }

    /// The number of reservations left outstanding by a crash that [`SqliteLedger::open`]
    /// committed.
    pub fn recovered(&self) -> u64 {
        self.recovered
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every reservation ever made on `dataset`, oldest first.
    pub fn history(&self, dataset: &str) -> anyhow::Result<Vec<LedgerEntry>> {
        let context = || format!("reading the history of {dataset:?} in ledger {}", self.path.display());
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, job, rho, state, created, settled, recovered FROM reservations \
                 WHERE dataset = ?1 ORDER BY id",
            )
            .with_context(context)?;
        let rows = statement
            .query_map(params![dataset], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, f64>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, bool>(6)?,
                ))
            })
            .with_context(context)?;
        let mut history = Vec::new();
        for row in rows {
            let (id, job, rho, state, time, settled, recovered) = row.with_context(context)?;
            let state = EntryState::parse(&state)
                .ok_or_else(|| anyhow!("ledger {}: row {id} has unknown state {state:?}", self.path.display()))?;
            history.push(LedgerEntry {
                id: u64::try_from(id)
                    .map_err(|_| anyhow!("ledger {}: row has negative id {id}", self.path.display()))?,
                job: JobId(job),
                rho,
                state,
                time,
                settled,
                recovered,
            });
        }
        Ok(history)
    }

    /// A read-only sum for the infallible trait accessors: on a storage error it reports
    /// infinity (everything spent, so no caller can overspend) and logs the error on stderr.
    fn sum_or_everything(&self, dataset: &str, job: Option<&JobId>, states: &[EntryState]) -> f64 {
        match sum(&self.conn, dataset, job, states) {
            Ok(total) => total,
            Err(e) => {
                eprintln!(
                    "ledger {}: cannot read the ρ of {dataset:?}, counting it as fully spent: {e}",
                    self.path.display()
                );
                f64::INFINITY
            }
        }
    }

    /// Moves `reservation` from `reserved` to `to`, checking that the row matches it.
    fn settle(&mut self, reservation: Reservation, to: EntryState) -> federation::Result<()> {
        let doing = format!("settling reservation {} as {to}", reservation.id());
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| FederationError::Ledger {
            reason: format!("{doing} in {}: {e}", path.display()),
        };
        let id = i64::try_from(reservation.id())
            .map_err(|_| FederationError::UnknownReservation { id: reservation.id() })?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        let changed = tx
            .execute(
                "UPDATE reservations SET state = ?1, settled = ?2 \
                 WHERE id = ?3 AND state = 'reserved' AND dataset = ?4 AND job = ?5 AND rho = ?6",
                params![
                    to.as_str(),
                    rfc3339_utc(SystemTime::now()),
                    id,
                    reservation.dataset(),
                    reservation.job().0,
                    reservation.rho().get()
                ],
            )
            .and_then(|changed| tx.commit().map(|()| changed))
            .map_err(fail)?;
        if changed == 0 {
            return Err(FederationError::UnknownReservation { id: reservation.id() });
        }
        Ok(())
    }
}

impl PrivacyLedger for SqliteLedger {
    fn reserve(&mut self, dataset: &str, job: &JobId, rho: Rho, limit: Rho) -> federation::Result<Reservation> {
        let doing = format!("reserving ρ={} on {dataset:?} for job {job}", rho.get());
        let path = self.path.clone();
        let fail = |e: &dyn std::fmt::Display| FederationError::Ledger {
            reason: format!("{doing} in {}: {e}", path.display()),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| fail(&e))?;
        let used = sum(&tx, dataset, None, &[EntryState::Reserved, EntryState::Committed]).map_err(|e| fail(&e))?;
        federation::ledger::check_limit(dataset, used, rho, limit)?;
        tx.execute(
            "INSERT INTO reservations (dataset, job, rho, state, created) VALUES (?1, ?2, ?3, 'reserved', ?4)",
            params![dataset, job.0, rho.get(), rfc3339_utc(SystemTime::now())],
        )
        .map_err(|e| fail(&e))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(|e| fail(&e))?;
        let id = u64::try_from(id).map_err(|_| fail(&format!("SQLite returned a negative row id {id}")))?;
        Ok(Reservation::new(id, dataset, job, rho))
    }

    fn commit(&mut self, reservation: Reservation) -> federation::Result<()> {
        self.settle(reservation, EntryState::Committed)
    }

    fn release(&mut self, reservation: Reservation) -> federation::Result<()> {
        self.settle(reservation, EntryState::Released)
    }

    fn committed(&self, dataset: &str) -> f64 {
        self.sum_or_everything(dataset, None, &[EntryState::Committed])
    }

    fn reserved(&self, dataset: &str) -> f64 {
        self.sum_or_everything(dataset, None, &[EntryState::Reserved])
    }

    fn committed_for_job(&self, dataset: &str, job: &JobId) -> f64 {
        self.sum_or_everything(dataset, Some(job), &[EntryState::Committed])
    }
}

/// Sum (rounded up) of ρ on `dataset` in `states`, through `conn` (the connection or an
/// open transaction).
fn sum(conn: &Connection, dataset: &str, job: Option<&JobId>, states: &[EntryState]) -> Result<f64, String> {
    let mut statement = conn
        .prepare_cached("SELECT id, rho, state FROM reservations WHERE dataset = ?1 AND (?2 IS NULL OR job = ?2)")
        .map_err(|e| e.to_string())?;
    let rows = statement
        .query_map(params![dataset, job.map(|job| job.0.as_str())], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, f64>(1)?, row.get::<_, String>(2)?))
        })
        .map_err(|e| e.to_string())?;
    let mut total = 0.0f64;
    for row in rows {
        let (id, rho, state) = row.map_err(|e| e.to_string())?;
        let state = EntryState::parse(&state).ok_or_else(|| format!("row {id} has unknown state {state:?}"))?;
        if !states.contains(&state) {
            continue;
        }
        if !(rho.is_finite() && rho >= 0.0) {
            return Err(format!("row {id} has an invalid rho {rho}"));
        }
        total = (total + rho).next_up();
    }
    Ok(total)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}
