//! The hub's store, one set of tests run against both back ends: SQLite always, PostgreSQL when
//! `SYNTHEMA_TEST_POSTGRES_URL` names a database the tests may create schemas in (for example
//! `postgresql://synthema:secret@127.0.0.1:5432/synthema`; `.ci/run` starts one). Each
//! PostgreSQL test works in a fresh schema, dropped at its end, so the tests run in parallel.
//! Without the variable the PostgreSQL variants say so on stderr and return.

#![cfg(feature = "postgres")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use server::api::{JobRequest, JobState};
use server::config::{HubConfig, MethodName};
use server::store::{Database, JobSecrets, Store, StoredRelease};

const URL_VARIABLE: &str = "SYNTHEMA_TEST_POSTGRES_URL";

/// One back end's fresh, empty database for one test.
enum Fixture {
    Sqlite { _dir: tempfile::TempDir, path: PathBuf },
    Postgres(Box<PgSchema>),
}

/// A schema of its own in the test server, reached through a URL whose `search_path` is that
/// schema (and whose `application_name` is its name, to find the store's session).
struct PgSchema {
    runtime: tokio::runtime::Runtime,
    admin: tokio_postgres::Client,
    name: String,
    url: String,
}

impl Fixture {
    fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("hub.sqlite");
        Fixture::Sqlite { _dir: dir, path }
    }

    /// `None` (said on stderr) when no test server is configured.
    fn postgres(test: &str) -> Option<Fixture> {
        let Ok(base) = std::env::var(URL_VARIABLE) else {
            eprintln!("{test}: {URL_VARIABLE} is not set; skipping the PostgreSQL variant");
            return None;
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "t_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let admin = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("{URL_VARIABLE}: cannot connect: {e}"));
            tokio::spawn(connection);
            client
        });
        runtime
            .block_on(admin.batch_execute(&format!("CREATE SCHEMA {name}")))
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{name}&application_name={name}");
        Some(Fixture::Postgres(Box::new(PgSchema {
            runtime,
            admin,
            name,
            url,
        })))
    }

    fn database(&self) -> Database {
        match self {
            Fixture::Sqlite { path, .. } => Database::Sqlite(path.clone()),
            Fixture::Postgres(pg) => Database::parse(&pg.url).unwrap(),
        }
    }

    fn open(&self) -> Store {
        Store::open(&self.database()).unwrap()
    }

    /// Runs SQL on the back end behind the store's back.
    fn sql(&self, statement: &str) {
        match self {
            Fixture::Sqlite { path, .. } => {
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch(statement)
                    .unwrap();
            }
            Fixture::Postgres(pg) => pg
                .runtime
                .block_on(
                    pg.admin
                        .batch_execute(&format!("SET search_path = {}; {statement}", pg.name)),
                )
                .unwrap(),
        }
    }
}

impl Fixture {
    /// Installs a trigger that makes the database refuse the release of `round`.
    fn refuse_release_of_round(&self, round: u32) {
        match self {
            Fixture::Sqlite { .. } => self.sql(&format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON releases WHEN NEW.round = {round}
                 BEGIN SELECT RAISE(ABORT, 'refused round {round}'); END;"
            )),
            Fixture::Postgres(_) => self.sql(&format!(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql
                   AS $$ BEGIN RAISE EXCEPTION 'refused round {round}'; END $$;
                 CREATE TRIGGER refuse BEFORE INSERT ON releases FOR EACH ROW
                   WHEN (NEW.round = {round}) EXECUTE FUNCTION refuse();"
            )),
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let dropped = self
            .runtime
            .block_on(self.admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name)));
        if let Err(e) = dropped {
            eprintln!("cannot drop test schema {}: {e}", self.name);
        }
    }
}

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
    let mut seed = [7; 32];
    seed[0] = 0;
    seed[31] = 255;
    JobSecrets {
        seed,
        verify_key: [9; 32],
    }
}

fn release(round: u32, values: Vec<i64>) -> StoredRelease {
    StoredRelease {
        round,
        purpose: "\"measurement\"".into(),
        values,
        sigma2: (5, 2),
        contributors: vec!["a".into(), "b".into()],
    }
}

