//! `synthema aggregator`: a computing centre's helper aggregator, an HTTPS service with mutual
//! TLS. Sites upload their helper shares to it directly (the hub never sees them); the hub sets
//! up jobs and drives the Prio3 verification and the release of the helper's noisy aggregate
//! share. Its protocol replies to the leader go to the hub over a connection the aggregator
//! opens (`POST /v1/helper/messages`).
//!
//! | route | role | what |
//! |---|---|---|
//! | `PUT /v1/jobs/{id}` | the configured hub | set up a job (verification key) — idempotent |
//! | `POST /v1/jobs/{id}/instructions` | the configured hub | a helper instruction; the replies |
//! | `POST /v1/jobs/{id}/uploads` | site | the site's helper share for a round |

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Extension, Json, Router};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::json;
use tokio::sync::mpsc;

use crate::api::{HelperJob, Inbox, Problem};
use crate::audit::AuditLog;
use crate::config::{AggregatorConfig, write_address};
use crate::hub::kind;
use crate::pki::{Credentials, Identity, Role};
use crate::{log, tls};
use federation::msg::{self, HelperInstruction, HelperReply, Message};
use federation::{HelperNode, HelperNodeInput, Noise, SiteId};
use secagg::VerifyKey;

struct Job {
    verify_key: [u8; 32],
    node: HelperNode,
    audited_rejections: usize,
}

/// What the aggregator keeps of a job across restarts: the verification key and the helper's
/// checkpoint (every round it saw and every aggregate share it released, so that a released
/// share is re-sent identically and never released a second time with fresh noise).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredJob {
    verify_key: String,
    checkpoint: federation::HelperCheckpoint,
}

fn job_file(state: &std::path::Path, id: &str) -> std::path::PathBuf {
    state.join(format!("{id}.json"))
}

/// A job id as the hub makes them: letters, digits, '-' and '_', at most 64 — never a path.
/// Every route checks it before it names a file or a job (a hub sending `.%2Fjob-x` must not
/// reach another job's state file).
fn check_job_id(id: &str) -> Result<(), Problem> {
    let ok =
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Problem::bad_request("a job id is 1 to 64 letters, digits, '-' or '_'"))
    }
}

/// The job a message names (uploads and instructions), which must be the route's.
fn message_job(message: &Message) -> Option<&str> {
    match message {
        Message::Upload(u) => Some(&u.job_id.0),
        Message::ToHelper(HelperInstruction::Open { request, .. }) => Some(&request.job_id.0),
        Message::ToHelper(
            HelperInstruction::Leader { job_id, .. }
            | HelperInstruction::Collect { job_id, .. }
            | HelperInstruction::Abort { job_id, .. },
        ) => Some(&job_id.0),
        _ => None,
    }
}

fn check_message_job(id: &str, message: &Message) -> Result<(), Problem> {
    match message_job(message) {
        Some(named) if named == id => Ok(()),
        Some(named) => Err(Problem::bad_request(format!(
            "the message is about job {named}, the route about job {id}"
        ))),
        None => Err(Problem::bad_request(format!("unexpected {}", kind(message)))),
    }
}

/// Writes a job's state atomically, readable by the aggregator's user only (it holds the key).
fn persist(state: &std::path::Path, id: &str, job: &Job) -> Result<()> {
    let stored = StoredJob {
        verify_key: msg::to_hex(&job.verify_key),
        checkpoint: job.node.checkpoint(),
    };
    // Durable (directory synced too): a power loss must not bring back a state without a
    // share that already left. Private: it holds the verification key.
    crate::config::write_atomically(&job_file(state, id), serde_json::to_string(&stored)?.as_bytes(), true)
}

