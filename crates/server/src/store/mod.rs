//! The hub's durable state: jobs and their status, the messages waiting for each site, every
//! released round, and the hub's checkpoint of the running job. It lives in SQLite by default
//! (module `sqlite`) or in PostgreSQL when the hub's `database` setting is a `postgresql://` URL
//! (module `postgres`, behind the crate's default `postgres` feature). Every write is one
//! transaction, so a hub killed at any point restarts from a consistent state.
//!
//! What a restart relies on: the job's seed and verification key (so the synthesizer re-runs
//! the same path and the helper sees the same key), and the released rounds (served again to
//! the synthesizer without asking anyone anything). The round that was open when the hub died
//! is re-opened with the same number and the same request; see `hub::runner`.
//!
//! [`Store`] is the one type the hub uses; its methods are synchronous (called from async
//! handlers and from the hub's worker thread alike). It encodes and decodes (JSON, integer
//! ranges, job states) and hands plain rows to a `Backend`, which only runs SQL.
//!
//! Invariant: a back end runs one request at a time, in the order they arrive (SQLite behind a
//! mutex, PostgreSQL over a single connection). The outbox relies on it: sequence numbers
//! become visible in increasing order, so a site that read up to `n` never misses a message
//! numbered below `n`.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

use crate::api::{JobRequest, JobState, JobStatus};
use crate::log::unix_now;

#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PostgresUrl;

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

/// The format version of the database; a hub refuses a database of another version.
pub const STORE_VERSION: &str = "1";

/// Where the hub keeps its state: the `database` setting of `hub.toml`. A value that starts
/// with `postgres://` or `postgresql://` names a PostgreSQL database; anything else is the path
/// of a SQLite file (relative paths are taken from the configuration file's directory).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Database {
    /// A SQLite file, created if absent.
    Sqlite(PathBuf),
    /// A PostgreSQL database (it must exist; the tables are created if absent).
    #[cfg(feature = "postgres")]
    Postgres(PostgresUrl),
}

impl Database {
    /// Reads a `database` setting: a PostgreSQL URL or a SQLite path.
    pub fn parse(value: &str) -> Result<Database> {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            return Ok(Database::Postgres(PostgresUrl::parse(value)?));
            #[cfg(not(feature = "postgres"))]
            bail!(
                "`database` is a PostgreSQL URL, but this build has no PostgreSQL support \
                 (build the `server` crate with its `postgres` feature)"
            );
        }
        if value.is_empty() {
            bail!("`database` is empty: give a SQLite file path or a postgresql:// URL");
        }
        Ok(Database::Sqlite(PathBuf::from(value)))
    }

    /// Takes a relative SQLite path relative to `base` (the configuration file's directory); a
    /// URL is left as it is.
    pub fn rebase(&mut self, base: &Path) {
        match self {
            Database::Sqlite(path) => {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
            #[cfg(feature = "postgres")]
            Database::Postgres(_) => {}
        }
    }

    /// Whether the location does not depend on the working directory: an absolute SQLite path,
    /// or a URL (never rebased).
    pub fn is_absolute(&self) -> bool {
        match self {
            Database::Sqlite(path) => path.is_absolute(),
            #[cfg(feature = "postgres")]
            Database::Postgres(_) => true,
        }
    }
}

impl TryFrom<String> for Database {
    type Error = anyhow::Error;

    fn try_from(value: String) -> Result<Database> {
        Database::parse(&value)
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Database {
        Database::Sqlite(path)
    }
}

/// The path, or the URL with its password replaced by `***`.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            #[cfg(feature = "postgres")]
            Database::Postgres(url) => write!(f, "{url}"),
        }
    }
}

/// As [`Display`](fmt::Display): never shows a password.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            #[cfg(feature = "postgres")]
            Database::Postgres(url) => f.debug_tuple("Postgres").field(&url.to_string()).finish(),
        }
    }
}