fn jobs_survive_reopen_and_final_states_stick(f: &Fixture) {
    {
        let s = f.open();
        s.insert_job("j1", "alice", &request(), &secrets()).unwrap();
        s.insert_job("j2", "alice", &request(), &secrets()).unwrap();
        assert!(s.transition("j1", JobState::Running, None).unwrap());
        s.progress("j1", 3, 40, &["a".into(), "b".into()]).unwrap();
        assert!(s.transition("j2", JobState::Cancelled, Some("by alice")).unwrap());
        assert!(!s.transition("j2", JobState::Running, None).unwrap());
        assert!(!s.transition("j2", JobState::Failed, Some("late")).unwrap());
    }
    let s = f.open();
    let j1 = s.status("j1").unwrap().unwrap();
    assert_eq!((j1.state, j1.round, j1.rounds_planned), (JobState::Running, 3, 40));
    assert_eq!(j1.sites, vec!["a".to_string(), "b".to_string()]);
    assert_eq!((j1.requester.as_str(), j1.request.rows), ("alice", 10));
    assert!(j1.created > 0 && j1.updated >= j1.created);
    let j2 = s.status("j2").unwrap().unwrap();
    assert_eq!(
        (j2.state, j2.reason.as_deref()),
        (JobState::Cancelled, Some("by alice"))
    );
    assert_eq!(s.unfinished().unwrap(), vec![("j1".to_string(), JobState::Running)]);
    let stored = s.secrets("j1").unwrap();
    assert_eq!((stored.seed, stored.verify_key), (secrets().seed, [9; 32]));
    assert!(s.status("nope").unwrap().is_none());
    let err = s.secrets("nope").unwrap_err().to_string();
    assert!(err.contains("nope"), "{err}");
    assert!(
        s.insert_job("j1", "bob", &request(), &secrets()).is_err(),
        "a job id is unique"
    );
}

fn running_jobs_come_first_then_queued_in_submission_order(f: &Fixture) {
    let s = f.open();
    for id in ["j1", "j2", "j3", "j4"] {
        s.insert_job(id, "alice", &request(), &secrets()).unwrap();
    }
    assert!(s.transition("j3", JobState::Running, None).unwrap());
    assert!(s.transition("j2", JobState::Failed, Some("no sites")).unwrap());
    assert_eq!(
        s.unfinished().unwrap(),
        vec![
            ("j3".to_string(), JobState::Running),
            ("j1".to_string(), JobState::Queued),
            ("j4".to_string(), JobState::Queued),
        ]
    );
}

fn only_a_running_job_succeeds(f: &Fixture) {
    let s = f.open();
    s.insert_job("j", "alice", &request(), &secrets()).unwrap();
    assert!(!s.succeed("j", Path::new("/results/j.csv")).unwrap(), "queued");
    assert_eq!(s.result("j").unwrap(), None);
    assert!(s.transition("j", JobState::Running, None).unwrap());
    assert!(s.succeed("j", Path::new("/results/j.csv")).unwrap());
    assert_eq!(s.result("j").unwrap().as_deref(), Some("/results/j.csv"));
    assert_eq!(s.status("j").unwrap().unwrap().state, JobState::Succeeded);
    assert!(
        !s.succeed("j", Path::new("/results/other.csv")).unwrap(),
        "already succeeded"
    );
    assert!(!s.transition("j", JobState::Cancelled, None).unwrap(), "final");
    assert_eq!(s.result("j").unwrap().as_deref(), Some("/results/j.csv"));
    assert_eq!(s.result("nope").unwrap(), None);
    assert!(!s.succeed("nope", Path::new("/x")).unwrap());
}

fn a_round_is_released_once_with_its_checkpoint(f: &Fixture) {
    let s = f.open();
    s.insert_job("j", "alice", &request(), &secrets()).unwrap();
    let r1 = release(1, vec![3, -1, i64::MAX, i64::MIN]);
    s.put_release("j", &r1, Some("{\"after\":1}")).unwrap();
    s.put_release("j", &r1, None).unwrap();
    assert_eq!(s.checkpoint("j").unwrap().as_deref(), Some("{\"after\":1}"));
    let other = release(1, vec![0, 0, 0, 0]);
    let err = s.put_release("j", &other, Some("{\"after\":\"other\"}")).unwrap_err();
    assert!(format!("{err:#}").contains("already released"), "{err:#}");
    assert_eq!(
        s.checkpoint("j").unwrap().as_deref(),
        Some("{\"after\":1}"),
        "a refused release leaves the checkpoint alone"
    );
    let r2 = StoredRelease {
        sigma2: (u64::try_from(i64::MAX).unwrap(), 1),
        ..release(2, vec![])
    };
    s.put_release("j", &r2, Some("{\"after\":2}")).unwrap();
    assert_eq!(s.checkpoint("j").unwrap().as_deref(), Some("{\"after\":2}"));
    assert_eq!(s.releases("j").unwrap(), vec![r1, r2]);
    assert!(s.releases("other").unwrap().is_empty());
    let too_big = StoredRelease {
        sigma2: (u64::MAX, 1),
        ..release(3, vec![])
    };
    assert!(s.put_release("j", &too_big, None).is_err());
}

