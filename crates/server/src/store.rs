//! The hub's durable state in SQLite: jobs and their status, the messages waiting for each site,
//! every released round, and the hub's checkpoint of the running job. Every write is one
//! transaction (WAL, `synchronous=FULL`), so a hub killed at any point restarts from a
//! consistent state.
//!
//! What a restart relies on: the job's seed and verification key (so the synthesizer re-runs
//! the same path and the helper sees the same key), and the released rounds (served again to
//! the synthesizer without asking anyone anything). The round that was open when the hub died
//! is re-opened with the same number and the same request; see `hub::runner`.

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, params};

use crate::api::{JobRequest, JobState, JobStatus};
use crate::log::unix_now;

/// A released round as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRelease {
    /// The round number.
    pub round: u32,
    /// The wire purpose (JSON of `federation::Purpose`).
    pub purpose: String,
    /// The noisy values.
    pub values: Vec<i64>,
    /// σ² per aggregator, exact.
    pub sigma2: (u64, u64),
    /// The sites counted.
    pub contributors: Vec<String>,
}

/// A job's secrets and fixed parameters, kept for restarts.
#[derive(Debug, Clone)]
pub struct JobSecrets {
    /// Seeds every random choice of the hub for this job.
    pub seed: [u8; 32],
    /// The Prio3 verification key shared with the helper.
    pub verify_key: [u8; 32],
}

/// The hub's database.
pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    requester TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 0,
    rounds_planned INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    sites TEXT NOT NULL DEFAULT '[]',
    seed BLOB NOT NULL,
    verify_key BLOB NOT NULL,
    result TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    job TEXT NOT NULL REFERENCES jobs(id),
    round INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    vals TEXT NOT NULL,
    sigma2_num INTEGER NOT NULL,
    sigma2_den INTEGER NOT NULL,
    contributors TEXT NOT NULL,
    PRIMARY KEY (job, round)
);
CREATE TABLE IF NOT EXISTS checkpoints (job TEXT PRIMARY KEY REFERENCES jobs(id), body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    job TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_site ON outbox(site, seq);
";

/// The format version of the database; a hub refuses a database of another version.
pub const STORE_VERSION: &str = "1";

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).with_context(|| format!("{what} {v} does not fit the database"))
}

