//! The SQLite back end: one connection behind a mutex, WAL and `synchronous=FULL`, so every
//! committed write survives a crash of the hub or of the machine.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context, Result, anyhow};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Backend, JobRow, JobSecrets, ReleaseRow, STORE_VERSION, release_conflict, version_mismatch};

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

/// The hub's state in a SQLite file.
pub(crate) struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens or creates the database at `path`.
    pub(crate) fn open(path: &Path) -> Result<SqliteStore> {
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
            .optional()
            .with_context(|| format!("cannot read the format version of {}", path.display()))?;
        match version {
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('version', ?1)", [STORE_VERSION])
                    .with_context(|| format!("cannot record the format version in {}", path.display()))?;
            }
            Some(v) if v == STORE_VERSION => {}
            Some(v) => return Err(version_mismatch(&path.display(), &v)),
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| anyhow!("the connection to {} was poisoned by a panic", self.path.display()))
    }
}

impl Backend for SqliteStore {
    fn insert_job(&self, id: &str, requester: &str, request: &str, secrets: &JobSecrets, now: i64) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO jobs (id, position, requester, request, state, seed, verify_key, created, updated)
             VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM jobs), ?2, ?3, 'queued', ?4, ?5, ?6, ?6)",
            params![id, requester, request, &secrets.seed[..], &secrets.verify_key[..], now],
        )?;
        Ok(())
    }

    fn job(&self, id: &str) -> Result<Option<JobRow>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT id, requester, request, state, round, rounds_planned, reason, sites, created, updated
                 FROM jobs WHERE id = ?1",
                [id],
                |r| {
                    Ok(JobRow {
                        id: r.get(0)?,
                        requester: r.get(1)?,
                        request: r.get(2)?,
                        state: r.get(3)?,
                        round: r.get(4)?,
                        rounds_planned: r.get(5)?,
                        reason: r.get(6)?,
                        sites: r.get(7)?,
                        created: r.get(8)?,
                        updated: r.get(9)?,
                    })
                },
            )
            .optional()?)
    }

    fn secrets(&self, id: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .conn()?
            .query_row("SELECT seed, verify_key FROM jobs WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    fn unfinished(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, state FROM jobs WHERE state IN ('running', 'queued')
             ORDER BY CASE state WHEN 'running' THEN 0 ELSE 1 END, position",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn transition(&self, id: &str, state: &str, reason: Option<&str>, now: i64) -> Result<bool> {
        let changed = self.conn()?.execute(
            "UPDATE jobs SET state = ?2, reason = COALESCE(?3, reason), updated = ?4
             WHERE id = ?1 AND state NOT IN ('succeeded', 'failed', 'cancelled')",
            params![id, state, reason, now],
        )?;
        Ok(changed == 1)
    }

    fn progress(&self, id: &str, round: i64, planned: i64, sites: &str, now: i64) -> Result<()> {
        self.conn()?.execute(
            "UPDATE jobs SET round = ?2, rounds_planned = ?3, sites = ?4, updated = ?5 WHERE id = ?1",
            params![id, round, planned, sites, now],
        )?;
        Ok(())
    }

    fn succeed(&self, id: &str, result: &str, now: i64) -> Result<bool> {
        let changed = self.conn()?.execute(
            "UPDATE jobs SET state = 'succeeded', result = ?2, updated = ?3
             WHERE id = ?1 AND state = 'running'",
            params![id, result, now],
        )?;
        Ok(changed == 1)
    }

    fn result(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_row("SELECT result FROM jobs WHERE id = ?1", [id], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .flatten())
    }

    fn put_release(&self, job: &str, r: &ReleaseRow, checkpoint: Option<&str>) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT vals FROM releases WHERE job = ?1 AND round = ?2",
                params![job, r.round],
                |row| row.get(0),
            )
            .optional()?;
        match existing {
            Some(v) if v == r.values => return Ok(()),
            Some(_) => return Err(release_conflict(job, r.round)),
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
                r.values,
                r.sigma2_num,
                r.sigma2_den,
                r.contributors
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn releases(&self, job: &str) -> Result<Vec<ReleaseRow>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT round, purpose, vals, sigma2_num, sigma2_den, contributors FROM releases
             WHERE job = ?1 ORDER BY round",
        )?;
        let rows = stmt.query_map([job], |r| {
            Ok(ReleaseRow {
                round: r.get(0)?,
                purpose: r.get(1)?,
                values: r.get(2)?,
                sigma2_num: r.get(3)?,
                sigma2_den: r.get(4)?,
                contributors: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_checkpoint(&self, job: &str, body: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO checkpoints (job, body) VALUES (?1, ?2)
             ON CONFLICT(job) DO UPDATE SET body = excluded.body",
            params![job, body],
        )?;
        Ok(())
    }

    fn checkpoint(&self, job: &str) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_row("SELECT body FROM checkpoints WHERE job = ?1", [job], |r| r.get(0))
            .optional()?)
    }

    fn enqueue(&self, site: &str, job: &str, body: &str) -> Result<i64> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO outbox (site, job, body) VALUES (?1, ?2, ?3)",
            params![site, job, body],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn inbox(&self, site: &str, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare("SELECT seq, body FROM outbox WHERE site = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?;
        let rows = stmt.query_map(params![site, after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn last_seq(&self) -> Result<Option<i64>> {
        Ok(self
            .conn()?
            .query_row("SELECT MAX(seq) FROM outbox", [], |r| r.get(0))?)
    }

    fn instance(&self, fresh: &str) -> Result<String> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('instance', ?1) ON CONFLICT (key) DO NOTHING",
            [fresh],
        )?;
        Ok(conn.query_row("SELECT value FROM meta WHERE key = 'instance'", [], |r| r.get(0))?)
    }
}