/// Jobs kept by an earlier run of the aggregator.
fn restore_jobs(state: &std::path::Path, min_sites: u32) -> Result<BTreeMap<String, Job>> {
    std::fs::create_dir_all(state).with_context(|| format!("cannot create {}", state.display()))?;
    let mut jobs = BTreeMap::new();
    for entry in std::fs::read_dir(state).with_context(|| format!("cannot read {}", state.display()))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(id) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        if check_job_id(&id).is_err() {
            log::line(
                "aggregator",
                format!("ignoring {}: not a job's state file", path.display()),
            );
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let stored: StoredJob =
            serde_json::from_str(&text).with_context(|| format!("{}: not a stored aggregator job", path.display()))?;
        let verify_key: [u8; 32] = msg::from_hex(&stored.verify_key, "verification key")?
            .try_into()
            .map_err(|_| anyhow::anyhow!("{}: the verification key is not 32 bytes", path.display()))?;
        let node = HelperNode::restore(
            VerifyKey::from_bytes(verify_key),
            Noise::DiscreteGaussian,
            ChaCha20Rng::from_rng(&mut rand::rng()),
            min_sites,
            stored.checkpoint,
        )
        .with_context(|| format!("{}", path.display()))?;
        jobs.insert(
            id,
            Job {
                verify_key,
                node,
                audited_rejections: 0,
            },
        );
    }
    Ok(jobs)
}

struct Shared {
    config: AggregatorConfig,
    jobs: Mutex<BTreeMap<String, Job>>,
    audit: Mutex<AuditLog>,
    to_hub: mpsc::UnboundedSender<String>,
}

impl Shared {
    fn audit(&self, event: &str, detail: serde_json::Value) -> Result<(), Problem> {
        let mut log = self
            .audit
            .lock()
            .map_err(|_| Problem::internal("audit", &"poisoned lock"))?;
        log.append(event, detail).map_err(|e| Problem::internal("audit", &e))
    }
}

/// Runs the aggregator until `shutdown` resolves.
pub async fn run(config: AggregatorConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
    let creds = Credentials::load(&config.credentials)?;
    if creds.identity().role != Role::Aggregator {
        anyhow::bail!(
            "{} holds a {} certificate; the aggregator needs an aggregator certificate",
            config.credentials.display(),
            creds.identity()
        );
    }
    crate::config::ensure_parent(&config.audit_log)?;
    let audit = AuditLog::open(&config.audit_log)?;
    // The aggregator calls only the hub.
    let client = tls::client_for(&creds, &[Role::Hub])?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (to_hub, queue) = mpsc::unbounded_channel();
    tokio::spawn(forward(config.hub.clone(), client, queue));
    let jobs = restore_jobs(&config.state, config.min_sites)?;
    if !jobs.is_empty() {
        log::line(
            "aggregator",
            format!("restored {} jobs from {}", jobs.len(), config.state.display()),
        );
    }
    let shared = Arc::new(Shared {
        jobs: Mutex::new(jobs),
        audit: Mutex::new(audit),
        to_hub,
        config,
    });
    shared
        .audit("aggregator started", json!({ "listen": addr.to_string() }))
        .map_err(|p| anyhow::anyhow!(p.detail))?;
    let router = Router::new()
        .route("/v1/jobs/{id}", put(setup))
        .route("/v1/jobs/{id}/instructions", post(instruct))
        .route("/v1/jobs/{id}/uploads", post(upload))
        .fallback(|| async { Problem::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method")
        })
        .layer(DefaultBodyLimit::max(shared.config.max_body_bytes))
        .with_state(shared.clone());
    if let Some(file) = &shared.config.address_file {
        write_address(file, addr)?;
    }
    log::line("aggregator", format!("listening on https://{addr}"));
    tls::serve(listener, tls::server_config(&creds)?, router, shutdown).await?;
    log::line("aggregator", "stopped");
    Ok(())
}