/// A job row as stored, before decoding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobRow {
    /// The job's id.
    pub id: String,
    /// Who submitted it.
    pub requester: String,
    /// The request, JSON.
    pub request: String,
    /// The state's name ([`JobState::as_str`]).
    pub state: String,
    /// Rounds released.
    pub round: i64,
    /// The bound on rounds.
    pub rounds_planned: i64,
    /// Why the job ended, when it did.
    pub reason: Option<String>,
    /// The sites taking part, a JSON array.
    pub sites: String,
    /// Unix seconds at creation.
    pub created: i64,
    /// Unix seconds at the last change.
    pub updated: i64,
}

/// A released round as stored, before decoding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReleaseRow {
    /// The round number.
    pub round: i64,
    /// The wire purpose, JSON.
    pub purpose: String,
    /// The noisy values, a JSON array.
    pub values: String,
    /// σ² per aggregator: numerator.
    pub sigma2_num: i64,
    /// σ² per aggregator: denominator.
    pub sigma2_den: i64,
    /// The sites counted, a JSON array.
    pub contributors: String,
}

/// What a storage back end does: plain SQL over plain rows, each method one transaction (see
/// the module's invariant on ordering). [`Store`] does the encoding and checks around it.
pub(crate) trait Backend: Send + Sync {
    /// Inserts a queued job after the last one.
    fn insert_job(&self, id: &str, requester: &str, request: &str, secrets: &JobSecrets, now: i64) -> Result<()>;
    /// A job's row.
    fn job(&self, id: &str) -> Result<Option<JobRow>>;
    /// A job's seed and verification key, as stored.
    fn secrets(&self, id: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>>;
    /// Ids and states of the running jobs, then the queued ones, each in submission order.
    fn unfinished(&self) -> Result<Vec<(String, String)>>;
    /// Sets the state (and the reason when given) unless the job is in a final state; whether
    /// a row changed.
    fn transition(&self, id: &str, state: &str, reason: Option<&str>, now: i64) -> Result<bool>;
    /// Sets the round counters and the sites.
    fn progress(&self, id: &str, round: i64, planned: i64, sites: &str, now: i64) -> Result<()>;
    /// Marks a running job succeeded with its result file; whether it was running.
    fn succeed(&self, id: &str, result: &str, now: i64) -> Result<bool>;
    /// The result file of a job (`None` for no such job or no result).
    fn result(&self, id: &str) -> Result<Option<String>>;
    /// Stores a release unless the identical one is stored (a different one for the same round
    /// is refused with [`release_conflict`]), with the checkpoint, in one transaction.
    fn put_release(&self, job: &str, release: &ReleaseRow, checkpoint: Option<&str>) -> Result<()>;
    /// A job's releases in round order.
    fn releases(&self, job: &str) -> Result<Vec<ReleaseRow>>;
    /// Replaces a job's checkpoint.
    fn put_checkpoint(&self, job: &str, body: &str) -> Result<()>;
    /// A job's checkpoint.
    fn checkpoint(&self, job: &str) -> Result<Option<String>>;
    /// Appends to the outbox; the new sequence number.
    fn enqueue(&self, site: &str, job: &str, body: &str) -> Result<i64>;
    /// A site's messages after `after`, at most `limit`, in sequence order.
    fn inbox(&self, site: &str, after: i64, limit: i64) -> Result<Vec<(i64, String)>>;
    /// The largest sequence number in the outbox.
    fn last_seq(&self) -> Result<Option<i64>>;
    /// The database's instance id, set to `fresh` the first time.
    fn instance(&self, fresh: &str) -> Result<String>;
}

/// The error of a second, different release of a round.
pub(crate) fn release_conflict(job: &str, round: i64) -> anyhow::Error {
    anyhow!("round {round} of job {job} was already released with other values")
}

/// The refusal of a database written by another format version.
pub(crate) fn version_mismatch(database: &dyn fmt::Display, found: &str) -> anyhow::Error {
    anyhow!("database {database} has format version {found}; this hub reads version {STORE_VERSION}")
}

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).with_context(|| format!("{what} {v} does not fit the database"))
}

fn now() -> Result<i64> {
    to_i64(unix_now(), "time")
}

/// The hub's database.
pub struct Store {
    backend: Box<dyn Backend>,
}