fn a_failed_release_leaves_the_checkpoint_alone(f: &Fixture) {
    let s = f.open();
    s.insert_job("j", "alice", &request(), &secrets()).unwrap();
    s.put_release("j", &release(6, vec![6]), Some("after 6")).unwrap();
    // The release row is refused by the database after the checkpoint was written in the same
    // transaction: both must be gone.
    f.refuse_release_of_round(7);
    let err = s.put_release("j", &release(7, vec![7]), Some("after 7")).unwrap_err();
    assert!(format!("{err:#}").contains("refused round 7"), "{err:#}");
    assert_eq!(s.checkpoint("j").unwrap().as_deref(), Some("after 6"));
    assert_eq!(s.releases("j").unwrap(), vec![release(6, vec![6])]);
    assert!(
        s.put_release("ghost", &release(1, vec![1]), Some("{}")).is_err(),
        "unknown job"
    );
    assert_eq!(s.checkpoint("ghost").unwrap(), None);
}

fn checkpoints_are_replaced(f: &Fixture) {
    let s = f.open();
    s.insert_job("j", "alice", &request(), &secrets()).unwrap();
    assert_eq!(s.checkpoint("j").unwrap(), None);
    s.put_checkpoint("j", "first").unwrap();
    s.put_checkpoint("j", "second").unwrap();
    assert_eq!(s.checkpoint("j").unwrap().as_deref(), Some("second"));
}

fn outbox_is_ordered_per_site(f: &Fixture) {
    let s = f.open();
    assert_eq!(s.last_seq().unwrap(), 0);
    assert!(s.inbox("a", 0, 10).unwrap().is_empty());
    let a1 = s.enqueue("a", "j", "m1").unwrap();
    s.enqueue("b", "j", "x").unwrap();
    let a2 = s.enqueue("a", "j", "m2").unwrap();
    let a3 = s.enqueue("a", "j", "m3").unwrap();
    assert!(a1 < a2 && a2 < a3);
    assert_eq!(
        s.inbox("a", 0, 10).unwrap(),
        vec![(a1, "m1".into()), (a2, "m2".into()), (a3, "m3".into())]
    );
    assert_eq!(s.inbox("a", a1, 1).unwrap(), vec![(a2, "m2".into())]);
    assert_eq!(s.last_seq().unwrap(), a3);
    drop(s);
    let s = f.open();
    assert!(
        s.enqueue("a", "j", "m4").unwrap() > a3,
        "sequence numbers are never reused"
    );
}

fn one_store_serves_many_threads(f: &Fixture) {
    let s = Arc::new(f.open());
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| s.enqueue(&format!("site-{t}"), "j", &format!("{t}:{i}")).unwrap())
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for (t, writer) in writers.into_iter().enumerate() {
        let seqs = writer.join().unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "thread {t}: {seqs:?}");
        let inbox = s.inbox(&format!("site-{t}"), 0, 1000).unwrap();
        assert_eq!(inbox.iter().map(|(q, _)| *q).collect::<Vec<_>>(), seqs);
        assert_eq!(inbox[24].1, format!("{t}:24"));
        all.extend(seqs);
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 100);
    assert_eq!(s.last_seq().unwrap(), all[99]);
}

/// The hub calls the store from async handlers: a call must work on a runtime's worker thread.
fn works_from_inside_a_tokio_runtime(f: &Fixture) {
    let s = Arc::new(f.open());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handler = s.clone();
    let status = runtime.block_on(async move {
        tokio::spawn(async move {
            handler.insert_job("j", "alice", &request(), &secrets()).unwrap();
            handler.status("j").unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(status.unwrap().state, JobState::Queued);
    drop(runtime);
    assert!(s.status("j").unwrap().is_some());
}

fn refuses_another_format_version(f: &Fixture) {
    drop(f.open());
    f.sql("UPDATE meta SET value = '99' WHERE key = 'version'");
    let err = format!("{:#}", Store::open(&f.database()).err().unwrap());
    assert!(err.contains("format version 99"), "{err}");
    assert!(
        err.contains(&f.database().to_string()),
        "the error names the database: {err}"
    );
}

fn the_instance_id_is_made_once_and_kept(f: &Fixture) {
    let first = f.open().instance().unwrap();
    assert_eq!(first.len(), 32, "{first}");
    assert_eq!(f.open().instance().unwrap(), first);
}

macro_rules! on_both_back_ends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $test() {
                super::$test(&super::Fixture::sqlite());
            })*
        }
        mod postgres {
            $(#[test]
            fn $test() {
                if let Some(f) = super::Fixture::postgres(stringify!($test)) {
                    super::$test(&f);
                }
            })*
        }
    };
}