/// Sends the helper's replies to the hub in order, retrying while the hub is unreachable.
async fn forward(hub: crate::config::PeerConfig, client: reqwest::Client, mut queue: mpsc::UnboundedReceiver<String>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = queue.try_recv() {
            batch.push(more);
        }
        let body = Inbox {
            hub: String::new(),
            messages: batch.into_iter().map(|m| (0, m)).collect(),
        };
        let mut delay = Duration::from_millis(100);
        for attempt in 1..=8 {
            let sent = async {
                let base = hub.base_url()?;
                let response = client
                    .post(format!("{base}/v1/helper/messages"))
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("hub unreachable: {e}"))?;
                crate::api::check(response, "hub").await.map(|_| ())
            }
            .await;
            match sent {
                Ok(()) => break,
                // The hub understood and refused (a 4xx): sending the same bytes again cannot help.
                Err(e) if e.downcast_ref::<crate::api::Refused>().is_some_and(|r| r.is_final()) => {
                    log::line(
                        "aggregator",
                        format!("the hub refused {} replies: {e:#}", body.messages.len()),
                    );
                    break;
                }
                Err(e) if attempt == 8 => {
                    log::line(
                        "aggregator",
                        format!("gave up sending {} replies to the hub: {e:#}", body.messages.len()),
                    );
                }
                Err(e) => {
                    log::line(
                        "aggregator",
                        format!("sending replies to the hub (attempt {attempt}): {e:#}"),
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

fn require_hub(shared: &Shared, identity: &Identity) -> Result<(), Problem> {
    if identity.role == Role::Hub && identity.name == shared.config.hub.name {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "only hub {} may do this; the client is {identity}",
            shared.config.hub.name
        )))
    }
}

async fn setup(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    UrlPath(id): UrlPath<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Problem> {
    let job: HelperJob = crate::api::parse_json(&body, "job set-up")?;
    require_hub(&shared, &identity)?;
    check_job_id(&id)?;
    if job.job_id != id {
        return Err(Problem::bad_request(format!(
            "the body names job {}, the path {id}",
            job.job_id
        )));
    }
    let key: [u8; 32] = msg::from_hex(&job.verify_key, "verification key")
        .map_err(|e| Problem::bad_request(e.to_string()))?
        .try_into()
        .map_err(|_| Problem::bad_request("the verification key must be 32 bytes"))?;
    let mut jobs = shared
        .jobs
        .lock()
        .map_err(|_| Problem::internal("jobs", &"poisoned lock"))?;
    if let Some(existing) = jobs.get(&id) {
        return if existing.verify_key == key {
            Ok(StatusCode::OK)
        } else {
            Err(Problem::conflict(format!(
                "job {id} was set up with another verification key"
            )))
        };
    }
    // The helper's noise comes from the operating system's generator: nobody else can know it.
    let rng = ChaCha20Rng::from_rng(&mut rand::rng());
    let node = HelperNode::new(
        VerifyKey::from_bytes(key),
        Noise::DiscreteGaussian,
        rng,
        shared.config.min_sites,
    );
    jobs.insert(
        id.clone(),
        Job {
            verify_key: key,
            node,
            audited_rejections: 0,
        },
    );
    drop(jobs);
    shared.audit("job set up", json!({ "job": id }))?;
    Ok(StatusCode::CREATED)
}

/// Runs `input` through the job's helper state machine (CPU-bound Prio3 work off the reactor)
/// and audits what the round produced.
fn step(shared: &Shared, id: &str, input: HelperNodeInput) -> Result<Vec<Message>, Problem> {
    let mut jobs = shared.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let job = jobs
        .get_mut(id)
        .ok_or_else(|| Problem::not_found(format!("job {id} is not set up at this aggregator")))?;
    let what = match &input {
        HelperNodeInput::FromHub(m) | HelperNodeInput::FromSite { message: m, .. } => kind(m),
    };
    let opened = match &input {
        HelperNodeInput::FromHub(Message::ToHelper(HelperInstruction::Open { request, .. })) => {
            Some((request.round.0, request.what.clone()))
        }
        _ => None,
    };
    let handled = tokio::task::block_in_place(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.node.handle(input)))
    });
    let outputs = match handled {
        Ok(result) => result.map_err(|e| Problem::conflict(format!("{what} refused: {e}")))?,
        Err(_) => {
            // The job's state may be half-updated: drop it from memory (its state file keeps
            // every release), so the job cannot continue but no other job is affected.
            jobs.remove(id);
            return Err(Problem::internal(
                "helper state machine",
                &format!("panic handling a {what}"),
            ));
        }
    };
    // The helper's state is durable before anything it released leaves this process.
    let releases = outputs
        .iter()
        .any(|m| matches!(m, Message::FromHelper(HelperReply::AggregateShare { .. })));
    if opened.is_some() || releases {
        persist(&shared.config.state, id, job).map_err(|e| Problem::internal("persist job", &e))?;
    }
    let rejected: Vec<_> = job.node.rejected()[job.audited_rejections..].to_vec();
    job.audited_rejections = job.node.rejected().len();
    drop(jobs);
    if let Some((round, what)) = opened {
        shared.audit("round opened", json!({ "job": id, "round": round, "what": what }))?;
    }
    for r in rejected {
        log::line(
            "aggregator",
            format!(
                "job {id} round {}: upload of {} rejected: {}",
                r.round, r.site, r.detail
            ),
        );
        shared.audit(
            "upload rejected",
            json!({ "job": id, "round": r.round.0, "site": r.site.0, "reason": r.detail }),
        )?;
    }
    for m in &outputs {
        match m {
            Message::FromHelper(HelperReply::AggregateShare { round, .. }) => {
                shared.audit("aggregate share released", json!({ "job": id, "round": round.0 }))?;
            }
            Message::FromHelper(HelperReply::Refused { round, reason, .. }) => {
                shared.audit(
                    "release refused",
                    json!({ "job": id, "round": round.0, "reason": reason }),
                )?;
            }
            _ => {}
        }
    }
    Ok(outputs)
}