impl Store {
    /// Opens (creating the tables if absent) the SQLite file or PostgreSQL database, and
    /// refuses one of another format version.
    pub fn open(database: &Database) -> Result<Store> {
        let backend: Box<dyn Backend> = match database {
            Database::Sqlite(path) => Box::new(sqlite::SqliteStore::open(path)?),
            #[cfg(feature = "postgres")]
            Database::Postgres(url) => Box::new(postgres::PostgresStore::open(url)?),
        };
        Ok(Store { backend })
    }

    /// Records a new queued job.
    pub fn insert_job(&self, id: &str, requester: &str, request: &JobRequest, secrets: &JobSecrets) -> Result<()> {
        let request = serde_json::to_string(request).context("cannot encode the job request")?;
        self.backend.insert_job(id, requester, &request, secrets, now()?)
    }

    /// A job's status.
    pub fn status(&self, id: &str) -> Result<Option<JobStatus>> {
        let Some(row) = self.backend.job(id)? else {
            return Ok(None);
        };
        Ok(Some(JobStatus {
            request: serde_json::from_str(&row.request)
                .with_context(|| format!("job {id}: the stored request does not decode"))?,
            state: JobState::parse(&row.state).with_context(|| format!("job {id}: stored state {:?}", row.state))?,
            round: u32::try_from(row.round).unwrap_or(u32::MAX),
            rounds_planned: u32::try_from(row.rounds_planned).unwrap_or(u32::MAX),
            sites: serde_json::from_str(&row.sites)
                .with_context(|| format!("job {id}: the stored sites do not decode"))?,
            created: u64::try_from(row.created).unwrap_or(0),
            updated: u64::try_from(row.updated).unwrap_or(0),
            id: row.id,
            requester: row.requester,
            reason: row.reason,
            audit_head: None,
        }))
    }

    /// The job's secrets.
    pub fn secrets(&self, id: &str) -> Result<JobSecrets> {
        let (seed, key) = self
            .backend
            .secrets(id)?
            .ok_or_else(|| anyhow!("job {id} is not in the database"))?;
        Ok(JobSecrets {
            seed: seed
                .try_into()
                .map_err(|_| anyhow!("job {id}: stored seed is not 32 bytes"))?,
            verify_key: key
                .try_into()
                .map_err(|_| anyhow!("job {id}: stored verification key is not 32 bytes"))?,
        })
    }

    /// Jobs not final, oldest first: running ones (to resume) before queued ones.
    pub fn unfinished(&self) -> Result<Vec<(String, JobState)>> {
        self.backend
            .unfinished()?
            .into_iter()
            .map(|(id, state)| {
                let state = JobState::parse(&state).with_context(|| format!("job {id}: stored state {state:?}"))?;
                Ok((id, state))
            })
            .collect()
    }

    /// Moves a job to `state`. A final state is never left: the update is refused (returns
    /// false) when the job is already final, so a late runner cannot overwrite a cancellation.
    pub fn transition(&self, id: &str, state: JobState, reason: Option<&str>) -> Result<bool> {
        self.backend.transition(id, state.as_str(), reason, now()?)
    }

    /// Records progress: rounds released, the bound on rounds, the sites taking part.
    pub fn progress(&self, id: &str, round: u32, planned: u32, sites: &[String]) -> Result<()> {
        let sites = serde_json::to_string(sites).context("cannot encode the sites")?;
        self.backend
            .progress(id, i64::from(round), i64::from(planned), &sites, now()?)
    }

    /// Records the result file of a succeeded job and marks it succeeded, in one transaction;
    /// refused (false) unless the job is running.
    pub fn succeed(&self, id: &str, result: &Path) -> Result<bool> {
        self.backend.succeed(id, &result.display().to_string(), now()?)
    }

    /// The result file of a succeeded job.
    pub fn result(&self, id: &str) -> Result<Option<String>> {
        self.backend.result(id)
    }

