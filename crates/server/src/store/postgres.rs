//! The PostgreSQL back end, for a hub whose `database` is a `postgresql://` URL.
//!
//! [`Store`](super::Store)'s methods are synchronous and are called from inside the hub's tokio
//! runtime (async handlers) as well as from its worker thread, so this back end neither uses the
//! blocking `postgres` crate (it panics inside a runtime) nor blocks on the caller's runtime.
//! It is an actor: one std thread owns a current-thread tokio runtime and the single
//! `tokio_postgres` connection; each call sends a task over a std channel and waits for the
//! answer on another. Tasks run one at a time in arrival order (the module invariant of
//! `store`). A lost connection fails the request that meets it, with an error naming the
//! database (password redacted); the next request connects again (and checks the schema and
//! format version again).
//!
//! No TLS to the database: the hub reaches PostgreSQL on loopback or over a Unix socket. The
//! password comes from the URL, or else from the `PGPASSWORD` environment variable.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls, Row};

use super::{Backend, JobRow, JobSecrets, ReleaseRow, STORE_VERSION, release_conflict, version_mismatch};

/// The longest one request may take; past it the request fails and the connection is dropped
/// (the server rolls back whatever it had begun), so a hung server cannot hang the hub.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long connecting may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    position BIGINT NOT NULL UNIQUE,
    requester TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    round BIGINT NOT NULL DEFAULT 0,
    rounds_planned BIGINT NOT NULL DEFAULT 0,
    reason TEXT,
    sites TEXT NOT NULL DEFAULT '[]',
    seed BYTEA NOT NULL,
    verify_key BYTEA NOT NULL,
    result TEXT,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    job TEXT NOT NULL REFERENCES jobs(id),
    round BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    vals TEXT NOT NULL,
    sigma2_num BIGINT NOT NULL,
    sigma2_den BIGINT NOT NULL,
    contributors TEXT NOT NULL,
    PRIMARY KEY (job, round)
);
CREATE TABLE IF NOT EXISTS checkpoints (job TEXT PRIMARY KEY REFERENCES jobs(id), body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq BIGSERIAL PRIMARY KEY,
    site TEXT NOT NULL,
    job TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_site ON outbox(site, seq);
";

/// A PostgreSQL connection URL (`postgresql://user[:password]@host[:port]/dbname[?param=value]`,
/// libpq's syntax; a Unix socket directory as a percent-encoded host or `?host=/run/postgresql`).
/// It is shown with its password replaced by `***`, in `Display` and `Debug` alike.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    url: String,
    shown: String,
}

impl PostgresUrl {
    /// Checks the URL's syntax (it does not connect).
    pub fn parse(url: &str) -> Result<PostgresUrl> {
        // The parser's messages name the faulty option, never its value; the URL itself is not
        // echoed, since it may hold a password.
        let config: Config = url
            .parse()
            .map_err(|e| anyhow!("the PostgreSQL URL in `database` does not parse: {e}"))?;
        Ok(PostgresUrl {
            url: url.to_owned(),
            shown: describe(&config),
        })
    }

    /// The connection settings: the URL's, with a connect timeout and the `PGPASSWORD`
    /// password when the URL gives none.
    fn config(&self) -> Result<Config> {
        let mut config: Config = self
            .url
            .parse()
            .map_err(|e| anyhow!("the PostgreSQL URL {} does not parse: {e}", self.shown))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_password().is_none()
            && let Some(password) = std::env::var_os("PGPASSWORD")
        {
            config.password(password.as_encoded_bytes());
        }
        Ok(config)
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PostgresUrl").field(&self.shown).finish()
    }
}

/// The URL rebuilt from its parsed parts, the password as `***` and query parameters left out:
/// built from what was parsed, so no spelling of a password can slip through.
fn describe(config: &Config) -> String {
    let mut shown = String::from("postgresql://");
    if let Some(user) = config.get_user() {
        shown.push_str(user);
    }
    if config.get_password().is_some() {
        shown.push_str(":***");
    }
    if config.get_user().is_some() || config.get_password().is_some() {
        shown.push('@');
    }
    let hosts: Vec<String> = if config.get_hosts().is_empty() {
        config.get_hostaddrs().iter().map(|a| a.to_string()).collect()
    } else {
        config
            .get_hosts()
            .iter()
            .map(|host| match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
                Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                Host::Unix(dir) => dir.display().to_string().replace('/', "%2F"),
            })
            .collect()
    };
    let ports = config.get_ports();
    for (i, host) in hosts.iter().enumerate() {
        if i > 0 {
            shown.push(',');
        }
        shown.push_str(host);
        if let Some(port) = ports.get(i).or(ports.first()) {
            shown.push_str(&format!(":{port}"));
        }
    }
    if let Some(dbname) = config.get_dbname() {
        shown.push('/');
        shown.push_str(dbname);
    }
    shown
}