fn encode_all(messages: &[Message]) -> Result<Vec<String>, Problem> {
    messages
        .iter()
        .map(|m| {
            msg::encode(m)
                .map_err(|e| Problem::internal("encode", &e))
                .and_then(|b| String::from_utf8(b).map_err(|e| Problem::internal("encode", &e)))
        })
        .collect()
}

async fn instruct(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    UrlPath(id): UrlPath<String>,
    body: axum::body::Bytes,
) -> Result<Json<Inbox>, Problem> {
    require_hub(&shared, &identity)?;
    check_job_id(&id)?;
    let message = msg::decode(&body).map_err(|e| Problem::bad_request(e.to_string()))?;
    check_message_job(&id, &message)?;
    if !matches!(message, Message::ToHelper(_)) {
        return Err(Problem::bad_request(format!(
            "expected a helper instruction, got {}",
            kind(&message)
        )));
    }
    let outputs = step(&shared, &id, HelperNodeInput::FromHub(message))?;
    Ok(Json(Inbox {
        hub: String::new(),
        messages: encode_all(&outputs)?.into_iter().map(|m| (0, m)).collect(),
    }))
}

async fn upload(
    State(shared): State<Arc<Shared>>,
    Extension(identity): Extension<Identity>,
    UrlPath(id): UrlPath<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Problem> {
    if identity.role != Role::Site {
        return Err(Problem::forbidden(format!(
            "only sites upload shares; the client is {identity}"
        )));
    }
    check_job_id(&id)?;
    let message = msg::decode(&body).map_err(|e| Problem::bad_request(e.to_string()))?;
    check_message_job(&id, &message)?;
    if !matches!(message, Message::Upload(_)) {
        return Err(Problem::bad_request(format!(
            "expected an upload, got {}",
            kind(&message)
        )));
    }
    let outputs = step(
        &shared,
        &id,
        HelperNodeInput::FromSite {
            site: SiteId(identity.name.clone()),
            message,
        },
    )?;
    for m in encode_all(&outputs)? {
        // The receiver lives as long as the service.
        let _ = shared.to_hub.send(m);
    }
    Ok(StatusCode::ACCEPTED)
}