    /// Stores a released round (idempotent for the identical release; a different one for the
    /// same round is refused: a round is released once), and with it, in the same transaction,
    /// the hub's checkpoint after the release when one is given.
    pub fn put_release(&self, job: &str, r: &StoredRelease, checkpoint: Option<&str>) -> Result<()> {
        let row = ReleaseRow {
            round: i64::from(r.round),
            purpose: r.purpose.clone(),
            values: serde_json::to_string(&r.values).context("cannot encode the release values")?,
            sigma2_num: to_i64(r.sigma2.0, "sigma2")?,
            sigma2_den: to_i64(r.sigma2.1, "sigma2")?,
            contributors: serde_json::to_string(&r.contributors).context("cannot encode the contributors")?,
        };
        self.backend.put_release(job, &row, checkpoint)
    }

    /// Every released round of a job, in round order.
    pub fn releases(&self, job: &str) -> Result<Vec<StoredRelease>> {
        self.backend
            .releases(job)?
            .into_iter()
            .map(|row| {
                let context = || format!("job {job}: stored round {}", row.round);
                Ok(StoredRelease {
                    round: u32::try_from(row.round).with_context(context)?,
                    purpose: row.purpose.clone(),
                    values: serde_json::from_str(&row.values).with_context(context)?,
                    sigma2: (
                        u64::try_from(row.sigma2_num).with_context(context)?,
                        u64::try_from(row.sigma2_den).with_context(context)?,
                    ),
                    contributors: serde_json::from_str(&row.contributors).with_context(context)?,
                })
            })
            .collect()
    }

    /// Saves the hub's checkpoint of a job (replacing the previous one).
    pub fn put_checkpoint(&self, job: &str, body: &str) -> Result<()> {
        self.backend.put_checkpoint(job, body)
    }

    /// The last checkpoint of a job.
    pub fn checkpoint(&self, job: &str) -> Result<Option<String>> {
        self.backend.checkpoint(job)
    }

    /// Queues a message for a site; returns its sequence number.
    pub fn enqueue(&self, site: &str, job: &str, body: &str) -> Result<u64> {
        let seq = self.backend.enqueue(site, job, body)?;
        u64::try_from(seq).with_context(|| format!("the outbox gave the negative sequence number {seq}"))
    }

    /// Messages for `site` after sequence number `after` (at most `limit`).
    pub fn inbox(&self, site: &str, after: u64, limit: usize) -> Result<Vec<(u64, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.backend
            .inbox(site, to_i64(after, "sequence")?, limit)?
            .into_iter()
            .map(|(seq, body)| {
                let seq =
                    u64::try_from(seq).with_context(|| format!("negative sequence number {seq} in the outbox"))?;
                Ok((seq, body))
            })
            .collect()
    }

    /// A random id of this database, made once: message sequence numbers are only meaningful
    /// within one instance, so a node seeing another id starts its cursor again from 0.
    pub fn instance(&self) -> Result<String> {
        let fresh: [u8; 16] = rand::RngExt::random(&mut rand::rng());
        self.backend.instance(&federation::msg::to_hex(&fresh))
    }

    /// The newest sequence number in the outbox.
    pub fn last_seq(&self) -> Result<u64> {
        Ok(self
            .backend
            .last_seq()?
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_is_a_path_unless_it_is_a_postgres_url() {
        assert_eq!(
            Database::parse("state/hub.sqlite").unwrap(),
            Database::Sqlite(PathBuf::from("state/hub.sqlite"))
        );
        assert!(!Database::parse("state/hub.sqlite").unwrap().is_absolute());
        assert!(Database::parse("").is_err());
        #[cfg(feature = "postgres")]
        for url in [
            "postgres://synthema@localhost/synthema",
            "postgresql://synthema@localhost/synthema",
        ] {
            let db = Database::parse(url).unwrap();
            assert!(matches!(db, Database::Postgres(_)), "{url}");
            assert!(db.is_absolute());
        }
        #[cfg(not(feature = "postgres"))]
        {
            let err = Database::parse("postgresql://synthema@localhost/synthema").unwrap_err();
            assert!(err.to_string().contains("no PostgreSQL support"), "{err}");
        }
    }
}
