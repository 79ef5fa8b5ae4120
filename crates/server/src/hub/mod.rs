//! `synthema hub`: the coordinator and leader aggregator, an HTTPS service with mutual TLS.
//!
//! Who may call what (the role comes from the client certificate, never from the request):
//!
//! | route | role | what |
//! |---|---|---|
//! | `GET /v1/site/messages?after=N` | site | long-poll: messages for this site after sequence N |
//! | `POST /v1/site/messages` | site | a wire envelope from this site (acceptance, refusal, leader share) |
//! | `POST /v1/helper/messages` | the configured aggregator | the helper's protocol messages for the leader |
//! | `POST /v1/jobs` | user | submit a job |
//! | `GET /v1/jobs/{id}` | its requester | status |
//! | `GET /v1/jobs/{id}/result` | its requester | the synthetic CSV of a succeeded job |
//! | `POST /v1/jobs/{id}/cancel` | its requester | cancel: no further round is opened |
//!
//! Jobs run one at a time, in submission order, on a worker thread that owns the sans-I/O
//! `federation::Hub` ([`runner`]). Sites never receive a connection: they poll.

mod runner;

pub use runner::{cell_bits, job_domain};

use std::future::Future;
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use tokio::sync::watch;

use crate::api::{Inbox, JobRequest, JobState, JobStatus, Problem};
use crate::audit::AuditLog;
use crate::config::{HubConfig, write_address};
use crate::pki::{Credentials, Identity, Role};
use crate::store::{JobSecrets, Store};
use crate::{log, tls};
use federation::SiteId;
use federation::msg::{self, Message};

/// An event for the job runner.
#[derive(Debug)]
pub(crate) enum Event {
    /// A message from an authenticated site.
    FromSite(SiteId, Message),
    /// A message from the helper aggregator.
    FromHelper(Message),
    /// A user cancelled the job.
    Cancel,
}

/// The job currently running and the channel to its runner.
struct Current {
    job: String,
    events: Sender<Event>,
}

/// State shared by the request handlers and the worker.
pub(crate) struct Shared {
    pub(crate) config: HubConfig,
    pub(crate) store: Store,
    pub(crate) audit: Mutex<AuditLog>,
    pub(crate) client: reqwest::Client,
    pub(crate) runtime: tokio::runtime::Handle,
    /// The database's instance id, sent with every poll answer.
    pub(crate) instance: String,
    /// The newest outbox sequence number: long-polls wait on it.
    pub(crate) outbox: watch::Sender<u64>,
    current: Mutex<Option<Current>>,
    /// Wakes the worker when a job is submitted.
    wake: Mutex<Option<Sender<()>>>,
}

impl Shared {
    /// Appends to the hub's audit log; a failure to audit is logged loudly (the caller decides
    /// whether to go on).
    pub(crate) fn audit(&self, event: &str, detail: serde_json::Value) -> Result<()> {
        let mut log = self.audit.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        log.append(event, detail).context("cannot write the hub's audit log")
    }