impl Store {
    /// Opens or creates the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("cannot open database {}", path.display()))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .with_context(|| format!("cannot configure database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("cannot create the schema of {}", path.display()))?;
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| r.get(0))
            .optional()?;
        match version {
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('version', ?1)", [STORE_VERSION])?;
            }
            Some(v) if v == STORE_VERSION => {}
            Some(v) => bail!(
                "database {} has format version {v}; this hub reads version {STORE_VERSION}",
                path.display()
            ),
        }
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| anyhow::anyhow!("the database connection was poisoned by a panic"))
    }

    /// Records a new queued job.
    pub fn insert_job(&self, id: &str, requester: &str, request: &JobRequest, secrets: &JobSecrets) -> Result<()> {
        let now = to_i64(unix_now(), "time")?;
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO jobs (id, position, requester, request, state, seed, verify_key, created, updated)
             VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM jobs), ?2, ?3, 'queued', ?4, ?5, ?6, ?6)",
            params![
                id,
                requester,
                serde_json::to_string(request)?,
                &secrets.seed[..],
                &secrets.verify_key[..],
                now
            ],
        )?;
        Ok(())
    }

    /// A job's status.
    pub fn status(&self, id: &str) -> Result<Option<JobStatus>> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                "SELECT id, requester, request, state, round, rounds_planned, reason, sites, created, updated
                 FROM jobs WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, i64>(8)?,
                        r.get::<_, i64>(9)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, requester, request, state, round, planned, reason, sites, created, updated)) = row else {
            return Ok(None);
        };
        Ok(Some(JobStatus {
            id,
            requester,
            request: serde_json::from_str(&request).context("stored job request")?,
            state: JobState::parse(&state).with_context(|| format!("stored job state {state:?}"))?,
            round: u32::try_from(round).unwrap_or(u32::MAX),
            rounds_planned: u32::try_from(planned).unwrap_or(u32::MAX),
            reason,
            sites: serde_json::from_str(&sites).context("stored job sites")?,
            created: u64::try_from(created).unwrap_or(0),
            updated: u64::try_from(updated).unwrap_or(0),
            audit_head: None,
        }))
    }

    /// The job's secrets.
    pub fn secrets(&self, id: &str) -> Result<JobSecrets> {
        let conn = self.conn()?;
        let (seed, key): (Vec<u8>, Vec<u8>) =
            conn.query_row("SELECT seed, verify_key FROM jobs WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(JobSecrets {
            seed: seed
                .try_into()
                .map_err(|_| anyhow::anyhow!("job {id}: stored seed is not 32 bytes"))?,
            verify_key: key
                .try_into()
                .map_err(|_| anyhow::anyhow!("job {id}: stored verification key is not 32 bytes"))?,
        })
    }

    /// Jobs not final, oldest first: running ones (to resume) before queued ones.
    pub fn unfinished(&self) -> Result<Vec<(String, JobState)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, state FROM jobs WHERE state IN ('running', 'queued')
             ORDER BY CASE state WHEN 'running' THEN 0 ELSE 1 END, position",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, state) = row?;
            let state = JobState::parse(&state).with_context(|| format!("stored job state {state:?}"))?;
            out.push((id, state));
        }
        Ok(out)
    }

    /// Moves a job to `state`. A final state is never left: the update is refused (returns
    /// false) when the job is already final, so a late runner cannot overwrite a cancellation.
    pub fn transition(&self, id: &str, state: JobState, reason: Option<&str>) -> Result<bool> {
        let now = to_i64(unix_now(), "time")?;
        let conn = self.conn()?;
        let changed = conn.execute(
            "UPDATE jobs SET state = ?2, reason = COALESCE(?3, reason), updated = ?4
             WHERE id = ?1 AND state NOT IN ('succeeded', 'failed', 'cancelled')",
            params![id, state.as_str(), reason, now],
        )?;
        Ok(changed == 1)
    }

    /// Records progress: rounds released, the bound on rounds, the sites taking part.
    pub fn progress(&self, id: &str, round: u32, planned: u32, sites: &[String]) -> Result<()> {
        let now = to_i64(unix_now(), "time")?;
        let conn = self.conn()?;
        conn.execute(
            "UPDATE jobs SET round = ?2, rounds_planned = ?3, sites = ?4, updated = ?5 WHERE id = ?1",
            params![id, round, planned, serde_json::to_string(sites)?, now],
        )?;
        Ok(())
    }

    /// Records the result file of a succeeded job and marks it succeeded, in one transaction.
    pub fn succeed(&self, id: &str, result: &Path) -> Result<bool> {
        let now = to_i64(unix_now(), "time")?;
        let conn = self.conn()?;
        let changed = conn.execute(
            "UPDATE jobs SET state = 'succeeded', result = ?2, updated = ?3
             WHERE id = ?1 AND state = 'running'",
            params![id, result.display().to_string(), now],
        )?;
        Ok(changed == 1)
    }

    /// The result file of a succeeded job.
    pub fn result(&self, id: &str) -> Result<Option<String>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row("SELECT result FROM jobs WHERE id = ?1", [id], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .flatten())
    }

    /// Stores a released round (idempotent for the identical release; a different one for the
    /// same round is refused: a round is released once), and with it, in the same transaction,
    /// the hub's checkpoint after the release when one is given.
    pub fn put_release(&self, job: &str, r: &StoredRelease, checkpoint: Option<&str>) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT vals FROM releases WHERE job = ?1 AND round = ?2",
                params![job, r.round],
                |row| row.get(0),
            )
            .optional()?;
        let values = serde_json::to_string(&r.values)?;
        match existing {
            Some(v) if v == values => return Ok(()),
            Some(_) => bail!("round {} of job {job} was already released with other values", r.round),
            None => {}
        }
        if let Some(body) = checkpoint {
            tx.execute(
                "INSERT INTO checkpoints (job, body) VALUES (?1, ?2)
                 ON CONFLICT(job) DO UPDATE SET body = excluded.body",
                params![job, body],
            )?;
        }
        tx.execute(
            "INSERT INTO releases (job, round, purpose, vals, sigma2_num, sigma2_den, contributors)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                job,
                r.round,
                r.purpose,
                values,
                to_i64(r.sigma2.0, "sigma2")?,
                to_i64(r.sigma2.1, "sigma2")?,
                serde_json::to_string(&r.contributors)?
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every released round of a job, in round order.
    pub fn releases(&self, job: &str) -> Result<Vec<StoredRelease>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT round, purpose, vals, sigma2_num, sigma2_den, contributors FROM releases
             WHERE job = ?1 ORDER BY round",
        )?;
        let rows = stmt.query_map([job], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (round, purpose, values, num, den, contributors) = row?;
            out.push(StoredRelease {
                round: u32::try_from(round).context("stored round")?,
                purpose,
                values: serde_json::from_str(&values).context("stored release values")?,
                sigma2: (
                    u64::try_from(num).context("stored sigma2")?,
                    u64::try_from(den).context("stored sigma2")?,
                ),
                contributors: serde_json::from_str(&contributors).context("stored contributors")?,
            });
        }
        Ok(out)
    }

    /// Saves the hub's checkpoint of a job (replacing the previous one).
    pub fn put_checkpoint(&self, job: &str, body: &str) -> Result<()> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO checkpoints (job, body) VALUES (?1, ?2)
             ON CONFLICT(job) DO UPDATE SET body = excluded.body",
            params![job, body],
        )?;
        Ok(())
    }

    /// The last checkpoint of a job.
    pub fn checkpoint(&self, job: &str) -> Result<Option<String>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row("SELECT body FROM checkpoints WHERE job = ?1", [job], |r| r.get(0))
            .optional()?)
    }

    /// Queues a message for a site; returns its sequence number.
    pub fn enqueue(&self, site: &str, job: &str, body: &str) -> Result<u64> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO outbox (site, job, body) VALUES (?1, ?2, ?3)",
            params![site, job, body],
        )?;
        Ok(u64::try_from(conn.last_insert_rowid()).unwrap_or(0))
    }

    /// Messages for `site` after sequence number `after` (at most `limit`).
    pub fn inbox(&self, site: &str, after: u64, limit: usize) -> Result<Vec<(u64, String)>> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare("SELECT seq, body FROM outbox WHERE site = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?;
        let rows = stmt.query_map(params![site, to_i64(after, "sequence")?, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, body) = row?;
            out.push((u64::try_from(seq).unwrap_or(0), body));
        }
        Ok(out)
    }

    /// The newest sequence number in the outbox.
    pub fn last_seq(&self) -> Result<u64> {
        let conn = self.conn()?;
        let seq: Option<i64> = conn.query_row("SELECT MAX(seq) FROM outbox", [], |r| r.get(0))?;
        Ok(seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MethodName;

    fn request() -> JobRequest {
        JobRequest {
            dataset: "aml".into(),
            columns: vec![],
            method: MethodName::Aim,
            epsilon: 1.0,
            delta: 1e-9,
            rows: 10,
            min_sites: 2,
        }
    }

    fn secrets() -> JobSecrets {
        JobSecrets {
            seed: [7; 32],
            verify_key: [9; 32],
        }
    }

    #[test]
    fn jobs_survive_reopen_and_final_states_stick() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.sqlite");
        {
            let s = Store::open(&path).unwrap();
            s.insert_job("j1", "alice", &request(), &secrets()).unwrap();
            s.insert_job("j2", "alice", &request(), &secrets()).unwrap();
            assert!(s.transition("j1", JobState::Running, None).unwrap());
            s.progress("j1", 3, 40, &["a".into(), "b".into()]).unwrap();
            assert!(s.transition("j2", JobState::Cancelled, Some("by alice")).unwrap());
            assert!(!s.transition("j2", JobState::Running, None).unwrap());
        }
        let s = Store::open(&path).unwrap();
        let j1 = s.status("j1").unwrap().unwrap();
        assert_eq!((j1.state, j1.round, j1.rounds_planned), (JobState::Running, 3, 40));
        assert_eq!(j1.sites, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(s.status("j2").unwrap().unwrap().reason.as_deref(), Some("by alice"));
        assert_eq!(s.unfinished().unwrap(), vec![("j1".to_string(), JobState::Running)]);
        assert_eq!(s.secrets("j1").unwrap().verify_key, [9; 32]);
        assert!(s.status("nope").unwrap().is_none());
    }

    #[test]
    fn a_round_is_released_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("hub.sqlite")).unwrap();
        s.insert_job("j", "alice", &request(), &secrets()).unwrap();
        let r = StoredRelease {
            round: 1,
            purpose: "\"measurement\"".into(),
            values: vec![3, -1, 4],
            sigma2: (5, 2),
            contributors: vec!["a".into(), "b".into()],
        };
        s.put_release("j", &r, Some("{}")).unwrap();
        s.put_release("j", &r, None).unwrap();
        assert_eq!(s.checkpoint("j").unwrap().as_deref(), Some("{}"));
        let other = StoredRelease {
            values: vec![0, 0, 0],
            ..r.clone()
        };
        assert!(s.put_release("j", &other, None).is_err());
        assert_eq!(s.releases("j").unwrap(), vec![r]);
    }

    #[test]
    fn outbox_is_ordered_per_site() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("hub.sqlite")).unwrap();
        let a1 = s.enqueue("a", "j", "m1").unwrap();
        s.enqueue("b", "j", "x").unwrap();
        let a2 = s.enqueue("a", "j", "m2").unwrap();
        assert_eq!(s.inbox("a", 0, 10).unwrap(), vec![(a1, "m1".into()), (a2, "m2".into())]);
        assert_eq!(s.inbox("a", a1, 10).unwrap(), vec![(a2, "m2".into())]);
        assert_eq!(s.last_seq().unwrap(), a2);
    }

    #[test]
    fn refuses_another_format_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.sqlite");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'version'", [])
            .unwrap();
        drop(conn);
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("format version 99"), "{err}");
    }
}