on_both_back_ends!(
    jobs_survive_reopen_and_final_states_stick,
    running_jobs_come_first_then_queued_in_submission_order,
    only_a_running_job_succeeds,
    a_round_is_released_once_with_its_checkpoint,
    a_failed_release_leaves_the_checkpoint_alone,
    checkpoints_are_replaced,
    outbox_is_ordered_per_site,
    one_store_serves_many_threads,
    works_from_inside_a_tokio_runtime,
    refuses_another_format_version,
    the_instance_id_is_made_once_and_kept,
);

#[test]
fn a_lost_connection_fails_one_call_naming_the_database_then_reconnects() {
    let Some(f) = Fixture::postgres("a_lost_connection_fails_one_call_naming_the_database_then_reconnects") else {
        return;
    };
    let Fixture::Postgres(pg) = &f else {
        unreachable!("a PostgreSQL fixture")
    };
    let s = f.open();
    s.insert_job("j", "alice", &request(), &secrets()).unwrap();
    let killed: i64 = pg
        .runtime
        .block_on(pg.admin.query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            &[&pg.name],
        ))
        .unwrap()
        .get(0);
    assert_eq!(killed, 1, "the store holds one connection");
    let err = format!("{:#}", s.status("j").unwrap_err());
    let shown = f.database().to_string();
    assert!(err.contains(&shown) && err.contains("read job j"), "{err}");
    if let Some(password) = password_of(&pg.url) {
        assert!(!err.contains(&format!(":{password}@")), "{err}");
        assert!(!shown.contains(&format!(":{password}@")), "{shown}");
    }
    assert_eq!(s.status("j").unwrap().unwrap().state, JobState::Queued, "reconnected");
}

/// The password of a `scheme://user:password@host` URL, if it has one.
fn password_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    Some(userinfo.split_once(':')?.1).filter(|p| !p.is_empty())
}

#[test]
fn an_unreachable_server_is_named_without_its_password() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let url = "postgresql://synthema:s3cret-pw@127.0.0.1:1/synthema?connect_timeout=5";
    let err = format!("{:#}", Store::open(&Database::parse(url).unwrap()).err().unwrap());
    assert!(err.contains("postgresql://synthema:***@127.0.0.1:1/synthema"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let query_password = "postgresql://synthema@127.0.0.1:1/synthema?password=s3cret-pw";
    let err = format!(
        "{:#}",
        Store::open(&Database::parse(query_password).unwrap()).err().unwrap()
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn a_hub_config_takes_a_url_as_given_and_a_path_from_its_directory() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples");
    let text = std::fs::read_to_string(samples.join("hub.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.toml");
    std::fs::write(&path, &text).unwrap();
    let hub: HubConfig = server::config::load(&path).unwrap();
    assert_eq!(hub.database, Database::Sqlite(dir.path().join("state/hub.sqlite")));
    let url = "postgresql://synthema:pw@localhost/synthema";
    let with_url = text.replace("database = \"state/hub.sqlite\"", &format!("database = \"{url}\""));
    assert_ne!(with_url, text, "the sample's database line moved");
    std::fs::write(&path, with_url).unwrap();
    let hub: HubConfig = server::config::load(&path).unwrap();
    assert_eq!(hub.database, Database::parse(url).unwrap());
    assert_eq!(
        hub.database.to_string(),
        "postgresql://synthema:***@localhost:5432/synthema"
    );
    assert!(!format!("{hub:?}").contains(":pw@"));
    let bad = text.replace(
        "database = \"state/hub.sqlite\"",
        "database = \"postgresql://synthema:pw@localhost:port/synthema\"",
    );
    std::fs::write(&path, bad).unwrap();
    let err = format!("{:#}", server::config::load::<HubConfig>(&path).unwrap_err());
    assert!(err.contains("does not parse") && !err.contains(":pw@"), "{err}");
}