    /// Appends `event` only while job `id` is not final, deciding under the audit log's lock
    /// (see [`Shared::cancel`]); false when the job is final.
    pub(crate) fn audit_if_running(&self, id: &str, event: &str, detail: serde_json::Value) -> Result<bool> {
        let mut log = self
            .audit
            .lock()
            .map_err(|_| anyhow::anyhow!("the audit log was poisoned by a panic"))?;
        match self.store.status(id)? {
            Some(s) if !s.state.is_final() => {
                log.append(event, detail).context("cannot write the hub's audit log")?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Cancels job `id` and audits it under the audit log's lock; false when it was final.
    fn cancel(&self, id: &str, by: &str) -> Result<bool> {
        let mut log = self
            .audit
            .lock()
            .map_err(|_| anyhow::anyhow!("the audit log was poisoned by a panic"))?;
        let changed = self
            .store
            .transition(id, JobState::Cancelled, Some(&format!("cancelled by {by}")))?;
        if changed {
            log.append("job cancelled", serde_json::json!({ "job": id, "by": by }))
                .context("cannot write the hub's audit log")?;
        }
        Ok(changed)
    }

    fn audit_head(&self) -> Option<(u64, String)> {
        self.audit.lock().ok().map(|l| l.head())
    }

    /// Queues `message` for `site` and wakes its poll.
    pub(crate) fn send_to_site(&self, site: &SiteId, job: &str, message: &Message) -> Result<()> {
        let body = String::from_utf8(msg::encode(message)?).context("wire messages are UTF-8 JSON")?;
        let seq = self.store.enqueue(&site.0, job, &body)?;
        self.outbox.send_replace(seq);
        Ok(())
    }

    fn deliver(&self, job: &str, event: Event) -> Result<(), Problem> {
        let current = self
            .current
            .lock()
            .map_err(|_| Problem::internal("current job", &"poisoned lock"))?;
        match current.as_ref() {
            Some(c) if c.job == job => c
                .events
                .send(event)
                .map_err(|_| Problem::conflict(format!("job {job} is finishing; the message was not needed"))),
            _ => Err(Problem::conflict(format!("job {job} is not running at the hub"))),
        }
    }
}

/// Runs the hub until `shutdown` resolves.
pub async fn run(config: HubConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
    let creds = Credentials::load(&config.credentials)?;
    if creds.identity().role != Role::Hub {
        anyhow::bail!(
            "{} holds a {} certificate; the hub needs a hub certificate",
            config.credentials.display(),
            creds.identity()
        );
    }
    let store = Store::open(&config.database)?;
    crate::config::ensure_parent(&config.audit_log)?;
    let audit = AuditLog::open(&config.audit_log)?;
    std::fs::create_dir_all(&config.results)
        .with_context(|| format!("cannot create results directory {}", config.results.display()))?;
    // The hub calls only the aggregator: a server certificate of another role is refused.
    let client = tls::client_for(&creds, &[Role::Aggregator])?;
    let (outbox, _) = watch::channel(store.last_seq()?);
    let instance = store.instance()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        store,
        audit: Mutex::new(audit),
        client,
        runtime: tokio::runtime::Handle::current(),
        instance,
        outbox,
        current: Mutex::new(None),
        wake: Mutex::new(None),
        config,
    });
    shared.audit("hub started", serde_json::json!({ "listen": addr.to_string() }))?;
    let (wake_tx, wake_rx) = mpsc::channel();
    if let Ok(mut w) = shared.wake.lock() {
        *w = Some(wake_tx);
    }
    let worker_shared = shared.clone();
    std::thread::Builder::new()
        .name("hub-worker".into())
        .spawn(move || worker(worker_shared, wake_rx))
        .context("cannot start the hub's worker thread")?;
    let server_config = tls::server_config(&creds)?;
    let router = router(shared.clone());
    if let Some(file) = &shared.config.address_file {
        write_address(file, addr)?;
    }
    log::line("hub", format!("listening on https://{addr}"));
    tls::serve(listener, server_config, router, shutdown).await?;
    // Dropping the wake sender ends the worker's wait; a running job stays `running` in the
    // database and resumes at the next start.
    if let Ok(mut w) = shared.wake.lock() {
        w.take();
    }
    log::line("hub", "stopped");
    Ok(())
}

fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.config.limits.max_body_bytes;
    Router::new()
        .route("/v1/site/messages", get(site_poll).post(site_send))
        .route("/v1/helper/messages", post(helper_send))
        .route("/v1/jobs", post(submit))
        .route("/v1/jobs/{id}", get(status))
        .route("/v1/jobs/{id}/result", get(result))
        .route("/v1/jobs/{id}/cancel", post(cancel))
        .fallback(|| async { Problem::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method")
        })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(shared)
}

fn require(identity: &Identity, role: Role) -> Result<(), Problem> {
    if identity.role == role {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "this route is for {role} certificates; the client presented {identity}"
        )))
    }
}

#[derive(Deserialize)]
struct PollQuery {
    #[serde(default)]
    after: u64,
    #[serde(default = "default_wait")]
    wait: u64,
}

fn default_wait() -> u64 {
    20
}

async fn site_poll(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    Query(q): Query<PollQuery>,
) -> Result<Json<Inbox>, Problem> {
    require(&identity, Role::Site)?;
    let mut changes = shared.outbox.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait.min(60));
    loop {
        // A database call blocks: tell the runtime, so that a slow database delays this poll
        // without stalling the other tasks of this worker thread.
        let messages = tokio::task::block_in_place(|| shared.store.inbox(&identity.name, q.after, 64))
            .map_err(|e| Problem::internal("site poll", &e))?;
        if !messages.is_empty() {
            return Ok(Json(Inbox {
                hub: shared.instance.clone(),
                messages,
            }));
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => continue,
            _ => {
                return Ok(Json(Inbox {
                    hub: shared.instance.clone(),
                    messages: Vec::new(),
                }));
            }
        }
    }
}