/// A boxed future that stays on the actor's thread.
type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Whether the actor keeps its connection after a task.
enum Health {
    Keep,
    Drop,
}

/// A request: given the connection (or why there is none), it does its work, sends its answer
/// to the waiting caller, and says whether the connection may be kept.
type Task = Box<dyn for<'c> FnOnce(Result<&'c mut Client, anyhow::Error>) -> LocalFuture<'c, Health> + Send>;

/// Fixes a closure's signature to the higher-ranked one of [`Task`].
fn task<F>(f: F) -> Task
where
    F: for<'c> FnOnce(Result<&'c mut Client, anyhow::Error>) -> LocalFuture<'c, Health> + Send + 'static,
{
    Box::new(f)
}

/// The hub's state in PostgreSQL, through the connection thread.
pub(crate) struct PostgresStore {
    /// `None` only while dropping (closing the channel ends the thread).
    tasks: Option<mpsc::Sender<Task>>,
    thread: Option<JoinHandle<()>>,
    name: String,
}

impl PostgresStore {
    /// Connects, creates the tables if absent and checks the format version.
    pub(crate) fn open(url: &PostgresUrl) -> Result<PostgresStore> {
        let config = url.config()?;
        let name = url.to_string();
        let (tasks, inbox) = mpsc::channel::<Task>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<()>>(1);
        let actor_name = name.clone();
        let thread = std::thread::Builder::new()
            .name("hub-postgres".into())
            .spawn(move || actor(config, actor_name, inbox, ready_tx))
            .with_context(|| format!("cannot start the thread of the PostgreSQL database {name}"))?;
        let ready = ready_rx.recv();
        match ready {
            Ok(Ok(())) => Ok(PostgresStore {
                tasks: Some(tasks),
                thread: Some(thread),
                name,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(anyhow!(
                    "the thread of the PostgreSQL database {name} ended while connecting"
                ))
            }
        }
    }

    /// Runs `work` on the connection thread and waits for its answer. `what` names the work in
    /// errors ("cannot {what} in PostgreSQL database {url}: {cause}").
    fn call<T, F>(&self, what: String, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Client) -> LocalFuture<'c, Result<T>> + Send + 'static,
    {
        let (reply_tx, reply_rx) = mpsc::sync_channel::<Result<T>>(1);
        let request = task(move |client| {
            Box::pin(async move {
                let (answer, health) = match client {
                    Err(e) => (Err(e), Health::Drop),
                    Ok(client) => match tokio::time::timeout(REQUEST_TIMEOUT, work(client)).await {
                        Ok(answer) => (answer, Health::Keep),
                        Err(_) => (
                            Err(anyhow!(
                                "no answer within {} s; the connection is dropped",
                                REQUEST_TIMEOUT.as_secs()
                            )),
                            Health::Drop,
                        ),
                    },
                };
                // The caller waits for this answer; it is gone only if its thread panicked.
                let _ = reply_tx.send(answer);
                health
            })
        });
        let ended = || {
            anyhow!(
                "cannot {what} in PostgreSQL database {}: its connection thread has ended",
                self.name
            )
        };
        self.tasks
            .as_ref()
            .ok_or_else(ended)?
            .send(request)
            .map_err(|_| ended())?;
        let answer = reply_rx.recv().map_err(|_| ended())?;
        answer.map_err(|e| anyhow!("cannot {what} in PostgreSQL database {}: {e:#}", self.name))
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; it then closes the connection.
        drop(self.tasks.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The connection thread: connects (reporting the outcome on `ready`), then runs tasks until
/// the store is dropped, reconnecting before a task when the connection was lost.
fn actor(config: Config, name: String, inbox: mpsc::Receiver<Task>, ready: mpsc::SyncSender<Result<()>>) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(anyhow!(
                "cannot start the runtime of the PostgreSQL database {name}: {e}"
            )));
            return;
        }
    };
    let mut client = match runtime.block_on(connect(&config, &name)) {
        Ok(client) => Some(client),
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if ready.send(Ok(())).is_err() {
        return;
    }
    while let Ok(request) = inbox.recv() {
        runtime.block_on(async {
            let connected = match client.take().filter(|c| !c.is_closed()) {
                Some(c) => Ok(c),
                None => connect(&config, &name).await,
            };
            match connected {
                Ok(mut c) => {
                    if let Health::Keep = request(Ok(&mut c)).await {
                        client = Some(c);
                    }
                }
                Err(e) => {
                    request(Err(e)).await;
                }
            }
        });
    }
}

/// Connects (the connection's I/O task runs on the actor's runtime), creates the tables if
/// absent and checks the format version, in one transaction.
async fn connect(config: &Config, name: &str) -> Result<Client> {
    let (mut client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| anyhow!("cannot connect to PostgreSQL database {name}: {e}"))?;
    let log_name = name.to_owned();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            crate::log::line(
                "hub",
                format!("the connection to PostgreSQL database {log_name} ended: {e}"),
            );
        }
    });
    let prepared: Result<Option<String>> = async {
        let tx = client.transaction().await?;
        tx.batch_execute(SCHEMA).await?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('version', $1) ON CONFLICT (key) DO NOTHING",
            &[&STORE_VERSION],
        )
        .await?;
        let version: Option<String> = tx
            .query_opt("SELECT value FROM meta WHERE key = 'version'", &[])
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        tx.commit().await?;
        Ok(version)
    }
    .await;
    match prepared.map_err(|e| anyhow!("cannot create the schema of PostgreSQL database {name}: {e:#}"))? {
        Some(v) if v == STORE_VERSION => Ok(client),
        Some(v) => Err(version_mismatch(&name, &v)),
        None => Err(anyhow!(
            "PostgreSQL database {name} lost its format version while it was created"
        )),
    }
}