/// The job a site's message belongs to; other kinds are refused.
fn job_of(message: &Message) -> Result<String, Problem> {
    match message {
        Message::Acceptance(a) => Ok(a.job_id.0.clone()),
        Message::Refusal(r) => Ok(r.job_id.0.clone()),
        Message::Upload(u) => Ok(u.job_id.0.clone()),
        other => Err(Problem::bad_request(format!(
            "a site may send acceptances, refusals and uploads, not {}",
            kind(other)
        ))),
    }
}

/// The message's kind, for errors and logs (never its content).
pub(crate) fn kind(message: &Message) -> &'static str {
    match message {
        Message::Announcement(_) => "announcement",
        Message::Acceptance(_) => "acceptance",
        Message::Request(_) => "request",
        Message::Upload(_) => "upload",
        Message::Refusal(_) => "refusal",
        Message::Result(_) => "result",
        Message::Failure(_) => "failure",
        Message::ToHelper(_) => "helper instruction",
        Message::FromHelper(_) => "helper reply",
    }
}

async fn site_send(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Problem> {
    require(&identity, Role::Site)?;
    let message = msg::decode(&body).map_err(|e| Problem::bad_request(e.to_string()))?;
    let job = job_of(&message)?;
    shared.deliver(&job, Event::FromSite(SiteId(identity.name.clone()), message))?;
    Ok(StatusCode::ACCEPTED)
}

async fn helper_send(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Problem> {
    let batch: Inbox = crate::api::parse_json(&body, "helper messages")?;
    require(&identity, Role::Aggregator)?;
    if identity.name != shared.config.aggregator.name {
        return Err(Problem::forbidden(format!(
            "aggregator {} is not this hub's helper",
            identity.name
        )));
    }
    // Each reply is delivered on its own: a late reply for a job that ended (cancelled, failed)
    // is logged and skipped, so it can never hold back the replies of the job that runs now.
    let mut messages = Vec::with_capacity(batch.messages.len());
    for (_, text) in batch.messages {
        let message = msg::decode(text.as_bytes()).map_err(|e| Problem::bad_request(e.to_string()))?;
        if !matches!(message, Message::FromHelper(_)) {
            return Err(Problem::bad_request(format!(
                "the helper may send helper replies, not {}",
                kind(&message)
            )));
        }
        messages.push(message);
    }
    for message in messages {
        let job = match &message {
            Message::FromHelper(reply) => runner::reply_job(reply).to_string(),
            _ => continue,
        };
        if let Err(p) = shared.deliver(&job, Event::FromHelper(message)) {
            log::line("hub", format!("a helper reply was not needed: {}", p.detail));
        }
    }
    Ok(StatusCode::ACCEPTED)
}

/// Fresh secrets of a job from the thread's CSPRNG (ChaCha, seeded by the operating system).
fn new_secrets() -> JobSecrets {
    use rand::RngExt;
    let mut rng = rand::rng();
    JobSecrets {
        seed: rng.random(),
        verify_key: rng.random(),
    }
}

fn check_request(shared: &Shared, r: &JobRequest) -> Result<(), Problem> {
    let dataset = shared
        .config
        .datasets
        .iter()
        .find(|d| d.name == r.dataset)
        .ok_or_else(|| Problem::bad_request(format!("unknown dataset {:?}", r.dataset)))?;
    if !(r.epsilon.is_finite() && r.epsilon > 0.0) {
        return Err(Problem::bad_request(format!(
            "epsilon must be positive, got {}",
            r.epsilon
        )));
    }
    if !(r.delta > 0.0 && r.delta < 1.0) {
        return Err(Problem::bad_request(format!(
            "delta must be in (0, 1), got {}",
            r.delta
        )));
    }
    if r.rows == 0 || r.rows > 10_000_000 {
        return Err(Problem::bad_request(format!(
            "rows must be in 1..=10000000, got {}",
            r.rows
        )));
    }
    let text = std::fs::read_to_string(&dataset.dictionary)
        .map_err(|e| Problem::internal("dictionary", &format!("{}: {e}", dataset.dictionary.display())))?;
    let dictionary = table::Dictionary::from_toml(&text, &dataset.dictionary.display().to_string())
        .map_err(|e| Problem::internal("dictionary", &e))?;
    job_domain(&dictionary, &r.columns).map_err(|e| Problem::bad_request(format!("columns: {e:#}")))?;
    if r.min_sites < 2 || r.min_sites as usize > dataset.sites.len() {
        return Err(Problem::bad_request(format!(
            "min_sites must be in 2..={} (the dataset's sites), got {}",
            dataset.sites.len(),
            r.min_sites
        )));
    }
    Ok(())
}

async fn submit(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<JobStatus>), Problem> {
    require(&identity, Role::User)?;
    let request: JobRequest = crate::api::parse_json(&body, "job request")?;
    check_request(&shared, &request)?;
    let secrets = new_secrets();
    // The id is public (sites and logs see it): its own random bytes, nothing of the secrets.
    let id_bytes: [u8; 6] = rand::RngExt::random(&mut rand::rng());
    let id = format!("job-{}", msg::to_hex(&id_bytes));
    shared
        .store
        .insert_job(&id, &identity.name, &request, &secrets)
        .map_err(|e| Problem::internal("insert job", &e))?;
    shared
        .audit(
            "job submitted",
            serde_json::json!({ "job": id, "requester": identity.name, "request": request }),
        )
        .map_err(|e| Problem::internal("audit", &e))?;
    if let Ok(w) = shared.wake.lock()
        && let Some(w) = w.as_ref()
    {
        let _ = w.send(());
    }
    let status = read_status(&shared, &id, &identity)?;
    Ok((StatusCode::CREATED, Json(status)))
}

fn read_status(shared: &Shared, id: &str, identity: &Identity) -> Result<JobStatus, Problem> {
    require(identity, Role::User)?;
    let status = shared
        .store
        .status(id)
        .map_err(|e| Problem::internal("job status", &e))?
        .ok_or_else(|| Problem::not_found(format!("no job {id}")))?;
    if status.requester != identity.name {
        // The same answer as for a missing job: job ids of other users are not confirmed.
        return Err(Problem::not_found(format!("no job {id}")));
    }
    Ok(JobStatus {
        audit_head: shared.audit_head(),
        ..status
    })
}

async fn status(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<JobStatus>, Problem> {
    Ok(Json(read_status(&shared, &id, &identity)?))
}

async fn result(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, Problem> {
    let status = read_status(&shared, &id, &identity)?;
    if status.state != JobState::Succeeded {
        return Err(Problem::conflict(format!("job {id} is {}", status.describe())));
    }
    let path = shared
        .store
        .result(&id)
        .map_err(|e| Problem::internal("job result", &e))?
        .map(PathBuf::from)
        .ok_or_else(|| Problem::internal("job result", &"a succeeded job without a result file"))?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| Problem::internal("read result", &format!("{}: {e}", path.display())))?;
    shared
        .audit(
            "result fetched",
            serde_json::json!({ "job": id, "by": identity.name, "bytes": bytes.len() }),
        )
        .map_err(|e| Problem::internal("audit", &e))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
}

async fn cancel(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<JobStatus>, Problem> {
    let status = read_status(&shared, &id, &identity)?;
    if status.state.is_final() {
        return Err(Problem::conflict(format!(
            "job {id} is already {}",
            status.state.as_str()
        )));
    }
    let changed = shared
        .cancel(&id, &identity.name)
        .map_err(|e| Problem::internal("cancel", &e))?;
    if changed {
        // A running job's runner stops at its next event; a queued one is never started.
        let _ = shared.deliver(&id, Event::Cancel);
    }
    Ok(Json(read_status(&shared, &id, &identity)?))
}

/// The worker: runs unfinished jobs one at a time (running ones first: they resume).
fn worker(shared: Arc<Shared>, wake: mpsc::Receiver<()>) {
    loop {
        let next = match shared.store.unfinished() {
            Ok(jobs) => jobs.into_iter().next(),
            Err(e) => {
                log::line("hub", format!("cannot read the job queue: {e:#}"));
                None
            }
        };
        match next {
            Some((job, _)) => {
                let (tx, rx) = mpsc::channel();
                if let Ok(mut c) = shared.current.lock() {
                    *c = Some(Current {
                        job: job.clone(),
                        events: tx,
                    });
                }
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner::run(&shared, &job, &rx)));
                if ran.is_err() {
                    // A bug must not leave the job running forever nor stop the queue.
                    log::line("hub", format!("job {job}: internal error (panic); the job is failed"));
                    if let Ok(true) = shared
                        .store
                        .transition(&job, JobState::Failed, Some("internal error at the hub"))
                    {
                        let _ = shared.audit(
                            "job failed",
                            serde_json::json!({ "job": job, "reason": "internal error" }),
                        );
                    }
                }
                if let Ok(mut c) = shared.current.lock() {
                    c.take();
                }
                // A job the runner could not bring to a final state (its database failed) is
                // retried after a pause, not in a hot loop.
                if let Ok(Some(s)) = shared.store.status(&job)
                    && !s.state.is_final()
                {
                    std::thread::sleep(Duration::from_secs(5));
                }
            }
            None => match wake.recv_timeout(Duration::from_secs(5)) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
        }
    }
}