fn job_row(r: &Row) -> Result<JobRow> {
    Ok(JobRow {
        id: r.try_get(0)?,
        requester: r.try_get(1)?,
        request: r.try_get(2)?,
        state: r.try_get(3)?,
        round: r.try_get(4)?,
        rounds_planned: r.try_get(5)?,
        reason: r.try_get(6)?,
        sites: r.try_get(7)?,
        created: r.try_get(8)?,
        updated: r.try_get(9)?,
    })
}

fn release_row(r: &Row) -> Result<ReleaseRow> {
    Ok(ReleaseRow {
        round: r.try_get(0)?,
        purpose: r.try_get(1)?,
        values: r.try_get(2)?,
        sigma2_num: r.try_get(3)?,
        sigma2_den: r.try_get(4)?,
        contributors: r.try_get(5)?,
    })
}

const UPSERT_CHECKPOINT: &str = "INSERT INTO checkpoints (job, body) VALUES ($1, $2)
     ON CONFLICT (job) DO UPDATE SET body = excluded.body";

impl Backend for PostgresStore {
    fn insert_job(&self, id: &str, requester: &str, request: &str, secrets: &JobSecrets, now: i64) -> Result<()> {
        let (id, requester, request) = (id.to_owned(), requester.to_owned(), request.to_owned());
        let (seed, key) = (secrets.seed.to_vec(), secrets.verify_key.to_vec());
        self.call(format!("record job {id}"), move |c| {
            Box::pin(async move {
                c.execute(
                    "INSERT INTO jobs (id, position, requester, request, state, seed, verify_key, created, updated)
                     VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM jobs), $2, $3, 'queued', $4, $5, $6, $6)",
                    &[&id, &requester, &request, &seed, &key, &now],
                )
                .await?;
                Ok(())
            })
        })
    }

    fn job(&self, id: &str) -> Result<Option<JobRow>> {
        let id = id.to_owned();
        self.call(format!("read job {id}"), move |c| {
            Box::pin(async move {
                c.query_opt(
                    "SELECT id, requester, request, state, round, rounds_planned, reason, sites, created, updated
                     FROM jobs WHERE id = $1",
                    &[&id],
                )
                .await?
                .map(|row| job_row(&row))
                .transpose()
            })
        })
    }

    fn secrets(&self, id: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let id = id.to_owned();
        self.call(format!("read the secrets of job {id}"), move |c| {
            Box::pin(async move {
                let row = c
                    .query_opt("SELECT seed, verify_key FROM jobs WHERE id = $1", &[&id])
                    .await?;
                Ok(match row {
                    Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
                    None => None,
                })
            })
        })
    }

    fn unfinished(&self) -> Result<Vec<(String, String)>> {
        self.call("list the unfinished jobs".into(), move |c| {
            Box::pin(async move {
                let rows = c
                    .query(
                        "SELECT id, state FROM jobs WHERE state IN ('running', 'queued')
                         ORDER BY CASE state WHEN 'running' THEN 0 ELSE 1 END, position",
                        &[],
                    )
                    .await?;
                rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
            })
        })
    }

    fn transition(&self, id: &str, state: &str, reason: Option<&str>, now: i64) -> Result<bool> {
        let (id, state, reason) = (id.to_owned(), state.to_owned(), reason.map(str::to_owned));
        self.call(format!("move job {id} to {state}"), move |c| {
            Box::pin(async move {
                let changed = c
                    .execute(
                        "UPDATE jobs SET state = $2, reason = COALESCE($3, reason), updated = $4
                         WHERE id = $1 AND state NOT IN ('succeeded', 'failed', 'cancelled')",
                        &[&id, &state, &reason, &now],
                    )
                    .await?;
                Ok(changed == 1)
            })
        })
    }

    fn progress(&self, id: &str, round: i64, planned: i64, sites: &str, now: i64) -> Result<()> {
        let (id, sites) = (id.to_owned(), sites.to_owned());
        self.call(format!("record the progress of job {id}"), move |c| {
            Box::pin(async move {
                c.execute(
                    "UPDATE jobs SET round = $2, rounds_planned = $3, sites = $4, updated = $5 WHERE id = $1",
                    &[&id, &round, &planned, &sites, &now],
                )
                .await?;
                Ok(())
            })
        })
    }

    fn succeed(&self, id: &str, result: &str, now: i64) -> Result<bool> {
        let (id, result) = (id.to_owned(), result.to_owned());
        self.call(format!("record the success of job {id}"), move |c| {
            Box::pin(async move {
                let changed = c
                    .execute(
                        "UPDATE jobs SET state = 'succeeded', result = $2, updated = $3
                         WHERE id = $1 AND state = 'running'",
                        &[&id, &result, &now],
                    )
                    .await?;
                Ok(changed == 1)
            })
        })
    }

    fn result(&self, id: &str) -> Result<Option<String>> {
        let id = id.to_owned();
        self.call(format!("read the result of job {id}"), move |c| {
            Box::pin(async move {
                let row = c.query_opt("SELECT result FROM jobs WHERE id = $1", &[&id]).await?;
                Ok(match row {
                    Some(row) => row.try_get::<_, Option<String>>(0)?,
                    None => None,
                })
            })
        })
    }

    fn put_release(&self, job: &str, release: &ReleaseRow, checkpoint: Option<&str>) -> Result<()> {
        let (job, r, checkpoint) = (job.to_owned(), release.clone(), checkpoint.map(str::to_owned));
        self.call(format!("store round {} of job {job}", r.round), move |c| {
            Box::pin(async move {
                let tx = c.transaction().await?;
                let existing: Option<String> = tx
                    .query_opt(
                        "SELECT vals FROM releases WHERE job = $1 AND round = $2",
                        &[&job, &r.round],
                    )
                    .await?
                    .map(|row| row.try_get(0))
                    .transpose()?;
                match existing {
                    // Dropping the transaction rolls it back.
                    Some(v) if v == r.values => return Ok(()),
                    Some(_) => return Err(release_conflict(&job, r.round)),
                    None => {}
                }
                if let Some(body) = &checkpoint {
                    tx.execute(UPSERT_CHECKPOINT, &[&job, body]).await?;
                }
                tx.execute(
                    "INSERT INTO releases (job, round, purpose, vals, sigma2_num, sigma2_den, contributors)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &job,
                        &r.round,
                        &r.purpose,
                        &r.values,
                        &r.sigma2_num,
                        &r.sigma2_den,
                        &r.contributors,
                    ],
                )
                .await?;
                tx.commit().await?;
                Ok(())
            })
        })
    }

    fn releases(&self, job: &str) -> Result<Vec<ReleaseRow>> {
        let job = job.to_owned();
        self.call(format!("read the releases of job {job}"), move |c| {
            Box::pin(async move {
                let rows = c
                    .query(
                        "SELECT round, purpose, vals, sigma2_num, sigma2_den, contributors FROM releases
                         WHERE job = $1 ORDER BY round",
                        &[&job],
                    )
                    .await?;
                rows.iter().map(release_row).collect()
            })
        })
    }

    fn put_checkpoint(&self, job: &str, body: &str) -> Result<()> {
        let (job, body) = (job.to_owned(), body.to_owned());
        self.call(format!("store the checkpoint of job {job}"), move |c| {
            Box::pin(async move {
                c.execute(UPSERT_CHECKPOINT, &[&job, &body]).await?;
                Ok(())
            })
        })
    }

    fn checkpoint(&self, job: &str) -> Result<Option<String>> {
        let job = job.to_owned();
        self.call(format!("read the checkpoint of job {job}"), move |c| {
            Box::pin(async move {
                c.query_opt("SELECT body FROM checkpoints WHERE job = $1", &[&job])
                    .await?
                    .map(|row| Ok(row.try_get(0)?))
                    .transpose()
            })
        })
    }

    fn enqueue(&self, site: &str, job: &str, body: &str) -> Result<i64> {
        let (site, job, body) = (site.to_owned(), job.to_owned(), body.to_owned());
        self.call(format!("queue a message of job {job} for site {site}"), move |c| {
            Box::pin(async move {
                let row = c
                    .query_one(
                        "INSERT INTO outbox (site, job, body) VALUES ($1, $2, $3) RETURNING seq",
                        &[&site, &job, &body],
                    )
                    .await?;
                Ok(row.try_get(0)?)
            })
        })
    }

    fn inbox(&self, site: &str, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        let site = site.to_owned();
        self.call(format!("read the messages for site {site}"), move |c| {
            Box::pin(async move {
                let rows = c
                    .query(
                        "SELECT seq, body FROM outbox WHERE site = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                        &[&site, &after, &limit],
                    )
                    .await?;
                rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
            })
        })
    }

    fn last_seq(&self) -> Result<Option<i64>> {
        self.call("read the last sequence number of the outbox".into(), move |c| {
            Box::pin(async move {
                let row = c.query_one("SELECT MAX(seq) FROM outbox", &[]).await?;
                Ok(row.try_get(0)?)
            })
        })
    }

    fn instance(&self, fresh: &str) -> Result<String> {
        let fresh = fresh.to_string();
        self.call("read the hub's instance id".into(), move |c| {
            Box::pin(async move {
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('instance', $1) ON CONFLICT (key) DO NOTHING",
                    &[&fresh],
                )
                .await?;
                let row = c
                    .query_one("SELECT value FROM meta WHERE key = 'instance'", &[])
                    .await?;
                Ok(row.try_get(0)?)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shown_url_never_holds_the_password() {
        for (url, shown) in [
            (
                "postgresql://synthema:s3cr%2Ft@db.example:5433/synthema",
                "postgresql://synthema:***@db.example:5433/synthema",
            ),
            (
                "postgres://synthema@localhost/synthema?password=s3cr%2Ft&application_name=hub",
                "postgresql://synthema:***@localhost:5432/synthema",
            ),
            (
                "postgresql://synthema@%2Frun%2Fpostgresql/synthema",
                "postgresql://synthema@%2Frun%2Fpostgresql:5432/synthema",
            ),
            ("postgresql://[::1]:5432/hub", "postgresql://[::1]:5432/hub"),
        ] {
            let parsed = PostgresUrl::parse(url).unwrap();
            assert_eq!(parsed.to_string(), shown);
            assert!(!format!("{parsed:?}").contains("s3cr"), "{parsed:?}");
        }
    }

    #[test]
    fn a_malformed_url_is_refused_without_being_echoed() {
        let err = PostgresUrl::parse("postgresql://synthema:s3cret@localhost:notaport/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not parse"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}
